// The etcd store's way to its cluster: one client per member endpoint, and
// calls that move to another member when the one they are on fails, within
// the call's time budget.
//
// The etcd3 package picks a random member for every request and, by default,
// shuts a member out for five seconds after three failures; a request that
// hangs on a member (a dead leader's followers wait for it until etcd's own
// request timeout, about 7 s) uses up the whole budget there. So the store
// drives the members itself:
//
// - A call starts on the member that last answered, with a per-attempt time
//   limit (a fraction of the budget) while another member could take over;
//   on a transient failure it tries the next member, skipping for a moment
//   those that just failed, until the budget is spent.
// - When no member can be reached at all (every one refused the connection
//   in this call, as when this node is cut off), the call ends at once, so a
//   partitioned daemon learns it has no lock and no quorum without delay.
// - Every gRPC request carries a deadline, the call's budget. When it
//   passes, the etcd3 package drops that member's connections and opens new
//   ones on the next request (as it does on any transient error): a
//   connection to a vanished peer can hang rather than fail, and a new one
//   gets through as soon as the network does. (An attempt cut short keeps
//   its requests running until then, unanswered.)
// - A failure after the request may have reached etcd (a dropped connection,
//   a timeout, a leader change) may or may not have been applied. The next
//   attempt is told so (`mayHaveApplied`), and each store call decides what
//   that means for it: re-taking or renewing a lock, writing a whole file and
//   the fence checks are safe to repeat; update, rename and remove write a
//   marker in the same transaction and look for it (etcd-store.ts).
// - An attempt cut short, or still running when its call has ended, is no
//   longer current (`EtcdAttempt.current`): whatever it learns late must not
//   change the store's own state (held locks and their leases), which the
//   call that moved on, or a later call, has set.
// - A store operation made of several calls (a rename or an update retried
//   against concurrent writers) passes one deadline to all of them, so the
//   whole operation ends within it.

import { Etcd3, isRecoverableError, type Namespace } from 'etcd3';
import { noop } from 'cockatiel';
import { LockLostError } from './store.js';

export interface EtcdEndpointsOptions {
  /** Client URLs, e.g. `http://127.0.0.1:2379`. */
  endpoints: readonly string[];
  /** Key prefix of the store's namespace. */
  prefix: string;
  /** Longest a whole call may take, all attempts included. */
  timeoutMs: number;
  /** Longest one attempt on one member may take. */
  attemptTimeoutMs: number;
}

/** What one attempt of a call works with. */
export interface EtcdAttempt {
  /** The store's namespace on this attempt's member. */
  kv: Namespace;
  /** The client of this attempt's member (leases are cluster-wide, so any member's will do). */
  client: Etcd3;
  /** True when an earlier attempt of this call failed after its request may have reached etcd. */
  mayHaveApplied: boolean;
  /**
   * Whether this attempt's answer can still be the call's: false once it was
   * cut short (another attempt took over) or the call has ended. An attempt
   * cut short keeps running unanswered; what it learns then is stale, and it
   * must not change what the store remembers (held locks, leases).
   */
  current(): boolean;
}

export interface CallOptions {
  /** An earlier end (Date.now() milliseconds) than the call's own budget: one deadline for a store operation made of several calls. */
  deadline?: number;
}

export interface EtcdEndpoints {
  /** `etcd <url>,<url>...`, for messages. */
  readonly where: string;
  /** Runs `body` on a live member, moving to others on failure (see the top of this file). */
  call<T>(what: string, body: (attempt: EtcdAttempt) => Promise<T>, options?: CallOptions): Promise<T>;
  close(): void;
}

/** How a failed attempt failed. */
type Failure =
  /** The member could not be reached: the request never left. */
  | 'unreachable'
  /** The member answered that it did nothing (no leader, overloaded): try elsewhere. */
  | 'refused'
  /** The request may or may not have been applied: try elsewhere, carefully. */
  | 'ambiguous'
  /** Not a fault of the member (a bad request, a lock lost): no retry. */
  | 'final';

class AttemptTimeout extends Error {}

