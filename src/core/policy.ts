// Which behaviour the core follows where the reference's design is unsafe or
// gets stuck. Bound once per entry point through HaEnv.policy:
//
// - `reference`: exactly the reference's (pve-ha-manager 5.x) behaviour. The
//   simulator binds it by default, so it reproduces the reference's logs
//   byte for byte, on reference scenarios nobody here has seen as well.
// - `safe`: the reference's behaviour except where the online checkers found
//   it unsafe or stuck (docs/RELIABILITY.md, "Where the safe policy differs
//   from the reference"). The real daemons bind it; the simulator runs it on
//   request (`ha-simulator --policy safe`, a scenario's `policy` file), so
//   each fix is proven in the deterministic simulation.
//
// Each difference is one place in the core that reads `env.policy`, with its
// reasoning beside it:
//
// - disarm: a node whose LRM gave up its agent lock and watchdog on purpose
//   while guests may run (disarm, LRM restart) is not fenced by taking its
//   free lock until that LRM holds its lock again (manager/unprotected.ts);
//   an LRM releases for a disarm only once its status says so (lrm.ts).
// - inactive: an LRM keeps its lock and watchdog while the guest of any
//   service on its node may run, whatever the service's state (lrm.ts).
// - stuck-restart: a restarting LRM carries out migrations and relocations
//   ordered after its restart request (lrm.ts).
// - wedged-recovery: one service's failure does not end the manager round;
//   a service to recover whose config left the fenced node is not "recovered"
//   from a node nobody fenced (manager/round.ts, manager/services.ts).
// - manual-move: re-arming does not move a service waiting in fence or
//   recovery onto the node an admin moved its config to (manager/commands.ts).
// - failover timing: a new master counts a node's fence delay from the
//   node's last heartbeat (node-status.ts); a master whose fence waits for
//   a lock, and an LRM given new work, do not wait for their next round
//   (round-wake.ts). Timing only: fencing still needs the agent lock.
// - fence-handover: an LRM holding its lock that is asked to be fenced hard
//   stops its services and, once every stop is confirmed, releases its lock
//   and closes its watchdog, so the master fences at once and no reset
//   comes; otherwise it waits for the reset as the reference does (lrm.ts).

export const POLICIES = ['reference', 'safe'] as const;
export type Policy = (typeof POLICIES)[number];

export function isPolicy(value: string): value is Policy {
  return (POLICIES as readonly string[]).includes(value);
}
