// Whether the native parts are there for the tests that need them: without
// them those tests skip with the loader's reason (HA_REQUIRE_NATIVE=1: fail).

import { describeNative, loadNative } from '../../src/native/loader.js';
import { findWatchdogMuxBinary } from '../../src/native/mux-binary.js';
import { requirePrerequisite } from '../prerequisites.js';

/** Why the addon cannot be tested here, or undefined when it loaded. */
export function addonMissing(): string | undefined {
  const native = loadNative();
  return requirePrerequisite('native', native.binding !== undefined, `the native addon is ${describeNative(native)}`);
}

/** Why watchdog-mux cannot be tested here, or undefined when it is built and the addon (its client) loaded. */
export function muxMissing(): string | undefined {
  const binary = findWatchdogMuxBinary();
  return (
    requirePrerequisite('native', binary.path !== undefined, `watchdog-mux is not built (looked at ${binary.searched.join(', ')})`) ??
    addonMissing()
  );
}
