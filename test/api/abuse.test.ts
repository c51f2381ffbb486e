// Hostile input and abuse: the values that wedged stores through the CLI
// (issue 10), malformed and oversized bodies, missing and wrong tokens, an
// audit token trying to write, cookie sessions without their CSRF token.
// Every one gets a clear 4xx, leaves the store as it was, and nothing ha-api
// logs holds a secret.

import { writeFileSync } from 'node:fs';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { OPERATIONS, type OperationId } from '../../src/admin/operations.js';
import { startApi, type ApiHarness } from './server-harness.js';

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi({ maxBody: 8192 });
  for (const args of [['add', 'vm:100'], ['add', 'exec:web'], ['rules', 'add', 'node-affinity', 'r1', '--resources', 'vm:100', '--nodes', 'node1']]) {
    expect((await h.cli(...args)).code).toBe(0);
  }
});
afterEach(async () => {
  // whatever happened, no secret reached the log
  const log = h.logs.join('\n');
  for (const secret of [h.adminSecret, h.auditSecret, 'not-the-secret-0000']) expect(log).not.toContain(secret);
  await h.close();
});

const HA = '/api2/json/cluster/ha';

/** A request that must be refused with `status` and leave every file as it was. */
async function refused(status: number, method: string, path: string, options: Parameters<ApiHarness['request']>[2] = {}) {
  const before = await h.files();
  const r = await h.request(method, path, options);
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(typeof r.body.message).toBe('string');
  expect(r.body.data).toBeNull();
  expect(await h.files()).toEqual(before);
  return r.body;
}

const HOSTILE: Array<[string, string, Record<string, unknown>, string]> = [
  ['POST', 'resources', { sid: 'vm:102', max_restart: 9999999999999999999999 }, 'max_restart'],
  ['POST', 'resources', { sid: 'vm:102', max_restart: '99999999999999999' }, 'max_restart'],
  ['POST', 'resources', { sid: 'vm:102', max_relocate: 1.5 }, 'max_relocate'],
  ['POST', 'resources', { sid: 'vm:102', max_relocate: -1 }, 'max_relocate'],
  ['POST', 'resources', { sid: 'vm:102', comment: 'a\nvm: 999' }, 'comment'],
  ['POST', 'resources', { sid: 'vm:102', comment: 'x'.repeat(4097) }, 'comment'],
  ['POST', 'resources', { sid: 'vm:102', comment: '\ud800' }, 'comment'],
  ['POST', 'resources', { sid: 'vm:102', state: 'running' }, 'state'],
  ['POST', 'resources', { sid: 'vm:102', failback: 'maybe' }, 'failback'],
  ['POST', 'resources', { sid: 'vm:102', failback: [1] }, 'failback'],
  ['POST', 'resources', { sid: 'vm:102', group: { a: 1 } }, 'group'],
  ['POST', 'resources', { sid: 'vm:102', state: null }, 'state'],
  ['POST', 'resources', { sid: 'vm:102', __proto__x: 1, bogus: 1 }, 'bogus'],
  ['POST', 'resources', { sid: 'vm:102\nvm:103' }, 'sid'],
  ['POST', 'resources', { sid: 'foo:1' }, 'sid'],
  ['POST', 'resources', {}, 'sid'],
  ['PUT', 'resources/vm%3A100', { delete: 'state', state: 'stopped' }, 'delete'],
  ['PUT', 'resources/vm%3A100', { delete: 'sid' }, 'delete'],
  ['POST', 'resources/vm%3A100/migrate', { node: 'no de' }, 'node'],
  ['POST', 'resources/vm%3A100/stop', { timeout: 99999999999999999999999 }, 'timeout'],
  ['POST', 'rules', { type: 'node-affinity', rule: 'r2', resources: 'vm:100', nodes: 'node1:99999999999999999999999' }, 'nodes'],
  ['POST', 'rules', { type: 'node-affinity', rule: 'r2', resources: 'vm:100', nodes: 'node1,node1' }, 'nodes'],
  ['POST', 'rules', { type: 'node-affinity', rule: '1bad', resources: 'vm:100', nodes: 'node1' }, 'rule'],
  ['POST', 'rules', { type: 'resource-affinity', rule: 'r2', resources: 'vm:100', affinity: 'sideways' }, 'affinity'],
  ['POST', 'rules', { type: 'node-affinity', rule: 'r2', resources: 'vm:100', nodes: 'node1', affinity: 'positive' }, 'affinity'],
  ['POST', 'rules', { type: 'node-affinity', rule: 'r2', resources: 'vm:100', nodes: 'node1', comment: '\u00a0\n' }, 'comment'],
  ['POST', 'groups', { group: 'g1', nodes: 'node1:-1' }, 'nodes'],
  ['POST', 'status/disarm-ha', { 'resource-mode': 'panic' }, 'resource-mode'],
  ['POST', 'status/node-maintenance', { node: '../etc', disable: 0 }, 'node'],
  ['PUT', 'timing', { profile: 'slow' }, 'profile'],
  ['PUT', 'timing', { 'time-scale': 0 }, 'time-scale'],
  ['PUT', 'timing', { 'time-scale': 1e-7 }, 'time-scale'],
  ['PUT', 'timing', { 'time-scale': 1e21 }, 'time-scale'],
  ['PUT', 'timing', { 'time-scale': '1e3' }, 'time-scale'],
  ['PUT', 'timing', { 'time-scale': '20.000000000000001' }, 'time-scale'],
  ['PUT', 'timing', { 'time-scale': true }, 'time-scale'],
  ['PUT', 'timing', { epoch: -1 }, 'epoch'],
  ['PUT', 'timing', { epoch: 99999999999999999999 }, 'epoch'],
];

