// Differential runner: for each seed, generate a scenario, run the reference
// simulator (the oracle, when present) and ours on it, and report every seed
// whose logs differ. A differing case is saved under OUT/<seed>/ with the
// scenario folder, both logs and a diff, so it can be replayed and minimised.
//
//   node test/fuzz/run.mjs [--count N] [--start S] [--seeds a,b,...] [--jobs J]
//                          [--out DIR] [--oracle PATH] [--sim PATH] [--hash-check]
//                          [--check-reference] [--mask die-location] [--no-oddities] [--quiet]
//                          [--mutate BASE_DIR[,BASE_DIR...]] [--load-scheduling] [--nodes MIN-MAX]
//
// --mutate draws each seed's scenario from a base scenario (mutate.mjs)
// instead of generating it whole; --load-scheduling generates CRS
// static/dynamic clusters, or keeps such bases (for an oracle that has the
// reference's scheduling bindings).
//
// Without an oracle it still runs our simulator on every seed and reports
// crashes (a non-zero exit or a log that does not end the reference's way).
// This is a tool, not part of `npm test`: CI has no oracle.

import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateScenario, writeScenario } from './generate.mjs';
import { generateMutant, loadBases } from './mutate.mjs';
import { applyMasks, firstDifference, normalize, signature } from './compare.mjs';
import { checkInvariants } from './invariants.mjs';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function parseArgs(argv) {
  const opts = {
    count: 100,
    start: 1,
    seeds: undefined,
    jobs: 2,
    out: '/tmp/fuzz-failures',
    oracle: '/tmp/oracle/run-reference',
    // Batch form of the oracle: loads the reference once and forks per scenario.
    oracleServer: '/tmp/oracle/start-server',
    sim: join(root, 'bin/ha-simulator'),
    hashCheck: false,
    // Check the invariants on the reference's logs too (validates the checks).
    checkReference: false,
    // Known, reported divergences to mask so that new classes stand out.
    mask: [],
    quiet: false,
    oddities: true,
    mutate: undefined,
    loadScheduling: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--count') opts.count = Number(val());
    else if (a === '--start') opts.start = Number(val());
    else if (a === '--seeds') opts.seeds = val().split(',').map(Number);
    else if (a === '--jobs') opts.jobs = Number(val());
    else if (a === '--out') opts.out = val();
    else if (a === '--oracle') opts.oracle = val();
    else if (a === '--oracle-server') opts.oracleServer = val();
    else if (a === '--no-server') opts.oracleServer = '';
    else if (a === '--sim') opts.sim = val();
    else if (a === '--hash-check') opts.hashCheck = true;
    else if (a === '--check-reference') opts.checkReference = true;
    else if (a === '--mask') opts.mask = val().split(',');
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--no-oddities') opts.oddities = false;
    else if (a === '--mutate') opts.mutate = val().split(',');
    else if (a === '--load-scheduling') opts.loadScheduling = true;
    else if (a === '--nodes') opts.nodes = val().split('-').map(Number);
    else throw new Error(`unknown argument '${a}'`);
  }
  return opts;
}

