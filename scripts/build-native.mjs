// Builds the Rust side of ha-manager: the N-API addon, named for the platform
// by @napi-rs/cli and left next to its crate where src/native/loader.ts looks
// for it, and the watchdog-mux daemon. Everything builds offline from the
// workspace. Without cargo this warns and succeeds, so that the TypeScript
// fallbacks are used.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const crate = join(root, 'crates', 'ha-native');
const env = { ...process.env, CARGO_NET_OFFLINE: 'true' };

function run(command, args) {
  const shown = [command === process.execPath ? 'node' : command, ...args.map((a) => (a.startsWith(root) ? relative(root, a) || '.' : a))];
  console.log(`> ${shown.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    console.error(`native build failed: ${command} exited with ${result.status ?? result.signal}`);
    process.exit(1);
  }
}

const cargo = spawnSync('cargo', ['--version'], { env, encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  console.warn(
    'native addon: NOT BUILT, cargo was not found on PATH. The worker pool and lease helpers\n' +
      'use their TypeScript implementations; watchdog-mux and its client are unavailable.\n' +
      'Install a Rust toolchain (e.g. `apt-get install cargo`) and run `npm run build:native`.',
  );
  process.exit(0);
}

const napiCli = join(dirname(createRequire(import.meta.url).resolve('@napi-rs/cli/package.json')), 'dist', 'cli.js');
run(process.execPath, [
  napiCli,
  'build',
  '--platform',
  '--release',
  '--no-js',
  '--manifest-path',
  join(crate, 'Cargo.toml'),
  '--config-path',
  join(crate, 'napi.config.json'),
  '--package-json-path',
  join(root, 'package.json'),
  '--output-dir',
  crate,
]);
run('cargo', ['build', '--release', '--offline', '--package', 'watchdog-mux']);

const mux = join(root, 'target', 'release', 'watchdog-mux');
if (!existsSync(mux)) {
  console.error(`native build failed: ${mux} was not produced`);
  process.exit(1);
}
console.log(`native addon and watchdog-mux built (${relative(root, crate)}/*.node, ${relative(root, mux)})`);