describe('hostile parameters', () => {
  it.each(HOSTILE)('%s %s %j is refused naming %s', async (method, path, body, param) => {
    const result = await refused(400, method, `${HA}/${path}`, { body });
    expect(result.message).toBe('Parameter verification failed.');
    expect(Object.keys(result.errors ?? {})).toContain(param);
  });

  it('a parameter named __proto__ is an unknown parameter, not a prototype', async () => {
    const result = await refused(400, 'POST', `${HA}/resources`, { raw: '{"sid":"vm:102","__proto__":{"state":"stopped"}}', headers: { 'content-type': 'application/json' } });
    expect(result.errors).toHaveProperty('__proto__');
  });

  it('whitespace-only comments are written as no comment, so the file stays changeable', async () => {
    expect((await h.request('PUT', `${HA}/resources/vm%3A100`, { body: { comment: ' \u00a0 ' } })).status).toBe(200);
    expect((await h.request('PUT', `${HA}/resources/vm%3A100`, { body: { max_restart: 2 } })).status).toBe(200);
    expect(await h.store.read('ha/resources.cfg')).toContain('max_restart 2');
  });

  it('refusals of the cluster state are 4xx with the layer’s message', async () => {
    expect((await refused(404, 'GET', `${HA}/resources/vm%3A999`)).message).toBe("no such resource 'vm:999'");
    expect((await refused(409, 'POST', `${HA}/resources`, { body: { sid: 'vm:100' } })).message).toBe("create resource failed: resource ID 'vm:100' already defined");
    expect((await refused(409, 'PUT', `${HA}/resources/vm%3A100`, { body: { max_restart: 3, digest: '0'.repeat(40) } })).message).toContain('detected modified configuration');
    expect((await refused(404, 'POST', `${HA}/resources/vm%3A100/migrate`, { body: { node: 'node9' } })).message).toBe("no such cluster node 'node9'");
  });
});

