// Finds and loads the ha-native addon: first the file named by
// HA_MANAGER_NATIVE_PATH, then, in a source checkout, the local build
// (crates/ha-native, written by `npm run build:native`), then the prebuilt
// per-platform package. Every
// failed attempt is kept, so that "why is the TypeScript fallback in use?"
// always has an answer.

import { createRequire } from 'node:module';
import { asNativeBinding, type NativeBinding } from './binding.js';
import { installKind, missingPrebuilt, nativeRemedy } from './install.js';
import { localBuildPath, platformName, platformPackageName } from './platform.js';

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
  /** The file the addon was loaded from (for the platform package, the resolved file). */
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

function tryLoad(
  source: LoadSource,
  location: string,
  resolve: () => string,
  errors: LoadFailure[],
): { binding: NativeBinding; file: string } | undefined {
  try {
    const file = resolve();
    return { binding: asNativeBinding(require(file), file), file };
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
  // Only a checkout builds locally; elsewhere that attempt would only add noise to the reasons.
  if (installKind() === 'source') candidates.push(['local build', localBuildPath(platform), () => localBuildPath(platform)]);
  const pkg = platformPackageName(platform);
  candidates.push([
    'platform package',
    pkg,
    () => {
      const missing = missingPrebuilt(platform);
      if (missing !== undefined) throw new Error(missing);
      return require.resolve(pkg);
    },
  ]);
  for (const [source, location, resolve] of candidates) {
    const loaded = tryLoad(source, location, resolve, errors);
    if (loaded) return { implementation: 'native', binding: loaded.binding, loadedFrom: loaded.file, platform, errors };
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

/** One line: where the addon came from, or why it did not load and what to do about it. */
export function describeNative(result: NativeLoadResult): string {
  if (result.binding !== undefined) return `loaded from ${result.loadedFrom}`;
  const attempts = result.errors.map((f) => `${f.source}: ${f.error}`).join('; ');
  return `not loaded (${attempts}; ${nativeRemedy()})`;
}
