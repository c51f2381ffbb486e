// Runs every bench/*.bench.mjs in turn, each in its own node process, or
// only those whose names contain one of the given words:
//
//   npm run bench [-- fuzz simulator]
//   npm run bench -- --lab lab      (only the lab's campaigns)
//
// Build first (`npm run build`): benchmarks import from dist/.
// `--lab` (or HA_BENCH_LAB=1) also runs the cluster lab's campaigns
// (lab.bench.mjs), which take hours and need root; without it they say so.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
// Flags (--lab) are not names: `npm run bench -- --lab` runs everything, the lab included.
const only = process.argv.slice(2).filter((word) => !word.startsWith('--'));
const env = process.argv.includes('--lab') ? { ...process.env, HA_BENCH_LAB: '1' } : process.env;
const failed = [];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((word) => f.includes(word)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${only.join(', ')}`);
  process.exit(1);
}
for (const file of files) {
  console.log(`\n=== ${file}`);
  const { status } = spawnSync(process.execPath, [`${dir}${file}`], { stdio: 'inherit', env });
  if (status !== 0) failed.push(file);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
