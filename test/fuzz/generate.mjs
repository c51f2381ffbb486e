// Seeded random scenario generator for differential testing against the
// reference simulator. A scenario is a folder in the reference's regression
// format: cmdlist, hardware_status, manager_status, service_config and the
// optional groups, rules_config and datacenter.cfg.
//
// The same seed always yields the same folder, so any failing case replays
// from its seed alone:
//
//   node test/fuzz/generate.mjs SEED DIR
//
// Scenarios stay plausible (most commands valid, nodes powered on first), but
// a few carry invalid or odd commands, because the reference answers those
// with exact log lines too. CRS static/dynamic modes only with the option
// loadScheduling, for an oracle that has the reference's scheduling bindings.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { mulberry32 } from '../seeded-random.mjs';

/** Drawing helpers over mulberry32; deterministic per seed. */
export function makeRng(seed) {
  const next = mulberry32(seed);
  const rng = {
    next,
    /** Integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** Picks by weight from [[weight, value], ...]. */
    weighted: (entries) => {
      const total = entries.reduce((sum, [w]) => sum + w, 0);
      let r = next() * total;
      for (const [w, v] of entries) {
        r -= w;
        if (r < 0) return v;
      }
      return entries[entries.length - 1][1];
    },
    /** A random subset of `list` of size in [min, max], in list order. */
    subset: (list, min, max) => {
      const n = Math.min(list.length, min + Math.floor(next() * (max - min + 1)));
      const chosen = new Set();
      while (chosen.size < n) chosen.add(list[Math.floor(next() * list.length)]);
      return list.filter((x) => chosen.has(x));
    },
  };
  return rng;
}

const SHUTDOWN_POLICIES = ['migrate', 'freeze', 'failover', 'conditional'];
const VERSIONS = ['9.0.0~2', '9.0.0~16', '9.0.0~17', '9.0.1', '9.1-1', '8.4.1', '10.0.0', '9.0.0'];

/**
 * An fa: resource id. Its digits encode how the fake resource misbehaves (see
 * the reference's Sim/Resources/VirtFail.pm): a = free, b = failed start
 * tries, c = failed migrate tries, d = shutdown fails, e = exists, f = only on
 * node f.
 */
function failId(rng, nodeCount, used) {
  for (;;) {
    const a = rng.int(1, 9);
    const b = rng.weighted([[5, 0], [3, 1], [2, 2], [1, 3]]);
    const c = rng.weighted([[5, 0], [3, 1], [2, 2], [1, 3]]);
    const digits = [a, b, c];
    const extra = rng.weighted([[4, 0], [2, 1], [1, 2], [2, 3]]);
    if (extra >= 1) digits.push(rng.weighted([[5, 0], [1, 1]]));
    if (extra >= 2) digits.push(rng.weighted([[6, 1], [1, 0]]));
    if (extra >= 3) digits.push(rng.int(0, nodeCount));
    const id = `fa:${digits.join('')}`;
    if (!used.has(id)) return id;
  }
}

function guestId(rng, type, used) {
  for (;;) {
    const id = `${type}:${rng.int(100, 130) + rng.pick([0, 0, 100, 200])}`;
    if (!used.has(id)) return id;
  }
}

function newSid(rng, nodeCount, used) {
  const type = rng.weighted([[5, 'vm'], [3, 'ct'], [3, 'fa']]);
  return type === 'fa' ? failId(rng, nodeCount, used) : guestId(rng, type, used);
}

/** A node list for groups and node-affinity rules, sometimes with priorities. */
function nodeList(rng, nodes, min, max) {
  const withPrio = rng.chance(0.4);
  return rng
    .subset(nodes, min, max)
    .map((n) => (withPrio && rng.chance(0.7) ? `${n}:${rng.int(0, 3)}` : n))
    .join(',');
}

