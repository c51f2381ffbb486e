// The store tests' side of store-child.mjs: a child process with a cluster
// store of its own, asked over the IPC channel to lock, append or write.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface StoreChild {
  process: ChildProcess;
  /** Resolves once the child has loaded its store; rejects if it exits first. */
  ready: Promise<void>;
  /** One request (`{ op, ... }`); resolves to its result, rejects with its error. */
  ask(message: Record<string, unknown>): Promise<unknown>;
}

/** A store-child.mjs on the store `spec`, with store `options` (JSON) when given. */
export function startStoreChild(spec: string, options?: Record<string, unknown>): StoreChild {
  const child = fork(fileURLToPath(new URL('./store-child.mjs', import.meta.url)), options === undefined ? [spec] : [spec, JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`store child exited with ${code} before it was ready`)));
  });
  // an exit after a failed test must not surface as an unhandled rejection
  ready.catch(() => undefined);
  const ask = (message: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const onMessage = (reply: { id?: number; result?: unknown; error?: string }) => {
        if (reply.id !== id) return;
        child.off('message', onMessage);
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply.result);
      };
      child.on('message', onMessage);
      child.send({ id, ...message });
    });
  return { process: child, ready, ask };
}
