// Invariants of a simulation log that hold for the reference simulator on
// every scenario the generator makes (the runner checks them on the
// reference's own logs with --check-reference, so none of them is a
// property only our simulator has). Each check returns a list of violation
// messages; an empty list means the log is fine.

const LINE = /^(\S+)\s+(\d+)\s+(\S+): (.*)$/;

/**
 * Splits a log into parsed lines. A line without the "level time source:"
 * head continues the message before it (the reference prints messages with
 * embedded newlines as they are, such as the lone " " after an error exit);
 * it is kept with `source` undefined.
 */
export function parseLog(log) {
  const lines = log.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((text, index) => {
    const m = LINE.exec(text);
    if (m === null) return { index, text, level: undefined, time: undefined, source: undefined, msg: undefined };
    return { index, text, level: m[1], time: Number(m[2]), source: m[3], msg: m[4] };
  });
}

/** The log starts the simulation and ends it the reference's way (done, or an error line). */
export function checkFraming(log) {
  const errors = [];
  const lines = parseLog(log);
  if (lines.length === 0) return ['empty log'];
  if (!/^info\s+0\s+hardware: starting simulation$/.test(lines[0].text)) errors.push(`first line is not the start: ${lines[0].text}`);
  const last = lines[lines.length - 1];
  if (lines.some((l) => l.source === undefined && l.index === 0)) errors.push('first line has no log head');
  const done = last.source === 'hardware' && last.level === 'info' && last.msg === 'exit simulation - done';
  // An error exit: "err ... hardware: exit simulation - MSG " possibly split by
  // Perl's own newline before the closing space.
  const errAt = lines.findIndex((l) => l.source === 'hardware' && l.level === 'err' && l.msg?.startsWith('exit simulation - '));
  const errorEnd = errAt >= 0 && (errAt === lines.length - 1 || (errAt === lines.length - 2 && last.text === ' '));
  if (!done && !errorEnd) errors.push(`log does not end with an exit simulation line: ${last.text}`);
  return errors;
}

/** Time never goes backwards within one daemon's (or the hardware's) lines. */
export function checkMonotonicTime(log) {
  const errors = [];
  const last = new Map();
  for (const l of parseLog(log)) {
    if (l.source === undefined) continue;
    const prev = last.get(l.source);
    if (prev !== undefined && l.time < prev.time) {
      errors.push(`${l.source}: time goes back from ${prev.time} (line ${prev.index + 1}) to ${l.time} (line ${l.index + 1})`);
    }
    last.set(l.source, l);
  }
  return errors;
}

/**
 * No service runs on two nodes at once. Running is tracked from the LRMs'
 * "service status SID started/stopped" and "end migrate/relocate" lines,
 * power-offs (which stop everything on a node), and services added as
 * running; services moved by hand or deleted are no longer tracked.
 */
