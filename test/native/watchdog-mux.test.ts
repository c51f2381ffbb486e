// The watchdog-mux binary with a simulated device, driven through the
// addon's client. The simulated device appends every keep-alive's
// CLOCK_MONOTONIC time to a file; process.hrtime reads the same clock, so
// keep-alives can be compared with the moments the test acted.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findWatchdogMuxBinary } from '../../src/native/mux-binary.js';
import { connectWatchdogMux, type WatchdogMuxConnection } from '../../src/native/watchdog.js';
import { skipped } from '../prerequisites.js';
import { muxMissing } from './addon.js';

const TICK_MS = 20;
const CLIENT_TIMEOUT_MS = 400;
const binary = findWatchdogMuxBinary();
const missing = muxMissing();

/** Between the mux deciding to feed and the simulated device recording it. */
const RECORD_SLACK_MS = 5;
const nowNs = (): bigint => process.hrtime.bigint();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 5s: ${what}`);
    await sleep(2);
  }
}

interface Mux {
  socket: string;
  marker: string;
  keepalives(): bigint[];
  log(): string;
  stop(): Promise<number | null>;
}

let running: { proc: ChildProcess; dir: string }[] = [];

async function startMux(): Promise<Mux> {
  const dir = mkdtempSync(join(tmpdir(), 'ha-mux-'));
  const socket = join(dir, 'mux.sock');
  const marker = join(dir, 'mux.active');
  const record = join(dir, 'keepalives');
  const args = ['--socket', socket, '--active-marker', marker, '--fake-device', '--record-keepalives', record];
  args.push('--tick-ms', String(TICK_MS), '--client-timeout-ms', String(CLIENT_TIMEOUT_MS), '--no-journal-sync');
  const proc = spawn(binary.path!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  running.push({ proc, dir });
  // Ready means accepting: the socket file exists from bind(), before
  // listen(), so only a connection proves it. The probe closes cleanly
  // (magic close), leaving no client behind.
  for (let i = 0; ; i++) {
    try {
      connectWatchdogMux(socket).close(true);
      break;
    } catch (err) {
      if (i > 500) throw new Error(`watchdog-mux did not accept a connection: ${String(err)}\n${stderr}`);
      await sleep(5);
    }
  }
  await until('the mux released the probe connection', () => stderr.includes('closed cleanly'));
  return {
    socket,
    marker,
    keepalives: () =>
      existsSync(record)
        ? readFileSync(record, 'utf8').split('\n').filter(Boolean).map((line) => BigInt(line))
        : [],
    log: () => stderr,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

afterEach(() => {
  for (const { proc, dir } of running) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  running = [];
});

async function keepUpdating(clients: WatchdogMuxConnection[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const c of clients) c.update();
    await sleep(30);
  }
}

describe('watchdog-mux with addon clients', () => {
  if (missing !== undefined) return skipped(missing);

  it('feeds the device on its tick while no client is connected', async () => {
    const mux = await startMux();
    const from = nowNs();
    await sleep(300);
    const to = nowNs();
    const feeds = mux.keepalives().filter((t) => t >= from && t <= to).length;
    // Fixed rate: at most one keep-alive per tick, and late ticks are not dropped wholesale.
    const ticks = Math.floor(Number(to - from) / 1e6 / TICK_MS);
    expect(feeds).toBeLessThanOrEqual(ticks + 1);
    expect(feeds).toBeGreaterThanOrEqual(Math.floor(ticks / 3));
  });

  it('stops feeding within the expiry of a client that stopped updating', async () => {
    const mux = await startMux();
    const client = connectWatchdogMux(mux.socket);
    await keepUpdating([client], 200);
    client.update();
    // The answer to a query comes after the mux applied the update before it;
    // it also says what the mux feeds (a daemon on a scaled clock needs a simulated device).
    expect(client.status()).toMatchObject({ feeding: true, timeoutMs: CLIENT_TIMEOUT_MS, device: 'simulated' });
    const lastUpdate = nowNs();
    await sleep(CLIENT_TIMEOUT_MS + 300);

    const after = mux.keepalives().filter((t) => t > lastUpdate);
    expect(after.length, 'the mux should feed while the client is within its expiry').toBeGreaterThan(0);
    const lastFeedMs = Number(after[after.length - 1] - lastUpdate) / 1e6;
    expect(lastFeedMs).toBeLessThan(CLIENT_TIMEOUT_MS + RECORD_SLACK_MS);
    expect(client.status()).toMatchObject({ feeding: false, remainingMs: 0, timeoutMs: CLIENT_TIMEOUT_MS });
    expect(mux.log()).toMatch(/expired after .* watchdog no longer fed, node will reset/);
  });

  it('tracks a second client connecting while the first is alive', async () => {
    const mux = await startMux();
    const crm = connectWatchdogMux(mux.socket);
    crm.update();
    const lrm = connectWatchdogMux(mux.socket);
    await keepUpdating([crm, lrm], CLIENT_TIMEOUT_MS + 200);
    expect(crm.status().feeding).toBe(true);
    expect(lrm.remainingMs()).toBeGreaterThan(CLIENT_TIMEOUT_MS - 100);
    // The two, after the readiness probe of startMux.
    expect(mux.log().match(/connected, now watched/g)).toHaveLength(3);

    // Only the CRM goes on: the silent LRM must still stop the feeding.
    lrm.status();
    const lrmSilentFrom = nowNs();
    await keepUpdating([crm], CLIENT_TIMEOUT_MS + 200);
    expect(crm.status().feeding).toBe(false);
    const late = mux.keepalives().filter((t) => Number(t - lrmSilentFrom) / 1e6 >= CLIENT_TIMEOUT_MS + RECORD_SLACK_MS);
    expect(late).toEqual([]);
  });

  it('stops feeding when a client disconnects without magic close', async () => {
    const mux = await startMux();
    const watcher = connectWatchdogMux(mux.socket);
    const crashing = connectWatchdogMux(mux.socket);
    crashing.close(false);
    await until('the mux notices the unclean disconnect', () => !watcher.status().feeding);
    const stoppedAt = nowNs();
    await sleep(TICK_MS * 5);
    expect(mux.keepalives().filter((t) => Number(t - stoppedAt) / 1e6 > RECORD_SLACK_MS)).toEqual([]);
    expect(mux.log()).toContain('disconnected without magic close');
  });

  it('releases cleanly closed clients and disarms on a clean stop', async () => {
    const mux = await startMux();
    const client = connectWatchdogMux(mux.socket);
    client.status();
    expect(existsSync(mux.marker)).toBe(true);
    client.close(true);
    expect(client.closed).toBe(true);
    expect(() => client.update()).toThrow(/already closed/);
    await until('the marker goes once no client depends on the watchdog', () => !existsSync(mux.marker));
    const fedAfterClose = mux.keepalives().length;
    await sleep(TICK_MS * 4);
    expect(mux.keepalives().length).toBeGreaterThan(fedAfterClose);
    expect(await mux.stop()).toBe(0);
    expect(mux.log()).toContain('clean exit: watchdog disarmed');
  });

  it('leaves the watchdog armed when stopped while a client depends on it', async () => {
    const mux = await startMux();
    const client = connectWatchdogMux(mux.socket);
    client.status();
    await mux.stop();
    expect(mux.log()).toContain('leaving it armed');
    expect(mux.log()).not.toContain('disarmed');
    expect(existsSync(mux.marker), 'a restarted mux must refuse while the marker exists').toBe(true);
  });
});

describe('connectWatchdogMux', () => {
  it.skipIf(missing !== undefined)(`says which socket it could not reach${missing === undefined ? '' : ` — skipped: ${missing}`}`, () => {
    expect(() => connectWatchdogMux('/nonexistent/watchdog-mux.sock')).toThrow(
      /watchdog-mux at \/nonexistent\/watchdog-mux.sock: cannot connect \(is watchdog-mux running\?\)/,
    );
  });

  it('refuses to arm without the addon, listing why it did not load', () => {
    const absent = {
      implementation: 'typescript',
      binding: undefined,
      loadedFrom: undefined,
      platform: 'linux-x64-gnu',
      errors: [{ source: 'local build', location: '/x/ha-native.linux-x64-gnu.node', error: 'cannot open shared object file' }],
    } as const;
    let error: unknown;
    try {
      connectWatchdogMux('/run/watchdog-mux.sock', absent);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ERR_WATCHDOG_UNAVAILABLE' });
    expect(String(error)).toMatch(/must not run HA services/);
    expect(String(error)).toContain('/x/ha-native.linux-x64-gnu.node): cannot open shared object file');
  });
});
