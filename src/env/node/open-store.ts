// Opening the cluster store the daemons and the CLI share, from one string:
//
//   dir:<path>                         a directory store; pmxcfs mode when
//                                      <path> is a mounted pmxcfs (it has
//                                      .members), plain mode otherwise
//   <path>                             the same (anything without a scheme)
//   etcd:<url>[,<url>...][?prefix=/p]  an etcd v3 cluster; urls are
//                                      http(s)://host:port (a bare host:port
//                                      means http), prefix defaults to
//                                      /ha-manager/
//
// Without a spec (undefined) the HA_MANAGER_STORE environment variable is
// read; without that, /etc/pve when it is a mounted pmxcfs (a Proxmox VE
// node), else it is an error saying what to pass.

import type { ClusterStore } from './store.js';
import { isPmxcfsRoot, openDirectoryStore, type DirectoryStoreOptions } from './directory-store.js';
import type { EtcdStoreOptions } from './etcd-store.js';

export const STORE_ENV_VARIABLE = 'HA_MANAGER_STORE';
export const DEFAULT_PMXCFS_ROOT = '/etc/pve';

export interface OpenStoreOptions
  extends DirectoryStoreOptions,
    Omit<EtcdStoreOptions, 'endpoints' | 'prefix'> {
  /** Where the spec comes from when none is passed (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The default root tried last (default /etc/pve). */
  defaultRoot?: string;
}

const USAGE = `expected dir:<path>, a directory path, or etcd:<url>[,<url>...][?prefix=/path]`;

/** The etcd endpoints and prefix of an `etcd:` spec (without the `etcd:`). */
export function parseEtcdSpec(rest: string): { endpoints: string[]; prefix?: string } {
  const query = rest.indexOf('?');
  const list = query < 0 ? rest : rest.slice(0, query);
  let prefix: string | undefined;
  if (query >= 0) {
    for (const [name, value] of new URLSearchParams(rest.slice(query + 1))) {
      if (name !== 'prefix') throw new Error(`invalid store spec 'etcd:${rest}': unknown parameter '${name}' (only prefix=/path is accepted)`);
      prefix = value;
    }
  }
  const endpoints = list
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
    .map((url) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`));
  if (endpoints.length === 0) throw new Error(`invalid store spec 'etcd:${rest}': no endpoint (e.g. etcd:http://127.0.0.1:2379)`);
  return prefix === undefined ? { endpoints } : { endpoints, prefix };
}

export async function openStore(spec: string | undefined, options: OpenStoreOptions = {}): Promise<ClusterStore> {
  const env = options.env ?? process.env;
  const given = spec ?? env[STORE_ENV_VARIABLE];
  if (given === undefined || given.trim() === '') {
    const root = options.defaultRoot ?? DEFAULT_PMXCFS_ROOT;
    if (await isPmxcfsRoot(root)) return openDirectoryStore(root, options);
    throw new Error(
      `no cluster store given and ${root} is not a mounted Proxmox cluster file system: ` +
        `pass a store (${USAGE}) or set ${STORE_ENV_VARIABLE}`,
    );
  }
  const text = given.trim();
  if (text.startsWith('etcd:')) {
    const { endpoints, prefix } = parseEtcdSpec(text.slice('etcd:'.length));
    // etcd3 (and gRPC below it) takes a tenth of a second to load: only for etcd stores.
    const { createEtcdStore } = await import('./etcd-store.js');
    return createEtcdStore({ ...options, endpoints, ...(prefix === undefined ? {} : { prefix }) });
  }
  if (text.startsWith('dir:')) {
    const path = text.slice('dir:'.length);
    if (path === '') throw new Error(`invalid store spec '${text}': no directory after dir:`);
    return openDirectoryStore(path, options);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text);
  if (scheme !== null && scheme[1].length > 1) {
    throw new Error(`invalid store spec '${text}': unknown kind '${scheme[1]}:' (${USAGE}; write dir:${text} for a directory with a colon in its name)`);
  }
  return openDirectoryStore(text, options);
}
