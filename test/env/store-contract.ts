// The behaviour every ClusterStore implementation owes its users, as one
// suite each implementation's test file runs against its own store.

import { describe, expect, it } from 'vitest';
import { LockTimeoutError, type ClusterStore, type LockHolder } from '../../src/env/node/store.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const HOLDER: LockHolder = { node: 'node1', pid: 4242, command: 'ha-manager add vm:100' };

export interface ContractSubject {
  store: ClusterStore;
  /** A second handle on the same cluster store (another daemon's view), if the store has such a thing. */
  peer?: ClusterStore;
  /** Lets a lock lease run out: advances an injected clock, or waits out a short real lease. */
  expireLocks(): Promise<void>;
  /** Lets most of a lease pass without it running out. */
  ageLocks(): Promise<void>;
  /** Present when membership comes from heartbeats: lets every heartbeat go stale. */
  staleHeartbeats?: () => Promise<void>;
  cleanup(): Promise<void>;
}

export interface ContractFeatures {
  /** Membership comes from heartbeats (not set by the owner, as in the memory store). */
  heartbeats: boolean;
  /**
   * Quorum is a majority of the heartbeating members (directory store), not
   * the backing store's own quorum (etcd: quorate whenever it answers).
   */
  quorumFromHeartbeats: boolean;
}

