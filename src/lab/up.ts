// `ha-lab up`: a local cluster for trying things out, at real time with the
// default profile and a few example services. It runs until SIGINT/SIGTERM,
// then stops every process it started and checks that none is left.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_PROFILE } from '../env/timing.js';
import { startLabCluster, type StoreKind } from './cluster.js';
import { EXIT } from './exit.js';
import type { Output } from './output.js';
import { newSeed } from './random.js';

export interface UpOptions {
  nodes: number;
  store: StoreKind;
  services: number;
  keep: boolean;
}

export async function labUp(options: UpOptions, out: Output, signal: AbortSignal): Promise<number> {
  const runDir = mkdtempSync(join(tmpdir(), 'ha-lab-up-'));
  const seed = newSeed();
  let now = (): number => 0;
  let failed: Error | undefined;
  const failure = new AbortController();
  const stop = AbortSignal.any([signal, failure.signal]);
  const cluster = await startLabCluster({
    ...options,
    scriptsDir: undefined,
    timeScale: 1,
    profile: DEFAULT_PROFILE,
    watchdog: true,
    seed,
    runDir,
    event: (event) => out.event(now(), event),
    fail(error) {
      failed = error;
      failure.abort(error);
    },
  });
  now = cluster.now;
  const spec = cluster.adminStoreSpec;
  out.info(`${options.nodes} node(s) up on ${options.store === 'etcd' ? 'etcd (3 members)' : 'a directory store'}, services ${cluster.services.join(', ')}`, {
    store: spec,
    runDir,
    seed,
  });
  out.info(`point ha-manager at it:  ./bin/ha-manager --store '${spec}' status`);
  out.info(`                     or:  export HA_MANAGER_STORE='${spec}'`);
  out.info(`more services: copy ${join(cluster.scriptsDir, 's1')} to ${cluster.scriptsDir}/<name>, then ha-manager add exec:<name>`);
  out.info(`daemon logs: ${join(runDir, 'nodes')}/<node>/boot<N>.<daemon>.log`);
  out.info('Ctrl-C stops everything');

  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    else stop.addEventListener('abort', () => resolve(), { once: true });
  });
  const leftovers = await cluster.teardown();
  if (failed !== undefined) throw new Error(`${failed.message}; everything stopped, logs kept in ${runDir}`);
  if (!options.keep) rmSync(runDir, { recursive: true, force: true });
  out.info(
    leftovers.length === 0
      ? `stopped (${String(signal.reason)}): every process ended${options.keep ? `; kept ${runDir}` : ''}`
      : `stopped, but these were left behind and had to be killed: ${leftovers.join(', ')}`,
  );
  out.result({ stopped: String(signal.reason), leftovers, ...(options.keep ? { runDir } : {}) });
  return leftovers.length === 0 ? EXIT.pass : EXIT.labError;
}
