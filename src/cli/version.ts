// `--version` of every program: the package version, and whether the native
// parts are there — the first thing to know about an installation.

import { packageInfo } from '../native/install.js';
import { describeNative, loadNative } from '../native/loader.js';
import { findWatchdogMuxBinary } from '../native/mux-binary.js';

export function versionText(program: string): string {
  const mux = findWatchdogMuxBinary();
  const muxLine = mux.path !== undefined ? mux.path : `not found (looked at ${mux.searched.join(', ')})`;
  return [`${program} ${packageInfo().version}`, `native: ${describeNative(loadNative())}`, `watchdog-mux: ${muxLine}`].join('\n');
}
