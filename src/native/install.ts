// How this copy of ha-manager was installed, and so what a person can do
// when a native part is missing: a source checkout builds it, an npm install
// gets it from the per-platform package, a Debian package ships it. Advice
// that does not fit the installation (`npm run build:native` in a package
// without sources) only sends people astray.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, platformName, platformPackageName, SUPPORTED_PLATFORMS } from './platform.js';

/** `source`: a checkout with the Rust crates; `npm`: an installed npm package; `debian`: the .deb. */
export type InstallKind = 'source' | 'npm' | 'debian';

/** The fields of package.json this module reads. */
export interface PackageInfo {
  readonly version: string;
  /** Platform packages this release declares (none in a source checkout). */
  readonly prebuiltPlatforms: readonly string[];
  /** Set by `npm run package:deb` in the copy it installs. */
  readonly installedBy: string | undefined;
}

let cached: PackageInfo | undefined;

/** package.json of this installation, read once. */
export function packageInfo(root: string = PACKAGE_ROOT): PackageInfo {
  if (root === PACKAGE_ROOT && cached !== undefined) return cached;
  const json = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version?: unknown;
    optionalDependencies?: Record<string, unknown>;
    installedBy?: unknown;
  };
  const prefix = platformPackageName('');
  const info: PackageInfo = {
    version: typeof json.version === 'string' ? json.version : 'unknown',
    prebuiltPlatforms: Object.keys(json.optionalDependencies ?? {})
      .filter((name) => name.startsWith(prefix))
      .map((name) => name.slice(prefix.length)),
    installedBy: typeof json.installedBy === 'string' ? json.installedBy : undefined,
  };
  if (root === PACKAGE_ROOT) cached = info;
  return info;
}

export function installKind(root: string = PACKAGE_ROOT): InstallKind {
  if (packageInfo(root).installedBy === 'debian') return 'debian';
  // Cargo.toml is never packed (package.json "files"), so only a checkout has it.
  return existsSync(join(root, 'Cargo.toml')) ? 'source' : 'npm';
}

/** Why no prebuilt binary can exist for this platform in this installation, if that is so. */
export function missingPrebuilt(platform: string = platformName(), root: string = PACKAGE_ROOT): string | undefined {
  if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(platform)) {
    return `ha-manager has no prebuilt binaries for ${platform} (prebuilt: ${SUPPORTED_PLATFORMS.join(', ')})`;
  }
  const { prebuiltPlatforms } = packageInfo(root);
  if (installKind(root) === 'npm' && !prebuiltPlatforms.includes(platform)) {
    const built = prebuiltPlatforms.length > 0 ? prebuiltPlatforms.join(', ') : 'none';
    return `this release of ha-manager was published without a binary for ${platform} (prebuilt: ${built})`;
  }
  return undefined;
}

/** What to do to get the native parts, as fits this installation. */
export function nativeRemedy(kind: InstallKind = installKind(), platform: string = platformName()): string {
  switch (kind) {
    case 'source':
      return 'build the native parts with `npm run build:native`, which needs cargo';
    case 'npm': {
      const missing = missingPrebuilt(platform);
      if (missing !== undefined) return `${missing}; build ha-manager from its sources, which needs cargo`;
      const { version } = packageInfo();
      return (
        `install ${platformPackageName(platform)}@${version} beside ha-manager ` +
        '(npm installs it as an optional dependency unless optional dependencies are omitted)'
      );
    }
    case 'debian':
      return 'reinstall the Debian package (apt-get install --reinstall ha-manager)';
    default: {
      const never: never = kind;
      throw new Error(`unknown install kind ${String(never)}`);
    }
  }
}
