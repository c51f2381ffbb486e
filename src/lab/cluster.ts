// A lab cluster on this machine: the store (a directory, or three etcd
// members with a fault proxy per node), the cluster's timing file, the
// services and their scripts, the emulated nodes, the lifetime recording,
// and the faults. `ha-lab run` and `ha-lab up` both build on it.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { NodeName, Sid } from '../core/types.js';
import { parseResourcesConfig, writeResourcesConfig, type ResourceEntry, type ResourcesConfig } from '../config/resources-config.js';
import { writeTimingConfig, type TimingConfig } from '../config/timing-config.js';
import type { TimingProfile } from '../config/timing-profiles.js';
import { guestConfigPath, PATHS } from '../env/node/layout.js';
import { openStore } from '../env/node/open-store.js';
import { NODE_RESOURCE_TYPES } from '../env/node/resource-types.js';
import type { ClusterStore } from '../env/node/store.js';
import { findWatchdogMuxBinary } from '../native/mux-binary.js';
import { PACKAGE_ROOT } from '../native/platform.js';
import type { InjectedFault, ResetEvent } from './checker.js';
import { startEtcd, type EtcdCluster } from './etcd.js';
import { processesWithEnv } from './host.js';
import { listenForServices, scanForServices, type LifetimeChange, type LifetimeSource } from './lifetimes.js';
import { createNode, type LabNode, type NodeEvent } from './node.js';
import { createProcessSet, type ProcessSet } from './processes.js';
import { startFaultProxy, type FaultProxy } from './proxy.js';
import { rebootDelayS, type PlannedFault } from './schedule.js';
import { muxArgsFor, scaledMuxTiming } from './timing.js';

export type StoreKind = 'dir' | 'etcd';
export const ETCD_MEMBERS = 3;
const ETCD_PREFIX = '/ha-lab/';

/** Every lab process carries the run directory in its environment: how leftovers are found. */
export const RUN_ENV = 'HA_LAB_RUN';

export type LabEvent =
  | NodeEvent
  | { event: 'service'; change: LifetimeChange['change']; sid: Sid; node: NodeName; boot: number }
  | { event: 'fault'; kind: PlannedFault['kind']; target: string | undefined; detail: string }
  | { event: 'heal'; kind: PlannedFault['kind']; target: string }
  | { event: 'note'; message: string };

export interface LabClusterOptions {
  nodes: number;
  store: StoreKind;
  services: number;
  /** `DIR/sK` is the script of exec:sK; undefined: the lab's own service. */
  scriptsDir: string | undefined;
  timeScale: number;
  profile: TimingProfile;
  /** False: no watchdog-mux, the daemons run with --no-watchdog (nothing resets a node but a `kill`). */
  watchdog: boolean;
  seed: number;
  runDir: string;
  /** What happens, until the teardown (which ends everything without telling). */
  event(event: LabEvent): void;
  /** The lab itself failed while running (a node could not boot again): the run cannot go on. */
  fail(error: Error): void;
}

export interface LabCluster {
  readonly services: readonly Sid[];
  /** What to pass ha-manager: the store as an administrator reaches it (no fault proxy). */
  readonly adminStoreSpec: string;
  readonly scriptsDir: string;
  readonly resets: readonly ResetEvent[];
  /** Cluster milliseconds since the cluster was created. */
  now(): number;
  /** Real milliseconds for a span of cluster milliseconds. */
  realMs(clusterMs: number): number;
  readonly lifetimes: LifetimeSource;
  inject(fault: PlannedFault): Promise<InjectedFault>;
  /** The services in resources.cfg now; undefined when it cannot be read. */
  configuredServices(): Promise<Sid[] | undefined>;
  /** Stops everything; returns the pids of processes that had to be killed after it (should be none). */
  teardown(): Promise<number[]>;
}

/** The services exec:s1 ... exec:sM. */
export function serviceIds(count: number): Sid[] {
  return Array.from({ length: count }, (_, i) => `exec:s${i + 1}`);
}

