import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/store/database.js';
import { runTandem } from '../support/cli.js';
import { eventually } from './dashboard-support.js';
import { emailCounts, startSyncWorld, type SyncWorld } from './sync-e2e-support.js';

/**
 * A storm of transient 5xx on both CRMs during a `tandem sync --once` (REAL pipeline, child process, against
 * the sandboxes) heals without anyone acting: retries with backoff, no failed job but the world's mess,
 * no record created twice.
 */
interface Summary {
  objects: Array<{ system: string; object: string; pulled: number; written: number; failed: number }>;
  failures: Array<{ code: string; reason: string; system?: string; object?: string; recordId?: string }>;
  unreachable: unknown[];
}

let world: SyncWorld;
let initial: Summary;

const sync = async (...args: string[]): Promise<{ code: number | null; summary: Summary }> => {
  const run = await runTandem(['sync', '--once', '--json', ...args], world.env);
  if (run.stdout === '') throw new Error(`tandem sync printed nothing (exit ${run.code}): ${run.stderr}`);
  return { code: run.code, summary: JSON.parse(run.stdout) as Summary };
};

/** Linked persons whose Salesforce side is a live (not converted) Lead, from the customer view. */
async function linkedLeads(): Promise<Array<{ hubspot: string; lead: string }>> {
  const db = await openDatabase({ dataDir: world.env['TANDEM_DATA_DIR'] as string });
  try {
    const links = await db.db
      .selectFrom('record_links')
      .selectAll()
      .where('record_type', '=', 'person')
      .execute();
    const byPerson = new Map<string, { hubspot?: string; leads: string[]; contacts: number }>();
    for (const l of links) {
      const p = byPerson.get(l.unified_id) ?? { leads: [], contacts: 0 };
      if (l.system === 'hubspot') p.hubspot = l.record_id;
      else if (l.object === 'Lead') p.leads.push(l.record_id);
      else p.contacts += 1;
      byPerson.set(l.unified_id, p);
    }
    return [...byPerson.values()].flatMap((p) =>
      p.hubspot !== undefined && p.leads.length === 1 && p.contacts === 0
        ? [{ hubspot: p.hubspot, lead: p.leads[0] as string }]
        : [],
    );
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  world = await startSyncWorld(60);
  initial = (await sync()).summary;
}, 240_000);

afterAll(async () => {
  await world?.stop();
});

describe('a storm of transient 5xx on both CRMs', () => {
  it('recovers without anyone acting: only known failures, nothing duplicated', async () => {
    const before = await emailCounts(world);
    const contacts = (await linkedLeads()).slice(0, 3);
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
    const known = new Set(initial.failures.map((f) => `${f.code} ${f.recordId ?? ''}`));
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
