// Runs ha-manager in-process against a memory store, with a fixed clock and
// time zone, capturing what it prints.

import { GUEST_RESOURCE_TYPES, type AdminResourceType } from '../../src/admin/context.js';
import type { CliContext } from '../../src/cli/ha-manager/context.js';
import { runHaManager } from '../../src/cli/ha-manager/program.js';
import { createMemoryStore, type MemoryStore } from '../../src/env/node/memory-store.js';
import { guestConfigPath, lrmStatusPath, PATHS } from '../../src/env/node/layout.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HarnessOptions {
  nodes?: string[];
  /** Seconds since the epoch. */
  now?: number;
  nodename?: string;
  utf8?: boolean;
  columns?: number;
  resourceTypes?: Record<string, AdminResourceType>;
}

/** 2024-03-05 12:00:00 UTC, a Tuesday. */
export const NOW = 1709640000;

export interface Harness {
  store: MemoryStore;
  /** The context `run` runs commands in, printing nowhere. */
  context(): CliContext;
  now: number;
  run(...args: string[]): Promise<RunResult>;
  read(path: string): Promise<string | undefined>;
  write(path: string, data: string): Promise<void>;
  /** A guest config: `vm` and `ct` resources are located by it. */
  guest(node: string, sid: string): Promise<void>;
  managerStatus(status: object): Promise<void>;
  lrmStatus(node: string, status: object): Promise<void>;
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const nodes = options.nodes ?? ['node1', 'node2', 'node3'];
  const store = createMemoryStore({ nodes });
  const contextOf = (stdout: (text: string) => void, stderr: (text: string) => void): CliContext => ({
    store,
    nodename: options.nodename ?? nodes[0],
    now: () => harness.now,
    timeZone: 'UTC',
    resourceTypes: options.resourceTypes ?? GUEST_RESOURCE_TYPES,
    terminal: { utf8: options.utf8 ?? false, ...(options.columns !== undefined ? { columns: options.columns } : {}) },
    stdout,
    stderr,
  });
  const harness: Harness = {
    store,
    now: options.now ?? NOW,
    context: () => contextOf(() => undefined, () => undefined),
    async run(...args) {
      let stdout = '';
      let stderr = '';
      const ctx = contextOf(
        (text) => {
          stdout += text;
        },
        (text) => {
          stderr += text;
        },
      );
      const code = await runHaManager(args, ctx);
      return { code, stdout, stderr };
    },
    read: (path) => store.read(path),
    write: (path, data) => store.write(path, data),
    guest: (node, sid) => store.write(guestConfigPath(node, sid), ''),
    managerStatus: (status) => store.write(PATHS.managerStatus, JSON.stringify(status)),
    lrmStatus: (node, status) => store.write(lrmStatusPath(node), JSON.stringify(status)),
  };
  return harness;
}

export const HELP_HINT = "(run 'ha-manager help' for the commands, 'ha-manager help <command>' for one)";

/** What ha-manager prints for parameters it refuses (exit status 2). */
export function paramError(usage: string, errors: Record<string, string>): string {
  const lines = Object.keys(errors)
    .sort()
    .map((key) => `${key}: ${errors[key]}\n`)
    .join('');
  return `400 Parameter verification failed.\n${lines}\nUSAGE: ${usage}\n${HELP_HINT}\n`;
}

/** What ha-manager prints for a command line it cannot read (exit status 2). */
export function usageError(usage: string, message: string): string {
  return `${message}\n\nUSAGE: ${usage}\n${HELP_HINT}\n`;
}
