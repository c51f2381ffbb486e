// Shrinks a scenario on which our simulator and the reference differ to a
// smaller one that still shows the same divergence (same first differing
// line, numbers and names blanked), by greedy deletion: command rounds,
// single commands, services, rules, groups, service options, optional files
// and finally nodes.
//
//   node test/fuzz/minimize.mjs SCENARIO_DIR [OUT_DIR] [--any] [--mask die-location]
//                               [--sim PATH] [--oracle PATH]
//
// --any accepts any remaining difference instead of the same signature.
// OUT_DIR defaults to SCENARIO_DIR.min; it gets the reduced folder plus
// reference.log, ours.log and diff.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeScenario } from './generate.mjs';
import { applyMasks, firstDifference, signature } from './compare.mjs';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function run(cmd, args) {
  return new Promise((res) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => res({ code: err ? 1 : 0, stdout }));
  });
}

function readFolder(dir) {
  const files = {};
  for (const name of readdirSync(dir)) {
    if (name === 'status' || name === 'log.expect') continue;
    files[name] = readFileSync(join(dir, name), 'utf8');
  }
  return files;
}

// --- the scenario as data, and back ---

function parseSections(text) {
  // Section config: blocks separated by blank lines, "type: id" then tab-indented keys.
  return text
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b !== '')
    .map((b) => `${b}\n`);
}

function decode(files) {
  return {
    cmdlist: JSON.parse(files.cmdlist),
    hardware: JSON.parse(files.hardware_status),
    services: files.service_config !== undefined ? JSON.parse(files.service_config) : undefined,
    rules: files.rules_config !== undefined ? parseSections(files.rules_config) : undefined,
    groups: files.groups !== undefined ? parseSections(files.groups) : undefined,
    rest: Object.fromEntries(
      Object.entries(files).filter(([k]) => !['cmdlist', 'hardware_status', 'service_config', 'rules_config', 'groups'].includes(k)),
    ),
  };
}

function encode(s) {
  const files = { ...s.rest };
  files.cmdlist = `[\n${s.cmdlist.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n]\n`;
  files.hardware_status = `${JSON.stringify(s.hardware, null, 4)}\n`;
  if (s.services !== undefined) files.service_config = `${JSON.stringify(s.services, null, 4)}\n`;
  if (s.rules !== undefined && s.rules.length > 0) files.rules_config = s.rules.join('\n');
  if (s.groups !== undefined && s.groups.length > 0) files.groups = s.groups.join('\n');
  return files;
}

const clone = (x) => JSON.parse(JSON.stringify(x));

