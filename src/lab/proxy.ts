// A node's way to the etcd members: one TCP proxy port on 127.0.0.1 per
// member, which the lab can cut (the `partition` fault). A cut behaves like
// a network that drops every packet: nothing is forwarded either way, open
// connections stay open with their data held (TCP would retransmit it after
// the partition heals), and new connections are accepted but not carried
// further until then. Nothing is reset, so the daemons learn of the
// partition only through their own timeouts, as on a real network.

import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  /** The URLs the node's daemons use, one per member, in the members' order. */
  readonly urls: readonly string[];
  setCut(cut: boolean): void;
  close(): Promise<void>;
}

interface Target {
  host: string;
  port: number;
}

interface Pair {
  client: Socket;
  target: Target;
  /** Connected once the way is open (never during a cut). */
  upstream: Socket | undefined;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

/** `targets`: the members' `host:port`. */
export async function startFaultProxy(targets: readonly Target[]): Promise<FaultProxy> {
  let cut = false;
  const pairs = new Set<Pair>();
  const servers: Server[] = [];

  const flow = (pair: Pair): void => {
    if (pair.upstream === undefined) return;
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
  };
  const hold = (pair: Pair): void => {
    if (pair.upstream === undefined) return;
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    pair.client.pause();
    pair.upstream.pause();
  };
  const connectUpstream = (pair: Pair): void => {
    const upstream = createConnection(pair.target);
    pair.upstream = upstream;
    const end = (): void => {
      pair.client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    upstream.on('error', end);
    upstream.on('close', end);
    if (cut) hold(pair);
    else flow(pair);
  };

  const urls: string[] = [];
  for (const target of targets) {
    const server = createServer((client) => {
      const pair: Pair = { client, target, upstream: undefined };
      pairs.add(pair);
      client.on('error', () => pair.upstream?.destroy());
      client.on('close', () => {
        pair.upstream?.destroy();
        pairs.delete(pair);
      });
      // During a cut the connection waits unanswered, as a SYN into a dead network would.
      if (cut) client.pause();
      else connectUpstream(pair);
    });
    servers.push(server);
    urls.push(`http://127.0.0.1:${await listen(server)}`);
  }

  return {
    urls,
    setCut(value) {
      if (value === cut) return;
      cut = value;
      for (const pair of pairs) {
        if (cut) {
          if (pair.upstream === undefined) pair.client.pause();
          else hold(pair);
        } else if (pair.upstream === undefined) {
          connectUpstream(pair);
        } else {
          flow(pair);
        }
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
