// Whole-file operations below a directory, for the directory store in both
// of its modes. Writes go to a temporary file beside the target and are
// renamed over it, so a reader sees the old or the new content, never a
// mix; on a plain file system the data and the directory entry are also
// flushed to disk before the write counts as done.

import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RESERVED_SEGMENT, dirPath, filePath } from './store-paths.js';

export interface RootFiles {
  read(path: string): Promise<string | undefined>;
  write(path: string, data: string): Promise<void>;
  remove(path: string): Promise<boolean>;
  list(dir: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  /** The absolute file-system path of a store path (validated). */
  resolve(path: string): string;
}

export interface RootFilesOptions {
  /**
   * fsync data and directories (plain file systems). pmxcfs commits every
   * write to the cluster database itself and implements no fsync.
   */
  durable: boolean;
  /**
   * How `rename` refuses an existing target: `link` hard-links then unlinks
   * (atomic no-replace, plain file systems); `check` tests for the target and
   * renames (pmxcfs has no hard links; it refuses a guest config whose id
   * exists on another node by itself).
   */
  noReplace: 'link' | 'check';
}

const TEMP_NAME = /^\..+\.tmp\.\d+\.[0-9a-f]{12}$/;

export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function reason(err: unknown): string {
  const code = errnoCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code === undefined ? message : `${code}: ${message.replace(/^[A-Z]+: /, '')}`;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `target` through a temporary file in the same directory. */
export async function writeAtomically(target: string, data: string, durable: boolean): Promise<void> {
  const dir = dirname(target);
  const base = target.slice(dir.length + 1);
  const temp = join(dir, `.${base}.tmp.${process.pid}.${randomBytes(6).toString('hex')}`);
  const handle = await fs.open(temp, 'wx', 0o640);
  try {
    try {
      await handle.writeFile(data, 'utf8');
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  if (durable) await syncDir(dir);
}

export function createRootFiles(root: string, options: RootFilesOptions): RootFiles {
  const resolve = (path: string): string => join(root, filePath(path));

  return {
    resolve,
    async read(path) {
      const full = resolve(path);
      try {
        return await fs.readFile(full, 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
        if (errnoCode(err) === 'EISDIR') throw new Error(`cannot read '${full}': it is a directory, not a file`);
        throw new Error(`cannot read '${full}' - ${reason(err)}`);
      }
    },
    async write(path, data) {
      const full = resolve(path);
      try {
        await fs.mkdir(dirname(full), { recursive: true });
        await writeAtomically(full, data, options.durable);
      } catch (err) {
        if (errnoCode(err) === 'EISDIR') throw new Error(`cannot write '${full}': it is a directory, not a file`);
        throw new Error(`cannot write '${full}' - ${reason(err)}`);
      }
    },
    async remove(path) {
      const full = resolve(path);
      try {
        await fs.unlink(full);
        return true;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
        if (errnoCode(err) === 'EISDIR' || errnoCode(err) === 'EPERM') {
          const stat = await fs.stat(full).catch(() => undefined);
          if (stat?.isDirectory()) throw new Error(`cannot remove '${full}': it is a directory, not a file`);
        }
        throw new Error(`cannot remove '${full}' - ${reason(err)}`);
      }
    },
    async list(dir) {
      const rel = dirPath(dir);
      const full = rel === '' ? root : join(root, rel);
      let names: string[];
      try {
        names = await fs.readdir(full);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
        throw new Error(`cannot list '${full}' - ${reason(err)}`);
      }
      return names.filter((name) => !TEMP_NAME.test(name) && !(rel === '' && name === RESERVED_SEGMENT)).sort();
    },
    async rename(from, to) {
      const source = resolve(from);
      const target = resolve(to);
      const fail = (what: string): Error => new Error(`rename '${source}' to '${target}' failed - ${what}`);
      const sourceStat = await fs.lstat(source).catch((err: unknown) => {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
        throw fail(reason(err));
      });
      if (sourceStat === undefined) throw fail('no such file');
      if (sourceStat.isDirectory()) throw fail('the source is a directory, only files can be moved');
      try {
        await fs.mkdir(dirname(target), { recursive: true });
      } catch (err) {
        throw fail(`cannot create the target directory - ${reason(err)}`);
      }
      if (options.noReplace === 'link') {
        // link() refuses an existing target atomically; the source goes
        // only once the target is in place, so the file is never missing.
        try {
          await fs.link(source, target);
        } catch (err) {
          if (errnoCode(err) === 'EEXIST') throw fail('target exists');
          if (errnoCode(err) === 'ENOENT') throw fail('no such file');
          throw fail(reason(err));
        }
        try {
          await fs.unlink(source);
        } catch (err) {
          if (errnoCode(err) === 'ENOENT') {
            // Someone else moved the same source meanwhile and won: undo
            // our link, or the file would now live in two places.
            await fs.unlink(target).catch(() => undefined);
            throw fail('no such file (moved away concurrently)');
          }
          throw fail(`linked, but cannot remove the source - ${reason(err)}`);
        }
        if (options.durable) {
          await syncDir(dirname(target));
          await syncDir(dirname(source));
        }
        return;
      }
      const exists = await fs.lstat(target).then(
        () => true,
        (err: unknown) => {
          if (errnoCode(err) === 'ENOENT') return false;
          throw fail(reason(err));
        },
      );
      if (exists) throw fail('target exists');
      try {
        await fs.rename(source, target);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') throw fail('no such file');
        throw fail(reason(err));
      }
    },
  };
}
