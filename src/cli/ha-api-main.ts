// ha-api: the HTTP API daemon and web interface, on the same cluster store
// as ha-manager and the daemons; and `ha-api token add`, which creates an
// API token and prints its secret once.

import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';

import { adminResourceTypes } from '../admin/context.js';
import { createApiServer, type ApiLog } from '../api/server.js';
import { loadStaticFiles } from '../api/static-files.js';
import { addToken, openTokenStore } from '../api/tokens.js';
import { TOKEN_ROLES, type TokenRole } from '../config/token-file.js';
import { errorText } from '../core/errors.js';
import { openClusterStore } from '../env/node/cluster-timing.js';
import { NODE_RESOURCE_TYPES } from '../env/node/resource-types.js';
import { versionText } from './version.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web');
export const DEFAULT_TOKEN_FILE = '/etc/ha-manager/api-tokens';
/** Beside the reference's 8006 (pveproxy), not on it: both may run on one node. */
export const DEFAULT_LISTEN = '127.0.0.1:8106';

interface ServeOptions {
  store?: string;
  listen: string;
  cert?: string;
  key?: string;
  tokenFile: string;
  node: string;
  webRoot: string;
  pollMs: number;
  maxBody: number;
  timeScale?: number;
  epoch?: number;
  logFormat: 'json' | 'text';
}

/** `ADDR:PORT`, `[V6ADDR]:PORT` or `:PORT` (every address). */
export function parseListen(text: string): { host?: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) throw new InvalidArgumentError(`expected ADDR:PORT, [ADDR]:PORT or :PORT, got '${text}'`);
  const host = match[1] ?? match[2];
  return host === '' ? { port } : { host, port };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

function apiLogger(format: 'json' | 'text'): ApiLog {
  const text = {
    write(line: string) {
      const { time, level, msg, ...fields } = JSON.parse(line) as Record<string, string | number>;
      delete fields.pid;
      delete fields.hostname;
      const extra = Object.entries(fields).map(([key, value]) => `${key}=${value}`).join(' ');
      process.stdout.write(`${new Date(Number(time)).toISOString()} ${pino.levels.labels[Number(level)]} ha-api: ${msg}${extra ? ` ${extra}` : ''}\n`);
    },
  };
  const logger = pino({ base: undefined, level: 'info' }, format === 'text' ? text : process.stdout);
  return (level, msg, fields) => logger[level](fields ?? {}, msg);
}

async function serve(options: ServeOptions): Promise<void> {
  const log = apiLogger(options.logFormat);
  const { host, port } = parseListen(options.listen);
  if ((options.cert === undefined) !== (options.key === undefined)) throw new Error('--cert and --key go together');
  const tls = options.cert !== undefined && options.key !== undefined ? { cert: await readFile(options.cert), key: await readFile(options.key) } : undefined;
  // The cluster's timing (ha/timing.cfg), as the daemons and ha-manager read it: heartbeats, timestamps
  // and the HA config lock are judged on the cluster's clock, scaled or not. Clock flags may only confirm it.
  const { store, timing } = await openClusterStore(options.store, {
    node: options.node,
    flags: {
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      ...(options.epoch !== undefined ? { epochMs: options.epoch } : {}),
    },
  });
  const { clock, config } = timing;
  const web = await loadStaticFiles(options.webRoot);
  if (!web.available) log('warn', `no web interface in ${options.webRoot} (build it with npm run build); the API works without it`);
  const api = createApiServer({
    store,
    nodename: options.node,
    now: clock.seconds,
    resourceTypes: adminResourceTypes(NODE_RESOURCE_TYPES),
    tokens: openTokenStore(options.tokenFile, (message) => log('warn', message)),
    web,
    log,
    maxBody: options.maxBody,
    pollMs: options.pollMs,
    ...(tls !== undefined ? { tls } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    api.server.once('error', reject);
    api.server.listen({ port, ...(host !== undefined ? { host } : {}) }, () => resolve());
  });
  const address = api.server.address();
  const where = typeof address === 'object' && address !== null ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  log(
    'info',
    `listening on ${tls ? 'https' : 'http'}://${where}, cluster store ${store.description}, timing profile '${config.profile}'` +
      `${config.timeScale !== 1 ? ` at time-scale ${config.timeScale}` : ''}`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log('info', `received ${signal}, shutting down`);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await api.close();
  await store.close();
}

export function haApiProgram(out: { stdout(text: string): void }): Command {
  const program = new Command('ha-api')
    .description('HTTP API and web interface of the HA stack')
    .version(versionText('ha-api'), '-V, --version', 'print the version and where the native parts come from')
    // `token add ... --token-file F` is the subcommand's option, not the server's
    .enablePositionalOptions()
    .option('--store <spec>', 'cluster store: dir:<path> or etcd:<url>[,...][?prefix=/p] (default: $HA_MANAGER_STORE, else /etc/pve)')
    .option('--listen <addr:port>', 'address and port to listen on', DEFAULT_LISTEN)
    .option('--cert <file>', 'TLS certificate (PEM); with --key, serve HTTPS')
    .option('--key <file>', 'TLS private key (PEM)')
    .option('--token-file <file>', 'API tokens (see ha-api token add)', process.env.HA_API_TOKEN_FILE || DEFAULT_TOKEN_FILE)
    .option('--node <name>', 'the node ha-api runs on', process.env.HA_MANAGER_NODE || hostname().split('.')[0])
    .option('--web-root <dir>', 'the built web interface', DEFAULT_WEB_ROOT)
    .option('--poll-ms <ms>', 'how often the event stream reads the status while clients listen', positiveNumber, 1000)
    .option('--max-body <bytes>', 'largest request body accepted', positiveNumber, 64 * 1024)
    .option(
      '--time-scale <factor>',
      "the cluster's clock scale (tests and demonstrations); read from the store's ha/timing.cfg, so this may only confirm it, and is recorded there when the cluster has none",
      positiveNumber,
    )
    .option('--epoch <ms>', 'start of scaled time; may only confirm ha/timing.cfg, as for the daemons', positiveNumber)
    .option('--log-format <format>', 'json or text', (v: string) => {
      if (v !== 'json' && v !== 'text') throw new InvalidArgumentError(`expected json or text, got '${v}'`);
      return v;
    }, 'text')
    .action(async (options: ServeOptions) => {
      await serve(options);
    });

  const token = program.command('token').description('manage API tokens');
  token
    .command('add')
    .description('create an API token and print its secret (shown only this once)')
    .argument('<tokenid>', 'USER@REALM!TOKENID, e.g. root@pam!monitoring')
    .requiredOption('--role <role>', `${TOKEN_ROLES.join(' (read only) or ')} (everything)`, (v: string) => {
      if (!(TOKEN_ROLES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected ${TOKEN_ROLES.join(' or ')}, got '${v}'`);
      return v;
    })
    .option('--token-file <file>', 'the token file', process.env.HA_API_TOKEN_FILE || DEFAULT_TOKEN_FILE)
    .action(async (tokenId: string, options: { role: TokenRole; tokenFile: string }) => {
      const secret = await addToken(options.tokenFile, tokenId, options.role);
      out.stdout(`${secret}\n`);
    });
  return program;
}

export async function start(): Promise<void> {
  try {
    await haApiProgram({ stdout: (text) => process.stdout.write(text) }).parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`ha-api: ${errorText(err)}\n`);
    process.exitCode = 1;
  }
}
