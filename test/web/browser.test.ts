// The web interface in a real browser (Debian's chromium, driven by
// playwright-core; no browser is downloaded) against a real ha-api on a
// store that real ha-crm/ha-lrm daemons manage: log in, add a service and
// see it reach `started`, migrate it and see it move, put a node into
// maintenance, see the error for a bad input, add, edit and delete a rule. Screenshots of every view go
// to test-artifacts/browser/. Without chromium the suite is skipped with the
// reason; HA_REQUIRE_BROWSER=1 makes that a failure (test/prerequisites.ts).

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { requirePrerequisite, skipped } from '../prerequisites.js';
import { REPO_ROOT } from '../simulator/scenario-dirs.js';
import { BUILT, WEB_BUILT, startCluster, until, type Cluster } from '../api/cluster.js';

const CHROMIUM = process.env.HA_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'browser');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('web interface in chromium', () => {
  const missing =
    requirePrerequisite('browser', existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium; scripts/setup does it on Debian)`) ??
    requirePrerequisite('browser', BUILT && WEB_BUILT, 'dist/ or dist/web is not built (npm run build)');
  if (missing !== undefined) return skipped(missing);

  let cluster: Cluster;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    cluster = await startCluster({ services: ['web', 'db'] });
    profile = mkdtempSync(join(tmpdir(), 'ha-chromium-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const field = (name: string) => page.locator(`[name="${name}"]`);
  const row = (table: string, attr: string, id: string) => page.locator(`table[data-table="${table}"] tr[${attr}="${id}"]`);

  it('logs in with a token and shows the live status', async () => {
    await page.goto(cluster.url);
    await field('username').fill(cluster.adminToken);
    await field('password').fill('wrong-secret');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('.error-box').textContent()).toContain('authentication failure');
    await field('password').fill(cluster.adminSecret);
    await shot('login');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    await page.locator('.live.on').waitFor();
    // every cluster member is listed, online
    for (const node of ['node1', 'node2', 'node3']) await row('nodes', 'data-node', node).locator('.badge', { hasText: 'online' }).waitFor();
  });

  it('adds a service and sees it reach started', async () => {
    await page.getByRole('link', { name: 'Resources' }).click();
    await page.getByRole('button', { name: 'Add resource' }).click();
    await field('sid').fill('exec:web');
    await field('node').selectOption('node1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const web = row('resources', 'data-sid', 'exec:web');
    await web.locator('[data-col="state"]', { hasText: 'started' }).waitFor({ timeout: 45_000 });
    await expect.poll(() => web.locator('[data-col="node"]').textContent()).toBe('node1');
    await until('exec:web to run on node1', () => cluster.runningOn('web').join() === 'node1', 20_000);
    await shot('resources');
  });

  it('migrates the service and sees it move', async () => {
    const web = row('resources', 'data-sid', 'exec:web');
    await web.getByRole('button', { name: 'Migrate' }).click();
    await field('node').selectOption('node2');
    await page.getByRole('button', { name: 'Migrate', exact: true }).last().click();
    await web.locator('[data-col="node"]', { hasText: 'node2' }).waitFor({ timeout: 45_000 });
    await web.locator('[data-col="state"]', { hasText: 'started' }).waitFor({ timeout: 45_000 });
    await until('exec:web to run on node2 only', () => cluster.runningOn('web').join() === 'node2', 30_000);
  });

  it('shows the error for a bad input, at the field', async () => {
    await page.getByRole('button', { name: 'Add resource' }).click();
    await field('sid').fill('exec:db');
    await field('node').selectOption('node1');
    await field('max_restart').fill('-1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const fieldError = page.locator('[data-field="max_restart"] .field-error');
    await expect.poll(() => fieldError.textContent()).toBe('value must have a minimum value of 0');
    await expect.poll(() => page.locator('.dialog .error-box').textContent()).toContain('Parameter verification failed.');
    await shot('resource-error');
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('puts a node into maintenance', async () => {
    await page.getByRole('link', { name: 'Nodes' }).click();
    const node3 = row('nodes', 'data-node', 'node3');
    await node3.getByRole('button', { name: 'Enter maintenance' }).click();
    await node3.locator('.badge', { hasText: 'maintenance' }).first().waitFor({ timeout: 45_000 });
    await node3.getByRole('button', { name: 'End maintenance' }).waitFor();
    await shot('nodes');
  });

  it('shows rules, groups and the status view', async () => {
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await field('rule').fill('web-prefers-node2');
    await field('resources').fill('exec:web');
    await field('nodes').fill('node2:2,node1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const rule = row('rules', 'data-rule', 'web-prefers-node2');
    await rule.waitFor();
    // edited: only what changed is sent, with the digest read
    await rule.getByRole('button', { name: 'Edit' }).click();
    await field('comment').fill('soft preference');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await rule.locator('td', { hasText: 'soft preference' }).waitFor();
    await shot('rules');
    // deleted once confirmed
    page.once('dialog', (dialog) => void dialog.accept());
    await rule.getByRole('button', { name: 'Delete' }).click();
    await rule.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups' }).waitFor();
    await shot('groups');
    await page.getByRole('link', { name: 'Status' }).click();
    await row('services', 'data-sid', 'exec:web').locator('[data-col="node"]', { hasText: 'node2' }).waitFor();
    // the cluster's timing and the failover it implies (GET timing)
    const timing = page.locator('[data-card="timing"]');
    await expect.poll(() => timing.textContent()).toContain('profile default at time-scale 20');
    await expect.poll(() => timing.locator('[data-timing="failover"]').textContent()).toBe(
      "failover after a node reset: up to 122s (122s if it ran the master), plus the service's start",
    );
    await shot('status');
  });
});
