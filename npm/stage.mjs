// Copies the built addon and watchdog-mux into this machine's per-platform
// package folder (or the one named as argument, given its --target build),
// ready for `npm publish`. Run after `npm run build:native`.
//   node npm/stage.mjs [platform] [cargo-target-triple]

import { chmodSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localBuildPath, platformName } from '../dist/native/platform.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const platform = process.argv[2] ?? platformName();
const triple = process.argv[3];
const folder = join(root, 'npm', platform);
if (!existsSync(join(folder, 'package.json'))) {
  console.error(`no package folder npm/${platform} (platforms: see crates/ha-native/napi.config.json)`);
  process.exit(1);
}
const sources = [
  [localBuildPath(platform), `ha-native.${platform}.node`],
  [join(root, 'target', ...(triple ? [triple] : []), 'release', 'watchdog-mux'), 'watchdog-mux'],
];
for (const [from, name] of sources) {
  if (!existsSync(from)) {
    console.error(`missing ${from}: build it first (npm run build:native, or napi build --target for another platform)`);
    process.exit(1);
  }
  copyFileSync(from, join(folder, name));
}
chmodSync(join(folder, 'watchdog-mux'), 0o755);
console.log(`staged npm/${platform}: ${sources.map(([, name]) => name).join(', ')}`);
