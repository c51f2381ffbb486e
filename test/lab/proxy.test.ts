// The fault proxy behind the `partition` fault: it forwards both ways, and
// a cut holds everything like a dead network — nothing delivered, nothing
// reset, new connections left waiting — until the cut heals, when the held
// data arrives intact.

import { connect, createServer, type Server, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { startFaultProxy, type FaultProxy } from '../../src/lab/proxy.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** An upstream that echoes every byte back in upper case. */
async function echoServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => socket.write(chunk.toString().toUpperCase()));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

async function client(url: string): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let text = '';
  let closed = false;
  socket.on('data', (chunk) => (text += chunk.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  cleanup.push(() => {
    socket.destroy();
  });
  return { socket, received: () => text, closed: () => closed };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 3 s: ${what}`);
    await sleep(5);
  }
}

describe('fault proxy', () => {
  it('forwards, holds everything during a cut without resetting anything, and delivers it after', async () => {
    const proxy: FaultProxy = await startFaultProxy([{ host: '127.0.0.1', port: await echoServer() }, { host: '127.0.0.1', port: await echoServer() }]);
    cleanup.push(() => proxy.close());
    expect(proxy.urls).toHaveLength(2);

    const open = await client(proxy.urls[1]);
    open.socket.write('hello');
    await until('the echo', () => open.received() === 'HELLO');

    proxy.setCut(true);
    open.socket.write(' during');
    const waiting = await client(proxy.urls[0]); // accepted, but carried nowhere yet
    waiting.socket.write('queued');
    await sleep(200);
    expect(open.received()).toBe('HELLO');
    expect(waiting.received()).toBe('');
    expect(open.closed() || waiting.closed(), 'a cut resets nothing').toBe(false);

    proxy.setCut(false);
    await until('held data delivered', () => open.received() === 'HELLO DURING' && waiting.received() === 'QUEUED');
  });
});
