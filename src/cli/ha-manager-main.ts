// Process entry of ha-manager: binds the cluster store (`--store <spec>`
// before the command, else HA_MANAGER_STORE, else /etc/pve on a Proxmox VE
// node), the node name, the clock and the terminal, then runs the command
// line and maps the outcome to the exit status. The store is opened on the
// cluster's timing (ha/timing.cfg), so heartbeats and timestamps are judged
// on the cluster's clock, scaled or not.

import { hostname } from 'node:os';

import { adminResourceTypes } from '../admin/context.js';
import type { CliContext } from './ha-manager/context.js';
import { runHaManager } from './ha-manager/program.js';
import { NODE_RESOURCE_TYPES } from '../env/node/resource-types.js';
import { createClock, type Clock } from '../env/node/clock.js';
import { ClusterTimingError, openClusterStore } from '../env/node/cluster-timing.js';
import { openStore } from '../env/node/open-store.js';
import type { ClusterStore } from '../env/node/store.js';

/** Splits leading `--store <spec>` / `--store=<spec>` off the arguments. */
function takeStoreOption(args: readonly string[]): { spec?: string; rest: string[] } {
  const rest = [...args];
  let spec: string | undefined;
  for (;;) {
    if ((rest[0] === '--store' || rest[0] === '-store') && rest.length > 1) {
      spec = rest[1];
      rest.splice(0, 2);
    } else if (rest[0] !== undefined && /^--?store=/.test(rest[0])) {
      spec = rest[0].slice(rest[0].indexOf('=') + 1);
      rest.shift();
    } else {
      return spec === undefined ? { rest } : { spec, rest };
    }
  }
}

/**
 * A store opened on first use, so that `help` works without one and a
 * store that cannot be opened fails like any other command. `clock` is the
 * cluster's once the store is open. A timing.cfg that cannot be used is
 * reported and the store opened at real time, so `timing set` can fix it.
 */
function lazyStore(
  spec: string | undefined,
  node: string,
  stderr: (text: string) => void,
): { store: ClusterStore; clock(): Clock; close(): Promise<void> } {
  let opened: Promise<ClusterStore> | undefined;
  let resolved: ClusterStore | undefined;
  let clock = createClock();
  const open = async (): Promise<ClusterStore> => {
    try {
      const cluster = await openClusterStore(spec, { node });
      clock = cluster.timing.clock;
      return cluster.store;
    } catch (err) {
      if (!(err instanceof ClusterTimingError)) throw err;
      stderr(`ha-manager: ${err.message}; reading the store at real time\n`);
      return openStore(spec, { node });
    }
  };
  const get = (): Promise<ClusterStore> =>
    (opened ??= open().then((store) => {
      resolved = store;
      return store;
    }));
  const store: ClusterStore & { readonly mode?: string } = {
    description: spec ?? 'default store',
    get mode() {
      return (resolved as { mode?: string } | undefined)?.mode;
    },
    read: async (path) => (await get()).read(path),
    write: async (path, data) => (await get()).write(path, data),
    remove: async (path) => (await get()).remove(path),
    list: async (dir) => (await get()).list(dir),
    rename: async (from, to) => (await get()).rename(from, to),
    update: async (path, change) => (await get()).update(path, change),
    lock: async (name, holder) => (await get()).lock(name, holder),
    acquireLock: async (name, holder) => (await get()).acquireLock(name, holder),
    unlock: async (name, holder) => (await get()).unlock(name, holder),
    withDomainLock: async (domain, holder, body, options) => (await get()).withDomainLock(domain, holder, body, options),
    membership: async () => (await get()).membership(),
    heartbeat: async (name) => (await get()).heartbeat(name),
    refresh: async () => (await get()).refresh(),
    close: async () => {
      // a store that failed to open has been reported already and has nothing to close
      const store = await opened?.catch(() => undefined);
      await store?.close();
    },
  };
  return { store, clock: () => clock, close: () => store.close() };
}

/** The locale's character set decides the table borders, as for the reference. */
function localeIsUtf8(env: NodeJS.ProcessEnv): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}

/** HA_MANAGER_LOCK_TIMEOUT: seconds to wait for the HA config lock (default 60); a problem, or undefined. */
function lockTimeoutMs(env: NodeJS.ProcessEnv): { ms?: number } | { problem: string } {
  const text = env.HA_MANAGER_LOCK_TIMEOUT;
  if (text === undefined || text === '') return {};
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) return { problem: `HA_MANAGER_LOCK_TIMEOUT must be a number of seconds above 0, not '${text}'` };
  return { ms: seconds * 1000 };
}

export async function start(): Promise<void> {
  if (process.argv[2] === '--version' || process.argv[2] === '-V') {
    // Loaded only here: it looks for the native parts, which no other command needs at start.
    const { versionText } = await import('./version.js');
    process.stdout.write(`${versionText('ha-manager')}\n`);
    return;
  }
  const { spec, rest } = takeStoreOption(process.argv.slice(2));
  const timeout = lockTimeoutMs(process.env);
  if ('problem' in timeout) {
    process.stderr.write(`ha-manager: ${timeout.problem}\n`);
    process.exitCode = 2;
    return;
  }
  // PVE's node name: the host name up to the first dot.
  const nodename = process.env.HA_MANAGER_NODE || hostname().split('.')[0];
  const { store, clock, close } = lazyStore(spec, nodename, (text) => process.stderr.write(text));
  const ctx: CliContext = {
    store,
    nodename,
    now: () => clock().seconds(),
    resourceTypes: adminResourceTypes(NODE_RESOURCE_TYPES),
    lockTimeoutMs: timeout.ms,
    terminal: {
      utf8: localeIsUtf8(process.env),
      ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
    },
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
  try {
    process.exitCode = await runHaManager(rest, ctx);
  } finally {
    await close().catch((err: unknown) => {
      process.stderr.write(`ha-manager: closing the store failed: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  }
}
