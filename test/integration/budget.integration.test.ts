import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ApiBudget, type ApiBudgetOptions } from '../../src/connectors/budget.js';
import { RateLimitedError } from '../../src/connectors/classify.js';
import type { WriteOp, WriteOutcome } from '../../src/connectors/connector.js';
import { HubSpotConnector } from '../../src/connectors/hubspot/connector.js';
import { DEFAULT_SALESFORCE_DAILY_QUOTA } from '../../src/pipeline/open.js';
import { DEFAULT_HUBSPOT_TOKEN } from '../../src/sandbox/hubspot/server.js';
import { startHubSpotSandbox } from '../support/hubspot-sandbox.js';
import { startHarness } from './salesforce-connector-helpers.js';

const url = process.env['TEST_REDIS_URL'] ?? '';
// Two connections: two "processes" sharing one budget.
const redisA = new Redis(url, { lazyConnect: true });
const redisB = new Redis(url, { lazyConnect: true });
afterAll(async () => {
  await Promise.all([redisA.quit(), redisB.quit()]);
});

let prefix: string;
beforeEach(() => {
  prefix = `test-${randomUUID()}`;
});
afterEach(async () => {
  const mine = await redisA.keys(`${prefix}:*`);
  if (mine.length > 0) await redisA.del(...mine);
});

