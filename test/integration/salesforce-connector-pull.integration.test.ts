import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseCheckpoint, type Checkpoint } from '../../src/connectors/connector.js';
import { collect, leadWorld, START, startHarness, type Harness } from './salesforce-connector-helpers.js';
import { BULK_YIELD_SIZE } from '../../src/connectors/salesforce/connector.js';

describe('SalesforceConnector.pull against the sandbox', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    h.clock.now = START;
  });

  it('back-fills every record once when thousands share one SystemModstamp, then hands over to incremental', async () => {
    h.running.sandbox.loadWorld(leadWorld(4_500, { sameStamp: 3_000 }));
    const salesforce = await h.connector();
    const { ids, pages, last } = await collect(salesforce.pull('Lead', null, { pageSize: 700 }));
    expect(ids).toHaveLength(4_500);
    expect(new Set(ids).size).toBe(4_500);
    expect(pages.length).toBeGreaterThan(6);
    for (const page of pages) expect(() => parseCheckpoint(page.checkpoint)).not.toThrow();
    expect(pages[0]?.checkpoint.phase).toBe('backfill');
    expect(last).toMatchObject({ phase: 'incremental', since: '2024-05-31T23:59:00.000Z', lastId: null });
    const record = pages[0]?.records[0];
    expect(record?.fields['SystemModstamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(record?.fields).toHaveProperty('IsConverted', false);
    expect(record?.fields).toHaveProperty('ConvertedContactId', null);
  });

  it('resumes from a checkpoint saved mid-stream with no gaps and no duplicates', async () => {
    h.running.sandbox.loadWorld(leadWorld(3_000, { sameStamp: 2_000 }));
    const salesforce = await h.connector();
    const first = await collect(salesforce.pull('Lead', null, { pageSize: 400 }), 3);
    expect(first.ids).toHaveLength(1_200);
    // The saved checkpoint goes through JSON, as it does through Redis.
    const saved = parseCheckpoint(JSON.parse(JSON.stringify(first.last)));
    const rest = await collect(salesforce.pull('Lead', saved, { pageSize: 400 }));
    const all = [...first.ids, ...rest.ids];
    expect(all).toHaveLength(3_000);
    expect(new Set(all).size).toBe(3_000);
  });

  it('picks up exactly the records changed, deleted and converted since the checkpoint', async () => {
    h.running.sandbox.loadWorld(leadWorld(1_000));
    const salesforce = await h.connector();
    const backfill = await collect(salesforce.pull('Lead', null));
    expect(backfill.ids).toHaveLength(1_000);
    const checkpoint = backfill.last as Checkpoint;

    h.clock.now = START + 5 * 60_000;
    const conn = salesforce.caller.conn;
    const [a, b, c, d] = backfill.ids as [string, string, string, string];
    await conn.sobject('Lead').update([
      { Id: a, Status: 'Working - Contacted' },
      { Id: b, Title: 'CTO' },
    ]);
    await conn.sobject('Lead').destroy(c);
    const converted = (await h.running.control('convert-lead', { leadId: d })) as { contactId: string };
    h.clock.now = START + 10 * 60_000;

    const changes = await collect(salesforce.pull('Lead', checkpoint));
    expect(new Set(changes.ids)).toEqual(new Set([a, b, d]));
    expect(changes.deleted).toEqual([c]);
    const lead = changes.pages.flatMap((p) => p.records).find((r) => r.id === d);
    expect(lead?.fields).toMatchObject({ IsConverted: true, ConvertedContactId: converted.contactId });
    expect(changes.last).toMatchObject({ phase: 'incremental', since: '2024-06-01T00:09:00.000Z' });

    // Nothing changed since: an empty window, and the cursor does not move backwards.
    const again = await collect(salesforce.pull('Lead', changes.last));
    expect(again.ids).toEqual([]);
    expect(again.deleted).toEqual([]);
  });

  it('reports Leads merged away as merged into the survivor, not as plain deletions', async () => {
    h.running.sandbox.loadWorld(leadWorld(20));
    const salesforce = await h.connector();
    const backfill = await collect(salesforce.pull('Lead', null));
    const [survivor, twin, triplet, deleted] = backfill.ids as [string, string, string, string];
    const twinEmail = backfill.pages.flatMap((p) => p.records).find((r) => r.id === twin)?.fields['Email'];

    h.clock.now = START + 5 * 60_000;
    const merge = (await h.running.control('merge', {
      object: 'Lead',
      masterRecordId: survivor,
      mergedIds: [twin, triplet],
      // The survivor keeps the merged-away twin's address (it is still free of the duplicate rule).
      fields: { Email: twinEmail },
    })) as { id: string; mergedRecordIds: string[] };
    expect(merge).toMatchObject({ id: survivor, mergedRecordIds: [twin, triplet] });
    await salesforce.caller.conn.sobject('Lead').destroy(deleted);
    h.clock.now = START + 10 * 60_000;

    const changes = await collect(salesforce.pull('Lead', backfill.last));
    expect(changes.ids).toEqual([survivor]);
    expect(changes.pages.flatMap((p) => p.records)[0]?.fields).toMatchObject({
      Email: twinEmail,
      MasterRecordId: null,
    });
    const gone = changes.pages.flatMap((p) => p.deleted);
    expect(gone.map((d) => [d.id, d.mergedInto])).toEqual(
      expect.arrayContaining([
        [twin, survivor],
        [triplet, survivor],
        [deleted, undefined],
      ]),
    );
    expect(gone).toHaveLength(3);
    expect(gone.find((d) => d.id === deleted)).not.toHaveProperty('mergedInto');
  });

  it('does not read records stamped inside the lag before now (late commits are still ahead of the cursor)', async () => {
    h.running.sandbox.loadWorld(leadWorld(10));
    const salesforce = await h.connector({ windowLagMs: 60_000 });
    const backfill = await collect(salesforce.pull('Lead', null));
    h.clock.now = START + 60_000;
    const conn = salesforce.caller.conn;
    await conn.sobject('Lead').update({ Id: backfill.ids[0] as string, Title: 'VP' });
    h.clock.now = START + 90_000; // the change is 30 s old: inside the lag
    const early = await collect(salesforce.pull('Lead', backfill.last));
    expect(early.ids).toEqual([]);
    h.clock.now = START + 3 * 60_000;
    const later = await collect(salesforce.pull('Lead', early.last));
    expect(later.ids).toEqual([backfill.ids[0]]);
  });

  it('loses nothing through a storm of 503s and concurrency throttling', async () => {
    h.running.sandbox.loadWorld(leadWorld(2_500, { sameStamp: 1_000 }));
    const salesforce = await h.connector();
    await h.running.control('faults', { spec: '5xx=0.3,429=0.2' });
    try {
      const { ids } = await collect(salesforce.pull('Lead', null, { pageSize: 300 }));
      expect(new Set(ids).size).toBe(2_500);
      expect(ids).toHaveLength(2_500);
    } finally {
      await h.running.control('faults', { spec: '' });
    }
    const stats = (await (await fetch(`${h.running.url}/__sandbox/stats`)).json()) as {
      faults: { '5xx': number; '429': number };
    };
    expect(stats.faults['5xx']).toBeGreaterThan(0);
    expect(stats.faults['429']).toBeGreaterThan(0);
  });

  it('switches to Bulk API 2.0 above the threshold and still reads every record once', async () => {
    h.running.sandbox.loadWorld(leadWorld(25_000, { sameStamp: 5_000 }));
    const salesforce = await h.connector({ bulkThreshold: 10_000, bulkPageSize: 8_000 });
    await fetch(`${h.running.url}/__sandbox/stats/reset`, { method: 'POST' });
    const { ids, pages } = await collect(salesforce.pull('Lead', null));
    expect(ids).toHaveLength(25_000);
    expect(new Set(ids).size).toBe(25_000);
    const stats = await h.stats();
    expect(stats.calls['POST /services/data/vXX.X/jobs/query']).toBe(1);
    expect(stats.calls['GET /services/data/vXX.X/jobs/query/:id/results']).toBe(3);
    // One REST page of 2,000, then the bulk job: a handful of calls for 25,000 records.
    expect(stats.totalCalls).toBeLessThan(15);
    expect(pages.at(-1)?.checkpoint).toMatchObject({ phase: 'incremental', lastId: null });
    // Each Bulk result page (8,000 rows) is handed on in pieces the pipeline can hold.
    expect(Math.max(...pages.map((p) => p.records.length))).toBeLessThanOrEqual(BULK_YIELD_SIZE);
    expect(pages.length).toBeGreaterThanOrEqual(1 + Math.ceil(23_000 / BULK_YIELD_SIZE));
    // Until the last piece of the last result page, a crash re-reads the job's results from the start.
    const checkpoints = pages.slice(1).map((p) => JSON.stringify(p.checkpoint));
    const held = checkpoints.findIndex((c) => c !== checkpoints[0]);
    expect(held).toBe(Math.ceil(23_000 / BULK_YIELD_SIZE) - 1);
    expect(checkpoints[held]).toContain('"phase":"incremental"');
    const typed = pages[1]?.records[0]?.fields;
    expect(typeof typed?.['IsConverted']).toBe('boolean');
  }, 60_000);
});
