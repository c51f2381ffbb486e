// The Rust crates' tests (`cargo test`), first part of `npm test`. Without
// cargo they are skipped, saying so, and the rest of `npm test` runs; with
// HA_REQUIRE_NATIVE=1 (as in .ci/run) a missing cargo is a failure.

import { spawnSync } from 'node:child_process';

const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  const reason = 'cargo is not on PATH, so the Rust crates are not tested (install a Rust toolchain to run them)';
  if (process.env.HA_REQUIRE_NATIVE === '1') {
    console.error(`test:cargo: HA_REQUIRE_NATIVE=1 but ${reason}`);
    process.exit(1);
  }
  console.warn(`test:cargo: SKIPPED: ${reason}`);
  process.exit(0);
}
const result = spawnSync('cargo', ['test', '--offline', '--workspace'], { stdio: 'inherit', env: { ...process.env, CARGO_NET_OFFLINE: 'true' } });
process.exit(result.status ?? 1);
