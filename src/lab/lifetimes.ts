// Where the checker's facts come from: when each service process lived, and
// on which node — observed from outside the daemons, never from their logs.
//
// - The lab's own service (share/lab/ha-lab-service): every instance
//   connects to the lab's Unix socket as it starts and says which service it
//   is and which PID namespace (node) it runs in, then holds the connection.
//   The kernel closes it when the process dies, however it dies (SIGKILL, a
//   node reset), so each lifetime is known to the lab's event-loop latency
//   (about a millisecond).
// - Services of `--scripts DIR`: the lab cannot ask a foreign program to
//   connect anywhere, so it scans /proc every SCAN_INTERVAL_MS. Each action
//   of a script runs through a lab wrapper that marks its environment
//   (HA_LAB_SERVICE, HA_LAB_ACTION, HA_LAB_INVOCATION = the script's own pid);
//   environments are inherited, so every process a `start` leaves running —
//   however it daemonizes — carries the marks, unless it clears its
//   environment. A service instance is such a process in a node's namespace
//   that its start script left behind: not the script, nor anything that
//   still descends from a running start script (its helpers, and a daemon
//   until the script that forked it has returned). A lifetime then runs from
//   the first scan that saw it so to the first that did not: both ends are
//   late by up to one interval (plus, at the start, the rest of the start
//   script), and a life shorter than one interval may go unseen.
//
// Both give Instance records (checker.ts) with the node and boot taken from
// the PID namespace the process really ran in.

import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

import type { NodeName, Sid } from '../core/types.js';
import type { Instance } from './checker.js';
import { allPids, namespacePid, pidNamespace, processEnvironment, processStat } from './host.js';

/** How often --scripts services are looked for in /proc. */
export const SCAN_INTERVAL_MS = 100;

export interface NodeBoot {
  node: NodeName;
  boot: number;
}

export interface LifetimeChange {
  change: 'started' | 'ended';
  instance: Instance;
}

export interface LifetimeSourceOptions {
  /** Cluster milliseconds since the run started. */
  now(): number;
  /** Which node and boot a PID namespace belongs to (host.ts pidNamespace form). */
  nodeOf(namespace: string): NodeBoot | undefined;
  onChange(change: LifetimeChange): void;
}

export interface LifetimeSource {
  /** What has been seen so far (alive instances have no endMs). */
  instances(): Instance[];
  stop(): Promise<void>;
}

/** `start <sid> <node> <pid namespace> <pid>`: the line an instance of the lab's service sends. */
function parseHello(line: string): { sid: Sid; claimedNode: NodeName; namespace: string } | undefined {
  const words = line.trim().split(' ');
  if (words.length !== 5 || words[0] !== 'start' || !words[1].startsWith('exec:')) return undefined;
  return { sid: words[1], claimedNode: words[2], namespace: words[3] };
}

/** Records the lab service's instances from their connections to `socketPath`. */
export async function listenForServices(socketPath: string, options: LifetimeSourceOptions): Promise<LifetimeSource> {
  const seen: Instance[] = [];
  const sockets = new Set<Socket>();
  rmSync(socketPath, { force: true });
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let buffered = '';
    let instance: Instance | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (instance !== undefined) return;
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      const hello = parseHello(buffered.slice(0, newline));
      if (hello === undefined) {
        socket.destroy();
        return;
      }
      // The namespace is the kernel's word for where it runs; the claimed
      // node (HA_MANAGER_NODE) only stands in if the namespace is unknown.
      const where = options.nodeOf(hello.namespace) ?? { node: hello.claimedNode, boot: 0 };
      instance = { sid: hello.sid, node: where.node, boot: where.boot, startMs: options.now(), endMs: undefined };
      seen.push(instance);
      options.onChange({ change: 'started', instance });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (instance === undefined || instance.endMs !== undefined) return;
      instance.endMs = options.now();
      options.onChange({ change: 'ended', instance });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    instances: () => seen.map((i) => ({ ...i })),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A process running a start action's script: its pid is the one the lab's wrapper recorded. */
function isStartScript(pid: number, env: ReadonlyMap<string, string>): boolean {
  return env.get('HA_LAB_ACTION') === 'start' && Number(env.get('HA_LAB_INVOCATION')) === namespacePid(pid);
}

/** Whether `pid` or one of its ancestors in the same namespace is a start script that still runs. */
function underRunningStart(pid: number, namespace: string | undefined): boolean {
  for (let depth = 0; pid > 1 && depth < 32; depth++) {
    if (pidNamespace(pid) !== namespace) return false;
    const env = processEnvironment(pid);
    if (env !== undefined && isStartScript(pid, env)) return true;
    const stat = processStat(pid);
    if (stat === undefined) return false;
    pid = stat.ppid;
  }
  return false;
}

interface Tracked {
  instance: Instance;
  /** Seen in the latest scan. */
  mark: number;
}

/** Records the instances of --scripts services by scanning /proc (see the top of this file). */
export function scanForServices(options: LifetimeSourceOptions, intervalMs = SCAN_INTERVAL_MS): LifetimeSource {
  const seen: Instance[] = [];
  const tracked = new Map<string, Tracked>();
  let round = 0;
  const scan = (): void => {
    round++;
    const now = options.now();
    for (const pid of allPids()) {
      const namespace = pidNamespace(pid);
      const where = namespace === undefined ? undefined : options.nodeOf(namespace);
      if (where === undefined) continue;
      const stat = processStat(pid);
      if (stat === undefined || stat.state === 'Z') continue;
      const key = `${pid}/${stat.startTime}`;
      const known = tracked.get(key);
      if (known !== undefined) {
        known.mark = round;
        continue;
      }
      const env = processEnvironment(pid);
      const sid = env?.get('HA_LAB_SERVICE');
      if (env === undefined || sid === undefined || env.get('HA_LAB_ACTION') !== 'start') continue;
      if (isStartScript(pid, env) || underRunningStart(stat.ppid, namespace)) continue;
      const instance: Instance = { sid, node: where.node, boot: where.boot, startMs: now, endMs: undefined };
      tracked.set(key, { instance, mark: round });
      seen.push(instance);
      options.onChange({ change: 'started', instance });
    }
    for (const [key, entry] of tracked) {
      if (entry.mark === round) continue;
      tracked.delete(key);
      entry.instance.endMs = now;
      options.onChange({ change: 'ended', instance: entry.instance });
    }
  };
  const timer = setInterval(scan, intervalMs);
  scan();
  return {
    instances: () => seen.map((i) => ({ ...i })),
    async stop() {
      clearInterval(timer);
    },
  };
}
