import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/store/database.js';
import type { FailureDetail } from '../../src/queues/failure.js';
import { QueueName } from '../../src/queues/names.js';
import { exitOf, runTandem, startTandem } from '../support/cli.js';
import { startSyncWorld, type SyncWorld } from './sync-e2e-support.js';

/**
 * Failures end to end with the REAL pipeline, `tandem sync --once` / `worker` / `replay` as child processes
 * against the sandboxes: a record Salesforce rejects for a real reason (its duplicate rule), fixed in
 * Salesforce and replayed.
 * PGlite under the data directory is opened by one process at a time.
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

describe('a record Salesforce rejects for good', () => {
  it('fails alone with a readable failure, its batch-mates written; fixed in Salesforce, `tandem replay` writes it', async () => {
    const failedBefore = new Set(initial.failures.map((f) => f.recordId));
    const leads = (await linkedLeads()).filter(
      (p) => !failedBefore.has(p.lead) && !failedBefore.has(p.hubspot),
    );
    const open: typeof leads = [];
    for (const p of leads) {
      const row = (await world.salesforce.sobject('Lead').retrieve(p.lead)) as unknown as Record<
        string,
        unknown
      >;
      if (row['IsConverted'] === false && typeof row['Email'] === 'string') open.push(p);
      if (open.length === 2) break;
    }
    expect(open).toHaveLength(2);
    const [bad, mate] = open as [(typeof open)[number], (typeof open)[number]];

    // A rep creates a Lead with the new address while marketing changes the contact's email in HubSpot:
    // Salesforce's duplicate rule blocks Tandem's update of the linked Lead. (The rep's Lead is newer than
    // the Salesforce pull's window lag, so Tandem does not know it yet: the race the rule exists for.)
    const email = `moved-${randomUUID().slice(0, 8)}@example.com`;
    const duplicate = await world.salesforce
      .sobject('Lead')
      .create({ LastName: 'Duplicate', Company: 'Rep Created', Email: email });
    expect(duplicate.success).toBe(true);
    await world.hubspot.crm.contacts.basicApi.update(bad.hubspot, { properties: { email } });
    await world.hubspot.crm.contacts.basicApi.update(mate.hubspot, {
      properties: { jobtitle: 'Chief Replay Officer' },
    });

    const cycle = await sync();
    expect(cycle.code).toBe(1);
    const named = cycle.summary.failures.filter((f) => f.recordId === bad.lead);
    expect(named).toEqual([
      expect.objectContaining({
        code: 'SALESFORCE_DUPLICATES_DETECTED',
        system: 'salesforce',
        object: 'Lead',
      }),
    ]);
    const jobs = await world.failedJobs(QueueName.WriteBack);
    const job = jobs.find((j) => (j.data as { failure?: FailureDetail }).failure?.recordId === bad.lead);
    expect(job).toBeDefined();
    const failure = (job?.data as { failure: FailureDetail }).failure;
    expect(failure).toMatchObject({
      code: 'SALESFORCE_DUPLICATES_DETECTED',
      kind: 'permanent',
      system: 'salesforce',
      object: 'Lead',
      recordId: bad.lead,
    });
    expect(failure.reason).toMatch(/duplicate rules blocked writing Lead/);
    expect(failure.reason).toContain(email);
    // The batch-mate was written; the rejected Lead kept its old address.
    const lead = async (id: string): Promise<Record<string, unknown>> =>
      (await world.salesforce.sobject('Lead').retrieve(id)) as unknown as Record<string, unknown>;
    expect((await lead(mate.lead))['Title']).toBe('Chief Replay Officer');
    expect((await lead(bad.lead))['Email']).not.toBe(email);

    // The rep's duplicate is removed in Salesforce; a worker process runs the replay.
    await world.salesforce.sobject('Lead').destroy(duplicate.id as string);
    const { child } = await startTandem(['worker'], world.env, /Tandem worker \d+ running/);
    try {
      const replay = await runTandem(
        ['replay', '--code', 'SALESFORCE_DUPLICATES_DETECTED', '--json'],
        world.env,
      );
      // The world's planted duplicate Leads fail with the same code and are replayed with it.
      const result = JSON.parse(replay.stdout) as { replayed: number; succeeded: number; failed: number };
      expect(result.failed).toBe(0);
      expect(result.replayed).toBeGreaterThanOrEqual(1);
      expect(result.succeeded).toBe(result.replayed);
      expect(replay.code).toBe(0);
    } finally {
      child.kill('SIGTERM');
      await exitOf(child);
    }
    expect((await lead(bad.lead))['Email']).toBe(email);
  }, 240_000);
});
