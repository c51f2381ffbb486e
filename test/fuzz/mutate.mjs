// Mutation-based scenarios: a seed picks one existing scenario folder (the
// reference's suite, say), keeps its configuration and status files and a
// prefix of its command rounds, and continues with random rounds drawn like
// generate.mjs draws them. The reference's own scenarios start from states
// the generator never builds (filled manager_status, fenced nodes, running
// guests, rule sets written by hand), so their continuations reach other
// corners of the state machine.
//
//   node test/fuzz/mutate.mjs SEED BASE_DIR... OUT_DIR

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { formatCmdlist, genRound, healRounds, makeRng, writeScenario } from './generate.mjs';

/** CRS modes whose scoring needs the reference's Rust bindings in the oracle. */
function usesLoadScheduling(files) {
  return /"ha"\s*:\s*"(static|dynamic)"/.test(files['datacenter.cfg'] ?? '');
}

/** Reads the scenario folders under the given directories (or the folders themselves). */
export function loadBases(dirs, { loadScheduling = false } = {}) {
  const folders = [];
  for (const dir of dirs) {
    const listing = readdirSync(dir);
    const names = listing.includes('cmdlist') ? [dir] : listing.sort().map((n) => join(dir, n));
    for (const folder of names) {
      if (!statSync(folder).isDirectory()) continue;
      const entries = readdirSync(folder);
      if (!entries.includes('cmdlist') || !entries.includes('service_config')) continue;
      const files = {};
      for (const name of entries) {
        if (name === 'log.expect' || name === 'README' || name === 'status') continue;
        if (statSync(join(folder, name)).isFile()) files[name] = readFileSync(join(folder, name), 'utf8');
      }
      if (!loadScheduling && usesLoadScheduling(files)) continue;
      let rounds;
      try {
        rounds = JSON.parse(files.cmdlist);
      } catch {
        continue;
      }
      folders.push({ name: folder, files, rounds });
    }
  }
  return folders;
}

/** The cluster model genRound draws from, after the kept rounds have run. */
function modelAfter(files, kept) {
  const hardware = JSON.parse(files.hardware_status);
  const nodes = Object.keys(hardware).sort();
  const services = JSON.parse(files.service_config);
  const m = { nodes, power: {}, sids: Object.keys(services).sort(), everUsed: new Set(), invalidUsed: false, state: {}, disarm: undefined, pending: [], crmStopped: new Set() };
  for (const n of nodes) m.power[n] = hardware[n].power === 'on' ? 'on' : 'off';
  // As the simulator reads it: no state means disabled.
  for (const s of m.sids) m.state[s] = services[s].state ?? 'disabled';
  for (const cmd of kept.flat()) {
    const words = cmd.split(/\s+/);
    if (words[0] === 'power' && m.power[words[1]] !== undefined) m.power[words[1]] = words[2] === 'on' ? 'on' : 'off';
    else if (words[0] === 'shutdown' && m.power[words[1]] !== undefined) m.power[words[1]] = 'off';
    else if (words[0] === 'service' && words[2] === 'add') {
      m.sids.push(words[1]);
      m.state[words[1]] = words[4] ?? 'started';
    } else if (words[0] === 'service' && words[2] === 'delete') m.sids = m.sids.filter((s) => s !== words[1]);
    else if (words[0] === 'service' && ['started', 'stopped', 'disabled', 'ignored'].includes(words[2])) m.state[words[1]] = words[2];
    else if (words[0] === 'crm' && words[2] === 'disarm-ha') m.disarm = words[3];
    else if (words[0] === 'crm' && words[2] === 'arm-ha') m.disarm = undefined;
    else if (words[0] === 'crm' && words[2] === 'stop') m.crmStopped.add(words[1]);
    else if (words[0] === 'crm' && words[2] === 'start') m.crmStopped.delete(words[1]);
  }
  for (const s of m.sids) m.everUsed.add(s);
  return m;
}

/** Generates `{ files, seed, base }` for one seed over the loaded base folders. */
export function generateMutant(seed, bases) {
  if (bases.length === 0) throw new Error('no base scenarios to mutate');
  const rng = makeRng(seed ^ 0x5bd1e995);
  const base = bases[Math.floor(rng.next() * bases.length)];
  const keep = rng.int(1, Math.max(1, base.rounds.length));
  const kept = base.rounds.slice(0, keep);
  const m = modelAfter(base.files, kept);
  const rounds = kept.map((r) => [...r]);
  const extra = rng.int(1, 8);
  for (let i = 0; i < extra || m.pending.length > 0; i++) {
    rounds.push(genRound(rng, m, { allowInvalid: false, loadScheduling: usesLoadScheduling(base.files) }));
  }
  // Sometimes the base's remaining rounds come back after the detour.
  if (keep < base.rounds.length && rng.chance(0.3)) rounds.push(...base.rounds.slice(keep));
  // Then the faults heal, for the liveness phase (see healRounds).
  const healed = modelAfter(base.files, rounds);
  rounds.push(...healRounds(healed.nodes, healed.sids));
  const files = { ...base.files };
  files.cmdlist = formatCmdlist(rounds);
  files.README = `mutated scenario, seed ${seed}, from ${base.name}, first ${keep} round(s) kept\n`;
  return { seed, files, base: base.name, liveness: { fromRound: rounds.length - 1 } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args.length < 3) {
    process.stderr.write('usage: node test/fuzz/mutate.mjs SEED BASE_DIR... OUT_DIR\n');
    process.exit(2);
  }
  const seed = Number(args[0]);
  const out = args[args.length - 1];
  const { files, base } = generateMutant(seed, loadBases(args.slice(1, -1)));
  writeScenario(out, files);
  process.stdout.write(`seed ${seed} (${base}) -> ${out}\n`);
}
