// `ha-manager timing set` and `ha-manager check-timings`: writing the
// cluster's timing, and showing the profile's numbers, the safety inequality
// and the failover they imply, measured against a running watchdog-mux.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { parseTimingConfig } from '../../src/config/timing-config.js';
import { PATHS } from '../../src/env/node/layout.js';
import { queryMuxSettings } from '../../src/env/node/watchdog.js';
import { profileNames } from '../../src/env/timing.js';
import { loadNative } from '../../src/native/loader.js';
import { findWatchdogMuxBinary } from '../../src/native/mux-binary.js';
import { createHarness } from './harness.js';

const NO_MUX = '/nonexistent/watchdog-mux.sock';

describe('ha-manager timing set', () => {
  it('writes the profile, and a scaled clock with its epoch', async () => {
    const h = createHarness();
    expect((await h.run('timing', 'set', '--profile', 'fast')).code).toBe(0);
    expect(await h.read(PATHS.timing)).toBe('profile: fast\n');
    expect((await h.run('timing', 'set', '--time-scale', '20', '--epoch', '1000')).code).toBe(0);
    expect(await h.read(PATHS.timing)).toBe('profile: fast\ntime-scale: 20\nepoch: 1000\n');
    // the profile alone keeps the clock
    expect((await h.run('timing', 'set', '--profile', 'default')).code).toBe(0);
    expect(await h.read(PATHS.timing)).toBe('profile: default\ntime-scale: 20\nepoch: 1000\n');
    expect((await h.run('timing', 'set', '--time-scale', '1')).code).toBe(0);
    expect(await h.read(PATHS.timing)).toBe('profile: default\n');
  });

  it('starts a new scaled clock now unless told otherwise', async () => {
    const h = createHarness();
    const before = Date.now();
    expect((await h.run('timing', 'set', '--time-scale', '10')).code).toBe(0);
    const epoch = Number(/epoch: (\d+)/.exec((await h.read(PATHS.timing)) ?? '')?.[1]);
    expect(epoch).toBeGreaterThanOrEqual(before);
    expect(epoch).toBeLessThanOrEqual(Date.now());
  });

  it('refuses a profile change while daemons run another profile, naming their nodes, and allows it once they are gone', async () => {
    const h = createHarness();
    await h.write('nodes/node1/ha-timing', 'profile: default\nlock-lifetime-ms: 120000\n');
    await h.write('nodes/node2/ha-timing', 'profile: fast\nlock-lifetime-ms: 16000\n');
    const result = await h.run('timing', 'set', '--profile', 'fast');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("refusing to set timing profile 'fast': HA daemons are running with another profile on node1 (default).");
    expect(await h.read(PATHS.timing)).toBeUndefined();
    // The same profile they run, or the daemons on the other profile offline: allowed.
    expect((await h.run('timing', 'set', '--profile', 'default', '--time-scale', '1')).code).not.toBe(0); // node2 runs fast
    h.store.setMembership({ nodes: { node1: { online: false }, node2: { online: true }, node3: { online: true } }, quorate: true });
    expect((await h.run('timing', 'set', '--profile', 'fast')).code).toBe(0);
    expect(await h.read(PATHS.timing)).toBe('profile: fast\n');
  });

  it('refuses an unknown profile as a usage error', async () => {
    const h = createHarness();
    expect(await h.run('timing', 'set', '--profile', 'slow')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "400 Parameter verification failed.\nprofile: value 'slow' does not have a value in the enumeration 'default, fast'\n\n" +
        "USAGE: ha-manager timing set [OPTIONS]\n(run 'ha-manager help' for the commands, 'ha-manager help <command>' for one)\n",
    });
    expect(await h.read(PATHS.timing)).toBeUndefined();
  });
});

