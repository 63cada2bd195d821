import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { WriteOp, WriteOutcome } from '../../src/connectors/connector.js';
import type { SalesforceConnector } from '../../src/connectors/salesforce/connector.js';
import { collect, leadWorld, startHarness, type Harness } from './salesforce-connector-helpers.js';

// Bulk API 2.0 under injected faults: a failed step is retried against the same job, never by a new job.

function accountCreate(i: number, fields: Record<string, string> = {}): WriteOp {
  return { kind: 'create', ref: `account-${i}`, fields: { Name: `Account ${i}`, ...fields } };
}

function leadCreate(i: number, fields: Record<string, string> = {}): WriteOp {
  return {
    kind: 'create',
    ref: `lead-${i}`,
    fields: { LastName: `Lead ${i}`, Company: 'Acme', Email: `lead${i}@example.com`, ...fields },
  };
}

async function count(salesforce: SalesforceConnector, object: string): Promise<number> {
  return (await salesforce.caller.conn.query(`SELECT COUNT() FROM ${object}`)).totalSize;
}

/** Jobs of that kind the org holds, as Salesforce lists them (`GET /jobs/ingest`, `GET /jobs/query`). */
async function jobs(salesforce: SalesforceConnector, kind: 'ingest' | 'query'): Promise<number> {
  const list = await salesforce.caller.conn.request<{ records: unknown[] }>(`/jobs/${kind}`);
  return list.records.length;
}

function expectOneOutcomePerOp(ops: readonly WriteOp[], outcomes: readonly WriteOutcome[]): void {
  expect(outcomes.map((o) => o.ref)).toEqual(ops.map((o) => o.ref));
}

describe('SalesforceConnector Bulk API 2.0 jobs under injected faults', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ bulkQueryPageSize: 500 });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => h.reset());

  async function underFaults<T>(spec: string, run: () => Promise<T>): Promise<T> {
    await h.running.control('faults', { spec });
    try {
      return await run();
    } finally {
      await h.running.control('faults', { spec: '' });
    }
  }

  async function faultsInjected(): Promise<{ '5xx': number; '429': number }> {
    const stats = (await (await fetch(`${h.running.url}/__sandbox/stats`)).json()) as {
      faults: { '5xx': number; '429': number };
    };
    return stats.faults;
  }

  it.each([
    ['5xx=0.3', '5xx'],
    ['429=0.3', '429'],
  ] as const)(
    'creates 500 Accounts without an external id exactly once under %s',
    async (spec, fault) => {
      const salesforce = await h.connector({ bulkThreshold: 1 });
      const ops = Array.from({ length: 500 }, (_, i) => accountCreate(i));
      const outcomes = await underFaults(spec, () => salesforce.write('Account', ops));
      expectOneOutcomePerOp(ops, outcomes);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      const ids = outcomes.map((o) => (o.ok ? o.recordId : ''));
      expect(new Set(ids).size).toBe(500);
      expect(await count(salesforce, 'Account')).toBe(500);
      expect(await jobs(salesforce, 'ingest')).toBe(1);
      expect((await faultsInjected())[fault]).toBeGreaterThan(0);
    },
    60_000,
  );

  it('keeps each Lead create its own outcome through 5xx and throttling: one bad row fails alone', async () => {
    const salesforce = await h.connector({ bulkThreshold: 1 });
    const ops = Array.from({ length: 300 }, (_, i) => leadCreate(i));
    ops[42] = leadCreate(42, { Email: 'not-an-email' });
    const outcomes = await underFaults('5xx=0.3,429=0.2', () => salesforce.write('Lead', ops));
    expectOneOutcomePerOp(ops, outcomes);
    expect(outcomes.filter((o) => !o.ok).map((o) => o.ref)).toEqual(['lead-42']);
    expect(outcomes[42]).toMatchObject({
      ok: false,
      classification: { kind: 'permanent', code: 'SALESFORCE_INVALID_EMAIL_ADDRESS', field: 'Email' },
    });
    expect(outcomes[0]).toMatchObject({ ok: true, created: true });
    expect(await count(salesforce, 'Lead')).toBe(299);
    expect(await jobs(salesforce, 'ingest')).toBe(1);
    const injected = await faultsInjected();
    expect(injected['5xx'] + injected['429']).toBeGreaterThan(0);
  }, 60_000);

  it('a job Salesforce fails as a whole fails its records permanently with the job error, once', async () => {
    const salesforce = await h.connector({ bulkThreshold: 1 });
    const ops = Array.from({ length: 5 }, (_, i) => accountCreate(i, { No_Such_Field__c: 'x' }));
    const outcomes = await underFaults('5xx=0.3', () => salesforce.write('Account', ops));
    expectOneOutcomePerOp(ops, outcomes);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        ok: false,
        classification: {
          kind: 'permanent',
          code: 'SALESFORCE_BULK_JOB_FAILED',
          reason: expect.stringContaining('Field name not found : No_Such_Field__c'),
        },
      });
    }
    expect(await count(salesforce, 'Account')).toBe(0);
    expect(await jobs(salesforce, 'ingest')).toBe(1);
  });

  it.each([
    ['5xx=0.3', '5xx'],
    ['429=0.3', '429'],
  ] as const)(
    'a Bulk pull under %s reads every Lead exactly once from one query job',
    async (spec, fault) => {
      h.running.sandbox.loadWorld(leadWorld(5_000, { sameStamp: 1_000 }));
      const salesforce = await h.connector({ bulkThreshold: 2_500, bulkPageSize: 700 });
      const { ids, pages } = await underFaults(spec, () => collect(salesforce.pull('Lead', null)));
      expect(ids).toHaveLength(5_000);
      expect(new Set(ids).size).toBe(5_000);
      expect(pages.at(-1)?.checkpoint).toMatchObject({ phase: 'incremental', lastId: null });
      expect(await jobs(salesforce, 'query')).toBe(1);
      expect((await faultsInjected())[fault]).toBeGreaterThan(0);
    },
    60_000,
  );
});
