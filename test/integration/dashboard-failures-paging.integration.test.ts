// More failed jobs than a page holds: the Failures page pages through them (counting every job of a code in
// its group), and replaying a code or a time window reaches every failed job, however many pages of Redis
// reads that takes. Small page sizes stand in for the defaults (100 a page, 1000 a read).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createDashboard } from '../../src/dashboard/server.js';
import { QueueBoard } from '../../src/dashboard/queues.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { CustomerViewConnection } from '../../src/store/database.js';
import type { CustomerView } from '../../src/store/customer-view.js';
import {
  ADMIN_TOKEN,
  defaultMapping,
  eventually,
  failingPipeline,
  randomPrefix,
  seededCustomerView,
  testConfig,
  type FailingPipeline,
} from './dashboard-support.js';

const JOBS = 5;
const CODE = 'SALESFORCE_STRING_TOO_LONG';

describe('failures beyond one page', () => {
  const prefix = randomPrefix();
  let redis: Redis;
  let pipeline: FailingPipeline;
  let db: { connection: CustomerViewConnection; view: CustomerView };
  let app: FastifyInstance;
  let base: string;
  let cookie: string;
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    pipeline = await failingPipeline(prefix);
    db = await seededCustomerView();
    const jobs = [];
    for (let i = 0; i < JOBS; i += 1) jobs.push(await pipeline.addJob(`job-${i}`, { name: `job-${i}` }));
    for (const job of jobs)
      await eventually(async () => (await job.getState()) === 'failed', 'a job to fail');
    app = await createDashboard({
      config: testConfig(prefix),
      redis,
      queues: [pipeline.queue],
      customerView: db.view,
      mapping: await defaultMapping(),
      metrics: createMetrics(),
      failuresPageSize: 2,
      failedReadPageSize: 2,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/' }),
      redirect: 'manual',
    });
    cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
  });
  afterAll(async () => {
    await app.close();
    await pipeline.close();
    await db.connection.close();
    redis.disconnect();
  });

  it('reads every failed job, a page of Redis reads at a time', async () => {
    const board = new QueueBoard({
      queues: [pipeline.queue],
      redis,
      prefix,
      links: { hubspotBaseUrl: 'http://127.0.0.1:9' },
      failedPageSize: 2,
    });
    const all = await board.failedJobs();
    expect(all).toHaveLength(JOBS);
    expect(new Set(all.map((j) => j.id)).size).toBe(JOBS);
  });

  it('pages the Failures page, counting every failure of the code in its group', async () => {
    const first = await (await fetch(`${base}/failures`, { headers: { cookie } })).text();
    expect(first).toMatch(/Failed jobs 1–2 of 5, newest first\./);
    expect(first).toContain(`${JOBS} failed`);
    expect(first).toContain('(2 on this page)');
    expect(first).toContain(`Replay all ${JOBS} with ${CODE}`);
    expect(first.match(/<tr data-job=/g)).toHaveLength(2);
    expect(first).toContain('href="/failures?page=2"');
    expect(first).not.toContain('Newer failures');
    const last = await (await fetch(`${base}/failures?page=3`, { headers: { cookie } })).text();
    expect(last).toMatch(/Failed jobs 5–5 of 5, newest first\./);
    expect(last.match(/<tr data-job=/g)).toHaveLength(1);
    expect(last).toContain('href="/failures?page=2"');
    expect(last).not.toContain('Older failures');
    // Every job appears on exactly one page.
    const ids = new Set<string>();
    for (const page of [1, 2, 3]) {
      const text = await (await fetch(`${base}/failures?page=${page}`, { headers: { cookie } })).text();
      for (const [, id] of text.matchAll(/<tr data-job="write-back\/([^"]+)"/g)) ids.add(id ?? '');
    }
    expect(ids.size).toBe(JOBS);

    const api = (await (
      await fetch(`${base}/api/failures?offset=4&limit=2`, { headers: bearer })
    ).json()) as {
      total: number;
      groups: Array<{ count: number; jobs: unknown[] }>;
    };
    expect(api.total).toBe(JOBS);
    expect(api.groups).toEqual([expect.objectContaining({ code: CODE, count: JOBS })]);
    expect(api.groups[0]?.jobs).toHaveLength(1);
    expect((await fetch(`${base}/api/failures?offset=x`, { headers: bearer })).status).toBe(400);
  });

  it('replays every failure of the code, not only the first page', async () => {
    pipeline.broken.value = false;
    const res = await fetch(`${base}/api/replays`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ code: CODE }),
    });
    expect(res.status).toBe(202);
    const replay = (await res.json()) as { id: string; jobs: unknown[] };
    expect(replay.jobs).toHaveLength(JOBS);
    await eventually(async () => {
      const status = (await (
        await fetch(`${base}/api/replays/${replay.id}`, { headers: bearer })
      ).json()) as {
        progress: { completed: number };
      };
      return status.progress.completed === JOBS;
    }, 'every replayed job to complete');
    expect(await pipeline.queue.getFailedCount()).toBe(0);
  });
});
