// A separate process with a cluster store of its own, driven over the IPC
// channel by the store tests: several of these race for locks and append to
// one file, as the daemons of one machine would; or one plays a master that
// is paused and deposed.
//
// argv: <store spec> [<store options as JSON>]
// messages in: { id, op: 'lock' | 'append' | 'write' | 'exit', ... }
// messages out: { ready: true } once loaded, then { id, result } or { id, error }.

import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const spec = process.argv[2];
const options = JSON.parse(process.argv[3] ?? '{"waitTimeoutMs":20000}');
// A directory spec loads the directory store alone: the etcd client is heavy
// to load, and several of these start at once. The etcd store is loaded
// directly too: open-store imports it lazily, which the module runner,
// closed once loaded, cannot do later.
const etcd = spec.startsWith('etcd:');
const load = async (name) =>
  (await runnerImport(fileURLToPath(new URL(`../../src/env/node/${name}.ts`, import.meta.url)), { configFile: false, logLevel: 'silent' }))
    .module;
let store;
if (etcd) {
  const { parseEtcdSpec } = await load('open-store');
  const { createEtcdStore } = await load('etcd-store');
  store = createEtcdStore({ ...parseEtcdSpec(spec.slice('etcd:'.length)), ...options });
} else {
  store = await (await load('directory-store')).openDirectoryStore(spec, options);
}

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
    case 'write':
      return store.write(message.path, message.data, message.fence === undefined ? undefined : { fence: message.fence });
    case 'exit':
      await store.close();
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
