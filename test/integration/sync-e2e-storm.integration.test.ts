import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ALL_QUEUES } from '../../src/queues/names.js';
import { eventually } from './dashboard-support.js';
import {
  emailCounts,
  linkedLeads,
  startSyncWorld,
  syncOnce,
  type SyncSummary,
  type SyncWorld,
} from './sync-e2e-support.js';

/**
 * A storm of transient 5xx on both CRMs during a `tandem sync --once` (REAL pipeline, child process, against
 * the sandboxes) heals without anyone acting: retries with backoff, no failed job but the world's mess,
 * no record created twice.
 */
let world: SyncWorld;
let initial: SyncSummary;
/** `code recordId` of every failure before the storm (the world's mess). */
let known: Set<string>;

const sync = (...args: string[]) => syncOnce(world, ...args);

beforeAll(async () => {
  world = await startSyncWorld(60);
  initial = (await sync()).summary;
  // From the summary and from the failed jobs kept: a record that failed twice in one cycle keeps only its
  // latest failed job, which the cycle that queued the first does not follow.
  known = new Set(initial.failures.map((f) => `${f.code} ${f.recordId ?? ''}`));
  for (const queue of ALL_QUEUES) {
    for (const job of await world.failedJobs(queue)) {
      const f = (job.data as { failure?: { code: string; recordId?: string } }).failure;
      if (f !== undefined) known.add(`${f.code} ${f.recordId ?? ''}`);
    }
  }
}, 240_000);

afterAll(async () => {
  await world?.stop();
});

describe('a storm of transient 5xx on both CRMs', () => {
  it('recovers without anyone acting: only known failures, nothing duplicated', async () => {
    const before = await emailCounts(world);
    const contacts = (await linkedLeads(world)).slice(0, 3);
    for (const [i, p] of contacts.entries()) {
      await world.hubspot.crm.contacts.basicApi.update(p.hubspot, {
        properties: { jobtitle: `Storm Chaser ${i}` },
      });
    }
    const faults = (): { hubspot: number; salesforce: number } => ({
      hubspot: world.sandbox.hubspot.stats.snapshot().faults['5xx'],
      salesforce: world.sandbox.salesforce.stats.snapshot().faults['5xx'],
    });
    const start = faults();
    await world.faults('5xx=0.3');
    let done = false;
    const cycle = sync('--mode', 'backfill').finally(() => (done = true));
    try {
      // The storm lasts until both CRMs have answered several requests with a 5xx (or the cycle is over).
      await eventually(
        async () => {
          const now = faults();
          return done || (now.hubspot - start.hubspot >= 5 && now.salesforce - start.salesforce >= 5);
        },
        'faults on both sandboxes',
        2_000,
      );
    } finally {
      await world.faults('');
    }
    const { code, summary } = await cycle;
    const seen = faults();
    expect(seen.hubspot - start.hubspot).toBeGreaterThan(0);
    expect(seen.salesforce - start.salesforce).toBeGreaterThan(0);
    expect(summary.unreachable).toEqual([]);
    expect([0, 1]).toContain(code);
    // Nothing failed that had not failed before the storm (the world's mess, and the replayed record's).
    expect(summary.failures.filter((f) => !known.has(`${f.code} ${f.recordId ?? ''}`))).toEqual([]);
    expect(summary.failures.filter((f) => /^(HTTP_5|.*_5\d\d|.*UNAVAILABLE)/.test(f.code))).toEqual([]);

    const after = await emailCounts(world);
    const grown = [...after].filter(([key, n]) => n > 1 && n > (before.get(key) ?? 0));
    expect(grown).toEqual([]);
    expect([...after.keys()].filter((k) => !before.has(k))).toEqual([]);
    for (const [i, p] of contacts.entries()) {
      const row = (await world.salesforce.sobject('Lead').retrieve(p.lead)) as unknown as Record<
        string,
        unknown
      >;
      expect(row['Title']).toBe(`Storm Chaser ${i}`);
    }
  }, 240_000);
});
