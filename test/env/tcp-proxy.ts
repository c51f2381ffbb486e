// A TCP proxy on loopback that a test can cut and restore: the network
// between one client and one etcd member. Two ways to cut:
//
// - `cut`: the proxy closes its listening port and every connection through
//   it, so the client's connections fail and new ones are refused, as for a
//   node whose links are down.
// - `blackhole`: nothing passes any more, in either direction, but nothing
//   fails either: connections stay open and new ones are accepted and held,
//   as when packets are dropped on the way.
//
// `restore` listens on the same port again, or ends the blackhole: the
// connections accepted during it go through, and the ones from before stay
// dead without a word, as behind a firewall or NAT that forgot them — only
// a client that opens new connections gets through.

import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: where the client connects. */
  readonly url: string;
  cut(): Promise<void>;
  blackhole(): void;
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

/** Starts a proxy to `targetUrl` (http://host:port) on a free loopback port. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  /** Client connections and their upstream, while traffic passes. */
  const pairs = new Set<[Socket, Socket]>();
  /** Client connections accepted while blackholed, not yet connected upstream. */
  const held = new Set<Socket>();
  let holding = false;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const pass = (client: Socket): void => {
    const upstream = connect(Number(target.port), target.hostname);
    track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
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
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async restore() {
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