function classify(err: unknown): Failure {
  if (err instanceof LockLostError || !(err instanceof Error)) return 'final';
  if (err instanceof AttemptTimeout) return 'ambiguous';
  if (/No connection established|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH/.test(err.message)) return 'unreachable';
  if (/etcdserver: (no leader|too many requests|not capable)/.test(err.message)) return 'refused';
  return isRecoverableError(err) ? 'ambiguous' : 'final';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Skip a member this long after it failed, as long as another one is left to try. */
const RESTING_MS = 1_000;
/** Pause before going round the members again in one call. */
const ROUND_PAUSE_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Member {
  url: string;
  client: Etcd3;
  kv: Namespace;
  /** Real time before which the member is passed over when another is available. */
  restingUntil: number;
}

export function createEtcdEndpoints(options: EtcdEndpointsOptions): EtcdEndpoints {
  const { prefix, timeoutMs, attemptTimeoutMs } = options;
  const where = `etcd ${options.endpoints.join(',')}`;

  const members: Member[] = options.endpoints.map((url) => {
    const client = new Etcd3({
      hosts: [url],
      // Retries and member choice are done here, not by the package.
      faultHandling: { host: () => noop, global: noop },
      // Each gRPC call carries a deadline, so a stalled member cannot hold a request forever.
      defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
      // Connections of its own: gRPC would share one per address between
      // all clients of a process, so two stores there (tests, embedding)
      // would share a stuck connection too.
      grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
    });
    return { url, client, kv: client.namespace(prefix), restingUntil: 0 };
  });
  let preferred = 0;
  let closed = false;

  /** Order of this call's attempts: the preferred member first, then the others in turn; rested members before resting ones. */
  const order = (): Member[] => {
    const now = Date.now();
    const ring = members.map((_, i) => members[(preferred + i) % members.length]);
    return [...ring.filter((m) => m.restingUntil <= now), ...ring.filter((m) => m.restingUntil > now)];
  };

  return {
    where,

    async call(what, body, callOptions) {
      if (closed) throw new Error(`${where}: ${what} failed - the store is closed`);
      const budget = Date.now() + timeoutMs;
      const deadline = Math.min(budget, callOptions?.deadline ?? budget);
      const budgetMs = Math.max(0, deadline - Date.now());
      if (budgetMs <= 0) throw new Error(`${where}: ${what} failed - no time left of the operation's ${timeoutMs} ms`);
      /** The one attempt whose answer can still be the call's; none once the call has ended. */
      let live: object | undefined;
      let mayHaveApplied = false;
      const unreachable = new Set<Member>();
      const errors: string[] = [];
      for (;;) {
        for (const member of order()) {
          const left = deadline - Date.now();
          if (left <= 0 || closed) break;
          // Cutting an attempt short only helps when another member can take
          // over; on the only one left, a slow answer beats none.
          const now = Date.now();
          const alternative = members.some((m) => m !== member && m.restingUntil <= now);
          const limit = alternative ? Math.min(left, attemptTimeoutMs) : left;
          let timer: NodeJS.Timeout | undefined;
          const token = {};
          live = token;
          let attempt: ReturnType<typeof body>;
          try {
            attempt = body({ kv: member.kv, client: member.client, mayHaveApplied, current: () => live === token && !closed });
          } catch (err) {
            attempt = Promise.reject(err);
          }
          attempt.catch(() => undefined); // a late failure after the timeout goes nowhere
          try {
            const result = await Promise.race([
              attempt,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  live = undefined;
                  reject(new AttemptTimeout(`no answer within ${limit} ms`));
                }, limit);
              }),
            ]);
            live = undefined;
            preferred = members.indexOf(member);
            member.restingUntil = 0;
            unreachable.delete(member);
            return result;
          } catch (err) {
            // Whatever this attempt still does, its answer is no longer wanted.
            live = undefined;
            const failure = classify(err);
            if (failure === 'final') {
              if (err instanceof LockLostError) throw err;
              throw new Error(`${where}: ${what} failed - ${message(err)}`);
            }
            errors.push(`${member.url}: ${message(err)}`);
            member.restingUntil = Date.now() + RESTING_MS;
            if (failure === 'ambiguous') mayHaveApplied = true;
            if (failure === 'unreachable') unreachable.add(member);
            else unreachable.delete(member);
            if (unreachable.size === members.length) {
              throw new Error(`${where}: ${what} failed - no member reachable (${errors.slice(-members.length).join('; ')})`);
            }
          } finally {
            clearTimeout(timer);
          }
        }
        if (Date.now() >= deadline || closed) break;
        await sleep(Math.min(ROUND_PAUSE_MS, Math.max(0, deadline - Date.now())));
      }
      const last = errors.length === 0 ? 'no attempt' : errors.slice(-members.length).join('; ');
      throw new Error(`${where}: ${what} failed - ${closed ? 'the store is closed' : `no answer within ${budgetMs} ms (${last})`}`);
    },

    close() {
      closed = true;
      for (const member of members) member.client.close();
    },
  };
}
