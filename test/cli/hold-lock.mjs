// Holds the HA config lock of a plain directory store until its standard
// input closes, as an administrator's command in the middle of a change
// would; prints `held` once it has it. argv: <store root>.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { openDirectoryStore } = await import(join(root, 'dist/env/node/directory-store.js'));
const store = await openDirectoryStore(process.argv[2]);
await store.withDomainLock('ha', { node: 'node9', pid: process.pid, command: 'ha-manager add vm:999' }, async () => {
  process.stdout.write('held\n');
  await new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
});
