// The drivers' hard stop, what a node that finds itself fenced does to its
// services: `exec` scripts get `kill`, and `stop 0` if `status` still says
// running afterwards (a script without `kill` may exit 0 having done
// nothing); Proxmox VE guests get the agent's `stop`. Hard stops run at
// once (runNow), never behind queued commands.

import { describe, expect, it } from 'vitest';

import type { CommandOutcome, DriverContext } from '../../src/env/node/drivers.js';
import { execDriver, pveGuestDriver } from '../../src/env/node/drivers.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';

const exit = (exitCode: number): CommandOutcome => ({ exitCode, signal: null, timedOut: false, stdout: '', stderr: '', spawnError: null });

/** A context whose commands answer from `answers` (by action), recording every call and which runner it used. */
function context(answers: Record<string, number>) {
  const calls: string[] = [];
  const logs: string[] = [];
  const answer = (runner: string) => async (command: string, args: readonly string[]): Promise<CommandOutcome> => {
    calls.push(`${runner} ${command} ${args.join(' ')}`);
    return exit(answers[args.find((a) => a in answers) ?? ''] ?? 0);
  };
  const ctx: DriverContext = {
    node: 'node1',
    store: createMemoryStore(),
    run: answer('queued'),
    runNow: answer('now'),
    log: (level, msg) => logs.push(`${level}: ${msg}`),
  };
  return { ctx, calls, logs };
}

describe('hard stop', () => {
  it('exec: kill, and nothing more once status says stopped', async () => {
    const { ctx, calls, logs } = context({ kill: 0, status: 3 });
    await execDriver(ctx, '/srv/scripts').hardStop('web');
    expect(calls).toEqual(['now /srv/scripts/web kill', 'now /srv/scripts/web status']);
    expect(logs).toEqual([]);
  });

  it('exec: stop 0 when the script does not know kill, or kill did not stop it', async () => {
    for (const killExit of [2, 0]) {
      const { ctx, calls } = context({ kill: killExit, status: 0, stop: 0 });
      await execDriver(ctx, '/srv/scripts').hardStop('web');
      expect(calls).toEqual(['now /srv/scripts/web kill', 'now /srv/scripts/web status', 'now /srv/scripts/web stop 0']);
    }
  });

  it('exec: a failing stop is logged', async () => {
    const { ctx, logs } = context({ kill: 1, status: 0, stop: 1 });
    await execDriver(ctx, '/srv/scripts').hardStop('web');
    expect(logs).toEqual(['warning: hard stop of exec:web failed - exit code 1']);
  });

  it('vm and ct: the agent stops the guest', async () => {
    const { ctx, calls } = context({});
    await pveGuestDriver(ctx, 'vm', '/usr/share/ha/pve-ha-agent').hardStop('100');
    await pveGuestDriver(ctx, 'ct', '/usr/share/ha/pve-ha-agent').hardStop('101');
    expect(calls).toEqual(['now /usr/share/ha/pve-ha-agent vm stop 100', 'now /usr/share/ha/pve-ha-agent ct stop 101']);
  });
});
