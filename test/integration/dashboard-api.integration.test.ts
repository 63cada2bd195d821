// The dashboard over real HTTP against the private test Redis and an in-memory customer view: every
// endpoint, who may use it, CSRF, bearer access, escaping of hostile record data, and a failed BullMQ job
// (a real Worker throwing UnrecoverableError after storing a FailureDetail) grouped by code and replayed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { TandemConfig } from '../../src/config/index.js';
import { createDashboard } from '../../src/dashboard/server.js';
import { InsecureListenError } from '../../src/dashboard/auth.js';
import { RateLimitedError } from '../../src/connectors/classify.js';
import { HubSpotCaller, type HttpInfoLike } from '../../src/connectors/hubspot/client.js';
import { MetricsPublisher } from '../../src/observability/metrics-publisher.js';
import { createMetrics, metrics as sharedMetrics } from '../../src/observability/metrics.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { startHubSpotSandbox } from '../support/hubspot-sandbox.js';
import type { CustomerViewConnection } from '../../src/store/database.js';
import type { CustomerView } from '../../src/store/customer-view.js';
import {
  ADMIN_TOKEN,
  defaultMapping,
  eventually,
  failingPipeline,
  HOSTILE_NAME,
  HUBSPOT_ID,
  NOW,
  randomPrefix,
  SALESFORCE_ID,
  seededCustomerView,
  testConfig,
  VIEWER_TOKEN,
  type FailingPipeline,
} from './dashboard-support.js';
import { startHarness } from './salesforce-connector-helpers.js';

interface Session {
  cookie: string;
  csrf: string;
}

