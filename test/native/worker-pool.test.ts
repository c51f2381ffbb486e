// Both worker pools, the addon's and the TypeScript one, against the same
// expectations: they must be interchangeable.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { skipped } from '../prerequisites.js';
import { addonMissing } from './addon.js';
import { createWorkerPool, type CommandResult, type WorkerPool } from '../../src/native/worker-pool.js';
import { setLongTimeout } from '../../src/native/worker-pool-typescript.js';

const missing = addonMissing();

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5s');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function sh(uid: string, script: string, extra: Partial<Parameters<WorkerPool['run']>[0]> = {}) {
  return { uid, command: '/bin/sh', args: ['-c', script], ...extra };
}

function isRunning(pid: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 1).trim().startsWith('Z');
  } catch {
    return false;
  }
}

describe.each(['native', 'typescript'] as const)('%s worker pool', (implementation) => {
  if (implementation === 'native' && missing !== undefined) return skipped(missing);
  let pool: WorkerPool;
  const make = (maxWorkers = 2) => (pool = createWorkerPool({ maxWorkers, implementation }));
  afterEach(async () => {
    await pool?.close();
  });

  it('reports which implementation runs', () => {
    expect(make().implementation).toBe(implementation);
    expect(pool.maxWorkers).toBe(2);
  });

  it('reports the exit code and output of a command', async () => {
    const result = await make().run(sh('vm:100:start', 'echo started; echo warn >&2; exit 3'));
    expect(result).toMatchObject({
      uid: 'vm:100:start',
      exitCode: 3,
      signal: null,
      timedOut: false,
      aborted: false,
      stdout: 'started\n',
      stderr: 'warn\n',
      spawnError: null,
    });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('passes arguments verbatim, without a shell', async () => {
    const result = await make().run({ uid: 'echo', command: '/bin/echo', args: ['$HOME', 'a b', ';', '*', '`id`'] });
    expect(result.stdout).toBe('$HOME a b ; * `id`\n');
  });

  it('names the signal that ended a command', async () => {
    const result = await make().run(sh('sig', 'kill -USR1 $$'));
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGUSR1', timedOut: false });
  });

  it('terminates a command and what it started at its timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-pool-'));
    try {
      const pidfile = join(dir, 'child.pid');
      const result = await make().run(
        sh('slow', `sleep 30 & echo $! > ${pidfile}; wait`, { timeoutMs: 200, killGraceMs: 2000 }),
      );
      expect(result).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: null });
      expect(result.durationMs).toBeGreaterThanOrEqual(190);
      const grandchild = readFileSync(pidfile, 'utf8').trim();
      await new Promise((r) => setTimeout(r, 100));
      expect(isRunning(grandchild), `process ${grandchild} started by the command survived`).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills a command that ignores SIGTERM after the grace period', async () => {
    const result = await make().run(sh('stubborn', "trap '' TERM; sleep 5 & wait; sleep 5", { timeoutMs: 150, killGraceMs: 150 }));
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  });

  it('honours a timeout and a grace period longer than setTimeout can wait (~24.8 days)', async () => {
    const result = await make().run(sh('long', 'sleep 0.2; exit 4', { timeoutMs: 2 ** 31, killGraceMs: 2 ** 31 + 7 }));
    expect(result).toMatchObject({ exitCode: 4, signal: null, timedOut: false });
  });

  it('reports a program that cannot be started under its uid', async () => {
    const result = await make().run({ uid: 'missing', command: '/nonexistent/ha-resource-agent' });
    expect(result.exitCode).toBeNull();
    expect(result.spawnError).toContain('/nonexistent/ha-resource-agent');
  });

  it('applies env and cwd', async () => {
    const result = await make().run(sh('env', 'echo "$HA_SID"; pwd', { env: { HA_SID: 'vm:101' }, cwd: '/tmp' }));
    expect(result.stdout).toBe('vm:101\n/tmp\n');
  });

  it('keeps only the tail of long output', async () => {
    const result = await make().run(sh('long', 'i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done', { captureLimit: 9 }));
    expect(result.stdout).toBe('line2999\n');
  });

  it('refuses a uid already queued or running, and invalid requests', async () => {
    make(1);
    const first = pool.run(sh('dup', 'sleep 0.2'));
    await expect(pool.run(sh('dup', 'true'))).rejects.toMatchObject({ code: 'ERR_POOL_DUPLICATE_UID' });
    expect((await first).exitCode).toBe(0);
    expect((await pool.run(sh('dup', 'true'))).exitCode).toBe(0);
    await expect(pool.run({ uid: '', command: 'true' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(pool.run({ uid: 'x', command: 'true', timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a whole number/);
  });

  it('cancels queued commands on close and lets running ones finish', async () => {
    make(1);
    const running = pool.run(sh('running', 'sleep 0.3; exit 7'));
    const queued = pool.run(sh('queued', 'exit 0'));
    expect(pool.queuedCount + pool.activeCount).toBe(2);
    await until(() => pool.activeCount === 1);
    const closing = pool.close();
    await expect(queued).rejects.toMatchObject({ code: 'ERR_POOL_CANCELLED' });
    await closing;
    expect((await running).exitCode).toBe(7);
    expect(pool.activeCount).toBe(0);
    await expect(pool.run(sh('late', 'true'))).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('aborts a running command and what it started: SIGTERM to its group, reported aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-pool-'));
    try {
      const pidfile = join(dir, 'child.pid');
      make(1);
      const run = pool.run(sh('start', `sleep 30 & echo $! > ${pidfile}.tmp; mv ${pidfile}.tmp ${pidfile}; wait`));
      await until(() => existsSync(pidfile));
      expect(pool.abort('start', 5000)).toBe(true);
      const result = await run;
      expect(result).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM', exitCode: null });
      const grandchild = readFileSync(pidfile, 'utf8').trim();
      await new Promise((r) => setTimeout(r, 100));
      expect(isRunning(grandchild), `process ${grandchild} started by the command survived`).toBe(false);
      // Ended: nothing left to abort, and the pool goes on.
      expect(pool.abort('start')).toBe(false);
      expect((await pool.run(sh('next', 'exit 0'))).aborted).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills an aborted command that ignores SIGTERM after the abort grace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-pool-'));
    try {
      const ready = join(dir, 'ready');
      make(1);
      const run = pool.run(sh('stubborn', `trap '' TERM; touch ${ready}; sleep 5 & wait; sleep 5`));
      await until(() => existsSync(ready));
      expect(pool.abort('stubborn', 150)).toBe(true);
      expect(await run).toMatchObject({ aborted: true, signal: 'SIGKILL' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('aborts a queued command without running it; abortAll ends every command', async () => {
    make(1);
    const running = pool.run(sh('running', 'sleep 30'));
    await until(() => pool.activeCount === 1);
    const q1 = pool.run(sh('q1', 'exit 7'));
    const q2 = pool.run(sh('q2', 'exit 7'));
    expect(pool.abort('q1')).toBe(true);
    expect(await q1).toMatchObject({ uid: 'q1', aborted: true, exitCode: null, signal: null, timedOut: false });
    expect(pool.abort('nobody')).toBe(false);
    expect(() => pool.abort('q2', -1)).toThrow(/graceMs must be a whole number/);
    expect(pool.abortAll(0)).toBe(2);
    expect(await q2).toMatchObject({ aborted: true, exitCode: null });
    expect(await running).toMatchObject({ aborted: true, signal: 'SIGKILL' });
    expect(pool.queuedCount + pool.activeCount).toBe(0);
    expect(await pool.run(sh('after', 'exit 0'))).toMatchObject({ exitCode: 0, aborted: false });
  });

  // Each command claims one of maxWorkers slot directories with an atomic
  // mkdir; finding none free means more than maxWorkers ran at once.
  it('never runs more than maxWorkers commands at once under a stress of 300', async () => {
    const maxWorkers = 4;
    const dir = mkdtempSync(join(tmpdir(), 'ha-pool-stress-'));
    try {
      const slots = Array.from({ length: maxWorkers }, (_, i) => join(dir, `slot${i + 1}`));
      const script =
        `for s in ${slots.join(' ')}; do if mkdir "$s" 2>/dev/null; then sleep 0.02; rmdir "$s"; ` +
        'echo "$s"; exit 0; fi; done; exit 99';
      make(maxWorkers);
      let peakActive = 0;
      const results: Promise<CommandResult>[] = [];
      for (let i = 0; i < 300; i++) {
        results.push(pool.run(sh(`vm:${i}:start`, script)));
        peakActive = Math.max(peakActive, pool.activeCount);
      }
      const done = await Promise.all(results);
      const overflow = done.filter((r) => r.exitCode !== 0).map((r) => r.uid);
      expect(overflow, 'commands that found no free slot').toEqual([]);
      expect(new Set(done.map((r) => r.uid)).size).toBe(300);
      expect(new Set(done.map((r) => r.stdout)).size, 'the pool should reach maxWorkers concurrent commands').toBe(maxWorkers);
      expect(peakActive).toBeLessThanOrEqual(maxWorkers);
      expect(pool.activeCount).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('setLongTimeout (the TypeScript pool\'s timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires after a delay beyond setTimeout\'s limit, not before', () => {
    vi.useFakeTimers();
    const limit = 2 ** 31 - 1;
    let fired = 0;
    setLongTimeout(() => fired++, 3 * limit + 5);
    vi.advanceTimersByTime(3 * limit + 4);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
  });

  it('can be cancelled while waiting', () => {
    vi.useFakeTimers();
    let fired = 0;
    const cancel = setLongTimeout(() => fired++, 2 ** 32);
    vi.advanceTimersByTime(2 ** 31);
    cancel();
    vi.advanceTimersByTime(2 ** 32);
    expect(fired).toBe(0);
  });
});

describe('createWorkerPool', () => {
  it.skipIf(missing !== undefined)(`uses the addon by default when it loaded${missing === undefined ? '' : ` — skipped: ${missing}`}`, async () => {
    const pool = createWorkerPool();
    expect(pool.implementation).toBe('native');
    expect(pool.maxWorkers).toBe(4);
    await pool.close();
  });

  it('falls back to TypeScript when the addon did not load, unless native was demanded', async () => {
    const absent = { implementation: 'typescript', binding: undefined, loadedFrom: undefined, platform: 'linux-x64-gnu', errors: [{ source: 'local build', location: '/x.node', error: 'not found' }] } as const;
    const pool = createWorkerPool({ native: absent });
    expect(pool.implementation).toBe('typescript');
    await pool.close();
    expect(() => createWorkerPool({ native: absent, implementation: 'native' })).toThrow(/local build \(\/x.node\): not found/);
  });

  it('refuses a maxWorkers below 1', () => {
    expect(() => createWorkerPool({ maxWorkers: 0 })).toThrow(/maxWorkers must be a whole number >= 1, got 0/);
  });
});