function genGroups(rng, nodes) {
  const groups = [];
  const count = rng.int(1, 3);
  for (let i = 1; i <= count; i++) {
    let text = `group: group${i}\n\tnodes ${nodeList(rng, nodes, 1, nodes.length)}\n`;
    if (rng.chance(0.4)) text += `\trestricted ${rng.pick([0, 1, 1])}\n`;
    if (rng.chance(0.4)) text += `\tnofailback ${rng.pick([0, 1, 1])}\n`;
    if (rng.chance(0.1)) text += `\tcomment fuzz group ${i}\n`;
    groups.push({ name: `group${i}`, text });
  }
  return groups;
}

function genRules(rng, nodes, sids) {
  const rules = [];
  const count = rng.int(1, 4);
  for (let i = 1; i <= count; i++) {
    const kind = rng.weighted([[1, 'node'], [1, 'resource']]);
    let text;
    if (kind === 'node') {
      const res = rng.subset(sids, 1, Math.min(3, sids.length));
      // Occasionally name a resource that is not configured.
      if (rng.chance(0.05)) res.push('vm:999');
      text = `node-affinity: na${i}\n\tresources ${res.join(',')}\n\tnodes ${nodeList(rng, nodes, 1, nodes.length - 1)}\n`;
      if (rng.chance(0.6)) text += `\tstrict ${rng.pick([0, 1, 1])}\n`;
    } else {
      const res = rng.subset(sids, 2, Math.min(4, sids.length));
      if (res.length < 2 && rng.chance(0.8)) continue;
      text = `resource-affinity: ra${i}\n\tresources ${res.join(',')}\n\taffinity ${rng.pick(['positive', 'negative'])}\n`;
    }
    if (rng.chance(0.1)) text += `\tdisable 1\n`;
    if (rng.chance(0.05)) text += `\tcomment fuzz rule ${i}\n`;
    rules.push(text);
  }
  return rules;
}

function genServiceEntry(rng, nodes, groups) {
  const entry = { node: rng.pick(nodes) };
  const state = rng.weighted([
    [14, 'started'],
    [2, 'stopped'],
    [2, 'disabled'],
    [1, 'ignored'],
    [1, 'enabled'],
    [1, undefined],
  ]);
  if (state !== undefined) entry.state = state;
  // A group that does not exist is worth a case: the reference still derives a rule from it.
  if (groups.length > 0 && rng.chance(0.6)) entry.group = rng.chance(0.05) ? 'nogroup' : rng.pick(groups).name;
  else if (groups.length === 0 && rng.chance(0.02)) entry.group = 'nogroup';
  if (rng.chance(0.15)) entry.max_restart = rng.int(0, 3);
  if (rng.chance(0.15)) entry.max_relocate = rng.int(0, 3);
  if (rng.chance(0.1)) entry.failback = rng.pick([0, 1]);
  if (rng.chance(0.03)) entry.comment = 'fuzz';
  return entry;
}

/**
 * Multi-round stories whose later steps only matter after the earlier ones
 * (disarm, move by hand, re-arm; maintenance, then a shutdown; ...). Random
 * single commands rarely line up like that. Each returns a list of rounds.
 */