function budget(redis: Redis, overrides: Partial<ApiBudgetOptions> = {}): ApiBudget {
  return new ApiBudget({
    redis,
    prefix,
    system: 'hubspot',
    window: { max: 10, windowMs: 10_000, sharePercent: 100 },
    search: { max: 5, windowMs: 1_000, sharePercent: 100 },
    daily: { quota: 1_000, budgetPercent: 50, resets: 'utc-midnight' },
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<RateLimitedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RateLimitedError);
  return error as RateLimitedError;
}

describe('ApiBudget (Redis)', () => {
  it('shares one rolling window between two processes', async () => {
    let now = 1_700_000_000_000;
    const clock = () => now;
    const a = budget(redisA, { now: clock, maxWaitMs: 0 });
    const b = budget(redisB, { now: clock, maxWaitMs: 0 });
    for (let i = 0; i < 5; i += 1) {
      await a.acquire();
      await b.acquire();
    }
    // The window (10 per 10 s) is full for both, whoever asks.
    const full = await rejection(a.acquire());
    expect(full.classification.code).toBe('TANDEM_WINDOW_BUDGET_FULL');
    expect(full.classification.waitMs).toBe(10_000);
    await rejection(b.acquire());
    now += 10_001;
    await b.acquire();
    expect((await a.usage()).ours).toBe(11);
  });

  it('waits in the process while the window is full, then proceeds', async () => {
    const a = budget(redisA, { window: { max: 2, windowMs: 300, sharePercent: 100 } });
    await a.acquire(2);
    await a.acquire(); // had to wait for the window to roll
    expect((await a.usage()).ours).toBe(3);
  });

  it('keeps search on its own per-second window', async () => {
    const a = budget(redisA, { maxWaitMs: 0, window: { max: 1, windowMs: 10_000, sharePercent: 100 } });
    await a.acquire();
    for (let i = 0; i < 5; i += 1) await a.acquire(1, 'search');
    expect((await rejection(a.acquire(1, 'search'))).classification.scope).toBe('hubspot_secondly');
    expect((await rejection(a.acquire())).classification.scope).toBe('hubspot_ten_secondly');
  });

  it('stops at the daily share with a RateLimitedError and a wait until midnight', async () => {
    const now = Date.parse('2024-05-01T18:00:00.000Z');
    const a = budget(redisA, {
      now: () => now,
      window: { max: 100, windowMs: 10_000, sharePercent: 100 },
      daily: { quota: 20, budgetPercent: 50, resets: 'utc-midnight' },
    });
    const b = budget(redisB, {
      now: () => now,
      window: { max: 100, windowMs: 10_000, sharePercent: 100 },
      daily: { quota: 20, budgetPercent: 50, resets: 'utc-midnight' },
    });
    await a.acquire(6);
    await b.acquire(4);
    const spent = await rejection(b.acquire());
    expect(spent.classification.code).toBe('TANDEM_DAILY_BUDGET_SPENT');
    expect(spent.classification.scope).toBe('hubspot_daily');
    expect(spent.classification.waitMs).toBe(6 * 3_600_000);
    expect(await a.usage()).toEqual({ day: '2024-05-01', ours: 10, account: 10, cap: 10 });
  });

  it("counts the customer's other integrations from the vendor's remaining-quota headers", async () => {
    const a = budget(redisA, { window: { max: 100, windowMs: 10_000, sharePercent: 100 } });
    const b = budget(redisB, { window: { max: 100, windowMs: 10_000, sharePercent: 100 } });
    await a.acquire(10);
    // HubSpot says 490 of 1000 used today: other integrations made 480 of them.
    await a.observe({ 'x-hubspot-ratelimit-daily': '1000', 'x-hubspot-ratelimit-daily-remaining': '510' });
    await b.acquire(10); // 490 + 10 = 500: exactly the 50% cap
    expect((await b.usage()).account).toBe(500);
    await rejection(b.acquire());
    await rejection(a.acquire());
  });

  it('reads Salesforce api-usage and waits an hour for the rolling quota', async () => {
    const sf = budget(redisA, {
      system: 'salesforce',
      daily: { quota: 15_000, budgetPercent: 40, resets: 'rolling-24h' },
    });
    await sf.acquire();
    await sf.observe({ 'sforce-limit-info': 'api-usage=6000/15000' });
    const spent = await rejection(sf.acquire());
    expect(spent.classification.scope).toBe('salesforce_daily');
    expect(spent.classification.waitMs).toBe(3_600_000);
  });
});

describe('ApiBudget fed by the sandboxes’ quota headers', () => {
  it('caps the Salesforce day at the budget share of the org quota Sforce-Limit-Info reports, not the configured one', async () => {
    const h = await startHarness();
    try {
      h.running.sandbox.apiUsage.max = 15_000;
      const sf = new ApiBudget({
        redis: redisA,
        prefix,
        system: 'salesforce',
        daily: { quota: DEFAULT_SALESFORCE_DAILY_QUOTA, budgetPercent: 50, resets: 'rolling-24h' },
        now: () => h.clock.now,
      });
      const salesforce = await h.connector({ budget: sf });
      expect((await sf.usage()).cap).toBe(50_000);
      await h.running.control('api-usage', { used: 14_000 });
      // Nothing observed yet: half of the configured 100,000 leaves room for this call, which reads the
      // org's real quota from the response.
      const first = await salesforce.write('Lead', [lead(1)]);
      expect(first[0]?.ok).toBe(true);
      expect(await sf.usage()).toMatchObject({ cap: 7_500, account: 14_001 });
      const spent = await rejection(salesforce.write('Lead', [lead(2)]));
      expect(spent.classification).toMatchObject({
        code: 'TANDEM_DAILY_BUDGET_SPENT',
        scope: 'salesforce_daily',
      });
    } finally {
      await h.close();
    }
  });

  it('paces HubSpot calls to the 10-second max its headers report when it is below the configured tier', async () => {
    const hs = await startHubSpotSandbox();
    try {
      await hs.control('/__sandbox/limits', { tenSecondly: 10 });
      const create = pacedContactCreate(hs.baseUrl, 190);
      // The tier says 190 (152 for Tandem); HubSpot says 10, so Tandem stops at its 80% share: 8 calls.
      for (let i = 0; i < 8; i += 1) expect((await create())[0]?.ok).toBe(true);
      const full = await rejection(create());
      expect(full.classification).toMatchObject({
        code: 'TANDEM_WINDOW_BUDGET_FULL',
        scope: 'hubspot_ten_secondly',
      });
      expect(hs.sandbox.stats.snapshot().faults['429'] ?? 0).toBe(0);
      expect(hs.sandbox.stats.snapshot().rateLimited ?? 0).toBe(0);
    } finally {
      await hs.close();
    }
  });

  it('counts other integrations’ calls in HubSpot’s 10-second window from X-HubSpot-RateLimit-Remaining', async () => {
    const hs = await startHubSpotSandbox();
    try {
      await hs.control('/__sandbox/limits', { tenSecondly: 10 });
      const create = pacedContactCreate(hs.baseUrl, 10);
      // Another integration of the portal makes six calls Tandem never sees.
      for (let i = 0; i < 6; i += 1) await hs.client.crm.contacts.basicApi.getPage(1);
      expect((await create())[0]?.ok).toBe(true); // HubSpot now says 3 of 10 remain: 7 used
      expect((await create())[0]?.ok).toBe(true); // 8: Tandem's 80% share of the account's window
      const full = await rejection(create());
      expect(full.classification.code).toBe('TANDEM_WINDOW_BUDGET_FULL');
    } finally {
      await hs.close();
    }
  });
});

/**
 * One contact create through a HubSpot connector whose budget takes 80% of a `configuredMax` per 10 s
 * (and never waits), for the tests where HubSpot's own headers say otherwise.
 */
function pacedContactCreate(baseUrl: string, configuredMax: number): () => Promise<WriteOutcome[]> {
  const hubspot = new HubSpotConnector({
    accessToken: DEFAULT_HUBSPOT_TOKEN,
    baseUrl,
    budget: budget(redisA, {
      window: { max: configuredMax, windowMs: 10_000, sharePercent: 80 },
      daily: { quota: 1_000_000, budgetPercent: 50, resets: 'utc-midnight' },
      maxWaitMs: 0,
    }),
    properties: { contacts: ['email'] },
  });
  return () =>
    hubspot.write('contacts', [
      { kind: 'create', ref: 'x', fields: { email: `${randomUUID()}@example.com` } },
    ]);
}

function lead(i: number): WriteOp {
  return {
    kind: 'upsert',
    ref: `lead-${i}`,
    idProperty: 'HubSpot_Contact_ID__c',
    idValue: `hs-${i}`,
    fields: { LastName: `Budgeted ${i}`, Company: 'Acme', Email: `budgeted${i}@example.com` },
  };
}
