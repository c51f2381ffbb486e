// The artefacts a user installs, tested as installed: the npm tarballs put
// into a fresh folder with npm (offline: our packages come only from the
// tarballs), and the .deb unpacked with dpkg-deb. Everything runs with a PATH
// that has no cargo, so nothing can fall back on a local build; the programs
// must find the native parts that the packages carry.

import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { platformName } from '../../src/native/platform.js';
import { addonMissing, muxMissing } from '../native/addon.js';
import { requirePrerequisite, skipped } from '../prerequisites.js';
import { OWN_SUITE, scenarioDirs } from '../simulator/scenario-dirs.js';
import { writeOfflineProject } from './offline-install.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PLATFORM = platformName();
const PLATFORM_PACKAGE = `@ha-manager/native-${PLATFORM}`;

function onPath(program: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return dir !== '';
    } catch {
      return false;
    }
  });
}

/** PATH without the folders that hold cargo or rustc. */
const PATH_WITHOUT_CARGO = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => dir !== '' && !onPath('cargo', dir) && !onPath('rustc', dir))
  .join(delimiter);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        cwd: options.cwd ?? ROOT,
        env: { PATH: PATH_WITHOUT_CARGO, HOME: process.env.HOME ?? '/root', LANG: 'C', ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const outcome = await run(command, args, options);
  if (outcome.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${outcome.code}:\n${outcome.stderr}${outcome.stdout}`);
  return outcome.stdout;
}

/**
 * Starts watchdog-mux on a simulated device, connects a client through the
 * installed package's library, closes it cleanly and stops the mux: the
 * mux must say it disarmed and exit 0.
 */
async function muxRoundTrip(mux: string, libraryDir: string, work: string): Promise<string> {
  const socket = join(work, 'mux.sock');
  const proc = spawn(mux, ['--fake-device', '--socket', socket, '--active-marker', 'none', '--no-journal-sync', '--tick-ms', '50'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: PATH_WITHOUT_CARGO },
  });
  let log = '';
  proc.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  try {
    const client = join(libraryDir, 'mux-client.mjs');
    // Retries until the mux accepts: its socket file exists before it listens.
    writeFileSync(
      client,
      [
        "import { connectWatchdogMux } from 'ha-manager';",
        'const socket = process.argv[2];',
        'for (let i = 0; ; i++) {',
        '  try {',
        '    const c = connectWatchdogMux(socket);',
        '    c.update();',
        '    console.log(JSON.stringify(c.status()));',
        '    c.close(true);',
        '    break;',
        '  } catch (err) {',
        '    if (i > 400) throw err;',
        '    await new Promise((r) => setTimeout(r, 10));',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const status = await ok(process.execPath, [client, socket], { cwd: libraryDir });
    expect(JSON.parse(status)).toMatchObject({ feeding: true });
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toContain('closed cleanly');
    expect(log).toContain('clean exit: watchdog disarmed');
    return log;
  } finally {
    proc.kill('SIGKILL');
  }
}

const scenarios = scenarioDirs(OWN_SUITE);
const missing = addonMissing() ?? muxMissing();

describe('the packed npm tarballs, installed', () => {
  if (missing !== undefined) return skipped(`cannot pack the platform package: ${missing}`);

  let work = '';
  let packages = '';
  let prefix = '';
  const bin = (program: string): string => join(prefix, 'node_modules', '.bin', program);
  const platformDir = (): string => join(prefix, 'node_modules', PLATFORM_PACKAGE);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ha-installed-'));
    packages = join(work, 'packages');
    prefix = join(work, 'prefix');
    mkdirSync(prefix);
    await ok(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--out', packages], { env: { PATH: process.env.PATH ?? '' } });
    const tarballs = [join(packages, `ha-manager-${VERSION}.tgz`), join(packages, `ha-manager-native-${PLATFORM}-${VERSION}.tgz`)];
    writeOfflineProject(prefix, tarballs, join(ROOT, 'package-lock.json'));
    const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: prefix });
    if (install.code !== 0) {
      throw new Error(`npm ci --offline failed; the npm cache must hold the dependencies (run \`npm ci\` once):\n${install.stderr}`);
    }
  }, 180_000);
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('installed the platform package beside ha-manager, and no Rust toolchain is on PATH', () => {
    expect(existsSync(join(platformDir(), `ha-native.${PLATFORM}.node`))).toBe(true);
    expect(existsSync(join(platformDir(), 'watchdog-mux'))).toBe(true);
    expect(onPath('cargo', PATH_WITHOUT_CARGO)).toBe(false);
    expect(existsSync(join(prefix, 'node_modules', 'ha-manager', 'crates'))).toBe(false);
  });

  it.each(['ha-manager', 'ha-crm', 'ha-lrm', 'ha-simulator'])('%s --version: native loaded from the platform package', async (program) => {
    const stdout = await ok(bin(program), ['--version']);
    expect(stdout).toBe(
      `${program} ${VERSION}\n` +
        `native: loaded from ${join(platformDir(), `ha-native.${PLATFORM}.node`)}\n` +
        `watchdog-mux: ${join(platformDir(), 'watchdog-mux')}\n`,
    );
  });

  it("ha-simulator --kernel native passes the project's scenarios", async () => {
    const stdout = await ok(bin('ha-simulator'), ['--kernel', 'native', 'test', ...scenarios]);
    expect(stdout).toBe(`${scenarios.length} passed, 0 failed\n`);
  });

  it('the shipped watchdog-mux serves a client of the installed library and stops cleanly', async () => {
    const mux = join(platformDir(), 'watchdog-mux');
    expect(await ok(mux, ['--version'])).toBe(`watchdog-mux ${VERSION}\nnative: this binary, ${mux}\n`);
    await muxRoundTrip(mux, prefix, work);
  });

  it('the shipped type declarations compile without @types/node', async () => {
    const consumer = join(prefix, 'consumer.ts');
    writeFileSync(
      consumer,
      [
        "import { loadScenario, runSimulation, simulateDir, createWorkerPool, type CommandResult, type SimScenario } from 'ha-manager';",
        'export const run: (s: SimScenario) => Promise<void> = (s) => runSimulation(s, { write: () => undefined });',
        'export type Signal = CommandResult["signal"];',
        'export const api = [loadScenario, simulateDir, createWorkerPool];',
        '',
      ].join('\n'),
    );
    const tsconfig = {
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023'], types: [], noEmit: true, skipLibCheck: false },
      files: ['consumer.ts'],
    };
    writeFileSync(join(prefix, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const outcome = await run(process.execPath, [tsc, '-p', join(prefix, 'tsconfig.json')], { cwd: prefix });
    expect(outcome.stdout + outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
  });

  it('without the platform package, says so and gives advice that fits an npm install', async () => {
    rmSync(platformDir(), { recursive: true, force: true });
    const version = await ok(bin('ha-manager'), ['--version']);
    expect(version).toContain(`native: not loaded (`);
    expect(version).toContain(`install ${PLATFORM_PACKAGE}@${VERSION} beside ha-manager`);
    const simulator = await run(bin('ha-simulator'), ['--kernel', 'native', 'test', scenarios[0]]);
    expect(simulator.code).toBe(2);
    expect(simulator.stderr).toContain('ha-simulator: the native addon is not loaded: not loaded (');
    expect(simulator.stderr).toContain(`install ${PLATFORM_PACKAGE}@${VERSION}`);
    for (const text of [version, simulator.stdout, simulator.stderr]) expect(text).not.toContain('build:native');
  });
});

describe('the .deb, unpacked', () => {
  if (missing !== undefined) return skipped(`cannot build the .deb: ${missing}`);
  const noDpkg = requirePrerequisite('dpkg', onPath('dpkg-deb') && onPath('objdump') && onPath('strip'), 'dpkg-deb, objdump or strip is not on PATH');
  if (noDpkg !== undefined) return skipped(noDpkg);

  const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
  let work = '';
  let deb = '';
  let tree = '';
  const app = (): string => join(tree, 'usr', 'lib', 'ha-manager');
  const nativeDir = (): string => join(app(), 'node_modules', PLATFORM_PACKAGE);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ha-deb-'));
    const packages = join(work, 'packages');
    const env = { env: { PATH: process.env.PATH ?? '' } };
    // gzip: the contents are under test, not xz, which takes twice as long.
    await ok(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--out', packages], env);
    await ok(process.execPath, [join(ROOT, 'scripts', 'package-deb.mjs'), '--out', packages, '--no-lintian', '--compression', 'gzip'], env);
    deb = join(packages, `ha-manager_${VERSION}_${ARCH}.deb`);
    tree = join(work, 'root');
    await ok('dpkg-deb', ['-x', deb, tree]);
  }, 180_000);
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('declares what a Debian node needs, and its conffile', async () => {
    const control = await ok('dpkg-deb', ['-f', deb]);
    expect(control).toContain(`Package: ha-manager\nVersion: ${VERSION}\nArchitecture: ${ARCH}\n`);
    expect(control).toMatch(/^Depends: nodejs \(>= 20\), libc6 \(>= 2\.\d+\)$/m);
    expect(await ok('dpkg-deb', ['-I', deb, 'conffiles'])).toBe('/etc/default/ha-manager\n');
  });

  it('holds the programs, units and defaults where Debian looks for them', () => {
    for (const program of ['ha-manager', 'ha-crm', 'ha-lrm', 'ha-simulator']) {
      expect(readlinkSync(join(tree, 'usr', 'bin', program))).toBe(`../lib/ha-manager/bin/${program}`);
      expect(readFileSync(join(app(), 'bin', program), 'utf8')).toMatch(/^#!\/usr\/bin\/node\n/);
    }
    expect(readlinkSync(join(tree, 'usr', 'sbin', 'watchdog-mux'))).toBe(`../lib/ha-manager/node_modules/${PLATFORM_PACKAGE}/watchdog-mux`);
    for (const unit of ['watchdog-mux', 'ha-crm', 'ha-lrm']) {
      const text = readFileSync(join(tree, 'lib', 'systemd', 'system', `${unit}.service`), 'utf8');
      expect(text).toContain(unit === 'watchdog-mux' ? 'ExecStart=/usr/sbin/watchdog-mux' : `ExecStart=/usr/bin/${unit} `);
      expect(text).toContain('EnvironmentFile=-/etc/default/ha-manager');
    }
    expect(readFileSync(join(tree, 'etc', 'default', 'ha-manager'), 'utf8')).toContain('HA_MANAGER_STORE');
    for (const dependency of ['commander', 'pino', 'pino-pretty', 'etcd3']) expect(existsSync(join(app(), 'node_modules', dependency))).toBe(true);
    for (const devDependency of ['typescript', 'vitest', '@napi-rs/cli']) expect(existsSync(join(app(), 'node_modules', devDependency))).toBe(false);
  });

  // The programs run through the links in usr/bin and usr/sbin, with the node on PATH.
  const runProgram = (program: string, args: readonly string[]): Promise<string> => {
    const path = join(tree, 'usr', program === 'watchdog-mux' ? 'sbin' : 'bin', program);
    return program === 'watchdog-mux' ? ok(path, args) : ok(process.execPath, [path, ...args]);
  };

  it.each(['ha-manager', 'ha-crm', 'ha-lrm', 'ha-simulator'])('%s --version: native loaded from the package', async (program) => {
    expect(await runProgram(program, ['--version'])).toBe(
      `${program} ${VERSION}\n` +
        `native: loaded from ${join(nativeDir(), `ha-native.${PLATFORM}.node`)}\n` +
        `watchdog-mux: ${join(nativeDir(), 'watchdog-mux')}\n`,
    );
  });

  it("ha-simulator --kernel native passes the project's scenarios", async () => {
    expect(await runProgram('ha-simulator', ['--kernel', 'native', 'test', ...scenarios])).toBe(`${scenarios.length} passed, 0 failed\n`);
  });

  it('watchdog-mux serves a client and stops cleanly', async () => {
    const mux = join(tree, 'usr', 'sbin', 'watchdog-mux');
    expect(await runProgram('watchdog-mux', ['--version'])).toMatch(new RegExp(`^watchdog-mux ${VERSION.replace(/\./g, '\\.')}\\n`));
    await muxRoundTrip(mux, app(), work);
  });

  it('without its addon, advises reinstalling the Debian package', async () => {
    rmSync(join(nativeDir(), `ha-native.${PLATFORM}.node`));
    const version = await runProgram('ha-manager', ['--version']);
    expect(version).toContain('native: not loaded (');
    expect(version).toContain('reinstall the Debian package (apt-get install --reinstall ha-manager)');
    expect(version).not.toContain('build:native');
  });
});
