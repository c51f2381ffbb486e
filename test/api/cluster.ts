// A real cluster on this machine for the API and browser tests: a directory
// store, ha-crm and ha-lrm of three nodes (no watchdog, a scaled clock set
// in the store's ha/timing.cfg, script services that record where they
// run), and ha-api on the same store with an admin and an audit token. Everything started here is
// killed by stop(), also after a failure.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT } from '../simulator/scenario-dirs.js';

export const BUILT = existsSync(join(REPO_ROOT, 'dist/cli/ha-api-main.js')) && existsSync(join(REPO_ROOT, 'dist/cli/daemon-main.js'));
export const WEB_BUILT = existsSync(join(REPO_ROOT, 'dist/web/index.html'));

interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<void>;
}

export interface Cluster {
  base: string;
  store: string;
  url: string;
  adminToken: string;
  adminSecret: string;
  auditToken: string;
  auditSecret: string;
  /** Nodes whose script services run now, by service name. */
  runningOn(name: string): string[];
  /** Everything the processes printed. */
  logs(): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: string[];
  /** Start ha-crm/ha-lrm (default true); without them the store is only read and written by ha-api. */
  daemons?: boolean;
  scale?: number;
  /** Script services to provide (names of exec:<name> resources). */
  services?: string[];
}

function start(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { name, child, output, exited };
}

export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, logs?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${logs ? `\n${logs()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const nodes = options.nodes ?? ['node1', 'node2', 'node3'];
  const scale = options.scale ?? 20;
  const base = mkdtempSync(join(tmpdir(), 'ha-api-'));
  const store = join(base, 'store');
  const scripts = join(base, 'scripts');
  const state = join(base, 'state');
  for (const dir of [store, scripts, state, join(store, 'ha'), ...nodes.map((n) => join(store, 'nodes', n))]) mkdirSync(dir, { recursive: true });
  for (const service of options.services ?? ['web', 'db']) {
    writeFileSync(
      join(scripts, service),
      `#!/bin/sh\nstate="${state}/${service}.$HA_MANAGER_NODE"\ncase "$1" in start) touch "$state";; stop) rm -f "$state";; status) [ -e "$state" ] || exit 3;; *) exit 2;; esac\n`,
    );
    chmodSync(join(scripts, service), 0o755);
  }
  const tokenFile = join(base, 'tokens');
  const haApi = join(REPO_ROOT, 'bin', 'ha-api');
  const addToken = (id: string, role: string): string =>
    execFileSync(process.execPath, [haApi, 'token', 'add', id, '--role', role, '--token-file', tokenFile], { encoding: 'utf8' }).trim();
  const adminToken = 'root@pam!ops';
  const auditToken = 'monitor@pve!grafana';
  const adminSecret = addToken(adminToken, 'admin');
  const auditSecret = addToken(auditToken, 'audit');

  const procs: Proc[] = [];
  const logs = (): string => procs.map((p) => `== ${p.name}\n${p.output.join('')}`).join('\n');
  const stop = async (): Promise<void> => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    rmSync(base, { recursive: true, force: true });
  };
  try {
    // The cluster's clock, recorded in the store as an operator would: every process reads it from there.
    execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'ha-manager'), '--store', `dir:${store}`, 'timing', 'set', '--time-scale', String(scale)], {
      encoding: 'utf8',
    });
    if (options.daemons ?? true) {
      for (const node of nodes) {
        for (const kind of ['crm', 'lrm'] as const) {
          procs.push(
            start(`${node}/${kind}`, [
              join(REPO_ROOT, 'bin', `ha-${kind}`), '--node', node, '--store', `dir:${store}`, '--no-watchdog', '--scripts', scripts, '--log-format', 'text',
            ]),
          );
        }
      }
    }
    const api = start('ha-api', [haApi, '--store', `dir:${store}`, '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--node', nodes[0], '--poll-ms', '250']);
    procs.push(api);
    const url = await until('ha-api to listen', () => /listening on (http:\/\/[\d.:]+)/.exec(api.output.join(''))?.[1], 20_000, logs);
    return {
      base,
      store,
      url,
      adminToken,
      adminSecret,
      auditToken,
      auditSecret,
      runningOn: (name) => readdirSync(state).filter((f) => f.startsWith(`${name}.`)).map((f) => f.slice(name.length + 1)).sort(),
      logs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
