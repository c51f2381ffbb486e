// Invariants of a simulation log that hold for the reference simulator on
// every scenario the generator makes (the runner checks them on the
// reference's own logs with --check-reference, so none of them is a
// property only our simulator has). Each check returns a list of violation
// messages; an empty list means the log is fine.
//
// These only judge the log's form. Safety and liveness (one runner per
// service, fencing, one master, services running after the faults heal)
// are checked online, from the simulated hardware's own state, by
// src/env/sim/invariants.ts.

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
