// Which prebuilt binary fits this machine, named as @napi-rs/cli names them
// (`linux-x64-gnu`), and where the files of this package live.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Platforms with a package under npm/ (and in crates/ha-native/napi.config.json). */
export const SUPPORTED_PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl'] as const;

export const BINARY_NAME = 'ha-native';
export const PLATFORM_PACKAGE_SCOPE = '@ha-manager/native';

/** The repository (or installed package) root: src/native and dist/native both sit two levels below it. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function isMusl(): boolean {
  // The cheap check napi-rs loaders use first; the process report is slower.
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header?.glibcVersionRuntime === undefined;
  }
}

/** This machine's platform name, e.g. `linux-x64-gnu` or `darwin-arm64`. */
export function platformName(): string {
  if (process.platform === 'linux') return `linux-${process.arch}-${isMusl() ? 'musl' : 'gnu'}`;
  return `${process.platform}-${process.arch}`;
}

export function localBuildPath(platform: string): string {
  return join(PACKAGE_ROOT, 'crates', 'ha-native', `${BINARY_NAME}.${platform}.node`);
}

export function platformPackageName(platform: string): string {
  return `${PLATFORM_PACKAGE_SCOPE}-${platform}`;
}