describe('ha-manager timing set: values that round-trip', () => {
  it.each([
    ['2.5', 2.5],
    ['007.50', 7.5],
    [' 20 ', 20],
    ['1000', 1000],
    ['0.001', 0.001],
    ['0.125', 0.125],
  ])('--time-scale %j is written so that it reads back as %d', async (given, value) => {
    const h = createHarness();
    expect(await h.run('timing', 'set', '--time-scale', given, '--epoch', '5')).toMatchObject({ code: 0 });
    const text = (await h.read(PATHS.timing)) ?? '';
    expect(parseTimingConfig(text, PATHS.timing, profileNames())).toEqual({ profile: 'default', timeScale: value, epochMs: 5 });
  });

  it.each([
    ['0', 'value must have a minimum value of 0.001'],
    ['0.0000001', 'value must have a minimum value of 0.001'],
    ['1001', 'value must have a maximum value of 1000'],
    ['1e3', "type check ('number') failed - got '1e3' (expected decimal digits, e.g. 20 or 2.5)"],
    ['-2', "type check ('number') failed - got '-2' (expected decimal digits, e.g. 20 or 2.5)"],
    ['.5', "type check ('number') failed - got '.5' (expected decimal digits, e.g. 20 or 2.5)"],
    ['', "type check ('number') failed - got '' (expected decimal digits, e.g. 20 or 2.5)"],
    ['20.000000000000001', "value '20.000000000000001' has more digits than a number keeps (it would be written as 20)"],
  ])('--time-scale %j is refused, the file left as it was', async (given, problem) => {
    const h = createHarness();
    await h.write(PATHS.timing, 'profile: fast\n');
    const r = await h.run('timing', 'set', '--time-scale', given);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`\ntime-scale: ${problem}\n`);
    expect(await h.read(PATHS.timing)).toBe('profile: fast\n');
  });

  it('replaces a timing.cfg that cannot be read, saying so', async () => {
    const h = createHarness();
    await h.write(PATHS.timing, 'profile: slow\n');
    const r = await h.run('timing', 'set', '--profile', 'fast');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("warning: replacing ha/timing.cfg, which cannot be read: ha/timing.cfg line 1, field 'profile': unknown profile 'slow' (known: default, fast)\n");
    expect(r.stdout).toBe(
      'profile: fast\nwritten to ha/timing.cfg: daemons read it when they start, so restart every ha-crm, ha-lrm and ha-api, ' +
        "and start each node's watchdog-mux with --profile fast\n",
    );
    expect(await h.read(PATHS.timing)).toBe('profile: fast\n');
  });

  it('check-timings names the broken file and how to describe a profile anyway', async () => {
    const h = createHarness();
    await h.write(PATHS.timing, 'time-scale: 2\n');
    const r = await h.run('check-timings', '--watchdog-socket', NO_MUX);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "cannot read the cluster's timing: ha/timing.cfg line 1, field 'epoch': a time scale needs an epoch, so every process computes the same time " +
        '(name a profile to describe one anyway)\n',
    });
  });
});

