// Shared by the dashboard's integration and browser tests: a customer view on in-memory PGlite seeded with
// one hostile person (HTML in names, emoji, right-to-left text), a dashboard config under a random Redis
// prefix, and a real BullMQ worker that fails a write-back job for good with a FailureDetail.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type TandemConfig } from '../../src/config/index.js';
import type { FailureDetail } from '../../src/queues/failure.js';
import { bullPrefix, QueueName } from '../../src/queues/names.js';
import { CustomerView } from '../../src/store/customer-view.js';
import { openDatabase, type CustomerViewConnection } from '../../src/store/database.js';

export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const VIEWER_TOKEN = 'viewer-token-0123456789abcdef';
export const NOW = new Date('2025-03-10T12:00:00Z');
export const HOSTILE_NAME = '<b>HTML</b><script>alert(1)</script> Zoë 😀 שלום';
export const HUBSPOT_ID = '1001';
export const SALESFORCE_ID = '00Q000000000001AAA';

export function testConfig(prefix: string, extra: Record<string, string> = {}): TandemConfig {
  return loadConfig(
    {
      TANDEM_REDIS_PREFIX: prefix,
      REDIS_URL: process.env['TEST_REDIS_URL'] ?? '',
      TANDEM_ADMIN_TOKEN: ADMIN_TOKEN,
      TANDEM_VIEWER_TOKEN: VIEWER_TOKEN,
      HUBSPOT_BASE_URL: 'http://127.0.0.1:9',
      SALESFORCE_INSTANCE_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'silent',
      ...extra,
    },
    { cwd: process.cwd() },
  );
}

export async function defaultMapping(): Promise<{ text: string; file: string }> {
  const file = 'mappings/default.yaml';
  return { text: await readFile(file, 'utf8'), file };
}

export async function seededCustomerView(): Promise<{
  connection: CustomerViewConnection;
  view: CustomerView;
}> {
  const connection = await openDatabase({ dataDir: ':memory:' });
  const view = new CustomerView(connection.db);
  const hour = 3_600_000;
  const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * hour);
  await view.upsertPersons([
    {
      id: 'person-hostile',
      email: 'hostile@example.com',
      lifecycleStage: 'mql',
      leadScore: 65,
      originalSource: 'organic_search',
      latestSource: 'paid_social',
      fields: { firstname: HOSTILE_NAME },
      mappingVersion: '1+abc',
      reevaluateAt: new Date(Date.UTC(2027, 0, 15, 9, 30)),
      createdAt: at(24 * 10),
      updatedAt: at(1),
    },
    {
      id: 'person-customer',
      email: 'won@example.com',
      lifecycleStage: 'customer',
      leadScore: 90,
      originalSource: 'referral',
      latestSource: 'referral',
      fields: {},
      createdAt: at(24 * 20),
      updatedAt: at(2),
    },
  ]);
  await view.replaceFieldValues(
    ['person-hostile'],
    [
      {
        unifiedId: 'person-hostile',
        recordType: 'person',
        field: 'firstname',
        value: HOSTILE_NAME,
        sourceSystem: 'hubspot',
        sourceObject: 'contacts',
        sourceRecordId: HUBSPOT_ID,
        sourceField: 'firstname',
        changedAt: at(3),
        rule: 'newest',
      },
    ],
  );
  await view.upsertLinks(
    [
      {
        system: 'hubspot',
        object: 'contacts',
        recordId: HUBSPOT_ID,
        unifiedId: 'person-hostile',
        recordType: 'person',
        linkedBy: 'email',
      },
      {
        system: 'salesforce',
        object: 'Lead',
        recordId: SALESFORCE_ID,
        unifiedId: 'person-hostile',
        recordType: 'person',
        linkedBy: 'email',
      },
    ],
    at(24 * 9),
  );
  await view.appendStageEntries([
    { personId: 'person-hostile', stage: 'lead', enteredAt: at(24 * 10), rule: 'lifecycle.lead' },
    {
      personId: 'person-hostile',
      stage: 'mql',
      enteredAt: at(48),
      previousStage: 'lead',
      rule: 'lifecycle.mql',
      reason: 'score ≥ 50',
    },
    { personId: 'person-customer', stage: 'mql', enteredAt: at(24 * 19), rule: 'lifecycle.mql' },
    {
      personId: 'person-customer',
      stage: 'sal',
      enteredAt: at(24 * 19 - 2),
      previousStage: 'mql',
      rule: 'lifecycle.sal',
    },
    {
      personId: 'person-customer',
      stage: 'customer',
      enteredAt: at(24 * 5),
      previousStage: 'sal',
      rule: 'lifecycle.customer',
    },
  ]);
  await view.replaceTouchpoints(
    ['person-hostile'],
    [
      {
        id: 'tp-1',
        personId: 'person-hostile',
        source: 'organic_search',
        detail: 'مرحبا بالعالم',
        campaign: '<i>spring</i>',
        occurredAt: at(24 * 10),
        system: 'hubspot',
      },
    ],
  );
  await view.appendWriteAudit([
    {
      jobId: 'write-1',
      system: 'salesforce',
      object: 'Lead',
      recordId: SALESFORCE_ID,
      unifiedId: 'person-hostile',
      field: 'FirstName',
      before: 'Old',
      after: HOSTILE_NAME,
      rule: 'newest',
      reason: 'HubSpot changed it more recently',
      outcome: 'written',
      at: at(2),
    },
  ]);
  const run = await view.startSyncRun({
    system: 'hubspot',
    object: 'contacts',
    kind: 'incremental',
    startedAt: at(2),
  });
  await view.finishSyncRun(run, {
    status: 'succeeded',
    finishedAt: at(1.9),
    recordsPulled: 120,
    recordsWritten: 30,
    recordsFailed: 2,
  });
  return { connection, view };
}