function run(cmd, args, env = {}) {
  return new Promise((res) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/**
 * One batch oracle process: requests "DIR<TAB>LOGFILE", one answer line each.
 * Runs one scenario at a time; each worker owns one.
 */
class OracleServer {
  constructor(cmd) {
    // The reference's warnings (uninitialized values, lock mismatches) are noise here.
    this.proc = spawn(cmd, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.waiting = [];
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  run(dir, env) {
    const out = `${dir}.oracle.log`;
    return new Promise((res) => {
      this.waiting.push((line) => {
        if (line === 'ok') res({ code: 0, stdout: readFileSync(out, 'utf8'), stderr: '' });
        else res({ code: 1, stdout: '', stderr: `oracle server: ${line}` });
      });
      this.proc.stdin.write(`${dir}\t${out}\n`);
    });
  }

  close() {
    this.proc.stdin.end();
  }
}

/**
 * Reruns of a differing case with Perl's default per-run hash randomisation
 * (as the reference runs anywhere but in our fixed-seed oracle): the chance
 * of missing one of two equally likely orders is 2^-8.
 */
const HASH_SEEDS = Array.from({ length: 8 }, () => 'random');

async function checkSeed(seed, opts, haveOracle, server) {
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `fuzz-${seed}-`));
  const dir = join(work, 'scenario');
  try {
    const scenario = opts.bases !== undefined ? generateMutant(seed, opts.bases) : generateScenario(seed, { oddities: opts.oddities, loadScheduling: opts.loadScheduling, nodes: opts.nodes });
    writeScenario(dir, scenario.files);
    const [ours, ref] = await Promise.all([
      run(process.execPath, [opts.sim, 'run', dir]),
      !haveOracle ? Promise.resolve(undefined) : server !== undefined ? server.run(dir) : run(opts.oracle, [dir]),
    ]);
    let problem;
    if (ours.code !== 0) problem = `our simulator exited ${ours.code}: ${ours.stderr.split('\n')[0]}`;
    else {
      const violations = checkInvariants(ours.stdout);
      if (violations.length > 0) problem = `invariant ${violations[0].replace(/line \d+/g, 'line N')}`;
    }
    let refViolations = [];
    let diff;
    let refUnstable = false;
    if (ref !== undefined) {
      if (ref.code !== 0) problem ??= `oracle exited ${ref.code}: ${ref.stderr.split('\n')[0]}`;
      else {
        if (opts.checkReference) refViolations = checkInvariants(ref.stdout);
        diff = firstDifference(applyMasks(ref.stdout, opts.mask), applyMasks(ours.stdout, opts.mask));
        if (diff !== undefined && opts.hashCheck) {
          // Perl's hash order decides some of the reference's log orders. If
          // its output changes with the hash seed, the case is hash-order
          // dependent: fine when ours equals one of the variants.
          const masked = applyMasks(ours.stdout, opts.mask);
          for (const hashSeed of HASH_SEEDS) {
            const again = await run(opts.oracle, [dir], { ORACLE_HASH_SEED: hashSeed });
            if (again.stdout !== ref.stdout) refUnstable = true;
            if (applyMasks(again.stdout, opts.mask) === masked) {
              diff = undefined;
              break;
            }
          }
        }
      }
    }
    if (refViolations.length > 0) problem = `REFERENCE violates ${refViolations[0]}`;
    if (problem !== undefined || diff !== undefined) {
      const out = join(opts.out, String(seed));
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      cpSync(dir, join(out, 'scenario'), { recursive: true });
      writeFileSync(join(out, 'ours.log'), ours.stdout + (ours.stderr ? `\n--- stderr ---\n${ours.stderr}` : ''));
      if (ref !== undefined) writeFileSync(join(out, 'reference.log'), ref.stdout + (ref.stderr ? `\n--- stderr ---\n${ref.stderr}` : ''));
      if (diff !== undefined) {
        const d = await run('diff', ['-u', join(out, 'reference.log'), join(out, 'ours.log')]);
        writeFileSync(join(out, 'diff'), d.stdout);
      }
    }
    return { seed, problem, diff, refUnstable, refViolations };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mutate !== undefined) opts.bases = loadBases(opts.mutate, { loadScheduling: opts.loadScheduling });
  const seeds = opts.seeds ?? Array.from({ length: opts.count }, (_, i) => opts.start + i);
  const haveOracle = existsSync(opts.oracle);
  if (!haveOracle) process.stderr.write(`no oracle at ${opts.oracle}: checking our simulator only\n`);
  mkdirSync(opts.out, { recursive: true });

  const classes = new Map();
  let done = 0;
  let bad = 0;
  let unstable = 0;
  const unstableSeeds = [];
  let next = 0;
  const useServer = haveOracle && opts.oracleServer !== '' && existsSync(opts.oracleServer);
  const worker = async () => {
    const server = useServer ? new OracleServer(opts.oracleServer) : undefined;
    try {
      await workLoop(server);
    } finally {
      server?.close();
    }
  };
  const workLoop = async (server) => {
    while (next < seeds.length) {
      const seed = seeds[next++];
      const r = await checkSeed(seed, opts, haveOracle, server);
      done++;
      if (r.refUnstable) {
        unstable++;
        unstableSeeds.push(seed);
        const verdict = r.diff === undefined ? 'ours matches one variant' : 'ours matches NO variant';
        if (!opts.quiet || r.diff !== undefined) process.stdout.write(`seed ${seed}: reference output depends on Perl hash order; ${verdict}\n`);
      }
      if (r.problem !== undefined || r.diff !== undefined) {
        bad++;
        const key = r.problem !== undefined ? normalize(r.problem) : signature(r.diff);
        if (!classes.has(key)) classes.set(key, []);
        classes.get(key).push(seed);
        if (!opts.quiet) {
          const what = r.problem ?? `line ${r.diff.line}\n  ref:  ${r.diff.expected}\n  ours: ${r.diff.actual}`;
          process.stdout.write(`seed ${seed}: DIFF ${what}\n`);
        }
      }
      if (done % 100 === 0) process.stderr.write(`.. ${done}/${seeds.length} run, ${bad} differ\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));

  process.stdout.write(`\n${done} seeds run (${seeds[0]}..${seeds[seeds.length - 1]}), ${bad} differ, ${unstable} hash-order dependent\n`);
  if (unstableSeeds.length > 0) process.stdout.write(`  hash-order dependent seeds: ${unstableSeeds.join(' ')}\n`);
  const sorted = [...classes.entries()].sort((a, b) => b[1].length - a[1].length);
  for (const [key, list] of sorted) {
    process.stdout.write(`  ${list.length} x ${key}\n     seeds: ${list.slice(0, 12).join(' ')}${list.length > 12 ? ' ...' : ''}\n`);
  }
  if (bad > 0) process.stdout.write(`cases saved under ${opts.out}/<seed>/\n`);
  process.exitCode = bad > 0 ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 2;
});
