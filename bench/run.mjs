// Runs every bench/*.bench.mjs in turn, each in its own node process, with
// this command's arguments (`npm run bench -- --full` runs the long variants
// of the daemon scale benchmarks; HA_BENCH_FULL=1 does the same).
// Build first (`npm run build`): benchmarks import from dist/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const failed = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.mjs')).sort()) {
  console.log(`\n=== ${file}`);
  const { status } = spawnSync(process.execPath, [`${dir}${file}`, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (status !== 0) failed.push(file);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
