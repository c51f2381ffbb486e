// The Node-API layer (crates/ha-napi) in a real node: the addon refuses
// handles it did not make, panics become JavaScript errors, and every
// promise settles. The addon itself has no panics to offer, so the failure
// paths run through crates/ha-napi-test-addon, a test-only addon on the same
// layer, built here with cargo. The layer's own cargo tests cover what only
// a fake node can do (Node-API calls that fail on demand, teardown).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../src/native/binding.js';
import { loadNative } from '../../src/native/loader.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const gcScript = fileURLToPath(new URL('./fixtures/napi-gc.mjs', import.meta.url));

/** The functions of crates/ha-napi-test-addon/src/lib.rs. */
interface TestAddon {
  panic(message: string): never;
  panicWithoutMessage(): never;
  settleLater(mode: string, delayMs: number): Promise<number>;
  counter(start: number): object;
  counterValue(counter: unknown): number;
  otherHandle(): object;
  foreignExternal(): object;
  panickyHandle(): object;
}

/** Builds the test addon; the path of the library, or why there is none. */
function buildTestAddon(): { path: string } | { missing: string } {
  const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
  if (cargo.error || cargo.status !== 0) return { missing: 'cargo is not on PATH' };
  const build = spawnSync(
    'cargo',
    ['build', '--offline', '--quiet', '--package', 'ha-napi-test-addon', '--message-format=json'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (build.status !== 0) throw new Error(`cargo build of ha-napi-test-addon failed:\n${build.stderr}`);
  for (const line of build.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line) as { reason?: string; target?: { name?: string }; filenames?: string[] };
    const library = message.filenames?.find((f) => f.endsWith('.so'));
    if (message.reason === 'compiler-artifact' && message.target?.name === 'ha_napi_test_addon' && library) {
      return { path: library };
    }
  }
  throw new Error('cargo built ha-napi-test-addon but reported no library');
}

function load<T>(path: string): T {
  const module = { exports: {} as T };
  process.dlopen(module, path);
  return module.exports;
}

const native = loadNative();
const built = native.binding ? buildTestAddon() : { missing: 'the ha-native addon is not built' };
const missing = requirePrerequisite('native', !('missing' in built), 'missing' in built ? built.missing : '');

describe('Node-API layer', () => {
  if (missing !== undefined) {
    skipped(missing);
    return;
  }
  let addon: NativeBinding;
  let test: TestAddon;
  beforeAll(() => {
    addon = native.binding!;
    test = load<TestAddon>((built as { path: string }).path);
  });

  const typeError = (message: string | RegExp) =>
    expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(message) });

  describe('handles', () => {
    it('refuses an external made by another addon with a TypeError, without reading it', () => {
      // Its data is the address 0x1: reading it as ours would crash node.
      const foreign = test.foreignExternal() as never;
      expect(() => addon.poolActiveCount(foreign)).toThrow(
        typeError(/^pool must be a handle from this addon, got an external of another addon$/),
      );
      expect(() => addon.muxUpdate(foreign)).toThrow(typeError(/^watchdog connection must be a handle from this addon/));
      // The test addon's own handles are foreign to the addon, and the other way round.
      expect(() => addon.poolActiveCount(test.counter(1) as never)).toThrow(typeError(/another addon/));
      const pool = addon.poolCreate(1);
      try {
        expect(() => test.counterValue(pool)).toThrow(typeError(/^counter must be a handle from this addon/));
      } finally {
        addon.poolClose(pool);
      }
    });

    it('refuses plain values where a handle is expected', () => {
      for (const [value, kind] of [
        [{}, 'an object'],
        [undefined, 'undefined'],
        [null, 'null'],
        [42, 'a number'],
        ['pool', 'a string'],
      ] as const) {
        expect(() => addon.poolQueuedCount(value as never)).toThrow(typeError(`^pool must be a handle from this addon, got ${kind}$`));
      }
    });

    it('tells handles of the same addon apart by kind', () => {
      const pool = addon.poolCreate(1);
      try {
        expect(() => addon.muxStatus(pool as never)).toThrow(typeError(/^watchdog connection is a handle of another kind$/));
        expect(addon.poolActiveCount(pool)).toBe(0);
      } finally {
        addon.poolClose(pool);
      }
      expect(test.counterValue(test.counter(7))).toBe(7);
      expect(() => test.counterValue(test.otherHandle())).toThrow(typeError(/^counter is a handle of another kind$/));
    });

    it('refuses a handle of another loaded copy of the addon', () => {
      const dir = mkdtempSync(join(tmpdir(), 'ha-napi-copy-'));
      try {
        // Another file is another copy of the library, as a second build would be.
        const path = join(dir, 'ha-native-copy.node');
        copyFileSync(native.loadedFrom!, path);
        const copy = load<NativeBinding>(path);
        const ours = addon.poolCreate(1);
        const theirs = copy.poolCreate(1);
        try {
          expect(copy.poolActiveCount(theirs)).toBe(0);
          expect(() => addon.poolActiveCount(theirs)).toThrow(typeError(/another addon/));
          expect(() => copy.poolActiveCount(ours)).toThrow(typeError(/another addon/));
        } finally {
          addon.poolClose(ours);
          copy.poolClose(theirs);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a typed array over a SharedArrayBuffer, which another thread could change while it is read', () => {
      const scheduling = addon as unknown as { schedulingNodeImbalance(stats: Float64Array): number };
      const stats = [1, 2, 3, 4];
      expect(scheduling.schedulingNodeImbalance(new Float64Array(stats))).toBeTypeOf('number');
      const shared = new Float64Array(new SharedArrayBuffer(stats.length * 8));
      shared.set(stats);
      expect(() => scheduling.schedulingNodeImbalance(shared)).toThrow(
        typeError(/^nodeStats must be a Float64Array over an ArrayBuffer, not a SharedArrayBuffer$/),
      );
      expect(() => scheduling.schedulingNodeImbalance(new Uint32Array(4) as never)).toThrow(typeError(/^nodeStats must be a Float64Array$/));
    });
  });

  describe('panics', () => {
    it('become JavaScript errors, and the addon keeps working', () => {
      expect(() => test.panic('index 3 out of range')).toThrow(
        expect.objectContaining({ code: 'ERR_NATIVE_PANIC', message: 'internal error in native code: index 3 out of range' }),
      );
      expect(() => test.panicWithoutMessage()).toThrow('internal error in native code: unknown panic');
      expect(test.counterValue(test.counter(3))).toBe(3);
    });

    it('in a finalizer are reported, and the process lives on', () => {
      const child = spawnSync(process.execPath, ['--expose-gc', gcScript, 'panicky-finalizer', (built as { path: string }).path], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: child.status, signal: child.signal, stdout: child.stdout }).toEqual({ status: 0, signal: null, stdout: 'alive\n' });
      // Proof that the finalizers did run (and panic).
      expect(child.stderr).toContain('ha-napi: a native handle panicked while being released (leaked): Panicky dropped');
    });
  });

  describe('promises', () => {
    it.each([
      ['resolve', { resolved: 42 }],
      ['reject', { rejected: 'ERR_TEST', message: 'rejected on purpose' }],
      ['drop', { rejected: 'ERR_NATIVE_NO_RESULT', message: 'the native operation ended without a result' }],
      ['panic-in-thread', { rejected: 'ERR_NATIVE_NO_RESULT', message: 'the native operation ended without a result' }],
      ['panic-in-conversion', { rejected: 'ERR_NATIVE_PANIC', message: 'internal error in native code: conversion panicked' }],
      ['fail-in-conversion', { rejected: 'ERR_TEST_CONVERSION', message: 'conversion failed' }],
    ])('settle when the native side does %s', async (mode, expected) => {
      const outcome = await test.settleLater(mode, 5).then(
        (resolved) => ({ resolved }),
        (e: NodeJS.ErrnoException) => ({ rejected: e.code, message: e.message }),
      );
      expect(outcome).toEqual(expected);
    });

    it('all settle when many are settled at once from many threads', async () => {
      const modes = ['resolve', 'reject', 'drop', 'panic-in-thread', 'panic-in-conversion', 'fail-in-conversion'];
      const promises = Array.from({ length: 120 }, (_, i) => test.settleLater(modes[i % modes.length], i % 7));
      const outcomes = await Promise.allSettled(promises);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(20);
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(100);
    });

    it('of a pool that JavaScript dropped settle when it is collected', () => {
      const child = spawnSync(process.execPath, ['--expose-gc', gcScript, 'dropped-pool', native.loadedFrom!], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.status, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout)).toEqual({ running: { resolved: 0 }, queued: { rejected: 'ERR_POOL_CANCELLED' } });
    });
  });
});
