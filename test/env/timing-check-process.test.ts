// The daemons check the timing when they start: against a running
// watchdog-mux they measure its fence window and refuse to run when it does
// not end before the lock lifetime — on a scaled clock in cluster time, and
// only with a simulated device (a real one resets on real time) — naming
// the numbers; a safe combination is logged once.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { loadNative } from '../../src/native/loader.js';
import { findWatchdogMuxBinary } from '../../src/native/mux-binary.js';
import { BUILT, createCluster, until, type Cluster } from './cluster-processes.js';

let cluster: Cluster | undefined;
const muxes: ChildProcess[] = [];

afterEach(async () => {
  for (const mux of muxes.splice(0)) mux.kill('SIGKILL');
  await cluster?.destroy();
  cluster = undefined;
});

const binary = findWatchdogMuxBinary().path;
const native = loadNative().binding !== undefined;

async function startMux(c: Cluster, ...args: string[]): Promise<string> {
  const socket = join(c.base, `mux-${muxes.length}.sock`);
  rmSync(socket, { force: true });
  muxes.push(spawn(binary!, ['--socket', socket, '--active-marker', 'none', '--fake-device', '--no-journal-sync', ...args], { stdio: 'ignore' }));
  await until('the mux socket', () => existsSync(socket), 5_000, () => '');
  return socket;
}

describe('the timing check at daemon start', () => {
  const reason = !BUILT ? 'dist/ is not built (run `npm run build`)' : !binary || !native ? 'the addon or watchdog-mux is not built (npm run build:native)' : undefined;
  if (reason !== undefined) {
    if (process.env.HA_REQUIRE_NATIVE === '1' && BUILT) throw new Error(`HA_REQUIRE_NATIVE=1: ${reason}`);
    it.skip(`skipped: ${reason}`, () => undefined);
    return;
  }

  it('on a scaled clock, refuses a watchdog-mux that cannot say its device is simulated', async () => {
    const c = (cluster = createCluster(['node1']));
    writeFileSync(join(c.store, 'ha/timing.cfg'), 'profile: default\ntime-scale: 20\nepoch: 1\n');
    const socket = join(c.base, 'none.sock');
    const lrm = c.start('lrm', 'node1', ['--watchdog-socket', socket]);
    expect(await lrm.exited).toBe(1);
    expect(lrm.output.join('')).toContain(
      `ha-lrm: refusing to run with a watchdog: the cluster runs at time-scale 20, and watchdog-mux at ${socket} cannot tell ` +
        'whether its device is simulated (',
    );
  });

  it('on a scaled clock, runs on a simulated device whose window, in cluster time, ends before the lock', async () => {
    const c = (cluster = createCluster(['node1']));
    writeFileSync(join(c.store, 'ha/timing.cfg'), `profile: default\ntime-scale: 10\nepoch: ${Date.now()}\n`);
    // the default profile's 71 s of mux window, shrunk tenfold (as the cluster lab does)
    const socket = await startMux(c, '--client-timeout-ms', '5000', '--tick-ms', '100', '--timeout', '2');
    const lrm = c.start('lrm', 'node1', ['--watchdog-socket', socket]);
    const line =
      "timing: profile 'default', watchdog-mux simulated device on real time (client 5s, tick 100ms, device 2s) at time-scale 10, " +
      'in cluster time: fence window client 50s + tick 1s + device 20s + margin 5s = 76s < lock lifetime 120s (slack 44s): safe';
    await until('the timing line', () => lrm.output.join('').includes(line), 10_000, c.logs);
    expect(lrm.child.exitCode).toBeNull();
  });

  it('on a scaled clock, refuses a simulated device whose real-time window, scaled, outlasts the lock', async () => {
    const c = (cluster = createCluster(['node1']));
    writeFileSync(join(c.store, 'ha/timing.cfg'), `profile: default\ntime-scale: 10\nepoch: ${Date.now()}\n`);
    const socket = await startMux(c, '--profile', 'default');
    const crm = c.start('crm', 'node1', ['--watchdog-socket', socket]);
    expect(await crm.exited).toBe(1);
    expect(crm.output.join('')).toContain(
      `ha-crm: refusing to run with watchdog-mux at ${socket}: simulated device on real time (client 60s, tick 1s, device 10s) ` +
        'at time-scale 10, in cluster time: fence window client 600s + tick 10s + device 100s + margin 5s = 715s is not shorter than the lock lifetime 120s',
    );
  });

  it('refuses a mux whose fence window does not end before the lock lifetime', async () => {
    const c = (cluster = createCluster(['node1']));
    const socket = await startMux(c, '--client-timeout-ms', '110000');
    const crm = c.start('crm', 'node1', ['--watchdog-socket', socket]);
    expect(await crm.exited).toBe(1);
    expect(crm.output.join('')).toContain(
      `ha-crm: refusing to run with watchdog-mux at ${socket}: simulated device (the node is not protected), fence window client 110s + tick 1s + device 10s + margin 5s = 126s ` +
        'is not shorter than the lock lifetime 120s',
    );
  });

  it('logs a safe combination once, measured on the running mux', async () => {
    const c = (cluster = createCluster(['node1']));
    writeFileSync(join(c.store, 'ha/timing.cfg'), 'profile: fast\n');
    const socket = await startMux(c, '--profile', 'fast');
    const lrm = c.start('lrm', 'node1', ['--watchdog-socket', socket]);
    const line =
      "timing: profile 'fast', watchdog-mux simulated device (the node is not protected), fence window client 11500ms + tick 250ms + device 2s + margin 1s = 14750ms " +
      '< lock lifetime 16s (slack 1250ms): safe, worst failover 18s (master\'s node 18s)';
    await until('the timing line', () => lrm.output.join('').includes(line), 10_000, c.logs);
    // a few idle rounds later, still once
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(lrm.output.join('').split(line)).toHaveLength(2);
    expect(lrm.child.exitCode).toBeNull();
  });
});
