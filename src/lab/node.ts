// One emulated node. A boot is a fresh PID namespace (`unshare --pid --fork
// --mount-proc`) whose init is a tiny reaper; the node's watchdog-mux (on a
// simulated device), ha-crm and ha-lrm are started in it through nsenter,
// exactly as shipped in bin/ and target/, and every service their scripts
// start lives in it too, however it daemonizes.
//
// A reset kills the namespace's init: the kernel then kills every process
// of the namespace at once — the emulation of a node losing power. It
// happens when a fault powers the node off, or when its simulated watchdog
// runs out (watchdog-mux exits with WATCHDOG_EXPIRED_STATUS then, see
// --fake-device-expired). The cluster (cluster.ts) boots it again after a
// delay its seed chooses.
//
// Like systemd's Restart=on-failure, a daemon that crashes (a non-zero exit
// or a signal) is started again in the same boot; watchdog-mux is not, as in
// its unit: when it dies with clients, the device it leaves running resets
// the node one device timeout later.

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { NodeName } from '../core/types.js';
import type { ResetCause } from './checker.js';
import { firstChild, pidNamespace } from './host.js';
import type { LabProcess, ProcessExit, ProcessSet } from './processes.js';

/** watchdog-mux's exit status when its simulated device runs out. */
export const WATCHDOG_EXPIRED_STATUS = 86;

/** Its namespace init: reaps whatever is left to it, ignores the signals a shell or a user may send. */
const REAPER = '$0 = "ha-lab-init"; $SIG{$_} = "IGNORE" for qw(TERM INT HUP); for (;;) { sleep 1 if wait() == -1 }';

export type NodePhase = 'up' | 'down';
export type DaemonName = 'mux' | 'crm' | 'lrm';

export type NodeEvent =
  | { event: 'boot'; node: NodeName; boot: number }
  | { event: 'reset'; node: NodeName; boot: number; cause: ResetCause }
  | { event: 'daemon-exit'; node: NodeName; boot: number; daemon: DaemonName; exit: string; restart: boolean };

export interface NodeContext {
  /** Where sockets and logs of this node go. */
  dir: string;
  processes: ProcessSet;
  env: NodeJS.ProcessEnv;
  /** watchdog-mux's binary and timing arguments; undefined: the node runs without a watchdog (never reset by one). */
  mux: { binary: string; args: readonly string[] } | undefined;
  /** The ha-crm/ha-lrm command (node, bin script) without the per-node arguments. */
  daemonCommand(daemon: 'crm' | 'lrm'): { command: string; args: string[] };
  /** Per-node daemon arguments: --node, --store, --watchdog-socket, --scripts, time scale. */
  daemonArgs(node: NodeName, muxSocket: string): string[];
  /** Real milliseconds from a mux death to the reset its running device causes. */
  deviceTimeoutMs: number;
  event(event: NodeEvent): void;
  /** Called once per reset, after the node's processes are gone (the cluster schedules the reboot). */
  resetDone(node: LabNode, cause: ResetCause): void;
}

interface Daemon {
  name: DaemonName;
  boot: number;
  /** nsenter, the daemon's parent outside the namespace. */
  proc: LabProcess;
  /** The daemon itself (host pid); undefined if it died before it was seen. */
  pid: number | undefined;
  /** The lab stops it on purpose (a restart-lrm fault): its exit is no crash. */
  expected: boolean;
  /** Crash restarts so far, for the back-off. */
  restarts: number;
}

export interface LabNode {
  readonly name: NodeName;
  readonly phase: NodePhase;
  readonly boot: number;
  /** This boot's PID namespace (host.ts pidNamespace form). */
  readonly namespace: string | undefined;
  /** Starts a new boot; rejects when it cannot (the node is down again then). */
  bootUp(): Promise<void>;
  reset(cause: ResetCause): Promise<void>;
  /** SIGSTOP ha-crm and ha-lrm (and only those); returns false when the node is down. */
  pause(): boolean;
  /** SIGCONT what pause() stopped, if it is still this boot. */
  resume(): void;
  /** SIGTERM ha-lrm, wait for it (SIGKILL after `timeoutMs`), start it again. */
  restartLrm(timeoutMs: number): Promise<boolean>;
  /** SIGKILL ha-crm (a crash; "systemd" restarts it). */
  killCrm(): boolean;
  /** Ends the node for good, without a reset event (the run is over). */
  powerOff(): Promise<void>;
}