const STORIES = [
  (rng, m, n, n2, s) => [[`crm ${n} disarm-ha ignore`], [`service ${s} manual-migrate ${n2}`], [`crm ${n} arm-ha`]],
  (rng, m, n, n2, s) => [[`service ${s} ignored`], [`service ${s} manual-migrate ${n2}`], [`service ${s} started`]],
  (rng, m, n) => [[`crm ${n} enable-node-maintenance`], [rng.pick([`shutdown ${n}`, `reboot ${n}`, `restart-lrm ${n}`])], [`crm ${n} disable-node-maintenance`]],
  (rng, m, n) => [[`crm ${n} enable-node-maintenance`], [`crm ${n} disarm-ha ${rng.pick(['freeze', 'ignore'])}`], [`crm ${n} arm-ha`], [`crm ${n} disable-node-maintenance`]],
  (rng, m, n, n2, s) => [[`service ${s} lock ${rng.pick(['create', 'backup', 'migrate'])}`], [`service ${s} ${rng.pick(['migrate', 'relocate'])} ${n2}`], [`service ${s} unlock`]],
  (rng, m, n) => [[`network ${n} off`], [], [`network ${n} on`]],
  (rng, m, n) => [[`skip-round crm ${rng.int(2, 5)}`, `network ${n} off`], [], [`power ${n} off`], [`power ${n} on`]],
  (rng, m) => [m.sids.map((x) => `service ${x} delete`), []],
  (rng, m, n) => [[`crm node1 stop`], [`network ${n} off`], [`crm node1 start`]],
  (rng, m, n, n2) => [[`network ${n} off`, `network ${n2} off`], [], [`network ${n} on`, `network ${n2} on`]],
  (rng, m, n) => [[`cfs ${n} rw fail`], [`service ${rng.pick(m.sids)} migrate ${n}`], [`cfs ${n} rw work`]],
  // Disarmed, a node is cut off, HA is re-armed while it is away: the
  // reference fences it although its guests run on without lock or watchdog.
  (rng, m, n, n2) => [[`crm ${n} disarm-ha ${rng.pick(['freeze', 'ignore'])}`], [`network ${n2} off`], [`crm ${n} arm-ha`], [], [`network ${n2} on`]],
  // An LRM restart (services frozen, lock and watchdog given up) and a partition.
  (rng, m, n) => [[`restart-lrm ${n}`, `network ${n} off`], [], [`network ${n} on`]],
  (rng, m, n) => [[`restart-lrm ${n}`], [`network ${n} off`], [], [`network ${n} on`]],
  // A power cycle, long enough for the node to be fenced and its services recovered.
  (rng, m, n) => [[`power ${n} off`], [], [`power ${n} on`]],
  // A CRM restart; node1 is the likeliest master.
  (rng, m, n) => [[`crm ${rng.pick(['node1', n])} stop`], [], [`crm ${rng.pick(['node1', n])} start`]],
  // Maintenance, then the node is cut off.
  (rng, m, n) => [[`crm ${n} enable-node-maintenance`], [`network ${n} off`], [], [`network ${n} on`], [`crm ${n} disable-node-maintenance`]],
  // The LRM misses rounds while the node is cut off: it loses its lock, the watchdog fires.
  (rng, m, n) => [[`skip-round lrm ${rng.int(2, 4)}`, `network ${n} off`], [], [`network ${n} on`, `power ${n} on`]],
  // A manual migration under an ignore disarm, then the target fails before re-arming.
  (rng, m, n, n2, s) => [[`crm ${n} disarm-ha ignore`], [`service ${s} manual-migrate ${n2}`], [`network ${n2} off`], [`crm ${n} arm-ha`], [], [`network ${n2} on`]],
];

/**
 * Commands for one round, drawn with the cluster model in `m` so that most
 * of them make sense at the point they run (powering on nodes that are off,
 * acting on services that exist), or the next step of a story.
 *
 * A node finishes a shutdown or reboot when its CRM exits; with its CRM
 * stopped it would stay half shut down for good, a state no real node stays
 * in. So a node whose CRM may be stopped has it started first.
 */
export function genRound(rng, m, opts) {
  const round = drawRound(rng, m, opts);
  const out = [];
  for (const cmd of round) {
    const words = cmd.split(/\s+/);
    if (words[0] === 'crm' && words[2] === 'stop') m.crmStopped.add(words[1]);
    else if (words[0] === 'crm' && words[2] === 'start') m.crmStopped.delete(words[1]);
    else if ((words[0] === 'shutdown' || words[0] === 'reboot') && m.crmStopped.has(words[1])) {
      out.push(`crm ${words[1]} start`);
      m.crmStopped.delete(words[1]);
    }
    out.push(cmd);
  }
  return out;
}

