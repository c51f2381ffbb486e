// How ha-manager tells a source checkout, an npm install and the Debian
// package apart, and the advice each gets when the native parts are missing.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { installKind, missingPrebuilt, nativeRemedy, packageInfo } from '../../src/native/install.js';
import { PACKAGE_ROOT } from '../../src/native/platform.js';

const roots: string[] = [];
function fakeInstall(manifest: object, cargo = false): string {
  const root = mkdtempSync(join(tmpdir(), 'ha-install-'));
  roots.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'ha-manager', version: '9.8.7', ...manifest }));
  if (cargo) writeFileSync(join(root, 'Cargo.toml'), '[workspace]\n');
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('installKind', () => {
  it('this checkout is a source one', () => {
    expect(installKind()).toBe('source');
    expect(installKind(fakeInstall({}, true))).toBe('source');
  });

  it('an installed npm package has no Cargo.toml; the .deb marks its package.json', () => {
    expect(installKind(fakeInstall({}))).toBe('npm');
    expect(installKind(fakeInstall({ installedBy: 'debian' }))).toBe('debian');
  });
});

describe('packageInfo', () => {
  it('reads the version and the platforms declared as optional dependencies', () => {
    const root = fakeInstall({ optionalDependencies: { '@ha-manager/native-linux-x64-gnu': '9.8.7', other: '1' } });
    expect(packageInfo(root)).toEqual({ version: '9.8.7', prebuiltPlatforms: ['linux-x64-gnu'], installedBy: undefined });
    expect(packageInfo().version).toMatch(/^\d+\.\d+\.\d+/);
    expect(packageInfo()).toBe(packageInfo(PACKAGE_ROOT));
  });
});

describe('missingPrebuilt', () => {
  it('names platforms no release has binaries for', () => {
    expect(missingPrebuilt('darwin-arm64')).toMatch(/^ha-manager has no prebuilt binaries for darwin-arm64 \(prebuilt: linux-x64-gnu, /);
  });

  it('names a platform this npm release was published without', () => {
    const root = fakeInstall({ optionalDependencies: { '@ha-manager/native-linux-x64-gnu': '9.8.7' } });
    expect(missingPrebuilt('linux-arm64-musl', root)).toBe(
      'this release of ha-manager was published without a binary for linux-arm64-musl (prebuilt: linux-x64-gnu)',
    );
    expect(missingPrebuilt('linux-x64-gnu', root)).toBeUndefined();
  });
});

describe('nativeRemedy', () => {
  it('gives each installation advice it can follow', () => {
    expect(nativeRemedy('source')).toBe('build the native parts with `npm run build:native`, which needs cargo');
    expect(nativeRemedy('debian')).toBe('reinstall the Debian package (apt-get install --reinstall ha-manager)');
    expect(nativeRemedy('npm', 'linux-x64-gnu')).toContain('install @ha-manager/native-linux-x64-gnu@');
    expect(nativeRemedy('npm', 'freebsd-x64')).toMatch(/no prebuilt binaries for freebsd-x64 \(prebuilt: .*\); build ha-manager from its sources/);
    for (const kind of ['npm', 'debian'] as const) expect(nativeRemedy(kind)).not.toContain('build:native');
  });
});
