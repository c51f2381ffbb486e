// Builds the Debian package of ha-manager from the packed npm tarballs
// (scripts/package.mjs), with dpkg-deb alone: no debhelper, no source
// package, nothing downloaded.
//
//   node scripts/package-deb.mjs [--out DIR] [--no-lintian] [--compression xz|gzip]
//                                    (npm run package:deb; DIR: dist-packages, xz)
//
// Where lintian is installed, the package is checked with it and any error
// fails the build (findings that are deliberate are overridden, with why, in
// packaging/debian/lintian-overrides).
//
// Layout:
//   /usr/lib/ha-manager/               the main package, its production node_modules
//                                      (pinned by package-lock.json, from the npm cache)
//     node_modules/@ha-manager/native-<platform>/   the addon and watchdog-mux
//   /usr/bin/ha-{manager,crm,lrm,simulator,api}, /usr/sbin/watchdog-mux   links into it
//   /lib/systemd/system/{watchdog-mux,ha-crm,ha-lrm,ha-api}.service
//   /etc/default/ha-manager            conffile read by the units
//   /usr/share/doc/ha-manager/         copyright, changelog, README
//   /usr/share/lintian/overrides/ha-manager   findings that are deliberate, each with why

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const packaging = join(root, 'packaging', 'debian');

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

function fail(message) {
  console.error(`package:deb: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.error) fail(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The files of node_modules no program reads: dotfiles (VCS, linters, hooks) and documentation other than licences. */
function prune(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (entry.startsWith('.')) rmSync(path, { recursive: true, force: true });
    else if (stat.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (/\.(md|markdown|html)$/i.test(entry) && !/^(licen[cs]e|copying)/i.test(entry)) rmSync(path);
  }
}

function isProgram(path) {
  const head = readFileSync(path).subarray(0, 4);
  return head.toString('latin1') === '\x7fELF' || head.subarray(0, 2).toString() === '#!';
}

/** A manual page that shows a program's help text as it prints it. */
function manualPage(name, section, summary, help) {
  const escape = (line) => line.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');
  return [
    `.TH ${name.toUpperCase()} ${section} "" "ha-manager ${version}" "ha-manager"`,
    '.SH NAME',
    `${name} \\- ${summary}`,
    '.SH DESCRIPTION',
    '.nf',
    ...help.trimEnd().split('\n').map(escape),
    '.fi',
    '.SH SEE ALSO',
    '/usr/share/doc/ha-manager/README.md.gz',
    '',
  ].join('\n');
}

const out = resolve(option('--out', join(root, 'dist-packages')));
const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { version } = main;

// This machine's build: a .deb is per architecture, like the platform package.
const { platformName } = await import(join(root, 'dist', 'native', 'platform.js'));
const platform = platformName();
const debArch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
if (debArch === undefined || !platform.endsWith('-gnu')) fail(`no Debian architecture for ${platform}`);

const mainTarball = join(out, `ha-manager-${version}.tgz`);
const platformTarball = join(out, `ha-manager-native-${platform}-${version}.tgz`);
for (const tarball of [mainTarball, platformTarball]) {
  if (!existsSync(tarball)) fail(`${relative(process.cwd(), tarball)} is missing: run \`npm run package\` first`);
}