function drawRound(rng, m, opts) {
  // A story in progress supplies the round (plus, sometimes, a random command).
  if (m.pending.length > 0) {
    const round = m.pending.shift();
    if (rng.chance(0.2)) {
      const cmd = genCommand(rng, m, opts);
      if (cmd !== undefined) round.push(cmd);
    }
    return round;
  }
  if (m.sids.length > 0 && rng.chance(0.2)) {
    const [n, n2] = [rng.pick(m.nodes), rng.pick(m.nodes)];
    const rounds = rng.pick(STORIES)(rng, m, n, n2, rng.pick(m.sids));
    for (const round of rounds) {
      for (const cmd of round) {
        const del = /^service (\S+) delete$/.exec(cmd);
        if (del) m.sids = m.sids.filter((x) => x !== del[1]);
      }
    }
    m.pending.push(...rounds.slice(1));
    return rounds[0];
  }
  const cmds = [];
  const count = rng.weighted([[6, 1], [3, 2], [1, 3]]);
  for (let i = 0; i < count; i++) {
    const cmd = genCommand(rng, m, opts);
    if (cmd !== undefined) cmds.push(cmd);
  }
  return cmds;
}

function genCommand(rng, m, opts) {
  const node = () => rng.pick(m.nodes);
  // An unknown service only where the reference answers without ending the
  // run (queued CRM commands); elsewhere it belongs to the 'invalid' kind.
  const sid = (unknownOk = false) => (m.sids.length === 0 || (unknownOk && rng.chance(0.05)) ? 'vm:999' : rng.pick(m.sids));
  const kind = rng.weighted([
    [10, 'power'],
    [6, 'network'],
    [3, 'delay'],
    [2, 'skip-round'],
    [3, 'cfs'],
    [3, 'crm-stop-start'],
    [5, 'maintenance'],
    [3, 'disarm'],
    [4, 'reboot'],
    [4, 'shutdown'],
    [3, 'restart-lrm'],
    [10, 'service-state'],
    [10, 'service-migrate'],
    [3, 'service-stop'],
    [3, 'service-add'],
    [2, 'service-delete'],
    [3, 'service-lock'],
    [2, 'manual-migrate'],
    [2, 'version'],
    [opts.loadScheduling ? 8 : 0, 'stats'],
    [opts.allowInvalid ? 8 : 0, 'invalid'],
  ]);
  switch (kind) {
    case 'power': {
      const off = m.nodes.filter((n) => m.power[n] === 'off');
      const on = m.nodes.filter((n) => m.power[n] === 'on');
      let n;
      let action;
      if (off.length > 0 && (on.length <= 1 || rng.chance(0.6))) {
        n = rng.pick(off);
        action = 'on';
      } else if (on.length > 0) {
        n = rng.pick(on);
        action = 'off';
      } else {
        n = node();
        action = rng.pick(['on', 'off']);
      }
      if (rng.chance(0.05)) action = action === 'on' ? 'off' : 'on';
      m.power[n] = action;
      return `power ${n} ${action}`;
    }
    case 'network':
      return `network ${node()} ${rng.pick(['on', 'off', 'off'])}`;
    case 'delay':
      return `delay ${rng.weighted([[3, rng.int(0, 60)], [2, rng.int(60, 200)], [1, rng.int(200, 400)]])}`;
    case 'skip-round':
      return rng.chance(0.5) ? `skip-round ${rng.pick(['crm', 'lrm'])}` : `skip-round ${rng.pick(['crm', 'lrm'])} ${rng.int(1, 4)}`;
    case 'cfs':
      return `cfs ${node()} ${rng.pick(['rw', 'update'])} ${rng.pick(['work', 'fail', 'fail'])}`;
    case 'crm-stop-start':
      return `crm ${node()} ${rng.pick(['stop', 'start'])}`;
    case 'maintenance':
      return `crm ${node()} ${rng.pick(['enable-node-maintenance', 'disable-node-maintenance'])}`;
    case 'disarm': {
      if (rng.chance(0.4)) {
        m.disarm = undefined;
        return `crm ${node()} arm-ha`;
      }
      const mode = rng.pick(['freeze', 'ignore']);
      m.disarm = mode;
      return `crm ${node()} disarm-ha ${mode}`;
    }
    case 'reboot':
      return `reboot ${node()}`;
    case 'shutdown': {
      const n = node();
      m.power[n] = 'off';
      return `shutdown ${n}`;
    }
    case 'restart-lrm':
      return `restart-lrm ${node()}`;
    case 'service-state': {
      if (m.sids.length === 0) return undefined;
      const s = sid();
      const state = rng.weighted([[5, 'started'], [2, 'stopped'], [2, 'disabled'], [1, 'ignored']]);
      m.state[s] = state;
      return `service ${s} ${state}`;
    }
    case 'service-migrate': {
      const target = rng.chance(0.03) ? 'node9' : node();
      return `service ${sid(true)} ${rng.pick(['migrate', 'migrate', 'relocate'])} ${target}`;
    }
    case 'service-stop':
      return `service ${sid(true)} stop ${rng.pick([0, 0, 1, 10, 30, 120])}`;
    case 'service-add': {
      const s = newSid(rng, m.nodes.length, new Set([...m.sids, ...m.everUsed]));
      m.sids.push(s);
      m.everUsed.add(s);
      m.state[s] = 'started';
      const parts = [`service ${s} add ${node()}`];
      const more = rng.weighted([[4, 0], [3, 1], [2, 2]]);
      if (more >= 1) parts.push((m.state[s] = rng.pick(['started', 'stopped', 'disabled', 'ignored'])));
      if (more >= 2) parts.push(rng.pick(['0', '1']));
      return parts.join(' ');
    }
    case 'service-delete': {
      if (m.sids.length === 0) return undefined;
      const s = rng.pick(m.sids);
      m.sids = m.sids.filter((x) => x !== s);
      return `service ${s} delete`;
    }
    case 'service-lock': {
      const lock = rng.weighted([[3, ''], [2, 'backup'], [1, 'migrate'], [1, 'snapshot'], [1, 'rollback'], [1, 'create']]);
      const verb = rng.chance(0.55) ? 'lock' : 'unlock';
      return `service ${sid()} ${verb}${lock ? ` ${lock}` : ''}`;
    }
    case 'manual-migrate': {
      // The reference refuses (and ends the run) unless the service is
      // ignored or HA is disarmed in ignore mode: mostly pick such a case.
      const eligible = m.disarm === 'ignore' ? m.sids : m.sids.filter((s) => m.state[s] === 'ignored');
      if (eligible.length === 0 && rng.chance(0.9)) return undefined;
      return `service ${eligible.length > 0 ? rng.pick(eligible) : sid()} manual-migrate ${node()}`;
    }
    case 'version':
      return `pve-manager-version ${node()} set ${rng.pick(VERSIONS)}`;
    case 'stats': {
      if (m.sids.length === 0) return undefined;
      // Static figures in cores and MiB, dynamic ones in cores used and MiB.
      if (rng.chance(0.5)) {
        const parts = rng.subset([`maxcpu ${rng.int(1, 8)}.0`, `maxmem ${rng.pick([1024, 2048, 4096, 8192, 16384])}`], 1, 2);
        return `service ${sid()} set-static-stats ${parts.join(' ')}`;
      }
      const parts = rng.subset([`cpu ${(rng.int(1, 10) / 10).toFixed(1)}`, `mem ${rng.int(256, 1024)}`], 1, 2);
      return `service ${sid()} set-dynamic-stats ${parts.join(' ')}`;
    }
    case 'invalid':
      m.invalidUsed = true;
      return rng.pick([
        `power node9 on`,
        `power ${node()} flip`,
        `network ${node()} maybe`,
        `cfs ${node()} rw sometimes`,
        `cfs ${node()} read work`,
        `crm ${node()} explode`,
        `crm ${node()} disarm-ha thaw`,
        `service vm:999 started`,
        `service ${sid()} frobnicate`,
        `service ${sid()} migrate`,
        `service ${sid()} stop`,
        `service vm:999 delete`,
        `service vm:999 manual-migrate ${node()}`,
        `service ${sid()} add ${node()}`,
        `service vm:998 add node9`,
        `service foo started`,
        `frobnicate ${node()} now`,
        `pve-manager-version ${node()} get`,
      ]);
  }
  return undefined;
}

