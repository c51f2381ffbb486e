// Every process the lab starts, so that all of them end with the lab: on a
// normal end, on an error and on SIGINT/SIGTERM the lab kills them
// (killAll); and whenever the lab's process ends — an uncaught error, a
// SIGKILL — the kernel does: each is started through `setpriv --pdeathsig
// KILL`, and a node's namespace init, killed so, takes its whole node with it.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LabProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** How it exited, once it has. */
  exit(): ProcessExit | undefined;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here (the lab never reads them itself). */
  logFile: string;
}

export interface ProcessSet {
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): LabProcess;
  /** SIGKILLs every running process and waits until all have exited. */
  killAll(): Promise<void>;
}

export function createProcessSet(): ProcessSet {
  const live = new Set<LabProcess>();
  const kill = (p: LabProcess): void => {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return {
    spawn(name, command, args, options) {
      const log = openSync(options.logFile, 'a');
      let child: ChildProcess;
      try {
        child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], {
          stdio: ['ignore', log, log],
          env: options.env,
        });
      } finally {
        closeSync(log);
      }
      if (child.pid === undefined) throw new Error(`cannot start ${name} (${command}): setpriv did not start`);
      let exit: ProcessExit | undefined;
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once('exit', (code, signal) => {
          exit = { code, signal };
          live.delete(handle);
          resolve(exit);
        });
        child.once('error', () => {
          exit = { code: null, signal: null };
          live.delete(handle);
          resolve(exit);
        });
      });
      const handle: LabProcess = { name, pid: child.pid, child, exited, exit: () => exit };
      live.add(handle);
      return handle;
    },
    async killAll() {
      const all = [...live];
      all.forEach(kill);
      await Promise.all(all.map((p) => p.exited));
    },
  };
}
