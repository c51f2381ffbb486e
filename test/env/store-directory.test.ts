// The directory store in plain mode (no pmxcfs underneath): the shared
// contract, then what the store itself must guarantee — atomic writes,
// lease locks that never have two holders (also across processes racing for
// an expired lock), updates serialised across processes, guards that a dead
// process does not block forever, heartbeat membership.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDirectoryStore, type DirectoryStore, type DirectoryStoreOptions } from '../../src/env/node/directory-store.js';
import { DEFAULT_PROFILE } from '../../src/env/timing.js';
import { startStoreChild, type StoreChild } from './store-child-client.js';
import { storeContract } from './store-contract.js';

const LIFETIME_MS = DEFAULT_PROFILE.lockLifetimeMs;
const DEFAULT_HEARTBEAT_TIMEOUT_MS = DEFAULT_PROFILE.heartbeatTimeoutMs;

function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'ha-store-dir-'));
}

/** A settable clock, in milliseconds. */
function manualClock(start = Date.parse('2025-01-01T00:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

storeContract('directory (plain)', { heartbeats: true, quorumFromHeartbeats: true }, async () => {
  const root = tempRoot();
  const clock = manualClock();
  const store = await openDirectoryStore(root, { clock: clock.now });
  const peer = await openDirectoryStore(root, { clock: clock.now });
  return {
    store,
    peer,
    ageLocks: async () => clock.advance(LIFETIME_MS * 0.75),
    expireLocks: async () => clock.advance(LIFETIME_MS + 1_000),
    staleHeartbeats: async () => clock.advance(DEFAULT_HEARTBEAT_TIMEOUT_MS + 1),
    async cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
});

describe.concurrent('directory store, plain mode', () => {
  const withStore = async (
    body: (store: DirectoryStore, root: string, clock: ReturnType<typeof manualClock>) => Promise<void>,
    options: DirectoryStoreOptions = {},
  ): Promise<void> => {
    const root = tempRoot();
    const clock = manualClock();
    try {
      await body(await openDirectoryStore(root, { clock: clock.now, ...options }), root, clock);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it("changes the grant (fencing token) on every new grant: a stalled process is refused once a same-named one took the lock anew", async () => {
    await withStore(async (store, root, clock) => {
      const A = { fence: { lock: 'ha_manager_lock', holder: 'a' } };
      const restarted = await openDirectoryStore(root, { clock: clock.now });
      expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('granted');
      const grant = async (): Promise<string> => fs.readFile(join(root, 'priv/lock/ha_manager_lock/lease'), 'utf8');
      const first = await grant();
      expect(first).toMatch(/^grant: [0-9a-f]{16}\n/);
      expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('renewed');
      expect(await grant()).toBe(first);
      await store.write('ha/manager_status', 'old', A);
      // Adopted by a new process of the same name while the lease runs: a new grant too.
      expect(await restarted.acquireLock('ha_manager_lock', 'a')).toBe('granted');
      expect(await grant()).not.toBe(first);
      await restarted.write('ha/manager_status', 'new', A);
      await expect(store.write('ha/manager_status', 'stale', A)).rejects.toThrow(/^lock lost: 'a' no longer holds 'ha_manager_lock' \(taken again since/);
      // The stalled process neither renews nor releases the new grant.
      expect(await store.unlock('ha_manager_lock', 'a')).toBe(false);
      expect(await store.read('ha/manager_status')).toBe('new');
      expect(await restarted.unlock('ha_manager_lock', 'a')).toBe(true);
    });
  });

  it("judges a lease by its holder's recorded lifetime when that is longer: a node on a shorter profile cannot take a lock early", async () => {
    await withStore(async (holderStore, root, clock) => {
      const fastStore = await openDirectoryStore(root, { clock: clock.now, lockLifetimeMs: 16_000, profileName: 'fast' });
      expect(await holderStore.acquireLock('ha_manager_lock', 'a')).toBe('granted');
      expect(await fs.readFile(join(root, 'priv/lock/ha_manager_lock/lease'), 'utf8')).toMatch(/\nlifetime-ms: 120000\nprofile: default\n$/);
      clock.advance(20_000); // past the fast lifetime, well within the holder's
      expect(await fastStore.acquireLock('ha_manager_lock', 'b')).toBe('refused');
      clock.advance(LIFETIME_MS - 20_000 + 1);
      expect(await fastStore.acquireLock('ha_manager_lock', 'b')).toBe('granted');
      // The other way round, a node on the longer lifetime waits for its own.
      clock.advance(17_000);
      expect(await holderStore.acquireLock('ha_manager_lock', 'a')).toBe('refused');
      clock.advance(LIFETIME_MS);
      expect(await holderStore.acquireLock('ha_manager_lock', 'a')).toBe('granted');
    }, { profileName: 'default' });
  });

  it('announces the profile its daemons run with the first heartbeat', async () => {
    await withStore(async (store) => {
      await store.heartbeat('n1');
      expect(await store.read('nodes/n1/ha-timing')).toBe('profile: fast\nlock-lifetime-ms: 16000\n');
    }, { profileName: 'fast', lockLifetimeMs: 16_000 });
  });

  it('opens in plain mode, refusing a missing root or a file', async () => {
    await withStore(async (store, root) => {
      expect(store.mode).toBe('plain');
      expect(store.description).toBe(`directory ${store.root}`);
      await expect(openDirectoryStore(join(root, 'missing'))).rejects.toThrow(/does not exist: create it first/);
      await fs.writeFile(join(root, 'file'), '');
      await expect(openDirectoryStore(join(root, 'file'))).rejects.toThrow(/is not a directory/);
    });
  });

  it('refuses absolute paths and the reserved .ha-store, and hides .ha-store from the root listing', async () => {
    await withStore(async (store) => {
      await expect(store.write('/etc/passwd', 'x')).rejects.toThrow(/absolute paths are not allowed/);
      await expect(store.read('.ha-store/guards')).rejects.toThrow(/reserved/);
      await store.update('ha/crm_commands', () => 'x\n'); // leaves a guard directory behind
      expect(existsSync(join(store.root, '.ha-store'))).toBe(true);
      expect(await store.list('')).toEqual(['ha']);
    });
  });

  it('writes atomically: a reader never sees a torn file, and no temporary file stays behind', async () => {
    await withStore(async (store) => {
      const big = (c: string): string => c.repeat(1 << 20);
      await store.write('ha/manager_status', big('a'));
      let writing = true;
      const torn: string[] = [];
      const reader = (async () => {
        while (writing) {
          const text = (await store.read('ha/manager_status')) ?? '';
          if (text !== big('a') && text !== big('b')) torn.push(`${text.length} bytes, starting ${text.slice(0, 1)}`);
        }
      })();
      for (let i = 0; i < 20; i++) await store.write('ha/manager_status', big(i % 2 === 0 ? 'b' : 'a'));
      writing = false;
      await reader;
      expect(torn).toEqual([]);
      expect(await fs.readdir(join(store.root, 'ha'))).toEqual(['manager_status']);
    });
  });

  it('keeps a lock as priv/lock/<name> holding the holder, with the lease on its mtime', async () => {
    await withStore(async (store, root, clock) => {
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      const dir = join(root, 'priv/lock/ha_manager_lock');
      expect(await fs.readFile(join(dir, 'holder'), 'utf8')).toBe('a\n');
      expect((await fs.stat(dir)).mtimeMs).toBe(clock.now());
      clock.advance(10_000);
      expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
      expect((await fs.stat(dir)).mtimeMs).toBe(clock.now());
      clock.advance(LIFETIME_MS); // exactly the lifetime: not yet expired
      expect(await store.lock('ha_manager_lock', 'b')).toBe(false);
      clock.advance(1);
      expect(await store.lock('ha_manager_lock', 'b')).toBe(true);
      expect(await fs.readFile(join(dir, 'holder'), 'utf8')).toBe('b\n');
      expect(await store.unlock('ha_manager_lock', 'b')).toBe(true);
      expect(existsSync(dir)).toBe(false);
    });
  });

  it('treats a lock directory without a holder as held until its lease runs out', async () => {
    await withStore(async (store, root, clock) => {
      const dir = join(root, 'priv/lock/foreign');
      await fs.mkdir(dir, { recursive: true });
      await fs.utimes(dir, clock.now() / 1000, clock.now() / 1000);
      expect(await store.lock('foreign', 'a')).toBe(false);
      expect(await store.unlock('foreign', 'a')).toBe(false);
      clock.advance(LIFETIME_MS + 1);
      expect(await store.lock('foreign', 'a')).toBe(true);
    });
  });

  it('refuses invalid lock and holder names', async () => {
    await withStore(async (store) => {
      await expect(store.lock('../escape', 'a')).rejects.toThrow(/invalid lock name/);
      await expect(store.lock('ok', 'a/b')).rejects.toThrow(/invalid lock holder/);
    });
  });

  it('lets exactly one of two concurrent renames of one file win, the file ending in one place', async () => {
    await withStore(async (store) => {
      for (let round = 0; round < 20; round++) {
        await store.write(`nodes/a/qemu-server/${round}.conf`, `${round}`);
        const outcomes = await Promise.allSettled(
          ['b', 'c', 'd'].map((node) => store.rename(`nodes/a/qemu-server/${round}.conf`, `nodes/${node}/qemu-server/${round}.conf`)),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const copies = [];
        for (const node of ['a', 'b', 'c', 'd']) {
          const text = await store.read(`nodes/${node}/qemu-server/${round}.conf`);
          if (text !== undefined) copies.push(text);
        }
        expect(copies).toEqual([`${round}`]);
      }
    });
  });

  it('names the path in errors', async () => {
    await withStore(async (store) => {
      await store.write('ha/dir/file', 'x');
      await expect(store.read('ha/dir')).rejects.toThrow(`cannot read '${join(store.root, 'ha/dir')}': it is a directory`);
      await expect(store.write('ha/dir', 'x')).rejects.toThrow(join(store.root, 'ha/dir'));
      await expect(store.rename('ha/dir', 'ha/other')).rejects.toThrow(/the source is a directory/);
    });
  });

  describe('guards', () => {
    const guardDir = (root: string, name: string): string => join(root, '.ha-store/guards', `lock-${name}`);
    const claim = (host: string, pid: number, start: string): string => [encodeURIComponent(host), pid, start, 'feedc0de'].join('~');

    it('removes the claim of a dead process and goes on', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      if (dead === undefined) throw new Error('no pid for the helper process');
      await withStore(async (store, root) => {
        await fs.mkdir(guardDir(root, 'ha_manager_lock'), { recursive: true });
        const stale = join(guardDir(root, 'ha_manager_lock'), claim(hostname(), dead, '0'));
        await fs.writeFile(stale, '');
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        expect(existsSync(stale)).toBe(false);
      });
    });

    it('waits for a live claim, and answers false (lock) or fails (update) when it is not let go in time', async () => {
      await withStore(
        async (store, root) => {
          await fs.mkdir(guardDir(root, 'ha_manager_lock'), { recursive: true });
          const live = join(guardDir(root, 'ha_manager_lock'), claim(hostname(), process.pid, '0'));
          await fs.writeFile(live, '');
          const started = Date.now();
          expect(await store.lock('ha_manager_lock', 'a')).toBe(false);
          expect(Date.now() - started).toBeGreaterThanOrEqual(190);
          // The store could not look: not a refusal, the holder's own lease decides (env.ts).
          expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('unknown');
          expect(existsSync(live)).toBe(true);
          // The HA files share the HA config lock (the domain guard); other files have a guard each.
          const domainGuard = join(root, '.ha-store/guards', 'domain-ha');
          await fs.mkdir(domainGuard, { recursive: true });
          await fs.writeFile(join(domainGuard, claim(hostname(), process.pid, '0')), '');
          await expect(store.update('ha/crm_commands', () => 'x')).rejects.toThrow(
            new RegExp(`^cannot get the HA config lock within 0.2 s: held by another node \\(pid ${process.pid}\\)$`),
          );
          expect(await store.read('ha/crm_commands')).toBeUndefined();
          const fileGuard = join(root, '.ha-store/guards', `file-${encodeURIComponent('nodes/a/x')}`);
          await fs.mkdir(fileGuard, { recursive: true });
          await fs.writeFile(join(fileGuard, claim(hostname(), process.pid, '0')), '');
          await expect(store.update('nodes/a/x', () => 'x')).rejects.toThrow(/^cannot get exclusive access for an update of 'nodes\/a\/x' within 0.2 s/);
          // Let go: the next attempt gets through.
          await fs.unlink(live);
          expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        },
        { waitTimeoutMs: 200 },
      );
    });

    it.runIf(existsSync('/proc/self/stat'))('takes a claim whose pid now belongs to another process as dead', async () => {
      await withStore(async (store, root) => {
        await fs.mkdir(guardDir(root, 'l'), { recursive: true });
        const reused = join(guardDir(root, 'l'), claim(hostname(), process.pid, '1'));
        await fs.writeFile(reused, '');
        expect(await store.lock('l', 'a')).toBe(true);
        expect(existsSync(reused)).toBe(false);
      });
    });

    it('trusts a claim from another host until it is old', async () => {
      await withStore(
        async (store, root) => {
          await fs.mkdir(guardDir(root, 'l'), { recursive: true });
          const foreign = join(guardDir(root, 'l'), claim('some-other-host', 4242, '77'));
          await fs.writeFile(foreign, '');
          expect(await store.lock('l', 'a')).toBe(false);
          const old = (Date.now() - 121_000) / 1000;
          await fs.utimes(foreign, old, old);
          expect(await store.lock('l', 'a')).toBe(true);
        },
        { waitTimeoutMs: 100 },
      );
    });
  });

  describe('heartbeats', () => {
    it('stores the beat as wall-clock milliseconds and judges it with the store clock', async () => {
      await withStore(async (store, root, clock) => {
        await store.heartbeat('a');
        expect(await fs.readFile(join(root, 'nodes/a/ha-heartbeat'), 'utf8')).toBe(`${clock.now()}\n`);
        await fs.mkdir(join(root, 'nodes/b'), { recursive: true }); // a member that never beat
        const beatMs = clock.now();
        expect(await store.membership()).toEqual({ nodes: { a: { online: true, lastHeartbeatMs: beatMs }, b: { online: false } }, quorate: false });
        clock.advance(DEFAULT_HEARTBEAT_TIMEOUT_MS);
        expect((await store.membership()).nodes.a.online).toBe(true);
        clock.advance(1);
        // Offline, and when it last beat is still known.
        expect((await store.membership()).nodes.a).toEqual({ online: false, lastHeartbeatMs: beatMs });
        // A clock that stepped back: a beat far in the future is not trusted.
        await store.heartbeat('a');
        clock.advance(-DEFAULT_HEARTBEAT_TIMEOUT_MS - 10_000);
        expect((await store.membership()).nodes.a.online).toBe(false);
        clock.advance(15_000);
        expect((await store.membership()).nodes.a.online).toBe(true);
      });
    });

    it('honours a configured timeout', async () => {
      await withStore(
        async (store, _root, clock) => {
          await store.heartbeat('a');
          const beatMs = clock.now();
          clock.advance(2_500);
          expect(await store.membership()).toEqual({ nodes: { a: { online: false, lastHeartbeatMs: beatMs } }, quorate: false });
        },
        { heartbeatTimeoutMs: 2_000 },
      );
    });
  });
});

describe('directory store across processes', () => {
  const CHILDREN = 5;
  let root: string;
  let children: StoreChild[];
  let store: DirectoryStore;

  beforeAll(async () => {
    root = tempRoot();
    store = await openDirectoryStore(root);
    children = Array.from({ length: CHILDREN }, () => startStoreChild(root));
    await Promise.all(children.map((child) => child.ready));
  }, 30_000); // five processes loading TypeScript at once, on a busy machine

  afterAll(async () => {
    await Promise.all(
      (children ?? []).map(
        ({ process: child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill();
          }),
      ),
    );
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('never lets two processes win an expired lock they race for, the old holder among them (100 rounds)', async () => {
    for (let round = 0; round < 100; round++) {
      const name = `race_${round}`;
      const dir = join(root, 'priv/lock', name);
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(join(dir, 'holder'), 'p0\n');
      const expired = (Date.now() - LIFETIME_MS - 5_000) / 1000;
      await fs.utimes(dir, expired, expired);
      const results = (await Promise.all(children.map((child, i) => child.ask({ op: 'lock', name, holder: `p${i}` })))) as boolean[];
      const winners = results.flatMap((won, i) => (won ? [`p${i}`] : []));
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(await fs.readFile(join(dir, 'holder'), 'utf8')).toBe(`${winners[0]}\n`);
      // The winner's lease is fresh: nobody else gets it now.
      expect(await store.lock(name, 'parent')).toBe(false);
    }
  });

  it('never lets two processes win a free lock they race for (40 rounds)', async () => {
    for (let round = 0; round < 40; round++) {
      const name = `free_${round}`;
      const results = (await Promise.all(children.map((child, i) => child.ask({ op: 'lock', name, holder: `p${i}` })))) as boolean[];
      expect(results.filter(Boolean), `round ${round}`).toHaveLength(1);
    }
  });

  it('loses no update when several processes append to one file at once', async () => {
    const perChild = 30;
    await Promise.all([
      ...children.map((child, i) => child.ask({ op: 'append', path: 'ha/crm_commands', count: perChild, tag: `p${i}` })),
      (async () => {
        for (let i = 0; i < perChild; i++) await store.update('ha/crm_commands', (text) => `${text ?? ''}parent ${i}\n`);
      })(),
    ]);
    const lines = ((await store.read('ha/crm_commands')) ?? '').split('\n').filter(Boolean);
    const expected = ['parent', ...children.map((_, i) => `p${i}`)].flatMap((tag) => Array.from({ length: perChild }, (_, i) => `${tag} ${i}`));
    expect(lines.sort()).toEqual(expected.sort());
    // Each process's own appends stay in order.
    for (const tag of ['parent', 'p0']) {
      const own = ((await store.read('ha/crm_commands')) ?? '').split('\n').filter((line) => line.startsWith(`${tag} `));
      expect(own).toEqual(Array.from({ length: perChild }, (_, i) => `${tag} ${i}`));
    }
  });
});