const GIB = 1024 ** 3;

/**
 * CRS static or dynamic mode with its options, node sizes in hardware_status
 * (rarely one missing: the reference then falls back to basic) and service
 * figures. Only for an oracle with the reference's scheduling bindings.
 */
function genLoadScheduling(rng, hardware, sids) {
  const mode = rng.pick(['static', 'dynamic']);
  const crs = { ha: mode };
  if (rng.chance(0.4)) crs['ha-rebalance-on-start'] = rng.pick([0, 1, 1]);
  if (rng.chance(0.5)) {
    crs['ha-auto-rebalance'] = rng.pick([0, 1, 1, 1]);
    if (rng.chance(0.4)) crs['ha-auto-rebalance-method'] = rng.pick(['bruteforce', 'topsis']);
    if (rng.chance(0.3)) crs['ha-auto-rebalance-hold-duration'] = rng.int(0, 8);
    if (rng.chance(0.3)) crs['ha-auto-rebalance-threshold'] = rng.pick([0.1, 0.2, 0.3, 0.5, 1]);
    if (rng.chance(0.2)) crs['ha-auto-rebalance-margin'] = rng.pick([0, 5, 10, 20]);
  }
  const names = Object.keys(hardware);
  const missing = rng.chance(0.05) ? rng.pick(names) : undefined;
  for (const n of names) {
    if (n === missing) continue;
    hardware[n].maxcpu = rng.pick([4, 8, 16, 32]);
    hardware[n].maxmem = rng.pick([16, 32, 64, 128]) * GIB;
  }
  const staticStats = {};
  const dynamicStats = {};
  for (const sid of sids) {
    const size = { maxcpu: rng.int(1, 8), maxmem: rng.pick([1, 2, 4, 8, 16]) * GIB };
    if (rng.chance(0.93)) staticStats[sid] = size;
    // Mostly within the service's size: the reference warns about overcommit
    // in hash order, which no fixed order reproduces.
    const over = rng.chance(0.05) ? 2 : 1;
    const use = { cpu: (rng.int(1, 10 * size.maxcpu * over)) / 10, mem: Math.floor((rng.int(1, 16) / 16) * size.maxmem * over) };
    if (mode === 'dynamic' && rng.chance(0.93)) dynamicStats[sid] = use;
  }
  return {
    crs,
    staticStats: Object.keys(staticStats).length > 0 ? staticStats : undefined,
    dynamicStats: Object.keys(dynamicStats).length > 0 ? dynamicStats : undefined,
  };
}

