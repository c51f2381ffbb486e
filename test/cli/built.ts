// bin/ha-manager as a process: it runs the built tree (dist/), so suites
// that use it are skipped with a note when the build is missing or older
// than the sources it is built from.

import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'ha-manager');
const BUILT = join(ROOT, 'dist', 'cli', 'ha-manager-main.js');
const SOURCES = ['src/cli', 'src/admin', 'src/config', 'src/env/node'];

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export function builtSkipReason(): string | undefined {
  if (!existsSync(BUILT)) return `skipped: ${BUILT} is not built (npm run build:ts)`;
  const sources = Math.max(...SOURCES.map((dir) => newest(join(ROOT, dir))));
  if (statSync(BUILT).mtimeMs < sources) return `skipped: ${BUILT} is older than ${SOURCES.join(', ')} (npm run build:ts)`;
  return undefined;
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/ha-manager with `args`, node1's name, the C locale and UTC. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, options: ExecFileOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', LANG: 'C', TZ: 'UTC', HA_MANAGER_NODE: 'node1', ...env }, ...options },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
