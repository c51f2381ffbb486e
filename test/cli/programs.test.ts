// The programs as a user runs them (bin/, on the built tree): --version,
// how ha-simulator run ends, and the daemons' log format off a terminal.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { skipped } from '../prerequisites.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SCENARIO = join(ROOT, 'test', 'scenarios', 'recovery-lowest-loaded-node');

function run(program: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', program), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

describe('the programs', () => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'version.js'))) return skipped('dist/ is not built (npm run build:ts)');

  it.each(['ha-manager', 'ha-crm', 'ha-lrm', 'ha-simulator', 'ha-api'])('%s --version names the version and the native parts', async (program) => {
    const { code, stdout } = await run(program, ['--version']);
    expect(code).toBe(0);
    const [first, native, mux, ...rest] = stdout.split('\n');
    expect(first).toBe(`${program} ${VERSION}`);
    expect(native).toMatch(/^native: (loaded from \/\S+\.node|not loaded \(.+\))$/);
    expect(mux).toMatch(/^watchdog-mux: (\/\S+|not found \(looked at .+\))$/);
    expect(rest).toEqual(['']);
  });

  it('ha-simulator run prints the log and exits 0 on a normal end', async () => {
    const { code, stdout } = await run('ha-simulator', ['run', SCENARIO]);
    expect(code).toBe(0);
    expect(stdout).toBe(readFileSync(join(SCENARIO, 'log.expect'), 'utf8'));
  });

  it("ha-simulator run exits 1 with a hint when the run ends on 'loop took too long'", async () => {
    const { code, stdout, stderr } = await run('ha-simulator', ['--max-loop-delay', '1', 'run', SCENARIO]);
    expect(stdout).toMatch(/exit simulation - loop took too long \(\d+ seconds\)\n \n$/);
    expect(stderr).toBe(
      'ha-simulator: the run ended because a daemon iteration would sleep longer than the loop-delay bound (1 s); ' +
        'if the scenario means it, allow more with --max-loop-delay <seconds>\n',
    );
    expect(code).toBe(1);
  });

  it('ha-simulator runs a scenario with its policy file, or with the policy --policy names', async () => {
    const safe = join(ROOT, 'test', 'scenarios', 'safe-disarm-cut-off-node-not-fenced');
    const own = await run('ha-simulator', ['run', safe]);
    expect(own.code).toBe(0);
    expect(own.stdout).toBe(readFileSync(join(safe, 'log.expect'), 'utf8'));
    // The reference's way: node3 is fenced by its free lock while vm:301 still runs there.
    const reference = await run('ha-simulator', ['--policy', 'reference', 'run', safe]);
    expect(reference.stdout).toContain("fencing: acknowledged - got agent lock for node 'node3'");
    expect((await run('ha-simulator', ['--policy', 'safe', 'test', SCENARIO])).stdout).toBe('1 passed, 0 failed\n');
    const bad = await run('ha-simulator', ['--policy', 'safer', 'run', SCENARIO]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("unknown policy 'safer' (expected reference or safe)");
  });

  it('a daemon whose output is no terminal logs JSON lines', async () => {
    const store = mkdtempSync(join(tmpdir(), 'ha-logformat-'));
    try {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'ha-crm'), '--node', 'n1', '--store', `dir:${store}`, '--no-watchdog'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const deadline = Date.now() + 20_000;
      while (!out.includes('WITHOUT a watchdog') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      // Every line is a JSON record of the daemon; the warning is one of them, at its level.
      const records = out
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const record of records) expect(record).toMatchObject({ source: 'n1/crm' });
      const warning = records.find((record) => String(record.msg).includes('WITHOUT a watchdog'));
      expect(warning).toMatchObject({ ha_level: 'crit' });
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });
});
