// The library entry point: an embedding program builds a scenario in memory,
// runs it and reads the log, without touching the file system.

import { describe, expect, it } from 'vitest';

import * as ha from '../src/index.js';

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
  });
});
