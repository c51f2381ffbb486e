// Helpers for tests that run the shipped programs (bin/ha-crm, bin/ha-lrm,
// bin/ha-manager) as processes over a plain directory store: a scratch
// cluster directory, daemons whose output is kept for failure messages, the
// CLI, polling with a deadline, and cleanup of every process started.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT } from '../simulator/scenario-dirs.js';

export const BUILT = existsSync(join(REPO_ROOT, 'dist/cli/daemon-main.js'));

export interface Daemon {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export interface Cluster {
  base: string;
  store: string;
  scripts: string;
  daemons: Daemon[];
  /** Starts `ha-<kind> --node <node> --store dir:<store> --scripts <scripts> ...extra`. */
  start(kind: 'crm' | 'lrm', node: string, extra: readonly string[]): Daemon;
  /** Runs `ha-manager --store dir:<store> ...args` as node1. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Every daemon's output, for failure messages. */
  logs(): string;
  /** Kills whatever still runs (SIGKILL), waits for it, and removes the directory. */
  destroy(): Promise<void>;
}

export function createCluster(nodes: readonly string[]): Cluster {
  const base = mkdtempSync(join(tmpdir(), 'ha-cluster-'));
  const store = join(base, 'store');
  const scripts = join(base, 'scripts');
  for (const dir of [scripts, join(store, 'ha'), ...nodes.map((n) => join(store, 'nodes', n))]) mkdirSync(dir, { recursive: true });
  const daemons: Daemon[] = [];
  const cluster: Cluster = {
    base,
    store,
    scripts,
    daemons,
    start(kind, node, extra) {
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, 'bin', `ha-${kind}`), '--node', node, '--store', `dir:${store}`, '--scripts', scripts, '--log-format', 'text', ...extra],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const output: string[] = [];
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const daemon = { name: `${node}/${kind}`, child, output, exited };
      daemons.push(daemon);
      return daemon;
    },
    cli(...args) {
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [join(REPO_ROOT, 'bin', 'ha-manager'), '--store', `dir:${store}`, ...args],
          { env: { PATH: process.env.PATH ?? '', LANG: 'C', TZ: 'UTC', HA_MANAGER_NODE: 'node1' } },
          (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
        );
      });
    },
    logs: () => daemons.map((d) => `== ${d.name}\n${d.output.join('')}`).join('\n'),
    async destroy() {
      for (const d of daemons) {
        // a stopped process must be continued to die of anything but SIGKILL; SIGKILL works anyway
        if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      }
      await Promise.all(daemons.map((d) => d.exited));
      rmSync(base, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Polls `check` every 50 ms until it holds; fails after `timeoutMs` with `context()` in the message. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, context: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