describe('malformed requests', () => {
  it.each([
    ['malformed JSON', '{"sid": "vm:102",', 'application/json', 400, /^malformed JSON body/],
    ['a JSON array', '["vm:102"]', 'application/json', 400, /must be an object/],
    ['an unknown content type', 'sid=vm:102', 'text/plain', 415, /unsupported content type/],
  ])('%s is refused', async (_what, raw, type, status, message) => {
    const result = await refused(status, 'POST', `${HA}/resources`, { raw, headers: { 'content-type': type } });
    expect(result.message).toMatch(message);
  });

  it('an oversized body is refused with 413 without reading it all', async () => {
    const result = await refused(413, 'POST', `${HA}/resources`, { body: { sid: 'vm:102', comment: 'x'.repeat(10_000) } });
    expect(result.message).toBe('request body too large (at most 8192 bytes)');
  });

  it('a parameter given twice is refused under its name', async () => {
    const result = await refused(400, 'POST', `${HA}/resources?sid=vm:102`, { raw: 'sid=vm:103', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(result.errors).toEqual({ sid: 'given more than once' });
  });

  it('form bodies work like JSON ones', async () => {
    const r = await h.request('POST', `${HA}/resources`, { raw: 'sid=vm%3A102&max_restart=3', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(200);
    expect(await h.store.read('ha/resources.cfg')).toContain('vm: 102\n\tmax_restart 3');
  });

  it('bad paths and methods', async () => {
    await refused(404, 'GET', `${HA}/nothing-here`);
    await refused(400, 'GET', `${HA}/resources/%E0%A4%A`);
    const r = await refused(405, 'PATCH', `${HA}/resources`);
    expect(r.message).toBe('method PATCH not allowed here (allowed: GET, POST)');
  });
});

/** Every route with a request that would otherwise succeed or fail on its parameters. */
const ROUTES: Array<[string, string]> = [
  ...(Object.keys(OPERATIONS) as OperationId[]).map((id): [string, string] => [OPERATIONS[id].method, `${HA}/${OPERATIONS[id].path.replace(/\{[^}]+\}/g, 'vm%3A100')}`]),
  ['GET', `${HA}`],
  ['GET', `${HA}/status`],
  ['GET', `${HA}/events`],
  ['GET', '/metrics'],
];

describe('authentication', () => {
  it.each(ROUTES)('%s %s needs a token', async (method, path) => {
    await refused(401, method, path, { token: null });
    await refused(401, method, path, { token: `${h.admin}=not-the-secret-0000` });
    await refused(401, method, path, { token: `nobody@pam!x=not-the-secret-0000` });
    const malformed = await refused(401, method, path, { token: null, headers: { authorization: 'Bearer not-the-secret-0000' } });
    expect(malformed.message).toMatch(/^malformed Authorization header/);
  });

  it.each(ROUTES.filter(([method]) => method !== 'GET'))('an audit token cannot %s %s', async (method, path) => {
    const result = await refused(403, method, path, { token: `${h.audit}=${h.auditSecret}`, body: { node: 'node2', timeout: 1 } });
    expect(result.message).toBe(`permission denied: token '${h.audit}' has role audit; this call needs admin`);
  });

  it('an audit token reads', async () => {
    expect((await h.request('GET', `${HA}/resources`, { token: `${h.audit}=${h.auditSecret}` })).status).toBe(200);
  });

  it('the space form of the header works (what Prometheus sends)', async () => {
    const r = await h.request('GET', '/metrics', { token: null, headers: { authorization: `PVEAPIToken ${h.admin}=${h.adminSecret}` } });
    expect(r.status).toBe(200);
  });

  it('failed attempts are logged by token id, never with the secret', async () => {
    await h.request('GET', `${HA}/resources`, { token: `${h.admin}=not-the-secret-0000` });
    expect(h.logs.some((line) => line.includes('authentication failed') && line.includes(h.admin))).toBe(true);
  });

  it('a token removed from the file stops working at once', async () => {
    writeFileSync(h.tokenFile, `# emptied\n`);
    await refused(401, 'GET', `${HA}/resources`);
  });
});

describe('sessions of the web page', () => {
  async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const r = await fetch(`${h.url}/api2/json/access/ticket`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: h.admin, password: h.adminSecret }),
    });
    expect(r.status).toBe(200);
    const setCookie = r.headers.get('set-cookie') ?? '';
    const body = (await r.json()) as { data: { CSRFPreventionToken: string; username: string; role: string } };
    expect(body.data).toMatchObject({ username: h.admin, role: 'admin' });
    return { cookie: setCookie.split(';')[0], csrf: body.data.CSRFPreventionToken, setCookie };
  }

  it('login sets an HttpOnly, SameSite=Strict cookie and returns no session id', async () => {
    const { setCookie, cookie } = await login();
    expect(setCookie).toMatch(/^HAAuthCookie=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=7200$/);
    expect(h.logs.join('\n')).not.toContain(cookie.split('=')[1]);
  });

  it('a wrong secret is refused', async () => {
    const r = await h.request('POST', '/api2/json/access/ticket', { token: null, body: { username: h.admin, password: 'not-the-secret-0000' } });
    expect(r.status).toBe(401);
    expect(r.body.message).toBe('authentication failure (unknown token id or wrong secret)');
  });

  it('reads with the cookie; writes need the CSRF token too', async () => {
    const { cookie, csrf } = await login();
    expect((await h.request('GET', `${HA}/resources`, { token: null, headers: { cookie } })).status).toBe(200);
    const withoutCsrf = await refused(401, 'POST', `${HA}/resources`, { token: null, headers: { cookie }, body: { sid: 'vm:102' } });
    expect(withoutCsrf.message).toBe('invalid CSRF prevention token');
    await refused(401, 'POST', `${HA}/resources`, { token: null, headers: { cookie, csrfpreventiontoken: 'x'.repeat(csrf.length) }, body: { sid: 'vm:102' } });
    const r = await h.request('POST', `${HA}/resources`, { token: null, headers: { cookie, CSRFPreventionToken: csrf }, body: { sid: 'vm:102' } });
    expect(r.status).toBe(200);
  });

  it('logging out ends the session', async () => {
    const { cookie, csrf } = await login();
    expect((await h.request('DELETE', '/api2/json/access/ticket', { token: null, headers: { cookie, CSRFPreventionToken: csrf } })).status).toBe(200);
    await refused(401, 'GET', `${HA}/resources`, { token: null, headers: { cookie } });
  });

  it('only the page and its assets are public', async () => {
    const page = await fetch(`${h.url}/`);
    if (page.status === 200) {
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<div id="app">');
    }
    expect((await fetch(`${h.url}/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${h.url}/src/main.tsx`)).status).toBe(404);
  });
});
