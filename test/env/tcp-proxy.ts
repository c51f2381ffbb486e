// A TCP proxy on loopback that a test can break in several ways: the
// network between one client and one etcd member.
//
// - `cut`: the proxy closes its listening port and every connection through
//   it, so the client's connections fail and new ones are refused, as for a
//   node whose links are down. `restore` listens on the same port again.
// - `blackhole`: nothing passes any more, in either direction, but nothing
//   fails either: connections stay open and new ones are accepted and held,
//   as when packets are dropped on the way. `restore` lets the held
//   connections through; the ones from before stay dead without a word, as
//   behind a firewall or NAT that forgot them, so only a client that opens
//   new connections gets through.
// - `loseRepliesAfter(text)`: once a request containing `text` has passed
//   (gRPC sends keys as plain bytes), that connection's replies are dropped:
//   the request reaches the member, and the client cannot know whether it
//   was applied. `restore` ends it for new connections.

import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: where the client connects. */
  readonly url: string;
  cut(): Promise<void>;
  blackhole(): void;
  loseRepliesAfter(text: string): void;
  /** How many connections have lost their replies so far (see loseRepliesAfter). */
  readonly connectionsLosingReplies: number;
  restore(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

interface Pair {
  client: Socket;
  upstream: Socket;
  repliesLost: boolean;
  /** The end of what the client sent last, so a needle split across two reads is still found. */
  tail: Buffer;
}

/** Starts a proxy to `targetUrl` (http://host:port) on a free loopback port. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const pairs = new Set<Pair>();
  /** Client connections accepted while blackholed, not yet connected upstream. */
  const held = new Set<Socket>();
  let holding = false;
  let needle: Buffer | undefined;
  let losing = 0;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const pass = (client: Socket): void => {
    const upstream = connect(Number(target.port), target.hostname);
    track(upstream);
    const pair: Pair = { client, upstream, repliesLost: false, tail: Buffer.alloc(0) };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (needle === undefined) return;
      const seen = Buffer.concat([pair.tail, chunk]);
      if (!pair.repliesLost && seen.includes(needle)) {
        pair.repliesLost = true;
        losing++;
      }
      pair.tail = seen.subarray(Math.max(0, seen.length - needle.length + 1));
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.repliesLost) client.write(chunk);
    });
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.resume();
  };
  const newServer = (): Server =>
    createServer((client) => {
      track(client);
      if (holding) {
        client.pause();
        held.add(client);
        client.on('close', () => held.delete(client));
      } else {
        pass(client);
      }
    });

  let server: Server | undefined = newServer();
  const port = await listen(server, 0);
  const stop = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    holding = false;
    needle = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    pairs.clear();
    held.clear();
    if (closing !== undefined) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };

  return {
    url: `http://127.0.0.1:${port}`,
    cut: stop,
    blackhole() {
      holding = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    loseRepliesAfter(text) {
      needle = Buffer.from(text);
    },
    get connectionsLosingReplies() {
      return losing;
    },
    async restore() {
      needle = undefined;
      if (holding) {
        holding = false;
        for (const client of held) pass(client);
        held.clear();
        return;
      }
      if (server !== undefined) return;
      server = newServer();
      await listen(server, port);
    },
    close: stop,
  };
}
