// The few things the HA stack reads from and writes to a guest's config
// (qemu-server and lxc `key: value` files): its guest lock, and the sizes the
// static scheduler plans with.

const MIB = 1024 ** 2;

/** The current config's `key: value` pairs (snapshot sections, `[...]`, are not current). */
export function parseGuestConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break;
    const match = /^([a-z][a-z0-9_-]*):\s*(.*?)\s*$/.exec(line);
    if (match !== null) values.set(match[1], match[2]);
  }
  return values;
}

/** Removes the config's `lock` if it is one of `locks`; returns the new text and what was removed. */
export function removeGuestLock(text: string, locks: readonly string[]): { text: string; removed?: string } {
  const lock = parseGuestConfig(text).get('lock');
  if (lock === undefined || !locks.includes(lock)) return { text };
  const lines = text.split('\n');
  const at = lines.findIndex((line) => /^lock:/.test(line));
  lines.splice(at, 1);
  return { text: lines.join('\n'), removed: lock };
}

function positive(value: string | undefined, fallback: number): number {
  const n = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * Cores and memory bytes a guest may use at most: a CPU limit if set, else
 * its cores (times sockets for VMs); 0 cores means unlimited (a container
 * without a limit), which the scheduler counts as the whole node.
 */
export function guestStaticStats(type: 'vm' | 'ct', text: string): { maxcpu: number; maxmem: number } {
  const conf = parseGuestConfig(text);
  const limit = positive(conf.get('cpulimit'), 0);
  let cores: number;
  if (type === 'vm') {
    cores = positive(conf.get('vcpus'), positive(conf.get('cores'), 1) * positive(conf.get('sockets'), 1));
  } else {
    cores = positive(conf.get('cores'), 0);
  }
  const maxcpu = limit > 0 ? limit : cores;
  const maxmem = Math.trunc(positive(conf.get('memory'), 512) * MIB);
  return { maxcpu, maxmem };
}