export function storeContract(name: string, features: ContractFeatures, setup: () => Promise<ContractSubject>): void {
  // Every test has a store of its own, so the tests run concurrently: the
  // ones that wait out real leases (etcd) overlap.
  const test = (title: string, body: (store: ClusterStore, subject: ContractSubject) => Promise<void>) =>
    it(title, async () => {
      const subject = await setup();
      try {
        await body(subject.store, subject);
      } finally {
        await subject.cleanup();
      }
    });

  describe.concurrent(`${name}: cluster store contract`, () => {

    describe('files', () => {
      test('reads back what was written, undefined for a missing file, and the empty file as empty', async (store) => {
        expect(await store.read('ha/manager_status')).toBeUndefined();
        await store.write('ha/manager_status', '{"master_node":"a"}');
        expect(await store.read('ha/manager_status')).toBe('{"master_node":"a"}');
        await store.write('ha/manager_status', 'ünïcode ✓\nsecond line\n');
        expect(await store.read('ha/manager_status')).toBe('ünïcode ✓\nsecond line\n');
        await store.write('ha/empty', '');
        expect(await store.read('ha/empty')).toBe('');
      });

      test('normalises paths: doubled and leading ./ segments name the same file', async (store) => {
        await store.write('ha//x', 'one');
        expect(await store.read('./ha/x')).toBe('one');
        expect(await store.list('ha/')).toEqual(['x']);
      });

      test('removes a file once: true, then false', async (store) => {
        await store.write('nodes/a/lrm_status', '{}');
        expect(await store.remove('nodes/a/lrm_status')).toBe(true);
        expect(await store.read('nodes/a/lrm_status')).toBeUndefined();
        expect(await store.remove('nodes/a/lrm_status')).toBe(false);
        expect(await store.remove('never/was')).toBe(false);
      });

      test('lists the names directly below a directory, files and subdirectories, sorted', async (store) => {
        await store.write('nodes/b/lrm_status', '1');
        await store.write('nodes/a/qemu-server/100.conf', '2');
        await store.write('nodes/a/lrm_status', '3');
        await store.write('nodes/c', 'a file among directories');
        await store.write('ha/resources.cfg', '4');
        expect(await store.list('nodes')).toEqual(['a', 'b', 'c']);
        expect(await store.list('nodes/a')).toEqual(['lrm_status', 'qemu-server']);
        expect(await store.list('nodes/a/qemu-server')).toEqual(['100.conf']);
        expect(await store.list('')).toEqual(['ha', 'nodes']);
        expect(await store.list('missing/dir')).toEqual([]);
      });

      test('renames a file: the content moves, the source is gone', async (store) => {
        await store.write('nodes/a/qemu-server/100.conf', 'memory: 512\n');
        await store.rename('nodes/a/qemu-server/100.conf', 'nodes/b/qemu-server/100.conf');
        expect(await store.read('nodes/b/qemu-server/100.conf')).toBe('memory: 512\n');
        expect(await store.read('nodes/a/qemu-server/100.conf')).toBeUndefined();
        expect(await store.list('nodes/b/qemu-server')).toEqual(['100.conf']);
      });

      test('refuses to rename a missing source or onto an existing target, and changes nothing', async (store) => {
        await expect(store.rename('nodes/a/qemu-server/1.conf', 'nodes/b/qemu-server/1.conf')).rejects.toThrow(/no such file/);
        expect(await store.read('nodes/b/qemu-server/1.conf')).toBeUndefined();
        await store.write('from', 'source');
        await store.write('to', 'target');
        await expect(store.rename('from', 'to')).rejects.toThrow(/target exists/);
        expect(await store.read('from')).toBe('source');
        expect(await store.read('to')).toBe('target');
      });

      test("refuses paths that climb out of the store with '..'", async (store) => {
        await expect(store.write('../outside', 'x')).rejects.toThrow(/'\.\.' is not allowed/);
        await expect(store.read('ha/../../etc/passwd')).rejects.toThrow(/'\.\.' is not allowed/);
        await expect(store.list('..')).rejects.toThrow(/'\.\.' is not allowed/);
        await expect(store.rename('a', '../b')).rejects.toThrow(/'\.\.' is not allowed/);
      });
    });

    describe('update', () => {
      test('passes the current content, writes the result, and removes the file on undefined', async (store) => {
        const seen: (string | undefined)[] = [];
        expect(await store.update('ha/crm_commands', (text) => (seen.push(text), `${text ?? ''}stop vm:100\n`))).toBe('stop vm:100\n');
        expect(await store.update('ha/crm_commands', (text) => (seen.push(text), `${text ?? ''}stop vm:101\n`))).toBe(
          'stop vm:100\nstop vm:101\n',
        );
        expect(seen.at(-2)).toBeUndefined();
        expect(seen.at(-1)).toBe('stop vm:100\n');
        expect(await store.read('ha/crm_commands')).toBe('stop vm:100\nstop vm:101\n');
        expect(await store.update('ha/crm_commands', () => undefined)).toBeUndefined();
        expect(await store.read('ha/crm_commands')).toBeUndefined();
      });

      test('loses no update when many updaters append to one file at once', async (store, subject) => {
        const writers = [store, subject.peer ?? store];
        const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
        await Promise.all(
          lines.map((line, i) => writers[i % writers.length].update('ha/crm_commands', (text) => `${text ?? ''}${line}\n`)),
        );
        const text = (await store.read('ha/crm_commands')) ?? '';
        expect(text.split('\n').filter(Boolean).sort()).toEqual([...lines].sort());
      });

      test('takes the queued commands and leaves an empty queue, as the master reads crm_commands', async (store) => {
        await store.write('ha/crm_commands', 'migrate vm:100 b\n');
        let taken = '';
        await store.update('ha/crm_commands', (text) => {
          taken = text ?? '';
          return '';
        });
        expect(taken).toBe('migrate vm:100 b\n');
        expect(await store.read('ha/crm_commands')).toBe('');
      });
    });

    describe('locks', () => {
      test('gives a free lock to the first holder, renews it for that holder and refuses everyone else', async (store, subject) => {
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        expect(await store.lock('ha_manager_lock', 'b')).toBe(false);
        expect(await (subject.peer ?? store).lock('ha_manager_lock', 'c')).toBe(false);
        // Another lock is independent.
        expect(await store.lock('ha_agent_b_lock', 'b')).toBe(true);
      });

      test('releases only for the holder', async (store, subject) => {
        expect(await store.lock('ha_agent_a_lock', 'a')).toBe(true);
        expect(await store.unlock('ha_agent_a_lock', 'b')).toBe(false);
        expect(await store.lock('ha_agent_a_lock', 'b')).toBe(false);
        expect(await store.unlock('ha_agent_a_lock', 'a')).toBe(true);
        expect(await store.unlock('ha_agent_a_lock', 'a')).toBe(false);
        expect(await (subject.peer ?? store).lock('ha_agent_a_lock', 'b')).toBe(true);
      });

      test('keeps a renewed lock past the first lease, and lets an abandoned one expire and be taken over', async (store, subject) => {
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        await subject.ageLocks();
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true); // renewed
        await subject.ageLocks();
        expect(await store.lock('ha_manager_lock', 'b')).toBe(false); // the renewal counts, not the first take
        await subject.expireLocks();
        expect(await (subject.peer ?? store).lock('ha_manager_lock', 'b')).toBe(true);
        expect(await store.lock('ha_manager_lock', 'a')).toBe(false); // the old holder lost it
        expect(await store.unlock('ha_manager_lock', 'a')).toBe(false);
        expect(await store.lock('ha_manager_lock', 'b')).toBe(true);
      });
    });

    describe('lock outcomes', () => {
      test('tells a renewal of an unbroken hold from a new grant, also when the holder re-takes its own lapsed lock', async (store, subject) => {
        expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('granted');
        expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('renewed');
        expect(await store.acquireLock('ha_manager_lock', 'b')).toBe('refused');
        // 'a' stalls past its lease; nobody takes the lock meanwhile: still a lapse.
        await subject.expireLocks();
        expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('granted');
        expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('renewed');
        // Lapsed again; 'b' holds it for a while and releases it; 'a' comes back.
        await subject.expireLocks();
        const other = subject.peer ?? store;
        expect(await other.acquireLock('ha_manager_lock', 'b')).toBe('granted');
        expect(await other.unlock('ha_manager_lock', 'b')).toBe(true);
        expect(await store.acquireLock('ha_manager_lock', 'a')).toBe('granted');
      });
    });

    describe('fenced changes', () => {
      const A = { fence: { lock: 'ha_manager_lock', holder: 'a' } };
      const B = { fence: { lock: 'ha_manager_lock', holder: 'b' } };
      const LOST = /^lock lost: 'a' no longer holds 'ha_manager_lock'/;

      test('makes every kind of change while the holder has the lock', async (store) => {
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        await store.write('ha/manager_status', 'a1', A);
        expect(await store.update('ha/crm_commands', (text) => `${text ?? ''}x\n`, A)).toBe('x\n');
        await store.write('nodes/n1/qemu-server/100.conf', 'conf', A);
        await store.rename('nodes/n1/qemu-server/100.conf', 'nodes/n2/qemu-server/100.conf', A);
        expect(await store.remove('ha/groups.cfg', A)).toBe(false);
        expect(await store.read('ha/manager_status')).toBe('a1');
        expect(await store.read('ha/crm_commands')).toBe('x\n');
        expect(await store.read('nodes/n2/qemu-server/100.conf')).toBe('conf');
        // The fence still only passes for its own lock and holder.
        await expect(store.write('ha/manager_status', 'b?', B)).rejects.toThrow(/^lock lost: 'b' no longer holds 'ha_manager_lock'/);
        await expect(
          store.write('ha/manager_status', 'a?', { fence: { lock: 'ha_agent_a_lock', holder: 'a' } }),
        ).rejects.toThrow(/^lock lost: 'a' no longer holds 'ha_agent_a_lock'/);
        expect(await store.read('ha/manager_status')).toBe('a1');
      });

      test("refuses a deposed holder's changes, takes the new holder's, and keeps the new holder's data", async (store, subject) => {
        const successor = subject.peer ?? store;
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        await store.write('ha/manager_status', 'a1', A);
        await store.write('ha/crm_commands', 'queued\n');
        await store.write('ha/groups.cfg', 'group: g\n');
        await store.write('nodes/n1/qemu-server/100.conf', 'conf');
        // 'a' stalls past its lease (a paused process); 'b' takes over.
        await subject.expireLocks();
        expect(await successor.lock('ha_manager_lock', 'b')).toBe(true);
        await successor.write('ha/manager_status', 'b1', B);

        await expect(store.write('ha/manager_status', 'a2', A)).rejects.toThrow(LOST);
        await expect(store.update('ha/crm_commands', () => '', A)).rejects.toThrow(LOST);
        await expect(store.remove('ha/groups.cfg', A)).rejects.toThrow(LOST);
        await expect(store.rename('nodes/n1/qemu-server/100.conf', 'nodes/n3/qemu-server/100.conf', A)).rejects.toThrow(LOST);
        expect(await store.read('ha/manager_status')).toBe('b1');
        expect(await store.read('ha/crm_commands')).toBe('queued\n');
        expect(await store.read('ha/groups.cfg')).toBe('group: g\n');
        expect(await store.list('nodes')).toEqual(['n1']);

        // The new holder's changes go through, also after the old one noticed.
        expect(await store.lock('ha_manager_lock', 'a')).toBe(false);
        await expect(store.write('ha/manager_status', 'a3', A)).rejects.toThrow(LOST);
        expect(await successor.update('ha/crm_commands', () => '', B)).toBe('');
        expect(await successor.remove('ha/groups.cfg', B)).toBe(true);
        await successor.rename('nodes/n1/qemu-server/100.conf', 'nodes/n2/qemu-server/100.conf', B);
        await successor.write('ha/manager_status', 'b2', B);
        expect(await store.read('ha/manager_status')).toBe('b2');
        expect(await store.read('ha/crm_commands')).toBe('');
        expect(await store.read('nodes/n2/qemu-server/100.conf')).toBe('conf');
      });

      test('refuses a holder whose lease ran out even before anyone else took the lock, and after it was released', async (store, subject) => {
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        expect(await store.unlock('ha_manager_lock', 'a')).toBe(true);
        await expect(store.write('ha/manager_status', 'a1', A)).rejects.toThrow(LOST);
        expect(await store.lock('ha_manager_lock', 'a')).toBe(true);
        await subject.expireLocks();
        await expect(store.write('ha/manager_status', 'a2', A)).rejects.toThrow(LOST);
        expect(await store.read('ha/manager_status')).toBeUndefined();
      });
    });

    describe('lock domains', () => {
      test('let one holder at a time read, check and write the HA files', async (store, subject) => {
        const holders = [store, subject.peer ?? store];
        let inside = 0;
        let overlapped = false;
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            holders[i % holders.length].withDomainLock('ha', HOLDER, async (files) => {
              inside++;
              overlapped ||= inside > 1;
              const count = Number((await files.read('ha/counter')) ?? '0');
              await sleep(5);
              await files.write('ha/counter', String(count + 1));
              inside--;
            }),
          ),
        );
        expect(overlapped).toBe(false);
        expect(await store.read('ha/counter')).toBe('8');
      });

      test('lose no update made to an HA file while a holder is at work', async (store, subject) => {
        await store.write('ha/resources.cfg', '');
        let started!: () => void;
        const inBody = new Promise<void>((resolve) => (started = resolve));
        const holder = store.withDomainLock('ha', HOLDER, async (files) => {
          const text = (await files.read('ha/resources.cfg')) ?? '';
          started();
          await sleep(50);
          await files.write('ha/resources.cfg', `${text}held\n`);
        });
        await inBody;
        await (subject.peer ?? store).update('ha/resources.cfg', (text) => `${text ?? ''}updated\n`);
        await holder;
        expect(((await store.read('ha/resources.cfg')) ?? '').split('\n').filter(Boolean).sort()).toEqual(['held', 'updated']);
      });

      test('give the holder only the files of the domain', async (store) => {
        await expect(store.withDomainLock('ha', HOLDER, (files) => files.write('nodes/a/lrm_status', '{}'))).rejects.toThrow(
          /only files below 'ha\/' belong to it/,
        );
        expect(await store.read('nodes/a/lrm_status')).toBeUndefined();
      });

      test('release the lock when the body fails, having written nothing after the failure', async (store) => {
        await expect(
          store.withDomainLock('ha', HOLDER, async () => {
            throw new Error('refused');
          }),
        ).rejects.toThrow('refused');
        expect(await store.withDomainLock('ha', HOLDER, async () => 'next', { timeoutMs: 2_000 })).toBe('next');
      });

      test('tell a waiter that gives up who holds the lock, never where it is kept', async (store, subject) => {
        let release!: () => void;
        let started!: () => void;
        const inBody = new Promise<void>((resolve) => (started = resolve));
        const held = store.withDomainLock('ha', HOLDER, () => {
          started();
          return new Promise<void>((resolve) => (release = resolve));
        });
        await inBody;
        const waiter = (subject.peer ?? store).withDomainLock('ha', { node: 'node2', pid: 7, command: 'x' }, async () => 'got it', {
          timeoutMs: 300,
        });
        const err: unknown = await waiter.catch((e: unknown) => e);
        release();
        await held;
        expect(err).toBeInstanceOf(LockTimeoutError);
        const message = (err as Error).message;
        expect(message).toMatch(/^cannot get the HA config lock within 0\.3 s: held by node1 \(pid 4242: ha-manager add vm:100\) for \d+ s$/);
        expect(message).not.toMatch(/\.ha-store|guards|\/tmp\//);
        expect((err as LockTimeoutError).holder).toMatchObject(HOLDER);
      });
    });

    describe('cluster state', () => {
      test('refreshes', async (store) => {
        expect(await store.refresh()).toBe(true);
      });

      if (features.heartbeats) {
        test('derives members and who is online from heartbeats, and keeps when each last beat', async (store, subject) => {
          const heartbeatsStale = subject.staleHeartbeats;
          if (heartbeatsStale === undefined) throw new Error('this store should derive membership from heartbeats');
          const online = async (of: ClusterStore) => {
            const { nodes, quorate } = await of.membership();
            return { nodes: Object.fromEntries(Object.entries(nodes).map(([node, { online: up }]) => [node, { online: up }])), quorate };
          };
          // With heartbeat quorum, nobody at all is no majority.
          expect(await store.membership()).toEqual({ nodes: {}, quorate: !features.quorumFromHeartbeats });
          await store.heartbeat('a');
          await store.heartbeat('b');
          await (subject.peer ?? store).heartbeat('c');
          expect(await online(store)).toEqual({
            nodes: { a: { online: true }, b: { online: true }, c: { online: true } },
            quorate: true,
          });
          const firstBeats = (await store.membership()).nodes;
          for (const node of ['a', 'b', 'c']) expect(firstBeats[node].lastHeartbeatMs).toBeGreaterThan(0);
          await heartbeatsStale();
          await store.heartbeat('a');
          expect(await online(store)).toEqual({
            nodes: { a: { online: true }, b: { online: false }, c: { online: false } },
            quorate: !features.quorumFromHeartbeats, // one of three
          });
          // An offline member's latest beat stays known (a new master counts its fence delay from it).
          const later = (await store.membership()).nodes;
          expect(later.b.lastHeartbeatMs).toBe(firstBeats.b.lastHeartbeatMs);
          expect(later.a.lastHeartbeatMs).toBeGreaterThan(firstBeats.a.lastHeartbeatMs ?? Infinity);
          await store.heartbeat('c');
          expect(await online(subject.peer ?? store)).toEqual({
            nodes: { a: { online: true }, b: { online: false }, c: { online: true } },
            quorate: true,
          });
        });
      }
    });
  });
}