export interface FailingPipeline {
  prefix: string;
  queue: Queue;
  worker: Worker;
  /** While true, every job fails for good (the "permanent error"); set false to "fix" it. */
  broken: { value: boolean };
  addJob(name: string, data: Record<string, unknown>): Promise<Job>;
  close(): Promise<void>;
}

/** A write-back queue with a real worker that records a FailureDetail and throws UnrecoverableError. */
export async function failingPipeline(prefix: string): Promise<FailingPipeline> {
  const connection = new Redis(process.env['TEST_REDIS_URL'] ?? '', { maxRetriesPerRequest: null });
  const queue = new Queue(QueueName.WriteBack, { connection, prefix: bullPrefix(prefix) });
  const broken = { value: true };
  const worker = new Worker(
    QueueName.WriteBack,
    async (job) => {
      if (!broken.value) return { written: true };
      const failure: FailureDetail = {
        code: 'SALESFORCE_STRING_TOO_LONG',
        reason: `Salesforce rejected Lead.Title: 300 characters, the field holds 128 (${String(job.data['name'] ?? '')})`,
        kind: 'permanent',
        system: 'salesforce',
        object: 'Lead',
        recordId: SALESFORCE_ID,
        unifiedId: 'person-hostile',
        field: 'Title',
        failedAt: new Date().toISOString(),
      };
      await job.updateData({ ...job.data, failure });
      throw new UnrecoverableError(failure.reason);
    },
    { connection, prefix: bullPrefix(prefix) },
  );
  return {
    prefix,
    queue,
    worker,
    broken,
    async addJob(name, data) {
      return queue.add(name, data, { attempts: 3 });
    },
    async close() {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();
    },
  };
}

export function randomPrefix(): string {
  return `test-${randomUUID()}`;
}

/** Waits (polling, no timing assertion) until `check` holds. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  tries = 200,
): Promise<T> {
  for (let i = 0; i < tries; i += 1) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Waits for the overview's three charts to be drawn, then reads their value axes' minima. */
export async function overviewChartMinima(page: {
  waitForSelector(selector: string): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
}): Promise<Record<string, number>> {
  for (const id of ['chart-throughput', 'chart-lag', 'chart-failures']) {
    await page.waitForSelector(`canvas[data-chart="${id}"][data-drawn="true"]`);
  }
  return chartValueAxisMinima(page);
}

/**
 * For every chart drawn on the page, the lowest value of its value axis (y, or x for a horizontal bar
 * chart), as Chart.js laid it out. Evaluated in the browser (as text: the tests compile without DOM types).
 */
export async function chartValueAxisMinima(page: { evaluate(expression: string): Promise<unknown> }) {
  return (await page.evaluate(`Object.fromEntries(
    [...document.querySelectorAll('canvas[data-drawn="true"]')].map((canvas) => {
      const chart = window.Chart.getChart(canvas);
      return [canvas.dataset.chart, chart.scales[chart.options.indexAxis === 'y' ? 'x' : 'y'].min];
    }),
  )`)) as Record<string, number>;
}
