// The lab's etcd cluster: members on loopback with free ports, data under
// the run directory, each a lab process (processes.ts). A member can be
// killed (SIGKILL, the `etcd-member` and `etcd-leader` faults) and started
// again on its data, rejoining the cluster it left.

import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { findCommand } from './host.js';
import type { LabProcess, ProcessSet } from './processes.js';

export interface EtcdMember {
  readonly index: number;
  readonly name: string;
  readonly clientPort: number;
  readonly clientUrl: string;
  /** Running now. */
  readonly up: boolean;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** The member leading now, asked of the members that are up; undefined when none answers. */
  leader(): Promise<EtcdMember | undefined>;
  kill(index: number): Promise<void>;
  restart(index: number): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const reply = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return reply.ok && ((await reply.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** The member id a member reports for itself, and the leader's id (etcd's JSON gateway). */
async function memberStatus(url: string): Promise<{ self: string; leader: string } | undefined> {
  try {
    const reply = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    if (!reply.ok) return undefined;
    const status = (await reply.json()) as { header?: { member_id?: string }; leader?: string };
    const self = status.header?.member_id;
    return self === undefined || status.leader === undefined ? undefined : { self, leader: status.leader };
  } catch {
    return undefined;
  }
}

export interface EtcdOptions {
  size: number;
  /** The cluster clock's speed: etcd's own heartbeat and election timing shrink with it, down to a floor. */
  timeScale: number;
  dataDir: string;
  logDir: string;
  env: NodeJS.ProcessEnv;
  processes: ProcessSet;
  /** Longest wait for the members to be healthy, real milliseconds. */
  readyTimeoutMs?: number;
}

export async function startEtcd(options: EtcdOptions): Promise<EtcdCluster> {
  const binary = findCommand('etcd');
  if (binary === undefined) throw new Error('--store etcd needs the etcd binary on PATH (etcd 3.4 or later)');
  const specs: { name: string; clientPort: number; peerUrl: string }[] = [];
  for (let i = 0; i < options.size; i++) {
    specs.push({ name: `etcd${i + 1}`, clientPort: await freePort(), peerUrl: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  // etcd's defaults (100 ms, 1 s) at real time; on a faster clock shorter,
  // but not below what a loaded two-core machine keeps without spurious elections.
  const heartbeatMs = Math.max(50, Math.round(100 / options.timeScale));
  const running: (LabProcess | undefined)[] = specs.map(() => undefined);
  let starts = 0;

  const start = (index: number): void => {
    const spec = specs[index];
    const clientUrl = `http://127.0.0.1:${spec.clientPort}`;
    const dataDir = join(options.dataDir, spec.name);
    mkdirSync(dataDir, { recursive: true });
    starts++;
    running[index] = options.processes.spawn(
      `${spec.name}.${starts}`,
      binary,
      [
        '--name', spec.name,
        '--data-dir', dataDir,
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', spec.peerUrl,
        '--initial-advertise-peer-urls', spec.peerUrl,
        '--initial-cluster', initialCluster,
        // Ignored once the data directory holds a member: a restart rejoins.
        '--initial-cluster-state', 'new',
        '--heartbeat-interval', String(heartbeatMs),
        '--election-timeout', String(10 * heartbeatMs),
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      { env: options.env, logFile: join(options.logDir, `${spec.name}.log`) },
    );
  };

  const waitHealthy = async (index: number): Promise<void> => {
    const url = `http://127.0.0.1:${specs[index].clientPort}`;
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    while (!(await healthy(url))) {
      const proc = running[index];
      if (proc?.exit() !== undefined) throw new Error(`etcd member ${specs[index].name} exited (see ${join(options.logDir, `${specs[index].name}.log`)})`);
      if (Date.now() > deadline) throw new Error(`etcd member ${specs[index].name} not healthy at ${url} in time`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  specs.forEach((_, i) => start(i));
  await Promise.all(specs.map((_, i) => waitHealthy(i)));

  const members: EtcdMember[] = specs.map((spec, index) => ({
    index,
    name: spec.name,
    clientPort: spec.clientPort,
    clientUrl: `http://127.0.0.1:${spec.clientPort}`,
    get up() {
      const proc = running[index];
      return proc !== undefined && proc.exit() === undefined;
    },
  }));

  return {
    members,
    async leader() {
      for (const member of members.filter((m) => m.up)) {
        const status = await memberStatus(member.clientUrl);
        if (status === undefined) continue;
        for (const other of members.filter((m) => m.up)) {
          const its = other === member ? status : await memberStatus(other.clientUrl);
          if (its !== undefined && its.self === status.leader) return other;
        }
      }
      return undefined;
    },
    async kill(index) {
      const proc = running[index];
      if (proc === undefined || proc.exit() !== undefined) return;
      process.kill(proc.pid, 'SIGKILL');
      await proc.exited;
    },
    async restart(index) {
      const proc = running[index];
      if (proc !== undefined && proc.exit() === undefined) return;
      start(index);
    },
  };
}
