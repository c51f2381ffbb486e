// What the lab needs from the machine, and what it reads from /proc about
// the processes of its emulated nodes. Each node is a PID namespace
// (`unshare --pid`), which needs root; nsenter starts the node's daemons in
// it, setpriv ties every lab process to the lab's life, and a one-line perl
// program is each namespace's init (it reaps the processes that services
// leave behind when they daemonize, as a node's init does).

import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const REQUIRED_COMMANDS = ['unshare', 'nsenter', 'setpriv', 'perl', 'sh'] as const;

export function findCommand(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why this machine cannot run the lab (empty when it can). */
export function labHostProblems(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`the lab needs Linux (PID namespaces), this is ${process.platform}`);
  if (process.getuid?.() !== 0) problems.push('the lab needs root: each emulated node is a PID namespace (unshare --pid)');
  const missing = REQUIRED_COMMANDS.filter((c) => findCommand(c) === undefined);
  if (missing.length > 0) problems.push(`missing commands on PATH: ${missing.join(', ')} (util-linux, perl)`);
  return problems;
}

/** The PID namespace of a process, e.g. `pid:[4026532179]`; undefined when it is gone. */
export function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The children of a process (host pids), from /proc. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Waits for the first child of `pid` (nsenter and unshare fork the process that matters). */
export async function firstChild(pid: number, timeoutMs = 5000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [child] = childPids(pid);
    if (child !== undefined) return child;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every process id visible in /proc. */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** A process's environment; undefined when it is gone or unreadable. */
export function processEnvironment(pid: number): Map<string, string> | undefined {
  try {
    const env = new Map<string, string>();
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return env;
  } catch {
    return undefined;
  }
}

export interface ProcessStat {
  /** R, S, D, T, Z, ... */
  state: string;
  /** The parent's pid, as this /proc sees it. */
  ppid: number;
  /** Clock ticks after boot: with the pid, it names one process even when pids are reused. */
  startTime: string;
}

export function processStat(pid: number): ProcessStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), startTime: fields[19] };
  } catch {
    return undefined;
  }
}

/** The process's pid inside its own PID namespace (the last NSpid entry). */
export function namespacePid(pid: number): number | undefined {
  try {
    const match = /^NSpid:\s*(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const ids = match?.[1].trim().split(/\s+/);
    return ids === undefined ? undefined : Number(ids[ids.length - 1]);
  } catch {
    return undefined;
  }
}

/** Processes whose environment has `name=value` (every process the lab starts carries its run directory). */
export function processesWithEnv(name: string, value: string): number[] {
  return allPids().filter((pid) => pid !== process.pid && processEnvironment(pid)?.get(name) === value);
}
