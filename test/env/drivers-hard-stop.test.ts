// The drivers' hard stop, what a node that finds itself fenced does to its
// services: `exec` scripts get `kill`, and `stop 0` if `status` still says
// running afterwards (a script without `kill` may exit 0 having done
// nothing); Proxmox VE guests get the agent's `stop`. Hard stops run at
// once (runNow), never behind queued commands.

import { describe, expect, it } from 'vitest';

import type { CommandOutcome, DriverContext } from '../../src/env/node/drivers.js';
import { execDriver, pveGuestDriver } from '../../src/env/node/drivers.js';
import { createMemoryStore } from '../../src/env/node/memory-store.js';

const exit = (exitCode: number): CommandOutcome => ({ exitCode, signal: null, timedOut: false, aborted: false, stdout: '', stderr: '', spawnError: null });

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
    migrateTimeoutMs: 3_600_000,
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
      expect(calls).toEqual([
        'now /srv/scripts/web kill',
        'now /srv/scripts/web status',
        'now /srv/scripts/web stop 0',
        'now /srv/scripts/web status',
      ]);
    }
  });

  it('exec: reports what the status check found afterwards; only exit 3 is stopped', async () => {
    expect(await execDriver(context({ kill: 0, status: 3 }).ctx, '/srv/scripts').hardStop('web')).toBe('stopped');
    expect(await execDriver(context({ kill: 0, status: 0, stop: 0 }).ctx, '/srv/scripts').hardStop('web')).toBe('running');
    // A status that cannot tell is no confirmation, and gets the stop too.
    const { ctx, calls } = context({ kill: 0, status: 1, stop: 0 });
    expect(await execDriver(ctx, '/srv/scripts').hardStop('web')).toBe('unknown');
    expect(calls).toContain('now /srv/scripts/web stop 0');
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
    expect(calls).toEqual([
      'now /usr/share/ha/pve-ha-agent vm stop 100',
      'now /usr/share/ha/pve-ha-agent vm status 100',
      'now /usr/share/ha/pve-ha-agent ct stop 101',
      'now /usr/share/ha/pve-ha-agent ct status 101',
    ]);
  });

  it('vm: the status after the stop decides; an unreachable agent is unknown', async () => {
    expect(await pveGuestDriver(context({ status: 3 }).ctx, 'vm', '/a').hardStop('100')).toBe('stopped');
    expect(await pveGuestDriver(context({ status: 0 }).ctx, 'vm', '/a').hardStop('100')).toBe('running');
    expect(await pveGuestDriver(context({ status: 255 }).ctx, 'vm', '/a').hardStop('100')).toBe('unknown');
  });
});

describe('status: running, stopped or unknown', () => {
  it('exec and guests: exit 0 runs, 3 does not, anything else cannot tell', async () => {
    for (const [code, state] of [[0, 'running'], [3, 'stopped'], [1, 'unknown'], [4, 'unknown'], [127, 'unknown']] as const) {
      expect(await execDriver(context({ status: code }).ctx, '/srv/scripts').runState('web')).toBe(state);
      expect(await pveGuestDriver(context({ status: code }).ctx, 'vm', '/a').runState('100')).toBe(state);
    }
  });

  it('a timed-out or unstartable check is unknown, and logged', async () => {
    const logs: string[] = [];
    const fail = (outcome: Partial<CommandOutcome>): DriverContext => ({
      node: 'node1',
      store: createMemoryStore(),
      run: async () => ({ ...exit(0), exitCode: null, ...outcome }),
      runNow: async () => exit(0),
      migrateTimeoutMs: 3_600_000,
      log: (level, msg) => logs.push(`${level}: ${msg}`),
    });
    expect(await execDriver(fail({ timedOut: true, signal: 'SIGTERM' }), '/s').runState('web')).toBe('unknown');
    expect(await pveGuestDriver(fail({ spawnError: 'ENOENT' }), 'ct', '/a').runState('101')).toBe('unknown');
    expect(logs).toEqual(['warning: status of exec:web failed - timed out', 'warning: status of ct:101 failed - ENOENT']);
  });

  it('exec migrate: a service whose status cannot tell is not handed over', async () => {
    const { ctx, calls } = context({ status: 1, stop: 0 });
    expect(await execDriver(ctx, '/srv/scripts').migrate('web', 'node2', false)).toBe(false);
    expect(calls).toContain('queued /srv/scripts/web stop');
  });
});