const work = mkdtempSync(join(tmpdir(), 'ha-manager-deb-'));
try {
  const tree = join(work, 'root');
  const app = join(tree, 'usr', 'lib', 'ha-manager');
  const extract = (tarball, into) => {
    mkdirSync(into, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', into, '--strip-components=1', '--no-same-owner']);
  };

  // The app, marked as installed by this package so that its advice fits
  // (src/native/install.ts), with Debian's node path in its programs.
  extract(mainTarball, app);
  const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ ...manifest, installedBy: 'debian' }, null, 2)}\n`);
  for (const program of Object.keys(main.bin)) {
    const file = join(app, 'bin', program);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^#!\/usr\/bin\/env node\n/, '#!/usr/bin/node\n'));
  }

  // Production dependencies exactly as locked, from the npm cache only.
  const deps = join(work, 'deps');
  mkdirSync(deps);
  copyFileSync(join(root, 'package.json'), join(deps, 'package.json'));
  copyFileSync(join(root, 'package-lock.json'), join(deps, 'package-lock.json'));
  const ci = spawnSync('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: deps, encoding: 'utf8' });
  if (ci.status !== 0) {
    fail(`npm ci --omit=dev --offline failed (the npm cache lacks a dependency: run \`npm ci\` once, online):\n${ci.stderr}`);
  }
  renameSync(join(deps, 'node_modules'), join(app, 'node_modules'));
  rmSync(join(app, 'node_modules', '.package-lock.json'), { force: true });
  rmSync(join(app, 'node_modules', '.bin'), { recursive: true, force: true });
  prune(join(app, 'node_modules'));
  const nativeDir = join(app, 'node_modules', '@ha-manager', `native-${platform}`);
  extract(platformTarball, nativeDir);
  // Debian ships binaries stripped (the npm package keeps symbol names for backtraces).
  for (const file of ['watchdog-mux', `ha-native.${platform}.node`]) {
    run('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', join(nativeDir, file)]);
  }

  // Programs on PATH.
  const link = (target, path) => {
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(relative(dirname(path), target), path);
  };
  for (const program of Object.keys(main.bin)) link(join(app, 'bin', program), join(tree, 'usr', 'bin', program));
  link(join(nativeDir, 'watchdog-mux'), join(tree, 'usr', 'sbin', 'watchdog-mux'));

  // systemd units and their defaults file.
  const units = join(tree, 'lib', 'systemd', 'system');
  mkdirSync(units, { recursive: true });
  copyFileSync(join(root, 'crates', 'watchdog-mux', 'watchdog-mux.service'), join(units, 'watchdog-mux.service'));
  for (const unit of ['ha-crm.service', 'ha-lrm.service', 'ha-api.service']) copyFileSync(join(root, 'share', 'systemd', unit), join(units, unit));
  mkdirSync(join(tree, 'etc', 'default'), { recursive: true });
  copyFileSync(join(packaging, 'default'), join(tree, 'etc', 'default', 'ha-manager'));

  // Documentation and lintian overrides.
  const doc = join(tree, 'usr', 'share', 'doc', 'ha-manager');
  mkdirSync(doc, { recursive: true });
  copyFileSync(join(packaging, 'copyright'), join(doc, 'copyright'));
  const changelog = readFileSync(join(packaging, 'changelog'), 'utf8');
  if (!changelog.startsWith(`ha-manager (${version})`)) fail(`packaging/debian/changelog must start with an entry for ${version}`);
  writeFileSync(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  writeFileSync(join(doc, 'README.md.gz'), gzipSync(readFileSync(join(app, 'README.md')), { level: 9 }));
  rmSync(join(app, 'README.md'));
  const overrides = join(tree, 'usr', 'share', 'lintian', 'overrides');
  mkdirSync(overrides, { recursive: true });
  copyFileSync(join(packaging, 'lintian-overrides'), join(overrides, 'ha-manager'));

  // Manual pages, from each program's own help.
  const manuals = [
    ['ha-manager', 1, [join(app, 'bin', 'ha-manager'), 'help'], 'manage the HA resources and rules of a cluster'],
    ['ha-simulator', 1, [join(app, 'bin', 'ha-simulator'), '--help'], 'run HA scenarios in a deterministic simulated cluster'],
    ['ha-crm', 8, [join(app, 'bin', 'ha-crm'), '--help'], 'cluster resource manager daemon'],
    ['ha-lrm', 8, [join(app, 'bin', 'ha-lrm'), '--help'], 'local resource manager daemon'],
    ['ha-api', 8, [join(app, 'bin', 'ha-api'), '--help'], 'HTTP API and web interface of the HA stack'],
    ['watchdog-mux', 8, [join(nativeDir, 'watchdog-mux'), '--help'], 'watchdog multiplexer for the HA daemons'],
  ];
  for (const [name, section, [command, ...args], summary] of manuals) {
    const help = command.endsWith('watchdog-mux') ? run(command, args) : run(process.execPath, [command, ...args]);
    const dir = join(tree, 'usr', 'share', 'man', `man${section}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.${section}.gz`), gzipSync(manualPage(name, section, summary, help), { level: 9 }));
  }

  // Modes: everything readable; directories, programs and scripts executable.
  const normalise = (path) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      chmodSync(path, 0o755);
      for (const entry of readdirSync(path)) normalise(join(path, entry));
    } else {
      chmodSync(path, stat.mode & 0o111 && isProgram(path) ? 0o755 : 0o644);
    }
  };
  normalise(tree);

  // Control files.
  const control = join(tree, 'DEBIAN');
  mkdirSync(control);
  const md5sums = [];
  let installedBytes = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      const stat = lstatSync(path);
      if (path === control) continue;
      if (stat.isDirectory()) {
        installedBytes += 4096;
        walk(path);
      } else if (stat.isFile()) {
        installedBytes += Math.ceil(stat.size / 4096) * 4096;
        if (!relative(tree, path).startsWith('etc/')) {
          md5sums.push(`${createHash('md5').update(readFileSync(path)).digest('hex')}  ${relative(tree, path)}`);
        }
      }
    }
  };
  walk(tree);
  const glibc = ['watchdog-mux', `ha-native.${platform}.node`]
    .flatMap((file) => run('objdump', ['-T', join(nativeDir, file)]).match(/GLIBC_[0-9.]+/g) ?? [])
    .map((tag) => tag.slice('GLIBC_'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .at(-1);
  const template = readFileSync(join(packaging, 'control'), 'utf8');
  const fields = { VERSION: version, ARCH: debArch, INSTALLED_SIZE: String(Math.ceil(installedBytes / 1024)), GLIBC: glibc ?? '2.31' };
  writeFileSync(join(control, 'control'), template.replace(/@([A-Z_]+)@/g, (_, name) => fields[name] ?? fail(`unknown field @${name}@ in control`)));
  writeFileSync(join(control, 'conffiles'), '/etc/default/ha-manager\n');
  writeFileSync(join(control, 'md5sums'), `${md5sums.join('\n')}\n`);
  for (const script of ['postinst', 'postrm']) {
    copyFileSync(join(packaging, script), join(control, script));
    chmodSync(join(control, script), 0o755);
  }
  for (const file of ['control', 'conffiles', 'md5sums']) chmodSync(join(control, file), 0o644);

  const deb = join(out, `ha-manager_${version}_${debArch}.deb`);
  run('dpkg-deb', ['--root-owner-group', `-Z${option('--compression', 'xz')}`, '--build', tree, deb]);
  console.log(`${relative(process.cwd(), deb)} ${Math.round(statSync(deb).size / 1024)} kB (installed ${fields.INSTALLED_SIZE} kB)`);
  if (!process.argv.includes('--no-lintian')) {
    const lintian = spawnSync('lintian', ['--fail-on', 'error', '--display-info', deb], { encoding: 'utf8' });
    if (lintian.error) {
      console.log('lintian: not installed, the package is not checked (apt-get install lintian)');
    } else {
      process.stdout.write(lintian.stdout + lintian.stderr);
      if (lintian.status !== 0) fail(`lintian found errors in ${relative(process.cwd(), deb)}`);
      console.log('lintian: no errors');
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
