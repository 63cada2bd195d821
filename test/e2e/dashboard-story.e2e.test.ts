// The dashboard story in a real browser with the REAL pipeline: the sandboxes with a demo world, the real
// queues and in-process workers, a real sync; then a permanent error Salesforce really produces (its
// duplicate rule blocks Tandem's update of a Lead whose email marketing changed), seen on the failures page,
// fixed in Salesforce through the SDK, replayed from the page, and the record then written in Salesforce.
// Screenshots go to test-artifacts/ (dashboard-story-*.png).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config/index.js';
import { createDashboard } from '../../src/dashboard/server.js';
import { createLogger } from '../../src/logging.js';
import { openSyncPipeline } from '../../src/pipeline/open.js';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import { concurrencyFrom, openQueueClients, type QueueClients } from '../../src/queues/cli-support.js';
import { runCycle } from '../../src/queues/cycle.js';
import { startWorkers, type WorkerSet } from '../../src/queues/runtime.js';
import { ADMIN_TOKEN, overviewChartMinima } from '../integration/dashboard-support.js';
import { startSyncWorld, type SyncWorld } from '../integration/sync-e2e-support.js';

const ARTIFACTS = 'test-artifacts';
const CODE = 'SALESFORCE_DUPLICATES_DETECTED';

describe('the dashboard story with the real pipeline', () => {
  let world: SyncWorld;
  let pipeline: SyncPipelineImpl;
  let clients: QueueClients;
  let workers: WorkerSet;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let bad: { hubspot: string; lead: string };
  let email: string;
  let duplicateId: string;
  let jobId: string;
  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `dashboard-story-${name}.png`), fullPage: true });
  const lead = async (id: string): Promise<Record<string, unknown>> =>
    (await world.salesforce.sobject('Lead').retrieve(id)) as unknown as Record<string, unknown>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    world = await startSyncWorld(60);
    const config = loadConfig({ ...world.env, TANDEM_ADMIN_TOKEN: ADMIN_TOKEN }, { cwd: process.cwd() });
    const log = createLogger(config);
    pipeline = await openSyncPipeline(config, { database: { dataDir: ':memory:' }, logger: log });
    clients = await openQueueClients(config);
    workers = await startWorkers({
      redisUrl: config.redis.url,
      redisPrefix: config.redis.prefix,
      pipeline,
      producers: clients.producers,
      log,
      concurrency: concurrencyFrom(config),
    });
    const cycle = () =>
      runCycle({ producers: clients.producers, objects: pipeline.objects, mode: 'incremental' });
    const first = await cycle();
    const failedBefore = new Set(first.failures.map((f) => f.recordId));

    // A linked person whose Salesforce side is one open Lead.
    const links = await pipeline.db
      .selectFrom('record_links')
      .selectAll()
      .where('record_type', '=', 'person')
      .execute();
    const byPerson = new Map<string, { hubspot?: string; leads: string[]; others: number }>();
    for (const l of links) {
      const p = byPerson.get(l.unified_id) ?? { leads: [], others: 0 };
      if (l.system === 'hubspot') p.hubspot = l.record_id;
      else if (l.object === 'Lead') p.leads.push(l.record_id);
      else p.others += 1;
      byPerson.set(l.unified_id, p);
    }
    for (const p of byPerson.values()) {
      const id = p.leads[0];
      if (p.hubspot === undefined || id === undefined || p.leads.length > 1 || p.others > 0) continue;
      if (failedBefore.has(id) || failedBefore.has(p.hubspot)) continue;
      const row = await lead(id);
      if (row['IsConverted'] === false && typeof row['Email'] === 'string') {
        bad = { hubspot: p.hubspot, lead: id };
        break;
      }
    }
    expect(bad).toBeDefined();

    // The injected permanent error: a rep's new Lead holds the address marketing moves the contact to.
    email = `story-${randomUUID().slice(0, 8)}@example.com`;
    const duplicate = await world.salesforce
      .sobject('Lead')
      .create({ LastName: 'Duplicate', Company: 'Rep Created', Email: email });
    duplicateId = duplicate.id as string;
    await world.hubspot.crm.contacts.basicApi.update(bad.hubspot, { properties: { email } });
    const second = await cycle();
    const failure = second.failures.find((f) => f.recordId === bad.lead);
    expect(failure).toMatchObject({ code: CODE, queue: 'write-back' });
    jobId = failure?.jobId ?? '';

    app = await createDashboard({
      config,
      redis: clients.redis,
      customerView: pipeline.view,
      mapping: { text: await readFile(config.mappingPath, 'utf8'), file: config.mappingPath },
      connections: { checkHubSpot: async () => true, checkSalesforce: async () => true },
      logger: log,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
    userDataDir = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
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
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await workers?.close();
    await pipeline?.close();
    await clients?.close();
    await world?.stop();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('logs in and shows the overview of the real sync', async () => {
    await page.goto(`${base}/`);
    expect(page.url()).toContain('/login');
    await page.fill('input[name="token"]', ADMIN_TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await expect(page.locator('#syncs tbody tr').count()).resolves.toBeGreaterThanOrEqual(7);
    // The failed write to the Lead counts in Salesforce Lead's failure rate.
    const rate = await page.locator('tr[data-sync="salesforce/Lead"] td.failure-rate').textContent();
    expect(rate?.trim()).toMatch(/^\d+(\.\d)?%$/);
    expect(Number.parseFloat(rate ?? '')).toBeGreaterThan(0);
    // Right after the sync the lag is flat: its axis must still start at 0, not at -1.
    await expect(overviewChartMinima(page)).resolves.toEqual({
      'chart-throughput': 0,
      'chart-lag': 0,
      'chart-failures': 0,
    });
    await shot('overview');
  });

  it('shows the failure with its reason and record link, and replays it once fixed in Salesforce', async () => {
    await page.click('nav a[href="/failures"]');
    const row = page.locator(`section.failure-group[data-code="${CODE}"] tr[data-job="write-back/${jobId}"]`);
    await expect(row.count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toContain('duplicate rules blocked writing Lead');
    await expect(row.textContent()).resolves.toContain(email);
    const link = row.locator(`a:has-text("${bad.lead}")`);
    await expect(link.getAttribute('href')).resolves.toContain(bad.lead);
    await shot('failure');
    // The record link opens the Lead (the sandbox's read-only record page) in a new tab.
    const [recordTab] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await recordTab.waitForSelector('#record-fields');
    await expect(recordTab.locator('#record-title').textContent()).resolves.toContain(`Lead ${bad.lead}`);
    const leadRow = await lead(bad.lead);
    await expect(recordTab.locator('#record-fields').textContent()).resolves.toContain(
      String(leadRow['LastName']),
    );
    await recordTab.screenshot({ path: join(ARTIFACTS, 'dashboard-story-record-lead.png'), fullPage: true });
    await recordTab.close();
    expect((await lead(bad.lead))['Email']).not.toBe(email);

    await world.salesforce.sobject('Lead').destroy(duplicateId); // the cause, fixed in Salesforce
    await row.locator(`button[name="one"][value="write-back|${jobId}"]`).click();
    await page.waitForURL(/\/replays\/[0-9a-f-]{36}$/);
    await page.waitForSelector('.replay-state[data-state="done"]', { timeout: 60_000 });
    await expect(page.locator('#replay-jobs td.state-completed').count()).resolves.toBe(1);
    await shot('replay');
    expect((await lead(bad.lead))['Email']).toBe(email);
  }, 120_000);

  it('looks the customer up by the new email', async () => {
    await page.click('nav a[href="/customer"]');
    await page.fill('input[name="q"]', email);
    await page.click('form.search button');
    await page.waitForSelector('#person');
    await expect(page.locator('body').textContent()).resolves.toContain(bad.lead);
    await shot('customer');
    // The HubSpot contact's link opens it, with the email marketing gave it.
    const [recordTab] = await Promise.all([
      context.waitForEvent('page'),
      page.locator(`#links a:has-text("${bad.hubspot}")`).click(),
    ]);
    await recordTab.waitForSelector('#record-fields');
    await expect(recordTab.locator('#record-title').textContent()).resolves.toContain(
      `contacts ${bad.hubspot}`,
    );
    await expect(recordTab.locator('#record-fields').textContent()).resolves.toContain(email);
    await recordTab.close();
  });

  it('opens the funnel', async () => {
    await page.goto(`${base}/funnel`);
    await page.waitForSelector('canvas[data-chart="chart-funnel"][data-drawn="true"]');
    await shot('funnel');
  });
});
