// GET /cluster/ha/events: server-sent events of status changes. While at
// least one client listens, the server reads the status through the service
// layer every `pollMs` and sends what changed (status-view.ts), so clients
// never poll. Events:
//
//   snapshot  {"seq": n, "view": {<id>: <item>, ...}}      first, and after an outage
//   change    {"seq": n, "changes": [{"id", "old"?, "new"?}, ...]}
//   problem   {"seq": n, "message": "..."}                  the status cannot be read now
//
// A comment line every KEEPALIVE_MS keeps proxies from closing an idle
// stream; it is also when the client's credentials are checked again.

import type { ServerResponse } from 'node:http';

import { COMMON_HEADERS } from './http-io.js';
import { diffViews, type StatusView } from './status-view.js';

export const KEEPALIVE_MS = 15_000;
/** Streams open at once, at most: each holds a connection. */
export const MAX_STREAMS = 64;

interface Stream {
  res: ServerResponse;
  stillAuthorized(): Promise<boolean>;
}

export interface EventHub {
  /** Starts a stream on `res` (headers, then a snapshot); false when too many are open. */
  attach(res: ServerResponse, stillAuthorized: () => Promise<boolean>): boolean;
  /** Streams open now. */
  readonly size: number;
  close(): void;
}

export interface EventHubOptions {
  /** The current view; rejects when the status cannot be read. */
  readView(): Promise<StatusView>;
  pollMs: number;
  keepaliveMs?: number;
  log(level: 'warn' | 'info', msg: string): void;
}

export function createEventHub(options: EventHubOptions): EventHub {
  const streams = new Set<Stream>();
  let seq = 0;
  let view: StatusView | undefined;
  let problem: string | undefined;
  let closed = false;

  const send = (stream: Stream, event: string, data: unknown): void => {
    stream.res.write(`event: ${event}\nid: ${seq}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (event: string, data: unknown): void => {
    for (const stream of streams) send(stream, event, data);
  };

  const poll = async (): Promise<void> => {
    let next: StatusView;
    try {
      next = await options.readView();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== problem) {
        problem = message;
        seq++;
        broadcast('problem', { seq, message });
        options.log('warn', `event stream: cannot read the status: ${message}`);
      }
      return;
    }
    if (view === undefined || problem !== undefined) {
      problem = undefined;
      view = next;
      seq++;
      broadcast('snapshot', { seq, view });
      return;
    }
    const changes = diffViews(view, next);
    view = next;
    if (changes.length === 0) return;
    seq++;
    broadcast('change', { seq, changes });
  };

  let wake: (() => void) | undefined;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let looping = false;
  /** Reads the status while anyone listens; from a fresh snapshot each time it starts. */
  const loop = async (): Promise<void> => {
    looping = true;
    try {
      while (!closed && streams.size > 0) {
        await poll();
        await pause(options.pollMs);
      }
    } finally {
      looping = false;
      view = undefined;
      problem = undefined;
    }
  };

  let keepalive: NodeJS.Timeout | undefined;
  const checkStreams = async (): Promise<void> => {
    for (const stream of [...streams]) {
      if (await stream.stillAuthorized().catch(() => false)) stream.res.write(': keepalive\n\n');
      else stream.res.end();
    }
  };

  const stop = (stream: Stream): void => {
    streams.delete(stream);
    if (streams.size === 0 && keepalive !== undefined) {
      clearInterval(keepalive);
      keepalive = undefined;
    }
  };

  return {
    attach(res, stillAuthorized) {
      if (closed || streams.size >= MAX_STREAMS) return false;
      const stream: Stream = { res, stillAuthorized };
      res.writeHead(200, {
        ...COMMON_HEADERS,
        'content-type': 'text/event-stream;charset=UTF-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      res.write('retry: 3000\n\n');
      streams.add(stream);
      res.on('close', () => stop(stream));
      if (view !== undefined && problem === undefined) send(stream, 'snapshot', { seq, view });
      else if (problem !== undefined) send(stream, 'problem', { seq, message: problem });
      if (!looping) void loop();
      keepalive ??= setInterval(() => void checkStreams(), options.keepaliveMs ?? KEEPALIVE_MS);
      return true;
    },
    get size() {
      return streams.size;
    },
    close() {
      closed = true;
      for (const stream of [...streams]) stream.res.end();
      streams.clear();
      wake?.();
      if (keepalive !== undefined) clearInterval(keepalive);
    },
  };
}