export function nodeNames(count: number): NodeName[] {
  return Array.from({ length: count }, (_, i) => `node${i + 1}`);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The script the daemons run for every exec service (one file per service,
 * named after it): marks the environment of the action and of everything it
 * starts (lifetimes.ts), then runs the service's real script — `DIR/<name>`
 * of --scripts, or the lab's own. Copied under a new name it serves a new
 * service, which is how `ha-lab up` users add one.
 */
function wrapperScript(target: { dir: string } | { script: string }): string {
  return [
    '#!/bin/sh',
    '# An exec service of the ha-lab cluster: marks what this action starts (docs/LAB.md), then runs the script.',
    'name="${0##*/}"',
    'HA_LAB_SERVICE="exec:$name" HA_LAB_ACTION="$1" HA_LAB_INVOCATION=$$',
    'export HA_LAB_SERVICE HA_LAB_ACTION HA_LAB_INVOCATION',
    'dir' in target ? `exec ${shellQuote(target.dir)}/"$name" "$@"` : `exec ${shellQuote(target.script)} "$@"`,
    '',
  ].join('\n');
}

function etcdSpec(urls: readonly string[]): string {
  return `etcd:${urls.join(',')}?prefix=${ETCD_PREFIX}`;
}

async function writeInitialStore(store: ClusterStore, services: readonly Sid[], nodes: readonly NodeName[], timing: TimingConfig): Promise<void> {
  await store.write(PATHS.timing, writeTimingConfig(timing));
  const config: Pick<ResourcesConfig, 'ids' | 'order'> = { ids: {}, order: {} };
  services.forEach((sid, i) => {
    const entry: ResourceEntry = { type: 'exec', state: 'started' };
    config.ids[sid] = entry;
    config.order[sid] = i + 1;
  });
  for (const [i, sid] of services.entries()) await store.write(guestConfigPath(nodes[i % nodes.length], sid), '');
  await store.write(PATHS.resources, writeResourcesConfig(config, NODE_RESOURCE_TYPES));
}

export async function startLabCluster(options: LabClusterOptions): Promise<LabCluster> {
  const { runDir, timeScale } = options;
  const started = performance.now();
  const epochMs = Date.now();
  const now = (): number => Math.round((performance.now() - started) * timeScale);
  const realMs = (clusterMs: number): number => clusterMs / timeScale;
  const lockLifetimeS = options.profile.lockLifetimeMs / 1000;
  const names = nodeNames(options.nodes);
  const services = serviceIds(options.services);

  const dirs = { store: join(runDir, 'store'), scripts: join(runDir, 'scripts'), logs: join(runDir, 'logs'), pids: join(runDir, 'pids') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const socketPath = join(runDir, 'lab.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, [RUN_ENV]: runDir, HA_LAB_SOCKET: socketPath };

  const wrapper = wrapperScript(
    options.scriptsDir === undefined ? { script: join(PACKAGE_ROOT, 'share', 'lab', 'exec-service') } : { dir: options.scriptsDir },
  );
  for (const sid of services) {
    const path = join(dirs.scripts, sid.slice('exec:'.length));
    writeFileSync(path, wrapper);
    chmodSync(path, 0o755);
  }

  const mux = findWatchdogMuxBinary();
  if (mux.path === undefined) throw new Error(`watchdog-mux is not built (looked at ${mux.searched.join(', ')}): run npm run build`);
  const muxPath = mux.path;
  const muxArgs = muxArgsFor(options.profile, timeScale);

  const processes: ProcessSet = createProcessSet();
  const timers = new Set<NodeJS.Timeout>();
  const background = new Set<Promise<unknown>>();
  let tornDown = false;
  const emit = (event: LabEvent): void => {
    if (!tornDown) options.event(event);
  };
  const later = (clusterMs: number, action: () => void | Promise<unknown>): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (tornDown) return;
      const result = action();
      if (result instanceof Promise) {
        background.add(result);
        void result.finally(() => background.delete(result));
      }
    }, realMs(clusterMs));
    timers.add(timer);
  };

  let etcd: EtcdCluster | undefined;
  const proxies = new Map<NodeName, FaultProxy>();
  let adminStore: ClusterStore | undefined;
  let lifetimes: LifetimeSource | undefined;
  const nodes: LabNode[] = [];
  const resets: ResetEvent[] = [];

  const teardown = async (): Promise<number[]> => {
    tornDown = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await Promise.all(nodes.map((n) => n.powerOff()));
    await processes.killAll();
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await lifetimes?.stop();
    await adminStore?.close().catch(() => undefined);
    await Promise.allSettled([...background]);
    const left = processesWithEnv(RUN_ENV, runDir);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return left;
  };

  try {
    let adminSpec: string;
    const nodeSpec = new Map<NodeName, string>();
    if (options.store === 'etcd') {
      etcd = await startEtcd({ size: ETCD_MEMBERS, timeScale, dataDir: join(runDir, 'etcd'), logDir: dirs.logs, env, processes });
      adminSpec = etcdSpec(etcd.members.map((m) => m.clientUrl));
      for (const name of names) {
        const proxy = await startFaultProxy(etcd.members.map((m) => ({ host: '127.0.0.1', port: m.clientPort })));
        proxies.set(name, proxy);
        nodeSpec.set(name, etcdSpec(proxy.urls));
      }
    } else {
      adminSpec = `dir:${dirs.store}`;
      for (const name of names) nodeSpec.set(name, adminSpec);
    }
    adminStore = await openStore(adminSpec, { node: 'ha-lab' });
    const timing: TimingConfig = timeScale === 1 ? { profile: options.profile.name, timeScale } : { profile: options.profile.name, timeScale, epochMs };
    await writeInitialStore(adminStore, services, names, timing);

    const nodeOf = (namespace: string): { node: NodeName; boot: number } | undefined => {
      const node = nodes.find((n) => n.phase === 'up' && n.namespace === namespace);
      return node === undefined ? undefined : { node: node.name, boot: node.boot };
    };
    const lifetimeOptions = {
      now,
      nodeOf,
      onChange: ({ change, instance }: LifetimeChange) =>
        emit({ event: 'service', change, sid: instance.sid, node: instance.node, boot: instance.boot }),
    };
    lifetimes = options.scriptsDir === undefined ? await listenForServices(socketPath, lifetimeOptions) : scanForServices(lifetimeOptions);

    const deviceTimeoutMs = scaledMuxTiming(options.profile, timeScale).deviceTimeoutS * 1000;
    const scaleArgs = timeScale === 1 ? [] : ['--time-scale', String(timeScale), '--epoch', String(epochMs)];
    for (const name of names) {
      const dir = join(runDir, 'nodes', name);
      mkdirSync(dir, { recursive: true });
      nodes.push(
        createNode(name, {
          dir,
          processes,
          env,
          mux: options.watchdog ? { binary: muxPath, args: muxArgs } : undefined,
          daemonCommand: (daemon) => ({ command: process.execPath, args: [join(PACKAGE_ROOT, 'bin', `ha-${daemon}`)] }),
          daemonArgs: (node, muxSocket) => [
            '--node', node, '--store', nodeSpec.get(node) ?? adminSpec,
            ...(options.watchdog ? ['--watchdog-socket', muxSocket] : ['--no-watchdog']),
            '--scripts', dirs.scripts, '--log-format', 'text', ...scaleArgs,
          ],
          deviceTimeoutMs,
          event(event) {
            if (event.event === 'reset') resets.push({ node: event.node, boot: event.boot, atMs: now(), cause: event.cause });
            emit(event);
          },
          resetDone(node) {
            const delayS = rebootDelayS(options.seed, resets.length - 1, lockLifetimeS);
            emit({ event: 'note', message: `${node.name} reboots in ${delayS} s` });
            later(delayS * 1000, () => node.bootUp().catch((err: Error) => options.fail(err)));
          },
        }),
      );
    }
    await Promise.all(nodes.map((n) => n.bootUp()));

    const byName = (name: NodeName | undefined): LabNode | undefined => nodes.find((n) => n.name === name);
    const masterNode = async (): Promise<LabNode | undefined> => {
      const text = await adminStore?.read(PATHS.managerStatus).catch(() => undefined);
      if (text === undefined) return undefined;
      try {
        return byName((JSON.parse(text) as { master_node?: string }).master_node);
      } catch {
        return undefined;
      }
    };

    const inject = async (fault: PlannedFault): Promise<InjectedFault> => {
      const atMs = now();
      const injected = (target: string | undefined, detail = ''): InjectedFault => {
        emit({ event: 'fault', kind: fault.kind, target, detail: target === undefined ? `skipped: ${detail}` : detail });
        return { kind: fault.kind, atMs, target };
      };
      const holdMs = (fault.holdS ?? 0) * 1000;
      /** Undoes a held fault when its hold ends, and stamps the record. */
      const healLater = (record: InjectedFault, undo: () => void | Promise<void>): InjectedFault => {
        later(holdMs, async () => {
          await undo();
          record.healedAtMs = now();
          emit({ event: 'heal', kind: fault.kind, target: record.target ?? '' });
        });
        return record;
      };
      switch (fault.kind) {
        case 'kill': {
          const node = byName(fault.node);
          if (node?.phase !== 'up') return injected(undefined, `${fault.node} is down`);
          const result = injected(node.name, 'power off');
          await node.reset('power-off');
          return result;
        }
        case 'pause': {
          const node = byName(fault.node);
          if (node === undefined || !node.pause()) return injected(undefined, `${fault.node} is down`);
          return healLater(injected(node.name, `SIGSTOP ha-crm and ha-lrm for ${fault.holdS} s`), () => node.resume());
        }
        case 'restart-lrm': {
          const node = byName(fault.node);
          if (node?.phase !== 'up') return injected(undefined, `${fault.node} is down`);
          const restart = node.restartLrm(realMs(lockLifetimeS * 1000));
          background.add(restart);
          void restart.finally(() => background.delete(restart));
          return injected(node.name, 'SIGTERM ha-lrm, then start it again');
        }
        case 'master': {
          const node = await masterNode();
          if (node === undefined || !node.killCrm()) return injected(undefined, 'no master up');
          return injected(node.name, 'SIGKILL the master ha-crm');
        }
        case 'partition': {
          const proxy = fault.node === undefined ? undefined : proxies.get(fault.node);
          if (proxy === undefined) return injected(undefined, 'not on etcd');
          proxy.setCut(true);
          return healLater(injected(fault.node, `cut from the store for ${fault.holdS} s`), () => proxy.setCut(false));
        }
        case 'etcd-member':
        case 'etcd-leader': {
          if (etcd === undefined) return injected(undefined, 'not on etcd');
          const cluster = etcd;
          const member = fault.kind === 'etcd-leader' ? await cluster.leader() : cluster.members[fault.member ?? 0];
          if (member === undefined || !member.up) return injected(undefined, 'member not up');
          await cluster.kill(member.index);
          return healLater(injected(member.name, `SIGKILL for ${fault.holdS} s`), () => cluster.restart(member.index));
        }
        default: {
          const never: never = fault.kind;
          return never;
        }
      }
    };

    const store = adminStore;
    return {
      services,
      adminStoreSpec: adminSpec,
      scriptsDir: dirs.scripts,
      resets,
      now,
      realMs,
      lifetimes,
      inject,
      async configuredServices() {
        try {
          const text = await store.read(PATHS.resources);
          return text === undefined ? [] : Object.keys(parseResourcesConfig(text, 'resources.cfg', [], NODE_RESOURCE_TYPES).ids);
        } catch {
          return undefined;
        }
      },
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
