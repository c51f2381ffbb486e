// Checks the Rust workspace as CI does: formatting with rustfmt, then clippy
// over every crate and target with warnings as errors (the workspace lints
// in Cargo.toml add a SAFETY comment for every unsafe block). A missing
// cargo, rustfmt or clippy is skipped with a message saying so and how to
// install it, unless HA_REQUIRE_NATIVE=1, which makes it a failure.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const required = process.env.HA_REQUIRE_NATIVE === '1';
const env = { ...process.env, CARGO_NET_OFFLINE: 'true' };

function works(args) {
  const result = spawnSync('cargo', args, { cwd: root, env, encoding: 'utf8' });
  return !result.error && result.status === 0;
}

let failed = false;
let skipped = false;

function skip(what, reason, install) {
  const message = `lint:rust: SKIPPED ${what}: ${reason}. Install it with \`${install}\`.`;
  if (required) {
    console.error(`${message}\nHA_REQUIRE_NATIVE=1: a missing Rust tool is an error.`);
    failed = true;
  } else {
    console.warn(message);
    skipped = true;
  }
}

function run(what, args) {
  console.log(`> cargo ${args.join(' ')}`);
  const result = spawnSync('cargo', args, { cwd: root, env, stdio: 'inherit' });
  if (result.error || result.status !== 0) {
    console.error(`lint:rust: ${what} failed`);
    failed = true;
  }
}

if (!works(['--version'])) {
  skip('rustfmt and clippy', 'cargo is not on PATH', 'apt-get install cargo rustfmt rust-clippy');
} else {
  if (works(['fmt', '--version'])) run('rustfmt', ['fmt', '--all', '--check']);
  else skip('rustfmt', 'the rustfmt component is not installed', 'rustup component add rustfmt');
  if (works(['clippy', '--version'])) {
    run('clippy', ['clippy', '--offline', '--workspace', '--all-targets', '--', '-D', 'warnings']);
  } else {
    skip('clippy', 'the clippy component is not installed', 'rustup component add clippy');
  }
}

if (failed) process.exit(1);
if (!skipped) console.log('lint:rust: rustfmt and clippy are clean');
