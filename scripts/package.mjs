// Packs ha-manager the napi-rs way: the main package, and one package per
// platform holding the N-API addon and the watchdog-mux binary, which the
// main package declares as optional dependencies so that npm installs only
// the one matching the machine (by the `os`, `cpu` and `libc` fields).
//
//   node scripts/package.mjs [--out DIR]       (npm run package; DIR: dist-packages)
//
// Nothing is built here: run `npm run build` first. A platform is packed
// when its two binaries exist: this machine's from `npm run build:native`,
// another's from a cross build (crates/ha-native/ha-native.<platform>.node
// and target/<triple>/release/watchdog-mux), as the release workflow
// (.github/workflows/release.yml) lays them out. Every other platform is
// named as not built, and the main package does not declare it, so an
// installation there says that no binary exists instead of looking for one.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const out = resolve(option('--out', join(root, 'dist-packages')));
const stage = join(out, '.stage');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

/** Platform name (as in npm/) for each Rust target triple of the napi config. */
function platformOf(triple) {
  const [arch, , , abi] = triple.split('-');
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }[arch];
  if (cpu === undefined) fail(`no npm cpu name for ${triple}; add it here and a folder under npm/`);
  return `linux-${cpu}-${abi}`;
}

/** The host's build lives in target/release; cross builds in target/<triple>/release. */
function muxPath(triple) {
  const host = spawnSync('rustc', ['-vV'], { encoding: 'utf8' });
  const hostTriple = host.status === 0 ? /^host: (\S+)$/m.exec(host.stdout)?.[1] : undefined;
  const cross = join(root, 'target', triple, 'release', 'watchdog-mux');
  if (existsSync(cross) || hostTriple !== triple) return cross;
  return join(root, 'target', 'release', 'watchdog-mux');
}

/** `npm pack` of a staged folder into `out`; returns the tarball's name. */
function pack(folder) {
  const result = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
    cwd: folder,
    encoding: 'utf8',
  });
  if (result.status !== 0) fail(`npm pack in ${folder} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout)[0].filename;
}

const main = readJson(join(root, 'package.json'));
if (!existsSync(join(root, 'dist', 'index.js'))) fail('dist/ is not built: run `npm run build` first');

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

const { targets } = readJson(join(root, 'crates', 'ha-native', 'napi.config.json'));
const packed = [];
const report = [];
for (const triple of targets) {
  const platform = platformOf(triple);
  const template = join(root, 'npm', platform);
  const binaries = [
    [join(root, 'crates', 'ha-native', `ha-native.${platform}.node`), `ha-native.${platform}.node`],
    [muxPath(triple), 'watchdog-mux'],
  ];
  const missing = binaries.filter(([from]) => !existsSync(from)).map(([from]) => relative(root, from));
  if (missing.length > 0) {
    report.push(`${platform}: NOT PACKED, no binary built for ${triple} (missing ${missing.join(', ')})`);
    continue;
  }
  const folder = join(stage, platform);
  mkdirSync(folder);
  const manifest = readJson(join(template, 'package.json'));
  writeJson(join(folder, 'package.json'), { ...manifest, version: main.version });
  copyFileSync(join(template, 'README.md'), join(folder, 'README.md'));
  for (const [from, name] of binaries) copyFileSync(from, join(folder, name));
  chmodSync(join(folder, 'watchdog-mux'), 0o755);
  const file = pack(folder);
  packed.push(manifest.name);
  report.push(`${platform}: ${file}`);
}
if (packed.length === 0) {
  for (const line of report) console.error(line);
  fail('no platform has native binaries: run `npm run build:native` (needs cargo) before packing');
}

// The main package: the published files of package.json, and the platform
// packages packed above as optional dependencies of the same version.
const folder = join(stage, 'main');
mkdirSync(folder);
for (const entry of main.files) cpSync(join(root, entry), join(folder, entry), { recursive: true });
const optionalDependencies = Object.fromEntries(packed.map((name) => [name, main.version]));
writeJson(join(folder, 'package.json'), { ...main, optionalDependencies });
report.unshift(`main: ${pack(folder)} (optional dependencies: ${packed.join(', ')})`);
rmSync(stage, { recursive: true, force: true });

for (const line of report) {
  const file = /: (\S+\.tgz)/.exec(line)?.[1];
  const size = file === undefined ? '' : ` ${Math.round(statSync(join(out, file)).size / 1024)} kB`;
  console.log(`${line}${size}`);
}
console.log(`packages in ${relative(process.cwd(), out) || '.'}`);
