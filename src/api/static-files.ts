// The web interface's files (the vite build in dist/web), read once at
// start and served from memory: the page, its scripts and styles. These,
// and only these, are served without authentication; the page asks for a
// token before it calls anything.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { COMMON_HEADERS } from './http-io.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html;charset=UTF-8',
  '.js': 'text/javascript;charset=UTF-8',
  '.css': 'text/css;charset=UTF-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json;charset=UTF-8',
  '.txt': 'text/plain;charset=UTF-8',
};

/** Scripts and styles only from this server; no frames, no plugins, API calls only to itself. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Vite names built assets by their content hash: they never change under the same name. */
  immutable: boolean;
}

export interface StaticFiles {
  /** True when the request was for one of the files (and was answered). */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
  readonly available: boolean;
}

async function walk(root: string, dir: string, files: Map<string, StaticFile>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(root, full, files);
      continue;
    }
    if (!entry.isFile()) continue;
    const body = await readFile(full);
    const path = `/${relative(root, full).split(sep).join('/')}`;
    files.set(path, {
      body,
      type: CONTENT_TYPES[extname(entry.name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: path.startsWith('/assets/'),
    });
  }
}

/** The files below `root`; none (and `available` false) when it does not exist. */
export async function loadStaticFiles(root: string): Promise<StaticFiles> {
  const files = new Map<string, StaticFile>();
  try {
    await walk(root, root, files);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return {
    available: files.has('/index.html'),
    serve(req, res, pathname) {
      const file = files.get(pathname === '/' ? '/index.html' : pathname);
      if (file === undefined) return false;
      const headers: Record<string, string> = {
        ...COMMON_HEADERS,
        'content-type': file.type,
        etag: file.etag,
        'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      };
      if (file.type.startsWith('text/html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      res.writeHead(200, { ...headers, 'content-length': String(file.body.length) });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    },
  };
}
