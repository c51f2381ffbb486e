// A separate process with a directory store of its own, driven over the IPC
// channel by store-directory tests: several of these race for locks and
// append to one file, as the daemons of one machine would.
//
// argv: <store root>   messages in: { id, op: 'lock' | 'append' | 'exit', ... }
// messages out: { ready: true } once loaded, then { id, result } or { id, error }.

import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const root = process.argv[2];
const { module } = await runnerImport(fileURLToPath(new URL('../../src/env/node/directory-store.ts', import.meta.url)), {
  configFile: false,
  logLevel: 'silent',
});
const store = await module.openDirectoryStore(root, { waitTimeoutMs: 20_000 });

async function handle(message) {
  switch (message.op) {
    case 'lock':
      return store.lock(message.name, message.holder);
    case 'append': {
      for (let i = 0; i < message.count; i++) {
        await store.update(message.path, (text) => `${text ?? ''}${message.tag} ${i}\n`);
      }
      return message.count;
    }
    case 'exit':
      process.disconnect();
      return undefined;
    default:
      throw new Error(`unknown op ${message.op}`);
  }
}

process.on('message', (message) => {
  handle(message).then(
    (result) => process.connected && process.send({ id: message.id, result }),
    (err) => process.connected && process.send({ id: message.id, error: String(err?.stack ?? err) }),
  );
});
process.send({ ready: true });
