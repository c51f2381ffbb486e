// The loader: where it looks, what it keeps of each failure, and how it
// refuses modules that are not a compatible build of the addon.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asNativeBinding, EXPECTED_ABI_VERSION } from '../../src/native/binding.js';
import { describeLoadFailures, loadNative, NATIVE_PATH_ENV } from '../../src/native/loader.js';
import { nativeRemedy } from '../../src/native/install.js';
import { localBuildPath, platformName, platformPackageName } from '../../src/native/platform.js';
import { skipped } from '../prerequisites.js';
import { addonMissing } from './addon.js';

const missing = addonMissing();

const saved = process.env[NATIVE_PATH_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[NATIVE_PATH_ENV];
  else process.env[NATIVE_PATH_ENV] = saved;
  loadNative({ reload: true });
});

describe('loadNative', () => {
  it('names this platform as the prebuilt packages do', () => {
    expect(platformName()).toMatch(/^linux-(x64|arm64)-(gnu|musl)$/);
    expect(platformPackageName('linux-x64-gnu')).toBe('@ha-manager/native-linux-x64-gnu');
  });

  describe('with the local build', () => {
    if (missing !== undefined) return skipped(missing);

    it('loads the local build and says so', () => {
      delete process.env[NATIVE_PATH_ENV];
      const result = loadNative({ reload: true });
      expect(result).toMatchObject({ implementation: 'native', loadedFrom: localBuildPath(platformName()), errors: [] });
      expect(result.binding?.abiVersion).toBe(EXPECTED_ABI_VERSION);
    });

    it('tries the override first and keeps its failure when it cannot be loaded', () => {
      process.env[NATIVE_PATH_ENV] = '/nonexistent/ha-native.node';
      const result = loadNative({ reload: true });
      expect(result.implementation).toBe('native');
      expect(result.loadedFrom).toBe(localBuildPath(platformName()));
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({ source: 'override', location: '/nonexistent/ha-native.node' });
      expect(describeLoadFailures(result)).toContain('override (/nonexistent/ha-native.node):');
    });

    it('loads from the override path when it is a good build', () => {
      process.env[NATIVE_PATH_ENV] = localBuildPath(platformName());
      const result = loadNative({ reload: true });
      expect(result).toMatchObject({ implementation: 'native', errors: [] });
      expect(result.loadedFrom).toBe(process.env[NATIVE_PATH_ENV]);
    });
  });

  it('records a file that is no shared library', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ha-loader-'));
    try {
      const bogus = join(dir, 'bogus.node');
      writeFileSync(bogus, 'not an ELF file');
      process.env[NATIVE_PATH_ENV] = bogus;
      const result = loadNative({ reload: true });
      expect(result.errors[0].source).toBe('override');
      expect(result.errors[0].error).toMatch(/invalid ELF header|file too short/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caches the result until asked to reload', () => {
    expect(loadNative()).toBe(loadNative());
  });
});

describe('asNativeBinding', () => {
  it('refuses a build with another interface version, saying how to fix it', () => {
    expect(() => asNativeBinding({ abiVersion: EXPECTED_ABI_VERSION + 1 }, '/x.node')).toThrow(
      `/x.node has interface version ${EXPECTED_ABI_VERSION + 1}, this build of ha-manager expects ${EXPECTED_ABI_VERSION}: ${nativeRemedy('source')}`,
    );
  });

  it('names missing functions', () => {
    expect(() => asNativeBinding({ abiVersion: EXPECTED_ABI_VERSION, poolCreate: () => 0 }, '/x.node')).toThrow(
      /lacks the functions monotonicNowMs, leaseAcquire/,
    );
  });

  it('refuses a module that exported no object', () => {
    expect(() => asNativeBinding(undefined, '/x.node')).toThrow('/x.node did not export an object');
  });
});
