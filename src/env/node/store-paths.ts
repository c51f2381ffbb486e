// Checks on what callers hand a cluster store: file paths, lock names and
// holder names. Every store implementation validates the same way, so a path
// that one store accepts is accepted by all of them.

/**
 * First path segment the stores keep for their own records (guards in a
 * directory store, locks and membership in etcd); no file may live there.
 */
export const RESERVED_SEGMENT = '.ha-store';

/**
 * A store path split into its segments. Paths are relative and
 * '/'-separated; empty and '.' segments are dropped, so `ha//x` and `./ha/x`
 * mean `ha/x`. `..`, absolute paths, backslashes and NUL are refused: a path
 * must never leave the store's root.
 */
export function pathSegments(path: string, what = 'path'): string[] {
  if (typeof path !== 'string') throw new Error(`invalid store ${what}: expected a string, got ${typeof path}`);
  if (path.startsWith('/')) {
    throw new Error(`invalid store ${what} '${path}': absolute paths are not allowed (use a path relative to the store root, e.g. 'ha/manager_status')`);
  }
  if (path.includes('\0') || path.includes('\\')) {
    throw new Error(`invalid store ${what} '${path}': NUL and backslash are not allowed`);
  }
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new Error(`invalid store ${what} '${path}': '..' is not allowed`);
  if (parts[0] === RESERVED_SEGMENT) {
    throw new Error(`invalid store ${what} '${path}': '${RESERVED_SEGMENT}' is reserved for the store's own records`);
  }
  return parts;
}

/** A normalised file path; the store root itself is not a file. */
export function filePath(path: string): string {
  const parts = pathSegments(path);
  if (parts.length === 0) throw new Error(`invalid store path '${path}': a file path is required, not the store root`);
  return parts.join('/');
}

/** A normalised directory path; '' is the store root. */
export function dirPath(path: string): string {
  return pathSegments(path, 'directory').join('/');
}

/** Lock names are single path segments such as `ha_manager_lock`. */
export function lockName(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/.test(name)) {
    throw new Error(`invalid lock name '${String(name)}': expected letters, digits and _ . : @ + - (e.g. 'ha_manager_lock')`);
  }
  return name;
}

/** Holders are node names; they are stored as file content and key values. */
export function holderName(holder: string): string {
  if (typeof holder !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/.test(holder)) {
    throw new Error(`invalid lock holder '${String(holder)}': expected a node name (letters, digits and _ . : @ + -)`);
  }
  return holder;
}

/** A file path inside a lock domain's directory (`ha/...` for domain `ha`). */
export function domainFilePath(domain: string, path: string): string {
  const normal = filePath(path);
  if (!normal.startsWith(`${domain}/`)) {
    throw new Error(`invalid store path '${path}' for lock domain '${domain}': only files below '${domain}/' belong to it`);
  }
  return normal;
}

/** The lock domain a file belongs to: `ha` for the HA config files (as pmxcfs's domain-ha lock). */
export function domainOf(path: string): string | undefined {
  return filePath(path).startsWith('ha/') ? 'ha' : undefined;
}