describe('ha-manager check-timings', () => {
  it("prints the cluster's profile, the inequality with its slack and the failover it implies", async () => {
    const h = createHarness();
    await h.write(PATHS.timing, 'profile: fast\n');
    const r = await h.run('check-timings', '--watchdog-socket', NO_MUX);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 12)).toEqual([
      "timing profile 'fast' (from ha/timing.cfg)",
      '  lock lifetime       16s',
      '  mux client timeout  11500ms',
      '  mux tick            250ms',
      '  device timeout      2s',
      '  margin              1s',
      '  LRM round           1s',
      '  CRM round           1s',
      '  lock retry          1s',
      '  store timeout       1s',
      '  heartbeat timeout   14s',
      '  fence delay         1s',
    ]);
    expect(lines[12]).toBe('fence window client 11500ms + tick 250ms + device 2s + margin 1s = 14750ms < lock lifetime 16s (slack 1250ms): safe');
    expect(lines[13]).toBe('store outage ridden out: up to 8500ms without a reset, 9s without a fence (half the lock lifetime: 8s)');
    expect(lines[14]).toBe('worst failover after a node reset: 18s, 18s when it was the master\'s node (plus the service\'s start time)');
    expect(lines[15]).toMatch(/^watchdog-mux at \/nonexistent\/watchdog-mux.sock: not checked - /);
  });

  it('takes a profile to check from --profile, the default profile without a timing.cfg', async () => {
    const h = createHarness();
    const r = await h.run('check-timings', '--watchdog-socket', NO_MUX);
    expect(r.stdout.split('\n')[0]).toBe("timing profile 'default' (from ha/timing.cfg)");
    expect(r.stdout).toContain('fence window client 60s + tick 1s + device 10s + margin 5s = 76s < lock lifetime 120s (slack 44s): safe');
    expect(r.stdout).toContain('worst failover after a node reset: 122s, 122s when it was the master\'s node');
    const fast = await h.run('check-timings', '--profile', 'fast', '--watchdog-socket', NO_MUX);
    expect(fast.stdout.split('\n')[0]).toBe("timing profile 'fast' (from --profile)");
  });

  describe('against a running watchdog-mux', () => {
    const binary = findWatchdogMuxBinary().path;
    const native = loadNative().binding !== undefined;
    const reason = 'SKIPPED: needs the native addon and watchdog-mux (npm run build:native)';
    if (!binary || !native) {
      if (process.env.HA_REQUIRE_NATIVE === '1') throw new Error(`HA_REQUIRE_NATIVE=1: ${reason}`);
      console.warn(`check-timings against watchdog-mux: ${reason}`);
    }
    const muxes: { proc: ChildProcess; dir: string }[] = [];
    afterEach(() => {
      for (const { proc, dir } of muxes.splice(0)) {
        proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
    const startMux = async (...args: string[]): Promise<string> => {
      const dir = mkdtempSync(join(tmpdir(), 'ha-check-timings-'));
      const socket = join(dir, 'mux.sock');
      const proc = spawn(binary!, ['--socket', socket, '--active-marker', 'none', '--fake-device', '--no-journal-sync', ...args], {
        stdio: 'ignore',
      });
      muxes.push({ proc, dir });
      for (let i = 0; !existsSync(socket); i++) {
        if (i > 1000) throw new Error('watchdog-mux did not create its socket');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // The socket exists before the device is armed: wait until the mux answers, so
      // a slow start on a loaded machine is not taken for a mux that cannot be checked.
      for (let i = 0; ; i++) {
        try {
          queryMuxSettings(socket);
          return socket;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };

    it.skipIf(!binary || !native)('passes a mux started with the profile, measuring its settings', async () => {
      const socket = await startMux('--profile', 'fast');
      const h = createHarness();
      const r = await h.run('check-timings', '--profile', 'fast', '--watchdog-socket', socket);
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain(
        `watchdog-mux at ${socket}: simulated device (the node is not protected), fence window client 11500ms + tick 250ms + device 2s + margin 1s = 14750ms < lock lifetime 16s (slack 1250ms): safe`,
      );
    });

    it.skipIf(!binary || !native)('fails on a mux whose client timeout lets a lock expire first', async () => {
      const socket = await startMux('--profile', 'fast', '--client-timeout-ms', '14000');
      const h = createHarness();
      const r = await h.run('check-timings', '--profile', 'fast', '--watchdog-socket', socket);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toContain(
        `watchdog-mux at ${socket}: simulated device (the node is not protected), fence window client 14s + tick 250ms + device 2s + margin 1s = 17250ms is not shorter than the lock lifetime 16s`,
      );
      expect(r.stderr).toBe('unsafe: the daemons on this node would refuse to arm the watchdog\n');
    });

    it.skipIf(!binary || !native)('judges a scaled cluster\'s simulated device in cluster time, as the daemons do', async () => {
      const h = createHarness();
      await h.write(PATHS.timing, 'profile: default\ntime-scale: 10\nepoch: 1000\n');
      const scaled = await startMux('--client-timeout-ms', '5000', '--tick-ms', '100', '--timeout', '2');
      const ok = await h.run('check-timings', '--watchdog-socket', scaled);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('time-scale 10 (epoch 1000): the daemons must run with --no-watchdog, or with a simulated watchdog device');
      expect(ok.stdout).toContain(
        `watchdog-mux at ${scaled}: simulated device on real time (client 5s, tick 100ms, device 2s) at time-scale 10, in cluster time: ` +
          'fence window client 50s + tick 1s + device 20s + margin 5s = 76s < lock lifetime 120s (slack 44s): safe',
      );
      const unscaled = await startMux('--profile', 'default');
      const refused = await h.run('check-timings', '--watchdog-socket', unscaled);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain('fence window client 600s + tick 10s + device 100s + margin 5s = 715s is not shorter than the lock lifetime 120s');
    });
  });
});
