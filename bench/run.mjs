// Runs every bench/*.bench.mjs in turn, each in its own node process, or
// only those whose names contain one of the given words:
//
//   npm run bench [-- fuzz simulator]
//
// Build first (`npm run build`): benchmarks import from dist/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
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
  const { status } = spawnSync(process.execPath, [`${dir}${file}`], { stdio: 'inherit' });
  if (status !== 0) failed.push(file);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