/** One config oddity (see generateScenario), applied to the finished files. */
function addOddity(rng, files, sids, haveGroups) {
  const sc = JSON.parse(files.service_config);
  const sid = rng.pick(sids);
  const dc = files['datacenter.cfg'] !== undefined ? JSON.parse(files['datacenter.cfg']) : {};
  const odd = rng.pick(['state', 'key', 'null', 'policy', 'scheduler', 'rule', 'group']);
  if (odd === 'state') sc[sid].state = rng.pick(['bogus', 'running', '']);
  else if (odd === 'key') sc[sid].note = 'extra';
  else if (odd === 'null') sc[sid][rng.pick(['state', 'group', 'max_restart'])] = null;
  else if (odd === 'policy') dc.ha = { shutdown_policy: rng.pick(['xyz', '', 'MIGRATE']) };
  else if (odd === 'scheduler') dc.crs = { ha: 'bogus' };
  else if (odd === 'rule') {
    const extra = rng.pick([
      `node-affinity: odd1\n\tresources ${sid}\n\tnodes node2\n\tstrict 2\n`,
      `node-affinity: odd1\n\tresources ${sid}\n`,
      `resource-affinity: odd1\n\tresources ${sid},vm:999\n\taffinity sideways\n`,
      `node-affinity: odd1\n\tresources ${sid}\n\tnodes node2:x\n`,
      `weird-rule: odd1\n\tresources ${sid}\n`,
    ]);
    files.rules_config = files.rules_config !== undefined ? `${files.rules_config}\n${extra}` : extra;
  } else if (odd === 'group') {
    const extra = rng.pick(['group: oddgroup\n\tcomment no nodes\n', 'group: oddgroup\n\tnodes node1\n\trestricted 2\n']);
    files.groups = files.groups !== undefined ? `${files.groups}\n${extra}` : extra;
    if (!haveGroups || rng.chance(0.5)) sc[sid].group = 'oddgroup';
  }
  files.service_config = `${JSON.stringify(sc, null, 4)}\n`;
  if (Object.keys(dc).length > 0) files['datacenter.cfg'] = `${JSON.stringify(dc, null, 4)}\n`;
}