describe('dashboard over HTTP', () => {
  const prefix = randomPrefix();
  const salesforceUp = { value: false };
  let config: TandemConfig;
  let redis: Redis;
  let pipeline: FailingPipeline;
  let db: { connection: CustomerViewConnection; view: CustomerView };
  let app: FastifyInstance;
  let base: string;
  let admin: Session;
  let viewer: Session;
  const metrics = createMetrics();

  const get = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { redirect: 'manual', ...init });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const cookie = (s: Session) => ({ cookie: s.cookie });

  async function login(token: string): Promise<Session> {
    const res = await get('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, next: '/' }).toString(),
    });
    expect(res.status).toBe(303);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const value = /^(tandem_session=[^;]+)/.exec(setCookie)?.[1];
    if (value === undefined) throw new Error('no session cookie');
    const page = await (await get('/', { headers: { cookie: value } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    if (csrf === undefined) throw new Error('no CSRF token on the page');
    return { cookie: value, csrf };
  }

  async function failedJob(name: string): Promise<string> {
    const job = await pipeline.addJob(name, { name, system: 'salesforce', object: 'Lead' });
    await eventually(async () => (await job.getState()) === 'failed', `job ${name} to fail`);
    return job.id ?? '';
  }

  beforeAll(async () => {
    config = testConfig(prefix);
    redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    pipeline = await failingPipeline(prefix);
    db = await seededCustomerView();
    app = await createDashboard({
      config,
      redis,
      customerView: db.view,
      mapping: await defaultMapping(),
      connections: { checkHubSpot: async () => true, checkSalesforce: async () => salesforceUp.value },
      now: () => NOW,
      metrics,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
    admin = await login(ADMIN_TOKEN);
    viewer = await login(VIEWER_TOKEN);
  });

  afterAll(async () => {
    await app?.close();
    await pipeline?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis?.quit();
    await db?.connection.close();
  });

  describe('health', () => {
    it('answers /healthz without a login', async () => {
      const res = await get('/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('says which system is not ready, then ready once it is', async () => {
      salesforceUp.value = false;
      const down = await get('/readyz');
      expect(down.status).toBe(503);
      const body = (await down.json()) as { failed: string[]; checks: Record<string, string> };
      expect(body.failed).toEqual(['salesforce']);
      expect(body.checks).toMatchObject({ redis: 'ok', hubspot: 'ok', salesforce: 'not authenticated' });
      salesforceUp.value = true;
      const up = await get('/readyz');
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'ready', failed: [] });
    });
  });

  describe('login and access', () => {
    it('refuses a wrong token and a cross-site login form', async () => {
      const wrong = await get('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=not-the-token',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('set-cookie')).toBeNull();
      const crossSite = await get('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
        body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      });
      expect(crossSite.status).toBe(403);
      expect(crossSite.headers.get('set-cookie')).toBeNull();
    });

    it('shows the login form', async () => {
      const res = await get('/login?next=/funnel');
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).toContain('name="token"');
      expect(page).toContain('value="/funnel"');
    });

    it.each([
      '/',
      '/failures',
      '/customer?q=x',
      '/funnel',
      '/mapping',
      '/replays/00000000-0000-0000-0000-000000000000',
      '/admin/queues',
    ])('sends %s to the login page without a session', async (path) => {
      const res = await get(path);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    });

    it.each([
      '/api/overview',
      '/api/queues',
      '/api/failures',
      '/api/replays',
      '/api/customer?q=x',
      '/api/funnel',
      '/api/sla',
      '/api/mapping',
      '/metrics',
      '/admin/queues/api/queues',
    ])('answers 401 on %s without a session or token', async (path) => {
      expect((await get(path)).status).toBe(401);
      expect((await get(path, { headers: bearer('wrong-token-0123456789') })).status).toBe(401);
    });

    it('refuses state changes without a login', async () => {
      const res = await get('/api/replays', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'X' }),
      });
      expect(res.status).toBe(401);
      expect((await get('/failures/replay', { method: 'POST' })).status).toBe(401);
    });

    it('takes a bearer token on the API and /metrics, not on pages', async () => {
      expect((await get('/api/overview', { headers: bearer(VIEWER_TOKEN) })).status).toBe(200);
      expect((await get('/metrics', { headers: bearer(ADMIN_TOKEN) })).status).toBe(200);
      expect((await get('/', { headers: bearer(ADMIN_TOKEN) })).status).toBe(303);
    });

    it('sets a strict Content-Security-Policy and no-store on pages', async () => {
      const res = await get('/', { headers: cookie(admin) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    });

    it('refuses to open beyond loopback without an admin token', async () => {
      const open: TandemConfig = { ...config, dashboard: { host: '0.0.0.0', port: 4280 } };
      await expect(
        createDashboard({ config: open, redis, customerView: db.view, mapping: await defaultMapping() }),
      ).rejects.toBeInstanceOf(InsecureListenError);
    });
  });

  describe('overview', () => {
    it('renders syncs, quota, queues and charts', async () => {
      const page = await (await get('/', { headers: cookie(viewer) })).text();
      expect(page).toContain('<h1>Overview</h1>');
      expect(page).toContain('datetime="2025-03-10T10:06:00.000Z"');
      expect(page).toContain('>contacts</td>');
      expect(page).toContain('id="queues"');
      expect(page).toContain('data-chart="chart-throughput"');
      expect(page).toContain('<script src="/static/chart.umd.js" defer></script>');
    });

    it('returns the same as JSON, with "unknown" as null', async () => {
      const res = await get('/api/overview', { headers: cookie(viewer) });
      const body = (await res.json()) as {
        syncs: Array<Record<string, unknown>>;
        quota: Array<Record<string, unknown>>;
        queues: Array<Record<string, unknown>>;
        series: { throughput: number[] };
      };
      const contacts = body.syncs.find((s) => s['system'] === 'hubspot' && s['object'] === 'contacts');
      // No job about contacts has finished: its sync run's own counts are not a failure rate.
      expect(contacts).toMatchObject({
        lastSuccessAt: '2025-03-10T10:06:00.000Z',
        lagSeconds: 6840,
        recordsSynced24h: 150,
        jobsCompleted24h: 0,
        jobsFailed24h: 0,
        failureRate24h: null,
        checkpoint: null,
      });
      const lead = body.syncs.find((s) => s['object'] === 'Lead');
      expect(lead).toMatchObject({ lastSuccessAt: null, lagSeconds: null, failureRate24h: null });
      expect(body.quota.find((q) => q['system'] === 'hubspot')).toMatchObject({
        used: 0,
        limit: 250_000,
        budget: 125_000,
      });
      expect(body.quota.find((q) => q['system'] === 'salesforce')).toMatchObject({
        limit: null,
        budget: null,
      });
      expect(body.queues.map((q) => q['queue']).sort()).toEqual(['pull', 'reconcile', 'write-back']);
      expect(body.series.throughput.reduce((a, b) => a + b, 0)).toBe(150);
    });

    it("reads a checkpoint and today's API budget from Redis", async () => {
      await redis.set(
        `${prefix}:{checkpoint}:salesforce:Lead`,
        JSON.stringify({ phase: 'incremental', after: '2025-03-10T11:00:00Z' }),
      );
      await redis.set(`${prefix}:{budget}:hubspot:daily:2025-03-10`, '1234');
      const body = (await (await get('/api/overview', { headers: bearer(VIEWER_TOKEN) })).json()) as {
        syncs: Array<Record<string, unknown>>;
        quota: Array<Record<string, unknown>>;
      };
      expect(body.syncs.find((s) => s['object'] === 'Lead')?.['checkpoint']).toContain(
        '"phase":"incremental"',
      );
      expect(body.quota.find((q) => q['system'] === 'hubspot')?.['used']).toBe(1234);
    });

    it('lists queue depths', async () => {
      const body = (await (await get('/api/queues', { headers: bearer(VIEWER_TOKEN) })).json()) as {
        queues: Array<Record<string, number | string>>;
      };
      expect(body.queues.find((q) => q['queue'] === 'write-back')).toMatchObject({
        waiting: expect.any(Number),
        failed: expect.any(Number),
      });
    });
  });

  describe('failures and replay', () => {
    let firstJob: string;

    beforeAll(async () => {
      pipeline.broken.value = true;
      firstJob = await failedJob('first');
    });

    it('groups failed jobs by code with the reason, record link, attempts and payload', async () => {
      const body = (await (await get('/api/failures', { headers: bearer(VIEWER_TOKEN) })).json()) as {
        groups: Array<{
          code: string;
          count: number;
          reasons: string[];
          jobs: Array<Record<string, unknown>>;
        }>;
      };
      const group = body.groups.find((g) => g.code === 'SALESFORCE_STRING_TOO_LONG');
      expect(group).toBeDefined();
      const job = group?.jobs.find((j) => j['id'] === firstJob);
      expect(job).toMatchObject({
        queue: 'write-back',
        reason: 'Salesforce rejected Lead.Title: 300 characters, the field holds 128 (first)',
        kind: 'permanent',
        system: 'salesforce',
        object: 'Lead',
        recordId: SALESFORCE_ID,
        field: 'Title',
        recordUrl: `http://127.0.0.1:9/__sandbox/records/Lead/${SALESFORCE_ID}`,
        attemptsMade: 1,
        attempts: 3,
        payload: { name: 'first', system: 'salesforce', object: 'Lead' },
      });
    });

    it("counts finished jobs in their object's failure rate, on the page too", async () => {
      const syncs = async () =>
        (
          (await (await get('/api/overview', { headers: bearer(VIEWER_TOKEN) })).json()) as {
            syncs: Array<Record<string, unknown>>;
          }
        ).syncs;
      const lead = (await syncs()).find((s) => s['system'] === 'salesforce' && s['object'] === 'Lead');
      expect(lead).toMatchObject({ jobsCompleted24h: 0, jobsFailed24h: 1, failureRate24h: 1 });

      pipeline.broken.value = false;
      const fine = await pipeline.addJob('fine', { name: 'fine', system: 'salesforce', object: 'Lead' });
      await eventually(async () => (await fine.getState()) === 'completed', 'job fine to complete');
      // Long payloads are read by their head (a batch's target comes first), or whole when it does not say.
      const writes = [{ fields: [{ field: 'description', value: 'x'.repeat(4000) }] }];
      const batch = await pipeline.addJob('batch', { batch: { system: 'hubspot', object: 'deals', writes } });
      const late = await pipeline.addJob('late', {
        pad: 'x'.repeat(4000),
        system: 'hubspot',
        object: 'companies',
      });
      for (const job of [batch, late]) {
        await eventually(async () => (await job.getState()) === 'completed', `job ${job.name} to complete`);
      }
      pipeline.broken.value = true;

      const rows = await syncs();
      const row = (object: string) => rows.find((r) => r['object'] === object);
      expect(row('Lead')).toMatchObject({ jobsCompleted24h: 1, jobsFailed24h: 1, failureRate24h: 0.5 });
      expect(row('deals')).toMatchObject({ jobsCompleted24h: 1, jobsFailed24h: 0, failureRate24h: 0 });
      expect(row('companies')).toMatchObject({ jobsCompleted24h: 1, jobsFailed24h: 0, failureRate24h: 0 });
      const page = await (await get('/', { headers: cookie(viewer) })).text();
      const leadRow = /<tr data-sync="salesforce\/Lead">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
      expect(leadRow).toMatch(/title="1 of 2 jobs failed"\s*>\s*50%\s*</);
      const dealsRow = /<tr data-sync="hubspot\/deals">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
      expect(dealsRow).toMatch(/title="0 of 1 jobs failed"\s*>\s*0\.0%\s*</);
    });

    it('shows replay controls to admins only', async () => {
      const adminPage = await (await get('/failures', { headers: cookie(admin) })).text();
      expect(adminPage).toContain('data-code="SALESFORCE_STRING_TOO_LONG"');
      expect(adminPage).toContain(`name="one" value="write-back|${firstJob}"`);
      const viewerPage = await (await get('/failures', { headers: cookie(viewer) })).text();
      expect(viewerPage).toContain('data-code="SALESFORCE_STRING_TOO_LONG"');
      expect(viewerPage).not.toContain('name="one"');
    });

    it('refuses replays by a viewer, by session or bearer', async () => {
      const bySession = await get('/failures/replay', {
        method: 'POST',
        headers: { ...cookie(viewer), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: viewer.csrf, one: `write-back|${firstJob}` }).toString(),
      });
      expect(bySession.status).toBe(403);
      const byBearer = await get('/api/replays', {
        method: 'POST',
        headers: { ...bearer(VIEWER_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ jobs: [{ queue: 'write-back', id: firstJob }] }),
      });
      expect(byBearer.status).toBe(403);
      expect(await (await pipeline.queue.getJob(firstJob))?.getState()).toBe('failed');
    });

    it("refuses an admin replay without the CSRF token, or with another session's", async () => {
      const form = { one: `write-back|${firstJob}` };
      const missing = await get('/failures/replay', {
        method: 'POST',
        headers: { ...cookie(admin), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      expect(missing.status).toBe(403);
      const foreign = await get('/failures/replay', {
        method: 'POST',
        headers: { ...cookie(admin), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form, _csrf: viewer.csrf }).toString(),
      });
      expect(foreign.status).toBe(403);
      const json = await get('/api/replays', {
        method: 'POST',
        headers: { ...cookie(admin), 'content-type': 'application/json' },
        body: JSON.stringify({ jobs: [{ queue: 'write-back', id: firstJob }] }),
      });
      expect(json.status).toBe(403);
      expect(await (await pipeline.queue.getJob(firstJob))?.getState()).toBe('failed');
    });

    it('replays one job from the page; it fails again while the cause is not fixed', async () => {
      const res = await get('/failures/replay', {
        method: 'POST',
        headers: { ...cookie(admin), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: admin.csrf, one: `write-back|${firstJob}` }).toString(),
      });
      expect(res.status).toBe(303);
      const location = res.headers.get('location') ?? '';
      expect(location).toMatch(/^\/replays\/[0-9a-f-]{36}$/);
      const id = location.slice('/replays/'.length);
      const status = await eventually(async () => {
        const s = (await (await get(`/api/replays/${id}`, { headers: bearer(ADMIN_TOKEN) })).json()) as {
          state: string;
          progress: Record<string, number>;
        };
        return s.state === 'done' ? s : undefined;
      }, 'the replay to finish');
      expect(status.progress).toMatchObject({ total: 1, failed: 1, completed: 0 });
      const page = await (await get(location, { headers: cookie(viewer) })).text();
      expect(page).toContain('data-state="done"');
      expect(page).toContain('failed again');
    });

    it('replays every failure of one code by bearer once fixed: the jobs complete', async () => {
      const second = await failedJob('second');
      pipeline.broken.value = false;
      const res = await get('/api/replays', {
        method: 'POST',
        headers: { ...bearer(ADMIN_TOKEN), 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'SALESFORCE_STRING_TOO_LONG' }),
      });
      expect(res.status).toBe(202);
      const started = (await res.json()) as { id: string; jobs: Array<{ id: string }> };
      expect(started.jobs.map((j) => j.id).sort()).toEqual([firstJob, second].sort());
      await eventually(async () => {
        const s = (await (
          await get(`/api/replays/${started.id}`, { headers: bearer(VIEWER_TOKEN) })
        ).json()) as {
          state: string;
          progress: Record<string, number>;
        };
        return s.state === 'done' && s.progress['completed'] === 2 ? s : undefined;
      }, 'both jobs to complete');
      expect(await (await pipeline.queue.getJob(second))?.getState()).toBe('completed');
      const list = (await (await get('/api/replays', { headers: bearer(VIEWER_TOKEN) })).json()) as {
        replays: Array<{ id: string }>;
      };
      expect(list.replays[0]?.id).toBe(started.id);
      const groups = (await (await get('/api/failures', { headers: bearer(VIEWER_TOKEN) })).json()) as {
        groups: unknown[];
      };
      expect(groups.groups).toEqual([]);
    });

    it('replays a selection and a time window from the page', async () => {
      pipeline.broken.value = true;
      const a = await failedJob('a');
      const b = await failedJob('b');
      const c = await failedJob('c');
      pipeline.broken.value = false;
      const selection = new URLSearchParams({ _csrf: admin.csrf });
      selection.append('job', `write-back|${a}`);
      selection.append('job', `write-back|${b}`);
      const res = await get('/failures/replay', {
        method: 'POST',
        headers: { ...cookie(admin), 'content-type': 'application/x-www-form-urlencoded' },
        body: selection.toString(),
      });
      expect(res.status).toBe(303);
      await eventually(
        async () => (await (await pipeline.queue.getJob(b))?.getState()) === 'completed',
        'b to complete',
      );
      expect(await (await pipeline.queue.getJob(c))?.getState()).toBe('failed');

      const from = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
      const to = new Date(Date.now() + 3_600_000).toISOString().slice(0, 16);
      const window = await get('/failures/replay', {
        method: 'POST',
        headers: { ...cookie(admin), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: admin.csrf, from, to }).toString(),
      });
      expect(window.status).toBe(303);
      await eventually(
        async () => (await (await pipeline.queue.getJob(c))?.getState()) === 'completed',
        'c to complete',
      );
    });

    it('answers 400 for an empty selection and 404 for an unknown replay', async () => {
      const empty = await get('/api/replays', {
        method: 'POST',
        headers: { ...bearer(ADMIN_TOKEN), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(empty.status).toBe(400);
      expect((await get('/api/replays/not-an-id', { headers: bearer(ADMIN_TOKEN) })).status).toBe(404);
      expect(
        (await get('/replays/00000000-0000-0000-0000-000000000000', { headers: cookie(admin) })).status,
      ).toBe(404);
    });
  });

  describe('customer', () => {
    it.each([
      ['email', 'Hostile@Example.com'],
      ['HubSpot id', HUBSPOT_ID],
      ['Salesforce id', SALESFORCE_ID],
      ['Tandem id', 'person-hostile'],
    ])('finds the person by %s and escapes every value', async (_by, q) => {
      const res = await get(`/customer?q=${encodeURIComponent(q)}`, { headers: cookie(viewer) });
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).not.toContain('<b>HTML</b>');
      expect(page).not.toContain('<script>alert(1)</script>');
      expect(page).not.toContain('<i>spring</i>');
      expect(page).toContain('&lt;b&gt;HTML&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt; Zoë 😀 שלום');
      expect(page).toContain('مرحبا بالعالم');
      expect(page).toContain('&lt;i&gt;spring&lt;/i&gt;');
      expect(page).toContain('HubSpot changed it more recently');
      expect(page).toContain(`http://127.0.0.1:9/__sandbox/records/contacts/${HUBSPOT_ID}`);
      expect(page).toMatch(
        /<dt>Re-evaluated at<\/dt>\s*<dd[^>]*>\s*<time[^>]*datetime="2027-01-15T09:30:00.000Z"/,
      );
    });

    it('returns the unified record as JSON with links, stages, touchpoints and the audit', async () => {
      const res = await get(`/api/customer?q=${HUBSPOT_ID}`, { headers: bearer(VIEWER_TOKEN) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, Array<Record<string, unknown>>> & {
        person: Record<string, unknown>;
      };
      expect(body.person['id']).toBe('person-hostile');
      expect(body.person['reevaluateAt']).toBe('2027-01-15T09:30:00.000Z');
      expect(body['fields']?.[0]).toMatchObject({
        field: 'firstname',
        value: HOSTILE_NAME,
        sourceSystem: 'hubspot',
        rule: 'newest',
      });
      expect(body['links']?.map((l) => l['url']).sort()).toEqual([
        `http://127.0.0.1:9/__sandbox/records/Lead/${SALESFORCE_ID}`,
        `http://127.0.0.1:9/__sandbox/records/contacts/${HUBSPOT_ID}`,
      ]);
      expect(body['stageHistory']?.map((s) => s['stage'])).toEqual(['lead', 'mql']);
      expect(body['touchpoints']).toHaveLength(1);
      expect(body['audit']?.[0]).toMatchObject({ field: 'FirstName', rule: 'newest', outcome: 'written' });
    });

    it('pages through a "why did this change" trail longer than 200 writes, saying how many there are', async () => {
      const start = NOW.getTime() - 30 * 86_400_000;
      await db.view.appendWriteAudit(
        Array.from({ length: 205 }, (_, i) => ({
          jobId: `paging-${i}`,
          system: 'hubspot' as const,
          object: 'contacts',
          recordId: '2002',
          unifiedId: 'person-customer',
          field: 'jobtitle',
          before: `was ${i}`,
          after: `title ${i}`,
          rule: 'newest',
          outcome: 'written' as const,
          at: new Date(start + i * 60_000),
        })),
      );
      const first = await (await get('/customer?q=won@example.com', { headers: cookie(viewer) })).text();
      expect(first).toMatch(/Showing writes 1–200 of 205 \(the latest\)/);
      expect(first.match(/>title 204<\/td>/g)).toHaveLength(1);
      expect(first).not.toContain('>title 4</td>');
      expect(first).toContain('href="/customer?q=won%40example.com&amp;auditPage=2#audit"');
      const second = await (
        await get('/customer?q=won%40example.com&auditPage=2', { headers: cookie(viewer) })
      ).text();
      expect(second).toMatch(/Showing writes 201–205 of 205\./);
      expect(second).toContain('>title 4</td>');
      expect(second).toContain('>title 0</td>');
      expect(second).not.toContain('>title 5</td>');
      expect(second).toContain('Newer writes');
      expect(second).not.toContain('Older writes');

      const api = (await (
        await get('/api/customer?q=won@example.com', { headers: bearer(VIEWER_TOKEN) })
      ).json()) as { audit: unknown[]; auditTotal: number; auditOffset: number };
      expect(api).toMatchObject({ auditTotal: 205, auditOffset: 0 });
      expect(api.audit).toHaveLength(200);
      const rest = (await (
        await get('/api/customer?q=won@example.com&auditOffset=200', { headers: bearer(VIEWER_TOKEN) })
      ).json()) as { audit: Array<{ after: unknown }>; auditTotal: number };
      expect(rest.audit.map((a) => a.after)).toEqual(['title 4', 'title 3', 'title 2', 'title 1', 'title 0']);
      expect(
        (await get('/api/customer?q=won@example.com&auditOffset=-1', { headers: bearer(VIEWER_TOKEN) }))
          .status,
      ).toBe(400);
      // A short trail needs no paging line.
      const short = await (await get(`/customer?q=${HUBSPOT_ID}`, { headers: cookie(viewer) })).text();
      expect(short).not.toContain('audit-paging');
    });

    it('answers 404 for nobody and 400 for no query', async () => {
      expect(
        (await get('/api/customer?q=nobody@example.com', { headers: bearer(VIEWER_TOKEN) })).status,
      ).toBe(404);
      expect((await get('/api/customer', { headers: bearer(VIEWER_TOKEN) })).status).toBe(400);
      const page = await get('/customer?q=%3Cb%3Enobody', { headers: cookie(viewer) });
      expect(page.status).toBe(404);
      expect(await page.text()).toContain('&lt;b&gt;nobody');
      expect((await get('/customer', { headers: cookie(viewer) })).status).toBe(200);
    });
  });

  describe('funnel', () => {
    it('counts and converts by source, and lists SLA breaches', async () => {
      const funnel = (await (
        await get('/api/funnel?from=2025-01-01&to=2025-04-01', { headers: bearer(VIEWER_TOKEN) })
      ).json()) as {
        overall: { persons: number; stages: Array<{ stage: string; reached: number }> };
        groups: Array<{ key: string }>;
      };
      expect(funnel.overall.persons).toBe(2);
      expect(funnel.overall.stages.find((s) => s.stage === 'mql')?.reached).toBe(2);
      expect(funnel.overall.stages.find((s) => s.stage === 'customer')?.reached).toBe(1);
      expect(funnel.groups.map((g) => g.key)).toEqual(['organic_search', 'referral']);
      const sla = (await (await get('/api/sla', { headers: bearer(VIEWER_TOKEN) })).json()) as {
        hours: number;
        total: number;
        breaches: Array<{ personId: string }>;
      };
      expect(sla.hours).toBe(24);
      expect(sla.total).toBe(1);
      expect(sla.breaches[0]?.personId).toBe('person-hostile');
    });

    it('renders tables and charts, by month too', async () => {
      const page = await (
        await get('/funnel?from=2025-01-01&to=2025-04-01&groupBy=month', { headers: cookie(viewer) })
      ).text();
      expect(page).toContain('data-chart="chart-funnel"');
      expect(page).toContain('<td dir="auto">2025-02</td>');
      expect(page).toContain('1 MQL not accepted within 24 hours.');
      expect(page).toContain('hostile@example.com');
    });

    it('answers 400 for bad dates or hours', async () => {
      expect((await get('/api/funnel?from=yesterday', { headers: bearer(VIEWER_TOKEN) })).status).toBe(400);
      expect(
        (await get('/api/funnel?from=2025-04-01&to=2025-01-01', { headers: bearer(VIEWER_TOKEN) })).status,
      ).toBe(400);
      expect((await get('/api/sla?hours=-1', { headers: bearer(VIEWER_TOKEN) })).status).toBe(400);
    });
  });

  describe('mapping', () => {
    it('shows the active mapping, its version and validation', async () => {
      const body = (await (await get('/api/mapping', { headers: bearer(VIEWER_TOKEN) })).json()) as Record<
        string,
        unknown
      >;
      expect(body).toMatchObject({ file: 'mappings/default.yaml', valid: true, live: { checked: false } });
      expect(body['version']).toMatch(/^.+\+[0-9a-f]{8}$/);
      const page = await (await get('/mapping', { headers: cookie(viewer) })).text();
      expect(page).toContain(String(body['version']));
      expect(page).toContain('person: HubSpot contacts');
    });
  });

  describe('metrics', () => {
    /** The value of one sample line (`name{labels}`, labels in any order) in a scrape, or undefined. */
    const sampleIn = (
      text: string,
      name: string,
      labels: Record<string, string> = {},
    ): number | undefined => {
      for (const line of text.split('\n')) {
        const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (match?.[1] !== name) continue;
        const found = Object.fromEntries(
          [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
        );
        const wanted = Object.entries(labels);
        if (Object.keys(found).length === wanted.length && wanted.every(([k, v]) => found[k] === v)) {
          return Number(match[3]);
        }
      }
      return undefined;
    };
    const scrape = async () => (await get('/metrics', { headers: bearer(VIEWER_TOKEN) })).text();
    const keys = new RedisKeys(prefix);

    it('exposes queue depths, replays and counters others increment', async () => {
      metrics.failures.inc({ code: 'SALESFORCE_STRING_TOO_LONG', kind: 'permanent' });
      const text = await scrape();
      expect(text).toMatch(/tandem_queue_jobs\{queue="write-back",state="completed"\} [1-9]/);
      expect(sampleIn(text, 'tandem_replays_total', { queue: 'write-back' })).toBeGreaterThan(0);
      expect(
        sampleIn(text, 'tandem_failures_total', { code: 'SALESFORCE_STRING_TOO_LONG', kind: 'permanent' }),
      ).toBe(1);
      expect(text).toContain('# TYPE tandem_job_duration_seconds histogram');
      expect(text).toContain('# TYPE tandem_api_calls_total counter');
    });

    it('counts real API calls and rate-limit refusals per system, published by the process that made them', async () => {
      const hubspot = await startHubSpotSandbox();
      const salesforce = await startHarness();
      try {
        // HubSpot: one call refused with a 429 (fault injection), then one that goes through.
        const caller = new HubSpotCaller(hubspot.client, undefined, {
          maxRateLimitWaitMs: 1,
          maxRateLimitTotalMs: 0,
        });
        const page = (c: typeof hubspot.client) =>
          c.crm.objects.basicApi.getPageWithHttpInfo('contacts', 10) as unknown as Promise<
            HttpInfoLike<unknown>
          >;
        await hubspot.control('/__sandbox/faults', { spec: '429=1' });
        await expect(caller.call(page, { object: 'contacts' })).rejects.toBeInstanceOf(RateLimitedError);
        await hubspot.control('/__sandbox/faults', { spec: '' });
        await caller.call(page, { object: 'contacts' });
        // Salesforce: its 429 is a 403 REQUEST_LIMIT_EXCEEDED.
        const connector = await salesforce.connector({ retry: { maxInlineWaitMs: 0 } });
        const query = () =>
          connector.caller.call(() => connector.caller.conn.query('SELECT Id FROM Lead'), {
            object: 'Lead',
          });
        const faults = (spec: string) =>
          fetch(`${salesforce.running.url}/__sandbox/faults`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ spec }),
          });
        await faults('429=1');
        await expect(query()).rejects.toBeInstanceOf(RateLimitedError);
        await faults('');
        await query();
      } finally {
        await hubspot.close();
        await salesforce.close();
      }
      // The connectors counted in this process's registry; a worker publishes it to Redis like this.
      await new MetricsPublisher(redis, keys, sharedMetrics).flush();
      const text = await scrape();
      for (const [system, object] of [
        ['hubspot', 'contacts'],
        ['salesforce', 'Lead'],
      ] as const) {
        expect(sampleIn(text, 'tandem_api_calls_total', { system, object, outcome: '429' })).toBe(1);
        expect(sampleIn(text, 'tandem_api_calls_total', { system, object, outcome: 'ok' })).toBe(1);
        expect(sampleIn(text, 'tandem_api_rate_limited_total', { system, object })).toBe(1);
      }
    });

    it('sums counters and histogram buckets over worker processes, and never goes back when one restarts', async () => {
      const worker = (m = createMetrics()) => ({ m, publisher: new MetricsPublisher(redis, keys, m) });
      const labels = { system: 'hubspot', object: 'deals', direction: 'pulled' };
      const job = { queue: 'reconcile', outcome: 'completed' };
      const synced = (text: string) => sampleIn(text, 'tandem_records_synced_total', labels);
      const bucket = (text: string, le: string) =>
        sampleIn(text, 'tandem_job_duration_seconds_bucket', { ...job, le });

      const one = worker();
      const two = worker();
      one.m.recordsSynced.inc(labels, 3);
      one.m.jobDuration.observe(job, 0.03);
      two.m.recordsSynced.inc(labels, 4);
      two.m.jobDuration.observe(job, 2);
      two.m.jobDuration.observe(job, 0.07);
      await one.publisher.flush();
      await two.publisher.start().stop(); // a worker shutting down publishes what is left
      let text = await scrape();
      expect(synced(text)).toBe(7);
      expect(bucket(text, '0.01')).toBe(0);
      expect(bucket(text, '0.05')).toBe(1);
      expect(bucket(text, '0.1')).toBe(2);
      expect(bucket(text, '2.5')).toBe(3);
      expect(bucket(text, '+Inf')).toBe(3);
      expect(sampleIn(text, 'tandem_job_duration_seconds_count', job)).toBe(3);
      expect(sampleIn(text, 'tandem_job_duration_seconds_sum', job)).toBeCloseTo(2.1);

      // Flushing again adds nothing; worker one restarts from zero and its new counts add up.
      await one.publisher.flush();
      const restarted = worker();
      restarted.m.recordsSynced.inc(labels, 1);
      await restarted.publisher.flush();
      text = await scrape();
      expect(synced(text)).toBe(8);
      expect(sampleIn(text, 'tandem_job_duration_seconds_count', job)).toBe(3);
    });
  });

  describe('queue board', () => {
    it('serves bull-board to admins and the read-only board to viewers', async () => {
      const page = await get('/admin/queues', { headers: cookie(admin) });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Tandem queues');
      const api = (await (await get('/admin/queues/api/queues', { headers: cookie(admin) })).json()) as {
        queues: Array<{ name: string; readOnlyMode: boolean }>;
      };
      expect(api.queues.map((q) => q.name).sort()).toEqual(['pull', 'reconcile', 'write-back']);
      expect(api.queues.every((q) => !q.readOnlyMode)).toBe(true);
      const redirected = await get('/admin/queues', { headers: cookie(viewer) });
      expect(redirected.status).toBe(303);
      expect(redirected.headers.get('location')).toBe('/admin/queues-readonly');
      const readOnly = (await (
        await get('/admin/queues-readonly/api/queues', { headers: cookie(viewer) })
      ).json()) as {
        queues: Array<{ readOnlyMode: boolean }>;
      };
      expect(readOnly.queues.every((q) => q.readOnlyMode)).toBe(true);
    });

    it("refuses a viewer's or a cross-site retry through bull-board", async () => {
      pipeline.broken.value = true;
      const id = await failedJob('board');
      const path = `/admin/queues/api/queues/write-back/${id}/retry`;
      expect((await get(path, { method: 'PUT', headers: cookie(viewer) })).status).toBe(403);
      expect(
        (await get(path, { method: 'PUT', headers: { ...cookie(admin), origin: 'https://evil.example' } }))
          .status,
      ).toBe(403);
      expect(await (await pipeline.queue.getJob(id))?.getState()).toBe('failed');
      pipeline.broken.value = false;
      const ok = await get(path, { method: 'PUT', headers: { ...cookie(admin), origin: base } });
      expect(ok.status).toBe(204);
      await eventually(
        async () => (await (await pipeline.queue.getJob(id))?.getState()) === 'completed',
        'board retry',
      );
    });
  });

  describe('static files and logout', () => {
    it('serves Chart.js and the stylesheet without a login, nothing else', async () => {
      const chart = await get('/static/chart.umd.js');
      expect(chart.status).toBe(200);
      expect(await chart.text()).toContain('Chart');
      expect((await get('/static/dashboard.css')).status).toBe(200);
      expect((await get('/static/package.json')).status).toBe(404);
    });

    it('logs out with the CSRF token and the session stops working', async () => {
      const session = await login(ADMIN_TOKEN);
      expect((await get('/logout', { method: 'POST', headers: cookie(session) })).status).toBe(403);
      const out = await get('/logout', {
        method: 'POST',
        headers: { ...cookie(session), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: session.csrf }).toString(),
      });
      expect(out.status).toBe(303);
      expect((await get('/api/overview', { headers: cookie(session) })).status).toBe(401);
    });
  });
});

