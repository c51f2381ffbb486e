// Opening a store from its spec string (openStore).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DirectoryStore } from '../../src/env/node/directory-store.js';
import type { EtcdStore } from '../../src/env/node/etcd-store.js';
import { openStore, parseEtcdSpec } from '../../src/env/node/open-store.js';

const root = mkdtempSync(join(tmpdir(), 'ha-store-open-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('openStore', () => {
  it('opens dir:<path> and a bare path as a directory store', async () => {
    const viaScheme = (await openStore(`dir:${root}`)) as DirectoryStore;
    expect(viaScheme.mode).toBe('plain');
    expect(viaScheme.description).toBe(`directory ${viaScheme.root}`);
    const bare = (await openStore(root)) as DirectoryStore;
    expect(bare.root).toBe(viaScheme.root);
  });

  it('opens etcd:<url>,<url>?prefix=/p as an etcd store, http:// added to bare host:port', async () => {
    const store = (await openStore('etcd:http://127.0.0.1:1,127.0.0.2:2?prefix=/cluster-a')) as EtcdStore;
    expect(store.endpoints).toEqual(['http://127.0.0.1:1', 'http://127.0.0.2:2']);
    expect(store.prefix).toBe('/cluster-a/');
    expect(store.description).toBe('etcd http://127.0.0.1:1,http://127.0.0.2:2 (prefix /cluster-a/)');
    await store.close();
    expect(parseEtcdSpec('http://h:2379')).toEqual({ endpoints: ['http://h:2379'] });
  });

  it('reads HA_MANAGER_STORE when no spec is passed', async () => {
    const store = (await openStore(undefined, { env: { HA_MANAGER_STORE: `dir:${root}` } })) as DirectoryStore;
    expect(store.mode).toBe('plain');
  });

  it('says what to pass when there is no spec and no pmxcfs at the default root', async () => {
    await expect(openStore(undefined, { env: {}, defaultRoot: root })).rejects.toThrow(
      `no cluster store given and ${root} is not a mounted Proxmox cluster file system: pass a store (expected dir:<path>, a directory path, or etcd:<url>[,<url>...][?prefix=/path]) or set HA_MANAGER_STORE`,
    );
  });

  it('refuses malformed specs with the accepted forms', async () => {
    await expect(openStore('etcd:')).rejects.toThrow(/no endpoint/);
    await expect(openStore('etcd:http://h:1?ttl=3')).rejects.toThrow(/unknown parameter 'ttl'/);
    await expect(openStore('etcd:http://h:1?prefix=relative')).rejects.toThrow(/must start with '\/'/);
    await expect(openStore('etcd:ftp://h:1')).rejects.toThrow(/invalid etcd endpoint 'ftp:\/\/h:1'/);
    await expect(openStore('consul:http://h:1')).rejects.toThrow(/unknown kind 'consul:'.*dir:consul:http/);
    await expect(openStore('dir:')).rejects.toThrow(/no directory after dir:/);
    await expect(openStore(join(root, 'missing'))).rejects.toThrow(/does not exist/);
  });
});