/**
 * Generates the files of one scenario. Returns `{ files, seed, liveness }`
 * where files maps file names to contents and `liveness.fromRound` is the
 * cmdlist round after which no fault is left (options.heal false: no heal
 * rounds, and no `liveness`).
 */
export function generateScenario(seed, options = {}) {
  const rng = makeRng(seed);
  const [minNodes, maxNodes] = options.nodes ?? [3, 5];
  const nodeCount = rng.int(minNodes, maxNodes);
  const nodes = Array.from({ length: nodeCount }, (_, i) => `node${i + 1}`);

  const groups = rng.chance(0.25) ? genGroups(rng, nodes) : [];

  // With groups, often a cluster new enough to migrate them to rules for good.
  const clusterVersion = groups.length > 0 && rng.chance(0.4) ? rng.pick(['9.0.0~16', '9.0.1', '9.1-1']) : undefined;
  const hardware = {};
  for (const n of nodes) {
    hardware[n] = { power: 'off', network: 'off' };
    if (clusterVersion !== undefined && rng.chance(0.9)) hardware[n]['pve-manager-version'] = clusterVersion;
    else if (rng.chance(0.05)) hardware[n]['pve-manager-version'] = rng.pick(VERSIONS);
  }

  const serviceCount = rng.chance(0.03) ? 0 : rng.int(1, 8);
  const used = new Set();
  const serviceConfig = {};
  for (let i = 0; i < serviceCount; i++) {
    const s = newSid(rng, nodeCount, used);
    used.add(s);
    serviceConfig[s] = genServiceEntry(rng, nodes, groups);
  }
  const sids = Object.keys(serviceConfig).sort();

  const rules = sids.length > 0 && rng.chance(0.35) ? genRules(rng, nodes, sids) : [];

  let datacenter;
  if (rng.chance(0.6)) {
    const ha = {};
    if (rng.chance(0.85)) ha.shutdown_policy = rng.pick(SHUTDOWN_POLICIES);
    datacenter = { ha };
    if (rng.chance(0.1)) datacenter.crs = { ha: 'basic', 'ha-rebalance-on-start': rng.pick([0, 1]) };
  }
  const load = options.loadScheduling ? genLoadScheduling(rng, hardware, sids) : undefined;
  if (load !== undefined) datacenter = { ...(datacenter ?? {}), crs: load.crs };

  // Cluster model for plausible commands.
  const allowInvalid = options.allowInvalid ?? rng.chance(0.1);
  const m = { nodes, power: {}, sids: [...sids], everUsed: new Set(sids), invalidUsed: false, state: {}, disarm: undefined, pending: [], crmStopped: new Set() };
  for (const s of sids) m.state[s] = serviceConfig[s].state ?? 'disabled';
  for (const n of nodes) m.power[n] = 'off';

  const cmdlist = [];
  // First round: power on all nodes (sometimes only a majority).
  const first = rng.chance(0.9) ? nodes : rng.subset(nodes, Math.floor(nodeCount / 2) + 1, nodeCount);
  cmdlist.push(first.map((n) => `power ${n} on`));
  for (const n of first) m.power[n] = 'on';

  const rounds = rng.int(1, 10);
  for (let i = 0; i < rounds || m.pending.length > 0; i++) {
    // Keep at most one invalid command per scenario: most of them end the run.
    const round = genRound(rng, m, { allowInvalid: allowInvalid && !m.invalidUsed, loadScheduling: load !== undefined });
    cmdlist.push(round);
  }
  const heal = options.heal ?? true;
  if (heal) cmdlist.push(...healRounds(nodes, m.sids));

  // Rarely, guests already running when the simulation starts.
  const serviceStatus = {};
  if (rng.chance(0.05)) {
    for (const s of sids) {
      if (rng.chance(0.5)) (serviceStatus[serviceConfig[s].node] ??= {})[s] = 1;
    }
  }

  const files = {};
  for (const [n, status] of Object.entries(serviceStatus)) files[`service_status_${n}`] = `${JSON.stringify(status, null, 4)}\n`;
  files.cmdlist = formatCmdlist(cmdlist);
  files.hardware_status = `${JSON.stringify(hardware, null, 4)}\n`;
  files.manager_status = '{}\n';
  files.service_config = `${JSON.stringify(serviceConfig, null, 4)}\n`;
  if (groups.length > 0) files.groups = groups.map((g) => g.text).join('\n');
  if (rules.length > 0) files.rules_config = rules.join('\n');
  if (datacenter !== undefined) files['datacenter.cfg'] = `${JSON.stringify(datacenter, null, 4)}\n`;
  if (load?.staticStats !== undefined) files.static_service_stats = `${JSON.stringify(load.staticStats, null, 4)}\n`;
  if (load?.dynamicStats !== undefined) files.dynamic_service_stats = `${JSON.stringify(load.dynamicStats, null, 4)}\n`;
  // Rarely, one oddity in the config files: the reference does not validate
  // them up front, it warns or copes at run time, and so must we.
  if ((options.oddities ?? true) && sids.length > 0 && rng.chance(0.04)) addOddity(rng, files, sids, groups.length > 0);
  files.README = `fuzz scenario, seed ${seed}\n`;
  return { seed, files, ...(heal ? { liveness: { fromRound: cmdlist.length - 1 } } : {}) };
}

