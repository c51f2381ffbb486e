// Finds and loads the ha-native addon: first the file named by
// HA_MANAGER_NATIVE_PATH, then the local build (crates/ha-native, written by
// `npm run build:native`), then the prebuilt per-platform package. Every
// failed attempt is kept, so that "why is the TypeScript fallback in use?"
// always has an answer.

import { createRequire } from 'node:module';
import { asNativeBinding, type NativeBinding } from './binding.js';
import { localBuildPath, platformName, platformPackageName, SUPPORTED_PLATFORMS } from './platform.js';

export type Implementation = 'native' | 'typescript';
export type LoadSource = 'override' | 'local build' | 'platform package';

export interface LoadFailure {
  readonly source: LoadSource;
  readonly location: string;
  readonly error: string;
}

export interface NativeLoadResult {
  /** `native` when the addon loaded; `typescript` when only the fallbacks are available. */
  readonly implementation: Implementation;
  readonly binding: NativeBinding | undefined;
  /** The file the addon was loaded from. */
  readonly loadedFrom: string | undefined;
  /** This machine's platform name, e.g. `linux-x64-gnu`. */
  readonly platform: string;
  /** Every attempt that failed before the addon loaded (or all of them). */
  readonly errors: readonly LoadFailure[];
}

/** Path of an addon file to try before any other. */
export const NATIVE_PATH_ENV = 'HA_MANAGER_NATIVE_PATH';

const require = createRequire(import.meta.url);
let cached: NativeLoadResult | undefined;

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function tryLoad(source: LoadSource, location: string, resolve: () => string, errors: LoadFailure[]): NativeBinding | undefined {
  try {
    const file = resolve();
    return asNativeBinding(require(file), file);
  } catch (err) {
    errors.push({ source, location, error: message(err) });
    return undefined;
  }
}

function load(): NativeLoadResult {
  const platform = platformName();
  const errors: LoadFailure[] = [];
  const candidates: [LoadSource, string, () => string][] = [];
  const override = process.env[NATIVE_PATH_ENV];
  if (override) candidates.push(['override', override, () => override]);
  candidates.push(['local build', localBuildPath(platform), () => localBuildPath(platform)]);
  const pkg = platformPackageName(platform);
  candidates.push([
    'platform package',
    pkg,
    () => {
      if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(platform)) {
        throw new Error(`no prebuilt package for ${platform} (prebuilt: ${SUPPORTED_PLATFORMS.join(', ')})`);
      }
      return require.resolve(pkg);
    },
  ]);
  for (const [source, location, resolve] of candidates) {
    const binding = tryLoad(source, location, resolve, errors);
    if (binding) return { implementation: 'native', binding, loadedFrom: location, platform, errors };
  }
  return { implementation: 'typescript', binding: undefined, loadedFrom: undefined, platform, errors };
}

/** Loads the addon once per process; `reload` tries again (e.g. after a build). */
export function loadNative(options: { reload?: boolean } = {}): NativeLoadResult {
  if (cached === undefined || options.reload) cached = load();
  return cached;
}

/** The failed attempts as lines for an error message or log. */
export function describeLoadFailures(result: NativeLoadResult): string {
  if (result.errors.length === 0) return 'no load attempts failed';
  return result.errors.map((f) => `  ${f.source} (${f.location}): ${f.error}`).join('\n');
}