/** Every one-step reduction of scenario `s`, biggest first. */
function* reductions(s) {
  // Whole rounds from the end, then any round (never the first: it powers the cluster on).
  for (let i = s.cmdlist.length - 1; i >= 1; i--) {
    const t = clone(s);
    t.cmdlist.splice(i, 1);
    yield t;
  }
  for (let i = s.cmdlist.length - 1; i >= 0; i--) {
    for (let j = s.cmdlist[i].length - 1; j >= 0; j--) {
      const t = clone(s);
      t.cmdlist[i].splice(j, 1);
      yield t;
    }
  }
  if (s.services !== undefined) {
    for (const sid of Object.keys(s.services)) {
      const t = clone(s);
      delete t.services[sid];
      yield t;
    }
    for (const sid of Object.keys(s.services)) {
      for (const key of Object.keys(s.services[sid])) {
        if (key === 'node') continue;
        const t = clone(s);
        delete t.services[sid][key];
        yield t;
      }
    }
  }
  for (const list of ['rules', 'groups']) {
    if (s[list] === undefined) continue;
    for (let i = 0; i < s[list].length; i++) {
      const t = clone(s);
      t[list].splice(i, 1);
      yield t;
    }
    // Single option lines inside a section (never its header).
    for (let i = 0; i < s[list].length; i++) {
      const lines = s[list][i].split('\n');
      for (let j = 1; j < lines.length; j++) {
        if (lines[j] === '') continue;
        const t = clone(s);
        t[list][i] = lines.filter((_, k) => k !== j).join('\n');
        yield t;
      }
    }
    // Single entries of a resources/nodes list.
    for (let i = 0; i < s[list].length; i++) {
      const lines = s[list][i].split('\n');
      for (let j = 1; j < lines.length; j++) {
        const m = /^(\t(?:resources|nodes) )(.*)$/.exec(lines[j]);
        if (m === null) continue;
        const items = m[2].split(',');
        if (items.length < 2) continue;
        for (let k = 0; k < items.length; k++) {
          const t = clone(s);
          const copy = [...lines];
          copy[j] = m[1] + items.filter((_, x) => x !== k).join(',');
          t[list][i] = copy.join('\n');
          yield t;
        }
      }
    }
  }
  for (const name of Object.keys(s.rest)) {
    if (name === 'manager_status' || name === 'README') continue;
    const t = clone(s);
    delete t.rest[name];
    yield t;
  }
  // The last node, when no service, rule or group refers to it; commands naming it go too.
  const nodes = Object.keys(s.hardware).sort();
  if (nodes.length > 3) {
    const last = nodes[nodes.length - 1];
    const named = new RegExp(`\\b${last}\\b`);
    if (!named.test(JSON.stringify([s.services ?? {}, s.rules ?? [], s.groups ?? []]))) {
      const t = clone(s);
      delete t.hardware[last];
      t.cmdlist = t.cmdlist.map((r) => r.filter((c) => !named.test(c)));
      yield t;
    }
  }
  // Empty rounds at the end.
  if (s.cmdlist.length > 1 && s.cmdlist[s.cmdlist.length - 1].length === 0) {
    const t = clone(s);
    t.cmdlist.pop();
    yield t;
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const opts = { any: false, mask: [], sim: join(root, 'bin/ha-simulator'), oracle: '/tmp/oracle/run-reference' };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--any') opts.any = true;
    else if (argv[i] === '--mask') opts.mask = argv[++i].split(',');
    else if (argv[i] === '--sim') opts.sim = argv[++i];
    else if (argv[i] === '--oracle') opts.oracle = argv[++i];
    else pos.push(argv[i]);
  }
  const [input, outArg] = pos;
  if (input === undefined) throw new Error('usage: minimize.mjs SCENARIO_DIR [OUT_DIR] [--any] [--mask M] [--sim PATH] [--oracle PATH]');
  if (!existsSync(opts.oracle)) throw new Error(`no oracle at ${opts.oracle}`);
  const out = outArg ?? `${input.replace(/\/$/, '')}.min`;
  const work = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'fuzz-min-'));

  let tries = 0;
  const probe = async (files) => {
    tries++;
    const dir = join(work, 'probe');
    writeScenario(dir, files);
    const [ref, ours] = await Promise.all([run(opts.oracle, [dir]), run(process.execPath, [opts.sim, 'run', dir])]);
    if (ref.code !== 0 || ours.code !== 0) return undefined;
    const diff = firstDifference(applyMasks(ref.stdout, opts.mask), applyMasks(ours.stdout, opts.mask));
    return diff === undefined ? undefined : { diff, ref: ref.stdout, ours: ours.stdout };
  };

  let current = decode(readFolder(input));
  const first = await probe(encode(current));
  if (first === undefined) throw new Error('no divergence on the input scenario');
  const target = signature(first.diff);
  process.stderr.write(`signature: ${target}\n`);
  let best = first;

  let progress = true;
  while (progress) {
    progress = false;
    for (const candidate of reductions(current)) {
      const r = await probe(encode(candidate));
      if (r !== undefined && (opts.any || signature(r.diff) === target)) {
        current = candidate;
        best = r;
        progress = true;
        process.stderr.write(`  reduced (${tries} runs)\n`);
        break;
      }
    }
  }

  writeScenario(out, encode(current));
  writeFileSync(join(out, 'reference.log'), best.ref);
  writeFileSync(join(out, 'ours.log'), best.ours);
  const d = await run('diff', ['-u', join(out, 'reference.log'), join(out, 'ours.log')]);
  writeFileSync(join(out, 'diff'), d.stdout);
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(`minimal scenario in ${out} after ${tries} runs; first difference at line ${best.diff.line}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 2;
});