/**
 * Two rounds that undo every fault the generator makes, so that a liveness
 * phase can follow: the first reconnects every node, repairs its cluster
 * file system, starts its CRM, ends its maintenance, re-arms HA and unlocks
 * every service; the second, a round later (when shutdowns and reboots
 * begun in the last round are done), powers every node on and starts any
 * CRM that stopped meanwhile. No fault is left after the second round.
 */
export function healRounds(nodes, sids) {
  const first = [];
  for (const n of nodes) first.push(`network ${n} on`, `cfs ${n} rw work`, `cfs ${n} update work`, `crm ${n} start`, `crm ${n} disable-node-maintenance`);
  first.push(`crm ${nodes[0]} arm-ha`);
  for (const s of sids) first.push(`service ${s} unlock`);
  const second = [];
  for (const n of nodes) second.push(`power ${n} on`, `crm ${n} start`);
  return [first, second];
}

/** A cmdlist file: one JSON array of commands per round, one round a line. */
export function formatCmdlist(rounds) {
  return `[\n${rounds.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n]\n`;
}

/** Writes a generated scenario into `dir` (replacing what was there). */
export function writeScenario(dir, files) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [seedArg, dir] = process.argv.slice(2);
  if (seedArg === undefined || dir === undefined) {
    process.stderr.write('usage: node test/fuzz/generate.mjs SEED DIR\n');
    process.exit(2);
  }
  const seed = Number(seedArg);
  writeScenario(dir, generateScenario(seed).files);
  process.stdout.write(`seed ${seed} -> ${dir}\n`);
}
