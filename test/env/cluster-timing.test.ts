// Opening the store on the cluster's timing (ha/timing.cfg): the profile and
// clock every daemon and ha-manager share, clock flags that may only confirm
// it, and pmxcfs, which runs the default profile at real time only.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { openClusterStore, settleClockFlags, storeTimingOptions } from '../../src/env/node/cluster-timing.js';
import { createClock } from '../../src/env/node/clock.js';
import { timingProfile } from '../../src/env/timing.js';

const dirs: string[] = [];
function storeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ha-timing-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'ha'));
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the cluster timing', () => {
  it('is the default profile at real time without a timing.cfg', async () => {
    const dir = storeDir();
    const { store, timing } = await openClusterStore(`dir:${dir}`, { node: 'node1' });
    await store.close();
    expect(timing.config).toEqual({ profile: 'default', timeScale: 1 });
    expect(timing.profile.name).toBe('default');
    expect(Math.abs(timing.clock.millis() - Date.now())).toBeLessThan(1000);
  });

  it('follows timing.cfg: profile and scaled clock', async () => {
    const dir = storeDir();
    const epoch = Date.now() - 10_000;
    writeFileSync(join(dir, 'ha/timing.cfg'), `profile: fast\ntime-scale: 20\nepoch: ${epoch}\n`);
    const { store, timing } = await openClusterStore(`dir:${dir}`, { node: 'node1' });
    await store.close();
    expect(timing.profile.name).toBe('fast');
    // 10 real seconds since the epoch are 200 scaled ones
    expect(timing.clock.millis() - epoch).toBeGreaterThan(195_000);
  });

  it('records the clock flags of the first daemon, and refuses flags that disagree', async () => {
    const dir = storeDir();
    const epochMs = Date.now();
    const first = await openClusterStore(`dir:${dir}`, { node: 'node1', flags: { timeScale: 20, epochMs } });
    await first.store.close();
    expect(readFileSync(join(dir, 'ha/timing.cfg'), 'utf8')).toBe(`profile: default\ntime-scale: 20\nepoch: ${epochMs}\n`);
    const same = await openClusterStore(`dir:${dir}`, { node: 'node2', flags: { timeScale: 20, epochMs } });
    await same.store.close();
    // no flags: the file's clock
    const plain = await openClusterStore(`dir:${dir}`, { node: 'node3' });
    await plain.store.close();
    expect(plain.timing.config).toEqual({ profile: 'default', timeScale: 20, epochMs });
    await expect(openClusterStore(`dir:${dir}`, { node: 'node2', flags: { timeScale: 10, epochMs } })).rejects.toThrow(
      `cannot use the cluster's timing: the clock flags (time-scale 10, epoch ${epochMs}) disagree with the cluster's ha/timing.cfg ` +
        `(time-scale 20, epoch ${epochMs}): every node runs on the cluster's clock; drop the flags or change the file (ha-manager timing set ...)`,
    );
  });

  it('needs an epoch with a time scale flag', () => {
    expect(() => settleClockFlags(undefined, { timeScale: 5 })).toThrow('--time-scale 5 needs --epoch <ms>');
    expect(settleClockFlags(undefined, { timeScale: 1 })).toEqual({ profile: 'default', timeScale: 1 });
  });

  it('reports a broken timing.cfg with file, line and field', async () => {
    const dir = storeDir();
    writeFileSync(join(dir, 'ha/timing.cfg'), 'profile: slow\n');
    await expect(openClusterStore(`dir:${dir}`, { node: 'node1' })).rejects.toThrow(
      "cannot use the cluster's timing: ha/timing.cfg line 1, field 'profile': unknown profile 'slow' (known: default, fast)",
    );
  });

  it('allows pmxcfs only the default profile at real time', async () => {
    const dir = storeDir();
    writeFileSync(join(dir, '.members'), '{"nodename":"node1","nodelist":{}}\n');
    writeFileSync(join(dir, 'ha/timing.cfg'), 'profile: fast\n');
    await expect(openClusterStore(`dir:${dir}`, { node: 'node1' })).rejects.toThrow(
      "only the 'default' profile works on pmxcfs",
    );
    writeFileSync(join(dir, 'ha/timing.cfg'), 'profile: default\ntime-scale: 2\nepoch: 1\n');
    await expect(openClusterStore(`dir:${dir}`, { node: 'node1' })).rejects.toThrow('pmxcfs runs at time-scale 1 only');
    writeFileSync(join(dir, 'ha/timing.cfg'), 'profile: default\n');
    const { store } = await openClusterStore(`dir:${dir}`, { node: 'node1' });
    await store.close();
  });

  it('gives the stores the profile’s times, etcd leases in real whole seconds rounded up', () => {
    const fast = timingProfile('fast');
    expect(storeTimingOptions(fast, { profile: 'fast', timeScale: 1 }, createClock())).toMatchObject({
      lockLifetimeMs: 16_000,
      heartbeatTimeoutMs: 14_000,
      lockTtlSeconds: 16,
      aliveTtlSeconds: 14,
      timeoutMs: 1_000,
      waitTimeoutMs: 1_000,
    });
    const scaled = storeTimingOptions(timingProfile('default'), { profile: 'default', timeScale: 7, epochMs: 0 }, createClock());
    // 120 s / 7 = 17.1 real seconds: 18, never 17, which would end the lock before its holder's lease
    expect(scaled).toMatchObject({ lockLifetimeMs: 120_000, lockTtlSeconds: 18, aliveTtlSeconds: 5 });
  });

  it('bounds a directory store call by the profile’s store timeout, even behind a holder that never lets go', async () => {
    // A daemon SIGSTOPped while it holds a lock's guard (renewing its agent
    // lock, writing its status) keeps it until it resumes or dies. A master
    // fencing that node must not wait longer than one store call may take:
    // with the fast profile's 16 s lock and 1.25 s feed slack, two waits of
    // 10 s per round cost it its own lock (and, with a watchdog, its node).
    const dir = storeDir();
    writeFileSync(join(dir, 'ha/timing.cfg'), 'profile: fast\n');
    const { store } = await openClusterStore(`dir:${dir}`, { node: 'node2' });
    try {
      const guard = join(dir, '.ha-store/guards/lock-ha_agent_node1_lock');
      mkdirSync(guard, { recursive: true });
      // a claim of a live process (this one, as the stopped daemon)
      writeFileSync(join(guard, [encodeURIComponent(hostname()), process.pid, '0', 'feedc0de'].join('~')), '');
      const started = Date.now();
      expect(await store.lock('ha_agent_node1_lock', 'node2')).toBe(false);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(timingProfile('fast').storeTimeoutMs - 50);
      expect(waited, 'one store call, not the 10 s of a plain directory store').toBeLessThan(5_000);
    } finally {
      await store.close();
    }
  });
});