function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createNode(name: NodeName, ctx: NodeContext): LabNode {
  let phase: NodePhase = 'down';
  let boot = 0;
  let init: LabProcess | undefined;
  let initPid: number | undefined;
  let namespace: string | undefined;
  let paused: { boot: number; pids: number[] } | undefined;
  const daemons = new Map<DaemonName, Daemon>();
  const muxSocket = join(ctx.dir, 'watchdog-mux.sock');
  const log = (what: string): string => join(ctx.dir, `boot${boot}.${what}.log`);

  const startDaemon = async (daemonName: DaemonName, restarts: number): Promise<void> => {
    if (phase !== 'up' || initPid === undefined) return;
    const thisBoot = boot;
    let command: string;
    let args: string[];
    if (daemonName === 'mux') {
      if (ctx.mux === undefined) return;
      command = ctx.mux.binary;
      args = ['--socket', muxSocket, '--active-marker', 'none', '--no-journal-sync', '--fake-device',
        '--fake-device-expired', `exit:${WATCHDOG_EXPIRED_STATUS}`, ...ctx.mux.args];
    } else {
      ({ command, args } = ctx.daemonCommand(daemonName));
      args = [...args, ...ctx.daemonArgs(name, muxSocket)];
    }
    const proc = ctx.processes.spawn(`${name}.boot${thisBoot}.${daemonName}`, 'nsenter',
      ['--target', String(initPid), '--pid', '--mount', '--', command, ...args],
      { env: ctx.env, logFile: log(daemonName) });
    const daemon: Daemon = { name: daemonName, boot: thisBoot, proc, pid: undefined, expected: false, restarts };
    daemons.set(daemonName, daemon);
    void proc.exited.then((exit) => onExit(daemon, exit));
    daemon.pid = await firstChild(proc.pid);
  };

  const onExit = (daemon: Daemon, exit: ProcessExit): void => {
    if (daemon.expected || phase !== 'up' || daemon.boot !== boot) return;
    if (daemon.name === 'mux') {
      const expired = exit.code === WATCHDOG_EXPIRED_STATUS;
      ctx.event({ event: 'daemon-exit', node: name, boot, daemon: 'mux', exit: expired ? 'watchdog expired' : describeExit(exit), restart: false });
      if (expired) {
        void reset('watchdog');
      } else {
        // The device it held keeps counting: the node resets when it runs out.
        const thisBoot = boot;
        setTimeout(() => {
          if (phase === 'up' && boot === thisBoot) void reset('mux-died');
        }, ctx.deviceTimeoutMs).unref();
      }
      return;
    }
    const crashed = exit.signal !== null || exit.code !== 0;
    ctx.event({ event: 'daemon-exit', node: name, boot, daemon: daemon.name, exit: describeExit(exit), restart: crashed });
    if (!crashed) return;
    // systemd's default RestartSec is 100 ms; back off on a crash loop.
    const delay = Math.min(5000, 100 * 2 ** daemon.restarts);
    setTimeout(() => {
      if (phase === 'up' && boot === daemon.boot && daemons.get(daemon.name) === daemon) void startDaemon(daemon.name, daemon.restarts + 1);
    }, delay).unref();
  };

  const signal = (pid: number | undefined, sig: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  };

  const endNamespace = async (): Promise<void> => {
    const procs = [init, ...[...daemons.values()].map((d) => d.proc)].filter((p): p is LabProcess => p !== undefined);
    signal(initPid, 'SIGKILL');
    // nsenter ends when its child does, unless it stopped itself with a
    // paused daemon (see pause()): it is only a shim outside the namespace.
    for (const d of daemons.values()) signal(d.proc.pid, 'SIGKILL');
    const all = Promise.all(procs.map((p) => p.exited));
    const late = await Promise.race([all.then(() => false), sleep(5000).then(() => true)]);
    if (late) {
      for (const p of procs) if (p.exit() === undefined) signal(p.pid, 'SIGKILL');
      await all;
    }
    daemons.clear();
    init = undefined;
    initPid = undefined;
    paused = undefined;
  };

  const reset = async (cause: ResetCause): Promise<void> => {
    if (phase !== 'up') return;
    phase = 'down';
    ctx.event({ event: 'reset', node: name, boot, cause });
    await endNamespace();
    ctx.resetDone(node, cause);
  };

  const bootUp = async (): Promise<void> => {
    if (phase === 'up') return;
    boot++;
    phase = 'up';
    const thisBoot = boot;
    try {
      init = ctx.processes.spawn(`${name}.boot${boot}.init`, 'unshare',
        ['--pid', '--fork', '--kill-child', '--mount-proc', 'perl', '-e', REAPER],
        { env: ctx.env, logFile: log('init') });
      initPid = await firstChild(init.pid);
      namespace = initPid === undefined ? undefined : pidNamespace(initPid);
      if (initPid === undefined || namespace === undefined) throw new Error('the namespace init did not start (see its log)');
      rmSync(muxSocket, { force: true });
      await startDaemon('mux', 0);
      const deadline = Date.now() + 10_000;
      while (ctx.mux !== undefined && !existsSync(muxSocket)) {
        if (phase !== 'up' || boot !== thisBoot) return;
        if (daemons.get('mux')?.proc.exit() !== undefined || Date.now() > deadline) {
          throw new Error(`watchdog-mux did not start (see ${log('mux')})`);
        }
        await sleep(10);
      }
      await Promise.all([startDaemon('crm', 0), startDaemon('lrm', 0)]);
      ctx.event({ event: 'boot', node: name, boot });
    } catch (err) {
      // A node that cannot boot is the lab's failure, not the daemons': no reset, no reboot.
      if (phase === 'up' && boot === thisBoot) {
        phase = 'down';
        await endNamespace();
      }
      throw new Error(`${name} boot ${thisBoot} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const node: LabNode = {
    name,
    get phase() {
      return phase;
    },
    get boot() {
      return boot;
    },
    get namespace() {
      return namespace;
    },
    bootUp,
    reset,
    pause() {
      if (phase !== 'up') return false;
      const pids: number[] = [];
      for (const d of ['crm', 'lrm'] as const) {
        const daemon = daemons.get(d);
        if (daemon?.pid === undefined) continue;
        signal(daemon.pid, 'SIGSTOP');
        // nsenter stops itself when its child stops, and continues it again only when continued itself.
        pids.push(daemon.pid, daemon.proc.pid);
      }
      paused = { boot, pids };
      return true;
    },
    resume() {
      if (paused === undefined || paused.boot !== boot || phase !== 'up') return;
      for (const pid of paused.pids) signal(pid, 'SIGCONT');
      paused = undefined;
    },
    async restartLrm(timeoutMs) {
      const daemon = daemons.get('lrm');
      if (phase !== 'up' || daemon === undefined) return false;
      daemon.expected = true;
      signal(daemon.pid, 'SIGTERM');
      const stopped = await Promise.race([daemon.proc.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!stopped) {
        signal(daemon.pid, 'SIGKILL');
        await daemon.proc.exited;
      }
      if (phase !== 'up' || boot !== daemon.boot) return false;
      await startDaemon('lrm', 0);
      return true;
    },
    killCrm() {
      const daemon = daemons.get('crm');
      if (phase !== 'up' || daemon?.pid === undefined) return false;
      signal(daemon.pid, 'SIGKILL');
      return true;
    },
    async powerOff() {
      phase = 'down';
      await endNamespace();
    },
  };
  return node;
}
