// The dashboard in a real browser (Debian's chromium through playwright-core): log in, read the overview,
// replay a failed job from the failures page, look a customer up, open the funnel. Screenshots go to
// test-artifacts/. The failure here comes from a stand-in worker; the full story — a permanent error
// injected into the sandbox, fixed, replayed, and the record then written in the other system — plugs in
// at `failingPipeline` once the real workers exist.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDashboard } from '../../src/dashboard/server.js';
import {
  ADMIN_TOKEN,
  chartValueAxisMinima,
  overviewChartMinima,
  defaultMapping,
  eventually,
  failingPipeline,
  NOW,
  randomPrefix,
  seededCustomerView,
  testConfig,
  type FailingPipeline,
} from '../integration/dashboard-support.js';

const ARTIFACTS = 'test-artifacts';

describe('dashboard in a browser', () => {
  const prefix = randomPrefix();
  let redis: Redis;
  let pipeline: FailingPipeline;
  let db: Awaited<ReturnType<typeof seededCustomerView>>;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    pipeline = await failingPipeline(prefix);
    db = await seededCustomerView();
    app = await createDashboard({
      config: testConfig(prefix),
      redis,
      customerView: db.view,
      mapping: await defaultMapping(),
      connections: { checkHubSpot: async () => true, checkSalesforce: async () => true },
      now: () => NOW,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
    userDataDir = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
    // A fresh user data dir per run: nothing from an earlier run (cookies, cache) leaks in.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await pipeline?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis?.quit();
    await db?.connection.close();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('logs in and shows the overview with its charts', async () => {
    await page.goto(`${base}/`);
    expect(page.url()).toContain('/login');
    await page.fill('input[name="token"]', ADMIN_TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await expect(page.locator('#syncs tbody tr').count()).resolves.toBeGreaterThanOrEqual(7);
    // Lag and counts cannot be negative: every axis starts at 0 (the lag's data alone would start it at 50).
    await expect(overviewChartMinima(page)).resolves.toEqual({
      'chart-throughput': 0,
      'chart-lag': 0,
      'chart-failures': 0,
    });
    await shot('overview');
  });

  it('replays a failed job from the failures page', async () => {
    const job = await pipeline.addJob('browser', { name: 'browser' });
    await eventually(async () => (await job.getState()) === 'failed', 'the job to fail');
    await page.click('nav a[href="/failures"]');
    const group = page.locator('section.failure-group[data-code="SALESFORCE_STRING_TOO_LONG"]');
    await expect(group.locator('tbody tr').count()).resolves.toBe(1);
    await shot('failures');
    pipeline.broken.value = false; // the cause is fixed
    await group.locator(`button[name="one"][value="write-back|${job.id ?? ''}"]`).click();
    await page.waitForURL(/\/replays\/[0-9a-f-]{36}$/);
    // The page refreshes itself while the replay runs.
    await page.waitForSelector('.replay-state[data-state="done"]', { timeout: 30_000 });
    await expect(page.locator('#replay-jobs td.state-completed').count()).resolves.toBe(1);
    await shot('replay');
    expect(await job.getState()).toBe('completed');
  });

  it('looks a customer up and shows hostile names as text', async () => {
    await page.click('nav a[href="/customer"]');
    await page.fill('input[name="q"]', 'hostile@example.com');
    await page.click('form.search button');
    await page.waitForSelector('#person');
    const value = await page.locator('#fields tbody tr td').nth(1).textContent();
    expect(value).toBe('<b>HTML</b><script>alert(1)</script> Zoë 😀 שלום');
    await expect(page.locator('#fields b').count()).resolves.toBe(0);
    await expect(page.locator('#audit tbody tr').count()).resolves.toBe(1);
    await shot('customer');
  });

  it('opens the funnel with its charts and SLA breaches', async () => {
    await page.goto(`${base}/funnel?from=2025-01-01&to=2025-04-01`);
    await page.waitForSelector('canvas[data-chart="chart-funnel"][data-drawn="true"]');
    await page.waitForSelector('canvas[data-chart="chart-funnel-groups"][data-drawn="true"]');
    await expect(chartValueAxisMinima(page)).resolves.toEqual({
      'chart-funnel': 0,
      'chart-funnel-groups': 0,
    });
    await expect(page.locator('#sla tbody tr').count()).resolves.toBe(1);
    await shot('funnel');
  });
});
