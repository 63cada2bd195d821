import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { FailureDetail } from '../../src/queues/failure.js';
import { QueueName } from '../../src/queues/names.js';
import { exitOf, runTandem, startTandem } from '../support/cli.js';
import {
  linkedLeads,
  startSyncWorld,
  syncOnce,
  type SyncSummary,
  type SyncWorld,
} from './sync-e2e-support.js';

/**
 * Failures end to end with the REAL pipeline, `tandem sync --once` / `worker` / `replay` as child processes
 * against the sandboxes: a record Salesforce rejects for a real reason (its duplicate rule), fixed in
 * Salesforce and replayed.
 * PGlite under the data directory is opened by one process at a time.
 */

let world: SyncWorld;
let initial: SyncSummary;

const sync = (...args: string[]) => syncOnce(world, ...args);

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
    const leads = (await linkedLeads(world)).filter(
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

    const checkpoint = (): Promise<string | null> =>
      world.redis.get(`${world.prefix}:{checkpoint}:hubspot:contacts`);
    const before = await checkpoint();
    const edited = await world.hubspot.crm.contacts.basicApi.getById(bad.hubspot, [
      'lastmodifieddate',
      'email',
    ]);
    const cycle = await sync();
    // The whole summary on a mismatch (toMatchObject would print only the code): which record failed, or
    // what was written instead, says why; the HubSpot contacts checkpoint around the cycle says what it read.
    expect({
      code: cycle.code,
      summary: cycle.summary,
      checkpoint: { before, after: await checkpoint(), edited: edited.properties },
    }).toEqual(expect.objectContaining({ code: 1 }));
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
