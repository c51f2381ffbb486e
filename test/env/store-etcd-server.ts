// Throwaway etcd servers for the etcd store tests: on loopback, with a temp
// data dir and free ports, killed afterwards.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { requirePrerequisite } from '../prerequisites.js';

/** The etcd binary on PATH, or undefined (the etcd tests are then skipped). */
export function findEtcd(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why the etcd tests are skipped, or undefined when etcd is on PATH (HA_REQUIRE_ETCD=1: throws). */
export function etcdMissing(): string | undefined {
  return requirePrerequisite('etcd', findEtcd() !== undefined, 'no etcd binary on PATH (scripts/setup installs etcd-server)');
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

export interface EtcdMember {
  name: string;
  clientUrl: string;
  stop(): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client URLs of all members. */
  urls: string[];
  /** Index of the member that is the raft leader now, as the members report it. */
  leader(): Promise<number>;
  stop(): Promise<void>;
}

interface MemberStatus {
  leader?: string;
  header?: { member_id?: string };
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd at ${url} exited with ${child.exitCode}:\n${log()}`);
    try {
      const reply = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      if (reply.ok && ((await reply.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${url} not healthy within ${timeoutMs} ms:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface EtcdTiming {
  /** Raft heartbeat interval (default here 50 ms; etcd's own default is 100 ms). */
  heartbeatMs?: number;
  /** Raft election timeout (default here 500 ms; etcd's own default is 1000 ms). */
  electionTimeoutMs?: number;
}

/** Starts an etcd cluster of `size` members on loopback and waits until every member is healthy. */
export async function startEtcd(binary: string, size = 1, timing: EtcdTiming = {}): Promise<EtcdCluster> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'ha-etcd-'));
  const specs: { name: string; client: string; peer: string }[] = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((spec) => `${spec.name}=${spec.peer}`).join(',');
  const children: ChildProcess[] = [];
  const outputs: string[] = [];
  const members: EtcdMember[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      outputs[i] = '';
      const child = spawn(
        binary,
        [
          '--name', spec.name,
          '--data-dir', join(dataRoot, spec.name),
          '--listen-client-urls', spec.client,
          '--advertise-client-urls', spec.client,
          '--listen-peer-urls', spec.peer,
          '--initial-advertise-peer-urls', spec.peer,
          '--initial-cluster', initialCluster,
          '--initial-cluster-state', 'new',
          '--heartbeat-interval', String(timing.heartbeatMs ?? 50),
          '--election-timeout', String(timing.electionTimeoutMs ?? 500),
          '--logger', 'zap',
          '--log-level', 'error',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const keep = (chunk: Buffer): void => {
        outputs[i] = (outputs[i] + chunk.toString()).slice(-4000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      children.push(child);
      members.push({ name: spec.name, clientUrl: spec.client, stop: () => stopProcess(child) });
    }
    await Promise.all(
      children.map((child, i) => waitHealthy(specs[i].client, child, () => outputs[i], 15_000)),
    );
  } catch (err) {
    await Promise.all(children.map(stopProcess));
    rmSync(dataRoot, { recursive: true, force: true });
    throw err;
  }
  const urls = specs.map((spec) => spec.client);
  return {
    members,
    urls,
    async leader() {
      for (let tries = 0; tries < 50; tries++) {
        for (const [i, url] of urls.entries()) {
          try {
            const reply = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(500) });
            const status = (await reply.json()) as MemberStatus;
            if (status.leader !== undefined && status.leader === status.header?.member_id) return i;
          } catch {
            // a stopped member, or one without a leader yet
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('no etcd member reports itself leader');
    },
    async stop() {
      await Promise.all(children.map(stopProcess));
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
}
