// The library entry point: an embedding program builds a scenario in memory,
// runs it and reads the log, without touching the file system.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import * as ha from '../src/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('library API', () => {
  it('simulates an in-memory scenario: a failed node is fenced and its service recovered', async () => {
    const lines: string[] = [];
    await ha.runSimulation(
      {
        cmdlist: [['power node1 on', 'power node2 on', 'power node3 on'], ['network node2 off']],
        hardwareStatus: {
          node1: { power: 'off', network: 'off' },
          node2: { power: 'off', network: 'off' },
          node3: { power: 'off', network: 'off' },
        },
        serviceConfig: { 'vm:100': { node: 'node2', state: 'started' } },
      },
      { write: (line) => lines.push(line) },
    );
    const log = lines.join('');
    expect(log).toContain("node1/crm: fencing: acknowledged - got agent lock for node 'node2'");
    expect(log).toMatch(/recover service 'vm:100' from fenced node 'node2' to node 'node(1|3)'/);
    expect(lines.at(-1)).toMatch(/hardware: exit simulation - done\n$/);
  });

  it('exports the formats, the core daemons and the native layer', () => {
    expect(ha.parseRulesConfig('resource-affinity: keep-apart\n\tresources vm:1,vm:2\n\taffinity negative\n').ids).toHaveProperty(
      'keep-apart',
    );
    for (const name of ['createCrm', 'crmIteration', 'createLrm', 'lrmIteration', 'loadNative', 'createWorkerPool'] as const) {
      expect(typeof ha[name]).toBe('function');
    }
    expect(ha.typescriptScoringKernel.implementation).toBe('typescript');
    // An embedding environment binds one of these (HaEnv.policy).
    expect(ha.POLICIES).toEqual(['reference', 'safe']);
  });

  it('runs an in-memory scenario under the policy asked for', async () => {
    const scenario = {
      cmdlist: [['power node1 on', 'power node2 on', 'power node3 on'], ['restart-lrm node3', 'service vm:301 migrate node1']],
      serviceConfig: { 'vm:301': { node: 'node3', state: 'started' }, 'vm:302': { node: 'node3', state: 'started' } },
    };
    const logOf = async (policy: ha.Policy): Promise<string> => {
      const lines: string[] = [];
      await ha.runSimulation({ ...scenario, policy }, { write: (line) => lines.push(line) });
      return lines.join('');
    };
    // The reference's restart waits for good behind the migration; the safe one carries it out.
    expect(await logOf('reference')).not.toContain("service vm:301 - end migrate to node 'node1'");
    expect(await logOf('safe')).toContain("service vm:301 - end migrate to node 'node1'");
  });

  it('rejects what is not a scenario, saying how to run a folder', async () => {
    const write = (): void => undefined;
    await expect(ha.runSimulation('test/scenarios/recovery-lowest-loaded-node' as never, { write })).rejects.toThrow(
      "expected a scenario object, got the string 'test/scenarios/recovery-lowest-loaded-node' (read a scenario folder with loadScenario(dir), or run one with simulateDir(dir))",
    );
    await expect(ha.runSimulation({ cmdlist: 'power node1 on' } as never, { write })).rejects.toThrow(/scenario.cmdlist must be an array of rounds/);
    await expect(ha.runSimulation({ cmdlist: [], hardwareStatus: 'x' } as never, { write })).rejects.toThrow(
      "scenario.hardwareStatus must be an object when given, got the string 'x'",
    );
    await expect(ha.runSimulation({ cmdlist: [] }, undefined as never)).rejects.toThrow(/needs options.write/);
  });
});

/** The README's library example (the ```js block after `<!-- library example -->`), as written. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /<!-- library example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error('README.md has no ```js block after <!-- library example -->');
  return match[1];
}

describe("the README's library example", () => {
  // It imports 'ha-manager' as a user would: the package's self-reference
  // resolves to the build, so the example runs from a file inside dist/.
  const built = existsSync(join(ROOT, 'dist', 'index.js'));
  it.skipIf(!built)(`runs as written${built ? '' : ' — skipped: dist/ is not built (npm run build:ts)'}`, async () => {
    const file = join(ROOT, 'dist', `.readme-example-${process.pid}.mjs`);
    writeFileSync(file, readmeExample());
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [file], { cwd: ROOT }, (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)));
      });
      expect(stdout).toContain("recover service 'vm:401' from fenced node 'node4'");
      expect(stdout).toMatch(/exit simulation - done\n/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