export function checkSingleRunner(log) {
  const errors = [];
  const running = new Map(); // sid -> Set(node)
  const powered = new Map(); // node -> on?
  const at = (sid) => {
    if (!running.has(sid)) running.set(sid, new Set());
    return running.get(sid);
  };
  const start = (sid, node, l) => {
    const nodes = at(sid);
    const others = [...nodes].filter((n) => n !== node);
    if (others.length > 0) errors.push(`line ${l.index + 1}: ${sid} started on ${node} while running on ${others.join(',')}`);
    nodes.add(node);
  };
  for (const l of parseLog(log)) {
    if (l.msg === undefined) continue;
    // Disarming, and an LRM restart that freezes its services, release the
    // agent lock while the guests keep running; partitioned before the lock is
    // taken back, such a node is "fenced" by the master taking that free lock,
    // and its services are recovered elsewhere while still running. From then
    // on the reference itself does not guarantee a single runner.
    if (/^got crm command: disarm-ha|^restart LRM, freeze all services/.test(l.msg)) break;
    const daemon = /^(\S+)\/(lrm|crm)$/.exec(l.source);
    let m;
    if (daemon && daemon[2] === 'lrm') {
      const node = daemon[1];
      if ((m = /^service status (\S+) started$/.exec(l.msg))) start(m[1], node, l);
      else if ((m = /^service status (\S+) stopped$/.exec(l.msg))) at(m[1]).delete(node);
      else if ((m = /^service (\S+) - end (?:migrate|relocate) to node '(\S+)'$/.exec(l.msg))) at(m[1]).delete(node);
      continue;
    }
    if ((m = /^execute power (\S+) (on|off)$/.exec(l.msg))) {
      powered.set(m[1], m[2] === 'on');
      if (m[2] === 'off') for (const nodes of running.values()) nodes.delete(m[1]);
    } else if ((m = /^execute service (\S+) add (\S+)(?: \S+)?(?: (\S+))?$/.exec(l.msg))) {
      // The reference's "running" flag is a Perl truth value. On a node that
      // is off it only marks a status file nobody acts on (nodes start off).
      if (m[3] !== undefined && m[3] !== '0' && m[3] !== '' && powered.get(m[2])) start(m[1], m[2], l);
    } else if ((m = /^execute service (\S+) (?:manual-migrate \S+|delete)$/.exec(l.msg))) {
      // A hand-made move only rewrites the config (the guest keeps running
      // where it was, and may well be started again elsewhere); a deleted
      // service runs on unmanaged. Either way HA no longer vouches for it.
      running.delete(m[1]);
    }
  }
  return errors;
}

/** At most one CRM is master at any time. */
export function checkSingleMaster(log) {
  const errors = [];
  const masters = new Set();
  for (const l of parseLog(log)) {
    if (l.msg === undefined) continue;
    const crm = /^(\S+)\/crm$/.exec(l.source ?? '');
    let m;
    if (crm) {
      const node = crm[1];
      if ((m = /^status change (\S+) => (\S+)$/.exec(l.msg))) {
        if (m[2] === 'master') {
          const others = [...masters].filter((n) => n !== node);
          if (others.length > 0) errors.push(`line ${l.index + 1}: ${node} became master while ${others.join(',')} is master`);
          masters.add(node);
        } else if (m[1] === 'master') {
          masters.delete(node);
        }
      } else if (l.msg === 'killed by poweroff' || l.msg === 'exit (loop end)') {
        masters.delete(node);
      }
    } else if ((m = /^execute power (\S+) off$/.exec(l.msg))) {
      masters.delete(m[1]);
    }
  }
  return errors;
}

/**
 * Each service's state changes chain up: a change starts from the state the
 * previous change (by whichever master) ended in. The chain restarts when a
 * master adds the service anew or drops it from its state. (A disarm in
 * freeze mode freezes services silently: 'freeze' may follow anything.)
 */
export function checkStateChain(log) {
  const errors = [];
  const last = new Map();
  for (const l of parseLog(log)) {
    if (l.msg === undefined || !/\/crm$/.test(l.source)) continue;
    let m;
    if ((m = /^service '(\S+)': state changed from '(\S+)' to '(\S+)'/.exec(l.msg))) {
      const prev = last.get(m[1]);
      // Disarming in freeze mode freezes services without a state-change line.
      if (prev !== undefined && prev !== m[2] && m[2] !== 'freeze') errors.push(`line ${l.index + 1}: ${m[1]} changes from '${m[2]}' but was '${prev}'`);
      last.set(m[1], m[3]);
    } else if ((m = /^(?:adding new service|removing stale service) '(\S+)'/.exec(l.msg))) {
      last.delete(m[1]);
    }
  }
  return errors;
}

export const ALL_CHECKS = {
  framing: checkFraming,
  'monotonic-time': checkMonotonicTime,
  'single-runner': checkSingleRunner,
  'single-master': checkSingleMaster,
  'state-chain': checkStateChain,
};

/** All violations of all checks, each prefixed with its check's name. */
export function checkInvariants(log) {
  const out = [];
  for (const [name, check] of Object.entries(ALL_CHECKS)) {
    for (const e of check(log)) out.push(`${name}: ${e}`);
  }
  return out;
}
