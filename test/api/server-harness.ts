// ha-api in-process on a memory store, with the ha-manager command line on
// the same store: what the contract and abuse tests compare and attack.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GUEST_RESOURCE_TYPES, adminResourceTypes } from '../../src/admin/context.js';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { loadStaticFiles } from '../../src/api/static-files.js';
import { addToken, openTokenStore } from '../../src/api/tokens.js';
import type { CliContext } from '../../src/cli/ha-manager/context.js';
import { runHaManager } from '../../src/cli/ha-manager/program.js';
import { createMemoryStore, type MemoryStore } from '../../src/env/node/memory-store.js';
import { guestConfigPath } from '../../src/env/node/layout.js';
import { NODE_RESOURCE_TYPES } from '../../src/env/node/resource-types.js';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';

/** 2024-03-05 12:00:00 UTC. */
export const NOW = 1709640000;
export const NODES = ['node1', 'node2', 'node3'];
export const RESOURCE_TYPES = { ...GUEST_RESOURCE_TYPES, ...adminResourceTypes(NODE_RESOURCE_TYPES) };

export interface ApiHarness {
  store: MemoryStore;
  url: string;
  api: ApiServer;
  admin: string;
  audit: string;
  adminSecret: string;
  auditSecret: string;
  tokenFile: string;
  /** Every line ha-api logged. */
  logs: string[];
  request(method: string, path: string, options?: { token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<{
    status: number;
    body: { data?: unknown; message?: string; errors?: Record<string, string> };
    headers: Headers;
  }>;
  /** ha-manager on the same store: its exit code and output. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Every file of the store, by path. */
  files(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

async function allFiles(store: MemoryStore, dir = ''): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of await store.list(dir)) {
    const path = dir === '' ? name : `${dir}/${name}`;
    const text = await store.read(path).catch(() => undefined);
    if (text !== undefined) result[path] = text;
    else Object.assign(result, await allFiles(store, path));
  }
  return result;
}

export async function startApi(options: { maxBody?: number } = {}): Promise<ApiHarness> {
  const store = createMemoryStore({ nodes: NODES });
  for (const [node, sid] of [['node1', 'vm:100'], ['node2', 'ct:101'], ['node2', 'vm:102'], ['node1', 'exec:web'], ['node3', 'exec:db']]) {
    await store.write(guestConfigPath(node, sid), '');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ha-api-tokens-'));
  const tokenFile = join(dir, 'tokens');
  const admin = 'root@pam!ops';
  const audit = 'monitor@pve!grafana';
  const adminSecret = await addToken(tokenFile, admin, 'admin');
  const auditSecret = await addToken(tokenFile, audit, 'audit');
  const logs: string[] = [];
  const api = createApiServer({
    store,
    nodename: 'node1',
    now: () => NOW,
    timeZone: 'UTC',
    resourceTypes: RESOURCE_TYPES,
    tokens: openTokenStore(tokenFile, (message) => logs.push(`warn ${message}`)),
    web: await loadStaticFiles(join(REPO_ROOT, 'dist', 'web')),
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    pollMs: 50,
    ...(options.maxBody !== undefined ? { maxBody: options.maxBody } : {}),
  });
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  const address = api.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

  return {
    store,
    url,
    api,
    admin,
    audit,
    adminSecret,
    auditSecret,
    tokenFile,
    logs,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const token = opts.token === undefined ? `${admin}=${adminSecret}` : opts.token;
      if (token !== null) headers.authorization = `PVEAPIToken=${token}`;
      let body: string | undefined = opts.raw;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      let parsed: { data?: unknown; message?: string; errors?: Record<string, string> } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = { message: text };
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async cli(...args) {
      let stdout = '';
      let stderr = '';
      const ctx: CliContext = {
        store,
        nodename: 'node1',
        now: () => NOW,
        timeZone: 'UTC',
        resourceTypes: RESOURCE_TYPES,
        terminal: { utf8: false },
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
      };
      const code = await runHaManager(args, ctx);
      return { code, stdout, stderr };
    },
    files: () => allFiles(store),
    async close() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
