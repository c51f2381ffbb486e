// The directory store in pmxcfs mode. pmxcfs cannot be mounted here, so the
// root is a temp dir dressed as one (.members, .version, `local`) and the
// lock calls go through a fake that gives lock directories pmxcfs's rules:
// only the node that wrote a lock may move its mtime (and only forward), and
// an unlock request (mtime 0) deletes a lock unchanged for more than 120 s
// of the fake's clock. Each test drives the reference's lock algorithm
// (PVE2 get_pve_lock) through its decisions on an injected clock.

import { mkdtempSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDirectoryStore, type DirectoryStore } from '../../src/env/node/directory-store.js';
import { MANAGER_LOCK } from '../../src/env/node/layout.js';
import { openStore } from '../../src/env/node/open-store.js';
import type { CfsLockFs } from '../../src/env/node/store-pmxcfs.js';

const START = Date.parse('2025-03-01T12:00:00Z');

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: fake pmxcfs refused, '${path}'`), { code });
}

/** A pmxcfs look-alike: the files pmxcfs serves, and lock rules for each node's calls. */
async function fakePmxcfs(members: unknown = { nodename: 'a', version: 4, cluster: { name: 'c', version: 3, nodes: 3, quorate: 1 }, nodelist: { a: { id: 1, online: 1 }, b: { id: 2, online: 1 }, c: { id: 3, online: 0 } } }) {
  const root = mkdtempSync(join(tmpdir(), 'ha-store-pmxcfs-'));
  await fs.writeFile(join(root, '.members'), JSON.stringify(members));
  await fs.writeFile(join(root, '.version'), JSON.stringify({ starttime: 1740830000, clinfo: 4, vmlist: 1 }));
  await fs.mkdir(join(root, 'local'), { mode: 0o755 });
  await fs.mkdir(join(root, 'priv'), { mode: 0o700 }); // pmxcfs always has it
  let now = START;
  const seconds = (): number => Math.floor(now / 1000);
  const locks = new Map<string, { writer: string; mtime: number; seenAt: number }>();
  const calls: string[] = [];
  const isLock = (path: string): boolean => dirname(path) === join(root, 'priv/lock');
  const rel = (path: string): string => relative(root, path);

  const forNode = (node: string): CfsLockFs => ({
    async mkdir(path) {
      calls.push(`${node} mkdir ${rel(path)}`);
      await fs.mkdir(path);
      if (isLock(path)) locks.set(path, { writer: node, mtime: seconds(), seenAt: seconds() });
    },
    async rmdir(path) {
      calls.push(`${node} rmdir ${rel(path)}`);
      await fs.rmdir(path);
      locks.delete(path);
    },
    async utimes(path, _atime, mtime) {
      calls.push(`${node} ${mtime === 0 ? 'unlock-request' : mtime === seconds() ? 'renew' : `utime ${mtime}`} ${rel(path)}`);
      const lock = locks.get(path);
      if (lock === undefined) throw errno('ENOENT', path);
      if (mtime === 0) {
        // Unlock request: pmxcfs deletes the lock once it has seen it unchanged for over 120 s.
        if (seconds() - lock.seenAt > 120) {
          await fs.rmdir(path);
          locks.delete(path);
          return;
        }
        throw errno('EACCES', path);
      }
      if (lock.writer !== node || mtime < lock.mtime) throw errno('EACCES', path);
      lock.mtime = mtime;
      lock.seenAt = seconds();
    },
    isDirectory: (path) => fs.stat(path).then((stat) => stat.isDirectory(), () => false),
  });

  return {
    root,
    calls,
    now: () => now,
    advance: (s: number) => void (now += s * 1000),
    open: (node: string, extra = {}): Promise<DirectoryStore> =>
      openDirectoryStore(root, { clock: () => now, cfsLockFs: forNode(node), cfsRetryMs: 5, ...extra }),
    /** Takes calls recorded so far, for asserting the algorithm's decisions. */
    take: (): string[] => calls.splice(0),
    /** An administrator (or a crashed holder's cleanup) removing a lock behind everyone's back. */
    drop: async (name: string) => {
      await fs.rmdir(join(root, 'priv/lock', name));
      locks.delete(join(root, 'priv/lock', name));
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

async function using(body: (cfs: Awaited<ReturnType<typeof fakePmxcfs>>) => Promise<void>, members?: unknown): Promise<void> {
  const cfs = await fakePmxcfs(members);
  try {
    await body(cfs);
  } finally {
    cfs.cleanup();
  }
}

describe.concurrent('directory store on pmxcfs: the reference lock algorithm', () => {
  it('takes a free lock with mkdir, renews it by setting the mtime, and refuses others with an unlock request', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      const b = await cfs.open('b');
      expect(a.mode).toBe('pmxcfs');
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a mkdir priv/lock/ha_manager_lock']);
      cfs.advance(10);
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a renew priv/lock/ha_manager_lock']);
      expect(await b.lock(MANAGER_LOCK, 'b')).toBe(false);
      expect(cfs.take()).toEqual(['b mkdir priv/lock', 'b mkdir priv/lock/ha_manager_lock', 'b unlock-request priv/lock/ha_manager_lock']);
    }));

  it('lets an abandoned lock go on an unlock request after 120 s, and takes it on the next round', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      const b = await cfs.open('b');
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      cfs.advance(120);
      expect(await b.lock(MANAGER_LOCK, 'b')).toBe(false); // seen unchanged for 120 s: not yet over
      cfs.advance(1);
      expect(await b.lock(MANAGER_LOCK, 'b')).toBe(false); // this request deleted it ...
      expect(cfs.take().slice(-1)).toEqual(['b unlock-request priv/lock/ha_manager_lock']);
      expect(await b.lock(MANAGER_LOCK, 'b')).toBe(true); // ... and the next round takes it
      expect(cfs.take().slice(-1)).toEqual(['b mkdir priv/lock/ha_manager_lock']);
      // The old holder, back after its lifetime, tries mkdir and fails.
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(false);
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a mkdir priv/lock/ha_manager_lock', 'a unlock-request priv/lock/ha_manager_lock']);
    }));

  it('loses the lock when pmxcfs refuses a renewal, and does not retake it until 120 s after the last success', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      const b = await cfs.open('b');
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      cfs.advance(5);
      await cfs.drop(MANAGER_LOCK);
      expect(await b.lock(MANAGER_LOCK, 'b')).toBe(true);
      cfs.advance(5);
      cfs.take();
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(false); // written by b since: refused
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a renew priv/lock/ha_manager_lock']); // and no mkdir
      expect(await b.unlock(MANAGER_LOCK, 'b')).toBe(true);
      cfs.advance(20);
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(false); // free, but still within 120 s of a's last success
      cfs.advance(89); // 119 s after the last success
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(false);
      cfs.advance(1); // 120 s
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      expect(cfs.take().slice(-1)).toEqual(['a mkdir priv/lock/ha_manager_lock']);
    }));

  it('releases with rmdir only a lock this process holds within its lifetime', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      const b = await cfs.open('b');
      expect(await a.lock('ha_agent_a_lock', 'a')).toBe(true);
      expect(await b.unlock('ha_agent_a_lock', 'b')).toBe(false);
      expect(await fs.stat(join(cfs.root, 'priv/lock/ha_agent_a_lock')).then(() => true)).toBe(true);
      expect(await a.unlock('ha_agent_a_lock', 'a')).toBe(true);
      await expect(fs.stat(join(cfs.root, 'priv/lock/ha_agent_a_lock'))).rejects.toThrow(/ENOENT/);
      expect(await a.unlock('ha_agent_a_lock', 'a')).toBe(false);
      // After a release the next lock is a fresh take (mkdir), not a renewal.
      cfs.take();
      expect(await a.lock('ha_agent_a_lock', 'a')).toBe(true);
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a mkdir priv/lock/ha_agent_a_lock']);
      // Not renewed for its lifetime: it may be someone else's now, leave it.
      cfs.advance(120);
      expect(await a.unlock('ha_agent_a_lock', 'a')).toBe(false);
      expect(await fs.stat(join(cfs.root, 'priv/lock/ha_agent_a_lock')).then(() => true)).toBe(true);
    }));

  it('keeps two holders in one process apart, though pmxcfs sees both as this node', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      expect(await a.lock(MANAGER_LOCK, 'other')).toBe(false);
    }));

  it('answers false when priv/lock cannot be made (pmxcfs not mounted)', () =>
    using(async (cfs) => {
      await fs.rmdir(join(cfs.root, 'priv'));
      await fs.writeFile(join(cfs.root, 'priv'), 'not a directory');
      const a = await cfs.open('a');
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(false);
    }));
});

describe.concurrent('directory store on pmxcfs: updates under the cfs lock', () => {
  it('serialises HA files with the ha domain lock and others with their file lock, removing it after', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      cfs.take();
      await a.update('ha/crm_commands', (text) => `${text ?? ''}migrate vm:100 b\n`);
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a mkdir priv/lock/domain-ha', 'a rmdir priv/lock/domain-ha']);
      await a.update('datacenter.cfg', () => 'ha: shutdown_policy=migrate\n');
      expect(cfs.take()).toEqual(['a mkdir priv/lock', 'a mkdir priv/lock/file-datacenter_cfg', 'a rmdir priv/lock/file-datacenter_cfg']);
      expect(await a.read('ha/crm_commands')).toBe('migrate vm:100 b\n');
      expect(await fs.readdir(join(cfs.root, 'priv/lock'))).toEqual([]);
    }));

  it('loses no update when two nodes append at once', () =>
    using(async (cfs) => {
      const stores = [await cfs.open('a'), await cfs.open('b')];
      const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
      await Promise.all(lines.map((line, i) => stores[i % 2].update('ha/crm_commands', (text) => `${text ?? ''}${line}\n`)));
      expect(((await stores[0].read('ha/crm_commands')) ?? '').split('\n').filter(Boolean).sort()).toEqual([...lines].sort());
    }));

  it('gives up on a busy lock after the timeout, saying so, or saying there is no quorum', () =>
    using(async (cfs) => {
      const a = await cfs.open('a', { waitTimeoutMs: 100 });
      await fs.mkdir(join(cfs.root, 'priv/lock'), { recursive: true });
      const b = await cfs.open('b');
      await b.lock('domain-ha', 'b'); // another node inside lock_ha_domain
      await expect(a.update('ha/resources.cfg', () => 'x')).rejects.toThrow("cfs-lock 'domain-ha' error: got lock request timeout");
      await fs.chmod(join(cfs.root, 'local'), 0o555);
      await expect(a.update('ha/resources.cfg', () => 'x')).rejects.toThrow("cfs-lock 'domain-ha' error: no quorum!");
      expect(await a.read('ha/resources.cfg')).toBeUndefined();
    }));

  it('takes the domain-ha lock of cfs_lock_domain for a lock domain, the same the updates of HA files take', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      const b = await cfs.open('b', { waitTimeoutMs: 100 });
      const holder = { node: 'a', pid: 4242, command: 'ha-manager rules add node-affinity r1' };
      let release!: () => void;
      let started!: () => void;
      const inBody = new Promise<void>((resolve) => (started = resolve));
      const held = a.withDomainLock('ha', holder, async (files) => {
        await files.write('ha/rules.cfg', 'x\n');
        started();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await inBody;
      expect(cfs.take()).toContain('a mkdir priv/lock/domain-ha');
      await expect(b.update('ha/resources.cfg', () => 'y')).rejects.toThrow("cfs-lock 'domain-ha' error: got lock request timeout");
      await expect(b.withDomainLock('ha', { node: 'b', pid: 1, command: 'x' }, async () => undefined, { timeoutMs: 100 })).rejects.toThrow(
        /^cannot get the HA config lock within 0\.1 s: held by a \(pid 4242: ha-manager rules add node-affinity r1\) for \d+ s$/,
      );
      release();
      await held;
      expect(cfs.take()).toContain('a rmdir priv/lock/domain-ha');
      expect(await b.update('ha/resources.cfg', () => 'y')).toBe('y');
      expect(await a.read('ha/rules.cfg')).toBe('x\n');
    }));

  it('gets past a lock its holder left behind once pmxcfs lets it go', () =>
    using(async (cfs) => {
      const b = await cfs.open('b');
      await b.lock('domain-ha', 'b');
      cfs.advance(121);
      const a = await cfs.open('a');
      expect(await a.update('ha/resources.cfg', () => 'vm: 100\n')).toBe('vm: 100\n');
    }));
});

describe.concurrent('directory store on pmxcfs: membership, quorum, files', () => {
  it('reads members from .members, counting the local node online, and quorum from the mode of local', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      expect(await a.membership()).toEqual({
        nodes: { a: { online: true }, b: { online: true }, c: { online: false } },
        quorate: true,
      });
      await fs.writeFile(
        join(cfs.root, '.members'),
        JSON.stringify({ nodename: 'a', version: 5, cluster: { name: 'c', version: 3, nodes: 3, quorate: 0 }, nodelist: { a: { id: 1, online: 0 }, b: { id: 2, online: 0 }, c: { id: 3, online: 0 } } }),
      );
      await fs.chmod(join(cfs.root, 'local'), 0o555);
      expect(await a.membership()).toEqual({
        nodes: { a: { online: true }, b: { online: false }, c: { online: false } },
        quorate: false,
      });
      const z = await cfs.open('z', { node: 'c' });
      expect((await z.membership()).nodes.c).toEqual({ online: true });
      await fs.rmdir(join(cfs.root, 'local'));
      expect((await a.membership()).quorate).toBe(false);
    }));

  it('reports only the local node on a standalone pmxcfs, and when .members cannot be read', () =>
    using(
      async (cfs) => {
        const a = await cfs.open('a');
        expect(await a.membership()).toEqual({ nodes: { a: { online: true } }, quorate: true });
        await fs.writeFile(join(cfs.root, '.members'), '{ torn');
        const b = await cfs.open('b', { node: 'b' });
        expect(await b.membership()).toEqual({ nodes: { b: { online: true } }, quorate: true });
      },
      { nodename: 'a', version: 1 },
    ));

  it('refreshes while pmxcfs answers with its start time', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      expect(await a.refresh()).toBe(true);
      await fs.writeFile(join(cfs.root, '.version'), '{}');
      expect(await a.refresh()).toBe(false);
      await fs.unlink(join(cfs.root, '.version'));
      expect(await a.refresh()).toBe(false);
    }));

  it('moves guest configs without replacing a target, and leaves no temporary files', () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      expect(a.description).toBe(`directory ${a.root} (pmxcfs)`);
      await a.write('nodes/a/qemu-server/100.conf', 'memory: 512\n');
      await a.write('nodes/b/qemu-server/100.conf', 'other\n');
      await expect(a.rename('nodes/a/qemu-server/100.conf', 'nodes/b/qemu-server/100.conf')).rejects.toThrow(/target exists/);
      await a.remove('nodes/b/qemu-server/100.conf');
      await a.rename('nodes/a/qemu-server/100.conf', 'nodes/b/qemu-server/100.conf');
      expect(await a.read('nodes/b/qemu-server/100.conf')).toBe('memory: 512\n');
      expect(await fs.readdir(join(cfs.root, 'nodes/b/qemu-server'))).toEqual(['100.conf']);
    }));

  it("ignores a fence, as the reference does: pmxcfs has no write conditioned on a lock (the watchdog is what stops a deposed writer)", () =>
    using(async (cfs) => {
      const a = await cfs.open('a');
      const b = await cfs.open('b');
      const fenceA = { fence: { lock: MANAGER_LOCK, holder: 'a' } };
      expect(await a.lock(MANAGER_LOCK, 'a')).toBe(true);
      // 'a' stalls; its lock goes (as pmxcfs lets an expired one go) and 'b' takes it.
      cfs.advance(121);
      await cfs.drop(MANAGER_LOCK);
      expect(await b.lock(MANAGER_LOCK, 'b')).toBe(true);
      // 'a' no longer holds the lock, and its writes still go through.
      await a.write('ha/manager_status', 'a', fenceA);
      expect(await a.update('ha/crm_commands', () => 'x\n', fenceA)).toBe('x\n');
      await a.write('nodes/a/qemu-server/100.conf', 'conf\n', fenceA);
      await a.rename('nodes/a/qemu-server/100.conf', 'nodes/b/qemu-server/100.conf', fenceA);
      expect(await a.remove('ha/crm_commands', fenceA)).toBe(true);
      expect(await b.read('ha/manager_status')).toBe('a');
      expect(await b.read('nodes/b/qemu-server/100.conf')).toBe('conf\n');
    }));

  it('is what openStore picks by default when the default root is a pmxcfs mount', () =>
    using(async (cfs) => {
      const store = await openStore(undefined, { env: {}, defaultRoot: cfs.root });
      expect(store.description).toMatch(/\(pmxcfs\)$/);
    }));
});