describe('dashboard login limits and session expiry', () => {
  const prefix = randomPrefix();
  let redis: Redis;
  let db: { connection: CustomerViewConnection; view: CustomerView };
  let app: FastifyInstance;
  const clock = { now: NOW.getTime() };

  beforeAll(async () => {
    redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    db = await seededCustomerView();
    app = await createDashboard({
      config: testConfig(prefix),
      redis,
      customerView: db.view,
      mapping: await defaultMapping(),
      now: () => new Date(clock.now),
      loginRateLimit: { max: 3, timeWindowMs: 60_000 },
      sessionTtlMs: 60_000,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await app?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis?.quit();
    await db?.connection.close();
  });

  let base = '';
  const attempt = (token: string) =>
    fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
  const get = (path: string, cookie?: string) =>
    fetch(`${base}${path}`, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });

  it('expires a session after its lifetime', async () => {
    const res = await attempt(ADMIN_TOKEN);
    expect(res.status).toBe(303);
    const cookie = /^(tandem_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
    expect((await get('/api/queues', cookie)).status).toBe(200);
    clock.now += 61_000;
    expect((await get('/api/queues', cookie)).status).toBe(401);
    // A forged cookie value (not signed by the server) is no session either.
    expect((await get('/api/queues', 'tandem_session=abc.def')).status).toBe(401);
  });

  it('rate-limits login attempts per IP', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i += 1) codes.push((await attempt('wrong-token-0123456789')).status);
    expect(codes).toEqual([401, 401, 429, 429]);
    expect((await attempt(ADMIN_TOKEN)).status).toBe(429);
  });

  it('reports Redis and both systems not ready without connections', async () => {
    const res = await get('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failed: ['hubspot', 'salesforce'], checks: { redis: 'ok' } });
  });
});

describe('dashboard sessions shared through Redis', () => {
  const prefix = randomPrefix();
  const ttlMs = 3_600_000;
  let redis: Redis;
  let db: { connection: CustomerViewConnection; view: CustomerView };
  // Two dashboard processes behind one Redis prefix, each with its own connection.
  const instances: Array<{ app: FastifyInstance; redis: Redis; base: string }> = [];

  beforeAll(async () => {
    redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    db = await seededCustomerView();
    for (let i = 0; i < 2; i += 1) {
      const own = new Redis(process.env['TEST_REDIS_URL'] ?? '');
      const app = await createDashboard({
        config: testConfig(prefix),
        redis: own,
        customerView: db.view,
        mapping: await defaultMapping(),
        now: () => NOW,
        sessionTtlMs: ttlMs,
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      instances.push({ app, redis: own, base: `http://127.0.0.1:${address.port}` });
    }
  });

  afterAll(async () => {
    for (const instance of instances) {
      await instance.app.close();
      await instance.redis.quit();
    }
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis?.quit();
    await db?.connection.close();
  });

  const get = (base: string, path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { redirect: 'manual', ...init });
  const csrfOn = async (base: string, cookie: string) =>
    /name="_csrf" value="([^"]+)"/.exec(await (await get(base, '/', { headers: { cookie } })).text())?.[1];

  it('accepts a session made by one instance on the other, and a logout on either ends it on both', async () => {
    const [first, second] = instances;
    if (first === undefined || second === undefined) throw new Error('no instances');
    const res = await get(first.base, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/' }).toString(),
    });
    expect(res.status).toBe(303);
    const cookie = /^(tandem_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
    expect(cookie).not.toBe('');
    expect((await get(second.base, '/api/queues', { headers: { cookie } })).status).toBe(200);
    const csrf = await csrfOn(first.base, cookie);
    expect(csrf).toBeDefined();
    expect(await csrfOn(second.base, cookie)).toBe(csrf);

    // Redis holds the role, the CSRF secret and the expiry under a digest: neither the id nor a token.
    const sessionId = decodeURIComponent(cookie.slice('tandem_session='.length)).replace(/\.[^.]*$/, '');
    const keys = await redis.keys(`${prefix}:{dashboard}:session:*`);
    expect(keys).toHaveLength(1);
    const key = keys[0] ?? '';
    const stored = (await redis.get(key)) ?? '';
    expect(Object.keys(JSON.parse(stored) as object).sort()).toEqual(['csrfSecret', 'expiresAt', 'role']);
    for (const secret of [sessionId, ADMIN_TOKEN, csrf ?? '']) {
      expect(key).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ttlMs);

    const out = await get(second.base, '/logout', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf ?? '' }).toString(),
    });
    expect(out.status).toBe(303);
    expect(await redis.exists(key)).toBe(0);
    for (const instance of [first, second]) {
      expect((await get(instance.base, '/api/queues', { headers: { cookie } })).status).toBe(401);
      expect((await get(instance.base, '/', { headers: { cookie } })).status).toBe(303);
    }
  });
});
