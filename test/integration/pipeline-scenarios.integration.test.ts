import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { backfillMapping, previewMapping, rebuildView } from '../../src/pipeline/maintenance.js';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import type { RecordFailure, SourceRef, WriteBatch } from '../../src/pipeline/contract.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { fullCycle, startPipelineHarness, type PipelineHarness } from './pipeline-support.js';

/**
 * A small demo world synced once, then: a record the CRM rejects, a preview, a back-fill after a changed
 * value map, and a rebuild. Real SDKs against the sandboxes, a PGlite store on disk (so a second pipeline
 * with another mapping can open it after the first is closed).
 */

let h: PipelineHarness;
let pipeline: SyncPipelineImpl;
let dataDir: string;

const open = (mappingPath?: string): Promise<SyncPipelineImpl> =>
  h.open({ database: { dataDir }, ...(mappingPath !== undefined ? { mappingPath } : {}) });

async function personPairs(
  p: SyncPipelineImpl,
): Promise<Map<string, { hubspot?: string; salesforce?: string; object?: string }>> {
  const rows = await p.db
    .selectFrom('record_links')
    .selectAll()
    .where('record_type', '=', 'person')
    .execute();
  const byUnified = new Map<string, { hubspot?: string; salesforce?: string; object?: string }>();
  for (const r of rows) {
    const e = byUnified.get(r.unified_id) ?? {};
    if (r.system === 'hubspot') e.hubspot = r.record_id;
    else if (e.salesforce === undefined || r.object === 'Contact') {
      e.salesforce = r.record_id;
      e.object = r.object;
    }
    byUnified.set(r.unified_id, e);
  }
  return byUnified;
}

/** The `index`-th person linked on both sides: its unified id and record ids. */
async function linkedPair(
  index: number,
): Promise<[string, { hubspot: string; salesforce: string; object?: string }]> {
  const pairs = [...(await personPairs(pipeline)).entries()].filter(
    ([, p]) => p.hubspot !== undefined && p.salesforce !== undefined,
  );
  return pairs[index] as [string, { hubspot: string; salesforce: string; object?: string }];
}

/** A field of the pair's Salesforce record, read through jsforce. */
async function salesforceValue(
  pair: { salesforce: string; object?: string },
  field: string,
): Promise<unknown> {
  const conn = pipeline.connectors.salesforce.caller.conn;
  const rows = await conn.query<Record<string, unknown>>(
    `SELECT ${field} FROM ${pair.object ?? 'Contact'} WHERE Id = '${pair.salesforce}'`,
  );
  return rows.records[0]?.[field];
}

/** A unified field's value in the customer view. */
async function viewValue(unifiedId: string, field: string): Promise<unknown> {
  const row = await pipeline.db
    .selectFrom('field_values')
    .select('value')
    .where('unified_id', '=', unifiedId)
    .where('field', '=', field)
    .executeTakeFirst();
  return row?.value;
}

/** Pulls the Salesforce person objects and reconciles what changed: the planned write batches. */
async function planFromSalesforce(): Promise<WriteBatch[]> {
  const batches: WriteBatch[] = [];
  for (const o of pipeline.objects.filter((x) => x.system === 'salesforce' && x.kind === 'person')) {
    for await (const page of pipeline.pull('salesforce', o.object, { mode: 'incremental' })) {
      if (page.refs.length > 0) batches.push(...(await pipeline.reconcile(page.kind, page.refs)).writes);
    }
  }
  return batches;
}

beforeAll(async () => {
  h = await startPipelineHarness({ seed: 'demo', persons: 60 });
  dataDir = mkdtempSync(join(tmpdir(), 'tandem-pipeline-db-'));
  pipeline = await open();
  await fullCycle(pipeline, 'incremental');
  await fullCycle(pipeline, 'incremental');
}, 300_000);

afterAll(async () => {
  await pipeline?.close();
  await h?.stop();
});

describe('pipeline scenarios on a small demo world', () => {
  it('fails exactly the record Salesforce rejects, writes its batch-mates, and replays once fixed', async () => {
    const pairs = [...(await personPairs(pipeline)).values()].filter(
      (p) => p.hubspot !== undefined && p.salesforce !== undefined && p.object === 'Contact',
    );
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    const [bad, good] = pairs as [Required<(typeof pairs)[number]>, Required<(typeof pairs)[number]>];
    const hubspot = pipeline.connectors.hubspot.client;
    const longTitle = `Head of ${'Very '.repeat(60)}Long Titles`;
    await hubspot.crm.contacts.basicApi.update(bad.hubspot, { properties: { jobtitle: longTitle } });
    await hubspot.crm.contacts.basicApi.update(good.hubspot, {
      properties: { jobtitle: 'Chief Testing Officer' },
    });

    const failures: RecordFailure[] = [];
    const batches: WriteBatch[] = [];
    for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) {
      if (page.refs.length === 0) continue;
      batches.push(...(await pipeline.reconcile(page.kind, page.refs)).writes);
    }
    let written = 0;
    for (const b of batches) {
      const outcome = await pipeline.writeBack(b, { jobId: `test-${b.key}` });
      written += outcome.written;
      failures.push(...outcome.failed);
    }
    expect(written).toBeGreaterThan(0);
    expect(failures.map((f) => f.detail.recordId)).toEqual([bad.salesforce]);
    const failure = failures[0] as RecordFailure;
    expect(failure.detail).toMatchObject({
      code: 'SALESFORCE_STRING_TOO_LONG',
      kind: 'permanent',
      system: 'salesforce',
      object: 'Contact',
      recordId: bad.salesforce,
    });
    expect(failure.detail.reason).toMatch(/Title.*longer than the field allows/);

    const conn = pipeline.connectors.salesforce.caller.conn;
    const titleOf = async (id: string): Promise<unknown> =>
      (await conn.query<{ Title: unknown }>(`SELECT Title FROM Contact WHERE Id = '${id}'`)).records[0]
        ?.Title;
    expect(await titleOf(good.salesforce)).toBe('Chief Testing Officer');
    expect(await titleOf(bad.salesforce)).not.toBe(longTitle);

    // Replayed as it is, it fails again; the replay reads the records afresh rather than trusting the plan.
    const write = failure.write as NonNullable<typeof failure.write>;
    expect(write).toBeDefined();
    const replayBatch: WriteBatch = {
      system: 'salesforce',
      object: 'Contact',
      writes: [write],
      mappingVersion: pipeline.mappingVersion,
      key: 'replay',
    };
    const again = await pipeline.writeBack(replayBatch, { jobId: 'replay-1', replan: true });
    expect(again.failed.map((f) => [f.detail.code, f.detail.recordId])).toEqual([
      ['SALESFORCE_STRING_TOO_LONG', bad.salesforce],
    ]);
    // Marketing fixes the title in HubSpot: the same failed write, replayed, writes the fixed value.
    await hubspot.crm.contacts.basicApi.update(bad.hubspot, {
      properties: { jobtitle: 'Head of Long Titles' },
    });
    const replay = await pipeline.writeBack(replayBatch, { jobId: 'replay-2', replan: true });
    expect(replay).toMatchObject({ written: 1, failed: [] });
    expect(await titleOf(bad.salesforce)).toBe('Head of Long Titles');
    const audit = await pipeline.db
      .selectFrom('write_audit')
      .selectAll()
      .where('record_id', '=', bad.salesforce)
      .where('field', '=', 'Title')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.outcome)).toEqual(expect.arrayContaining(['failed', 'written']));
  });

  it('re-plans a Salesforce update whose field a user changed after it was planned, instead of overwriting it', async () => {
    const pairs = [...(await personPairs(pipeline)).values()].filter(
      (p) => p.hubspot !== undefined && p.salesforce !== undefined && p.object === 'Contact',
    );
    const pair = pairs[pairs.length - 1] as Required<(typeof pairs)[number]>;
    const hubspot = pipeline.connectors.hubspot.client;
    await hubspot.crm.contacts.basicApi.update(pair.hubspot, {
      properties: { jobtitle: 'Planned From HubSpot' },
    });
    const batches: WriteBatch[] = [];
    for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) {
      if (page.refs.length === 0) continue;
      batches.push(...(await pipeline.reconcile(page.kind, page.refs)).writes);
    }
    const planned = batches
      .flatMap((b) => b.writes)
      .find((w) => w.system === 'salesforce' && w.recordId === pair.salesforce);
    expect(planned?.fields.map((f) => [f.field, f.value])).toContainEqual(['Title', 'Planned From HubSpot']);

    // A rep retitles the Contact in Salesforce before the write goes out (Tandem has not read it yet).
    await new Promise((r) => setTimeout(r, 20));
    const conn = pipeline.connectors.salesforce.caller.conn;
    await conn.sobject('Contact').update({ Id: pair.salesforce, Title: 'Edited In Salesforce' });
    for (const b of batches) await pipeline.writeBack(b, { jobId: `stale-${b.key}` });

    const title = (
      await conn.query<{ Title: unknown }>(`SELECT Title FROM Contact WHERE Id = '${pair.salesforce}'`)
    ).records[0]?.Title;
    expect(title).toBe('Edited In Salesforce');
    const contact = await hubspot.crm.contacts.basicApi.getById(pair.hubspot, ['jobtitle']);
    expect(contact.properties['jobtitle']).toBe('Edited In Salesforce');
    const skipped = await pipeline.db
      .selectFrom('write_audit')
      .selectAll()
      .where('record_id', '=', pair.salesforce)
      .where('outcome', '=', 'skipped')
      .execute();
    expect(skipped.map((a) => a.reason)).toContainEqual(
      expect.stringMatching(/^changed in Salesforce since it was planned \(.*Title.*\)/),
    );
  });

  it('stores nothing for a person reconciled again as it is, and everything once its fingerprint is gone', async () => {
    const [unifiedId, pair] = await linkedPair(3);
    // A row's physical position changes whenever it is written again.
    const positions = async (): Promise<string> => {
      const { rows } = await sql<{ ctid: string }>`
        select ctid::text from tandem.field_values where unified_id = ${unifiedId}
        union all select ctid::text from tandem.persons where id = ${unifiedId}
        order by 1`.execute(pipeline.db);
      return rows.map((r) => r.ctid).join(' ');
    };
    const refs = [
      { system: 'hubspot' as const, object: 'contacts' as const, id: pair.hubspot },
      { system: 'salesforce' as const, object: (pair.object ?? 'Lead') as 'Lead', id: pair.salesforce },
    ];
    await pipeline.reconcile('person', refs);
    const before = await positions();
    expect(before.split(' ').length).toBeGreaterThan(3);
    await pipeline.reconcile('person', refs);
    expect(await positions()).toBe(before);

    await pipeline.db.deleteFrom('view_fingerprints').where('part', '=', `person:${unifiedId}`).execute();
    await pipeline.reconcile('person', refs);
    expect(await positions()).not.toBe(before);
    const stored = await pipeline.db
      .selectFrom('view_fingerprints')
      .select('part')
      .where('part', '=', `person:${unifiedId}`)
      .execute();
    expect(stored).toHaveLength(1);
  });

  it('leaves the last-written hashes alone when a reconcile finds them as they are, and stores a changed one', async () => {
    const [, pair] = await linkedPair(2);
    const keys = new RedisKeys(h.prefix);
    const prefix = keys.lastWritten('hubspot', pair.hubspot).split('hubspot:')[0] as string;
    const client = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    const monitor = await client.monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (typeof args[1] === 'string' && args[1].startsWith(prefix)) commands.push(args);
    });
    const seen = async (): Promise<string[][]> => {
      // MONITOR reports asynchronously: a marker command shows everything before it has arrived.
      const marker = `${prefix}marker-${randomUUID()}`;
      const probe = new Redis(process.env['TEST_REDIS_URL'] ?? '');
      await probe.get(marker);
      await probe.quit();
      for (let i = 0; i < 100 && !commands.some((c) => c[1] === marker); i += 1)
        await new Promise((r) => setTimeout(r, 20));
      const out = commands.filter((c) => c[1] !== marker);
      commands.length = 0;
      return out;
    };
    const refs = [
      { system: 'hubspot' as const, object: 'contacts' as const, id: pair.hubspot },
      { system: 'salesforce' as const, object: (pair.object ?? 'Lead') as 'Lead', id: pair.salesforce },
    ];
    try {
      await seen();
      const again = await pipeline.reconcile('person', refs);
      expect(again.writes).toEqual([]);
      const unchanged = await seen();
      expect(unchanged.filter((c) => c[0]?.toLowerCase() === 'hmget').length).toBeGreaterThan(0);
      expect(unchanged.filter((c) => c[0]?.toLowerCase() === 'hset')).toEqual([]);

      // A field whose stored hash is not the value both records hold now is stored again.
      const key = keys.lastWritten('hubspot', pair.hubspot);
      const field = (await redis.hkeys(key)).find((f) => !f.includes('#'));
      expect(field).toBeDefined();
      const stored = await redis.hget(key, field as string);
      await redis.hset(key, field as string, 'not-the-hash-of-anything');
      await seen();
      await pipeline.reconcile('person', refs);
      const stores = (await seen()).filter((c) => c[0]?.toLowerCase() === 'hset');
      expect(stores.map((c) => c[1])).toEqual([key]);
      expect(await redis.hget(key, field as string)).toBe(stored);
    } finally {
      monitor.disconnect();
      client.disconnect();
      await redis.quit();
    }
  });

  it('drops the result of a reconcile whose person was planned since from a later read: no writes, no view rows', async () => {
    const [unifiedId, pair] = await linkedPair(0);
    const keys = new RedisKeys(h.prefix);
    const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    const fieldValue = async (): Promise<unknown> =>
      (
        await pipeline.db
          .selectFrom('field_values')
          .select('value')
          .where('unified_id', '=', unifiedId)
          .where('field', '=', 'job_title')
          .executeTakeFirst()
      )?.value;
    try {
      // Another reconcile, which read this person's records after any this test starts, planned it last.
      await redis.set(keys.plan(unifiedId), `${Number.MAX_SAFE_INTEGER}|plan-from-a-later-read`);
      const before = await fieldValue();
      await pipeline.connectors.hubspot.client.crm.contacts.basicApi.update(pair.hubspot, {
        properties: { jobtitle: 'Read Before The Other Plan' },
      });
      const planned = async (): Promise<WriteBatch[]> => {
        const batches: WriteBatch[] = [];
        for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) {
          if (page.refs.length > 0) batches.push(...(await pipeline.reconcile(page.kind, page.refs)).writes);
        }
        return batches;
      };
      const stale = await planned();
      expect(stale.flatMap((b) => b.writes).filter((w) => w.entityKey === unifiedId)).toEqual([]);
      expect(await fieldValue()).toEqual(before);
      expect(await redis.get(keys.plan(unifiedId))).toBe(`${Number.MAX_SAFE_INTEGER}|plan-from-a-later-read`);

      // Without the later plan, the same records are planned and written as usual.
      await redis.del(keys.plan(unifiedId));
      const ref = { system: 'hubspot' as const, object: 'contacts' as const, id: pair.hubspot };
      const fresh = (await pipeline.reconcile('person', [ref])).writes;
      const written = fresh.flatMap((b) => b.writes).filter((w) => w.entityKey === unifiedId);
      expect(written.flatMap((w) => w.fields.map((f) => f.value))).toContain('Read Before The Other Plan');
      expect(await fieldValue()).toBe('Read Before The Other Plan');
      for (const b of fresh) await pipeline.writeBack(b, { jobId: `fresh-${b.key}` });
    } finally {
      await redis.quit();
    }
  });

  it('asks for another reconcile of a person a later read claimed while this one stored its view rows', async () => {
    const [unifiedId, pair] = await linkedPair(1);
    const keys = new RedisKeys(h.prefix);
    const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    const view = pipeline.view;
    const storeParts = view.storeParts;
    const ref = { system: 'hubspot' as const, object: 'contacts' as const, id: pair.hubspot };
    try {
      // The other reconcile read later and claims the person just as this one writes its rows.
      view.storeParts = async (...args) => {
        await storeParts.apply(view, args);
        await redis.set(keys.plan(unifiedId), `${Number.MAX_SAFE_INTEGER}|plan-from-a-later-read`);
      };
      const raced = await pipeline.reconcile('person', [ref]);
      expect(raced.reconcileAgain).toEqual(
        expect.arrayContaining([ref, expect.objectContaining({ system: 'salesforce', id: pair.salesforce })]),
      );

      view.storeParts = storeParts;
      await redis.del(keys.plan(unifiedId));
      const again = await pipeline.reconcile('person', raced.reconcileAgain ?? []);
      expect(again.reconcileAgain).toBeUndefined();
      expect(again.entities).toBeGreaterThan(0);
    } finally {
      view.storeParts = storeParts;
      await redis.quit();
    }
  });

  it('previews on real data and writes nothing', async () => {
    h.resetStats();
    const result = await previewMapping(pipeline, { limit: 5 });
    expect(result.sampled).toBeGreaterThan(0);
    expect(
      h.sandbox.hubspot.stats.snapshot().totalCalls + h.sandbox.salesforce.stats.snapshot().totalCalls,
    ).toBeGreaterThan(0);
    expect(h.writes()).toBe(0);
    for (const line of result.lines) {
      expect(line.reason).not.toBe('');
      expect(line.rule).not.toBe('');
    }
  });

  it('back-fills a changed value map onto exactly the records it affects', async () => {
    const conn = pipeline.connectors.salesforce.caller.conn;
    const working = (
      await conn.query<{ Id: string }>(
        "SELECT Id FROM Lead WHERE Status = 'Working - Contacted' AND IsConverted = false",
      )
    ).records.map((r) => r.Id);
    const pairs = [...(await personPairs(pipeline)).values()].filter(
      (p) => p.hubspot !== undefined && p.object === 'Lead' && working.includes(p.salesforce ?? ''),
    );
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    const chosen = pairs.slice(0, 2).map((p) => p.hubspot as string);
    const hubspot = pipeline.connectors.hubspot.client;
    for (const id of chosen) {
      await hubspot.crm.contacts.basicApi.update(id, {
        properties: { hs_lead_status: 'ATTEMPTED_TO_CONTACT' },
      });
    }
    // Under the current mapping ATTEMPTED_TO_CONTACT means "working", like the Lead: nothing to write.
    const settle = await fullCycle(pipeline, 'incremental');
    expect(settle.batches.flatMap((b) => b.writes).filter((w) => chosen.includes(w.recordId ?? ''))).toEqual(
      [],
    );

    // Every HubSpot contact that holds ATTEMPTED_TO_CONTACT beside a working Lead is affected.
    const expected = new Set<string>();
    for (const p of pairs) {
      const c = await hubspot.crm.contacts.basicApi.getById(p.hubspot as string, ['hs_lead_status']);
      if (c.properties['hs_lead_status'] === 'ATTEMPTED_TO_CONTACT') expected.add(c.id);
    }
    const text = readFileSync('mappings/default.yaml', 'utf8')
      .replace('new: { hubspot: NEW,', 'new: { hubspot: [NEW, ATTEMPTED_TO_CONTACT],')
      .replace(
        'hubspot: [IN_PROGRESS, ATTEMPTED_TO_CONTACT, CONNECTED, OPEN]',
        'hubspot: [IN_PROGRESS, CONNECTED, OPEN]',
      );
    const file = join(dataDir, `changed-${randomUUID()}.yaml`);
    writeFileSync(file, text);
    const version = pipeline.mappingVersion;
    await pipeline.close();
    pipeline = await open(file);
    expect(pipeline.mappingVersion).not.toBe(version);

    h.resetStats();
    const summary = await backfillMapping(pipeline, { jobId: 'backfill-test' });
    expect(summary.failures.filter((f) => f.write !== undefined)).toEqual([]);
    const audit = await pipeline.db
      .selectFrom('write_audit')
      .selectAll()
      .where('job_id', '=', 'backfill-test')
      .where('outcome', '=', 'written')
      .execute();
    expect(new Set(audit.map((a) => a.record_id))).toEqual(expected);
    expect(new Set(audit.map((a) => `${a.field}=${JSON.stringify(a.after)}`))).toEqual(
      new Set(['hs_lead_status="IN_PROGRESS"']),
    );
    expect(await pipeline.refsForMappingBackfill('person', { limit: 10 })).toEqual([]);
  }, 300_000);

  it('rebuilds the same unified view from the CRMs with zero write calls', async () => {
    const before = await personPairs(pipeline);
    const stagesBefore = new Map(
      (await pipeline.db.selectFrom('persons').select(['id', 'lifecycle_stage']).execute()).map((p) => [
        p.id,
        p.lifecycle_stage,
      ]),
    );
    const rebuilt = await h.open({ database: { dataDir: ':memory:' }, redisPrefix: `test-${randomUUID()}` });
    try {
      h.resetStats();
      const summary = await rebuildView(rebuilt);
      expect(summary.pulled).toBeGreaterThan(0);
      expect(h.writes()).toBe(0);
      const after = await personPairs(rebuilt);
      const pairKey = (p: { hubspot?: string; salesforce?: string }): string =>
        `${p.hubspot ?? '-'}|${p.salesforce ?? '-'}`;
      // Linked persons come back the same. (A duplicate Tandem remembered after its own writes changed the
      // keys that showed it cannot be told from the CRMs alone: it may come back as a person of its own.)
      const linked = (pairs: typeof before): Set<string> =>
        new Set([...pairs.values()].filter((p) => p.hubspot && p.salesforce).map(pairKey));
      expect(linked(after)).toEqual(linked(before));
      expect(linked(before).size).toBeGreaterThan(20);
      const stagesAfter = new Map(
        (await rebuilt.db.selectFrom('persons').select(['id', 'lifecycle_stage']).execute()).map((p) => [
          p.id,
          p.lifecycle_stage,
        ]),
      );
      const byPair = (pairs: typeof before, stages: Map<string, string | null>): Map<string, string | null> =>
        new Map(
          [...pairs]
            .filter(([, p]) => p.hubspot !== undefined && p.salesforce !== undefined)
            .map(([id, p]) => [pairKey(p), stages.get(id) ?? null]),
        );
      expect(byPair(after, stagesAfter)).toEqual(byPair(before, stagesBefore));
    } finally {
      await rebuilt.close();
    }
  }, 300_000);

  it('follows a Salesforce merge: the surviving Contact takes the link, and the person is not duplicated', async () => {
    const contacts = [...(await personPairs(pipeline)).entries()].filter(
      ([, p]) => p.hubspot !== undefined && p.object === 'Contact',
    );
    const [unifiedId, pair] = contacts[2] as [string, { hubspot: string; salesforce: string }];
    const conn = pipeline.connectors.salesforce.caller.conn;
    const tag = randomUUID().slice(0, 8);
    // A rep creates a second Contact for the same person under another address, then merges the linked
    // one into it: the new Contact survives and the one Tandem linked is deleted with MasterRecordId set.
    const personsBefore = new Set(
      (await pipeline.db.selectFrom('persons').select('id').execute()).map((p) => p.id),
    );
    const twin = (await conn.sobject('Contact').create({
      FirstName: 'Merged',
      LastName: `Survivor ${tag}`,
      Email: `survivor-${tag}@merge-test.io`,
    })) as { id: string };
    const response = await fetch(`${h.sandbox.credentials.salesforce.instanceUrl}/__sandbox/merge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object: 'Contact', masterRecordId: twin.id, mergedIds: [pair.salesforce] }),
    });
    expect(response.status).toBe(200);

    const cycle = await fullCycle(pipeline, 'incremental');
    const merged = cycle.pages.flatMap((p) => p.deleted).filter((d) => d.id === pair.salesforce);
    expect(merged).toHaveLength(1);
    const links = await pipeline.db
      .selectFrom('record_links')
      .select(['unified_id', 'system', 'object', 'record_id'])
      .where('record_id', 'in', [pair.hubspot, pair.salesforce, twin.id])
      .execute();
    expect(links.map((l) => [l.record_id, l.unified_id]).sort()).toEqual(
      [
        [pair.hubspot, unifiedId],
        [twin.id, unifiedId],
      ].sort(),
    );
    // No HubSpot contact for the surviving Contact, no Salesforce record for the HubSpot contact.
    const creates = cycle.batches
      .flatMap((b) => b.writes)
      .filter((w) => w.action === 'create' && (w.entityKey === unifiedId || w.counterpart?.id === twin.id));
    expect(creates).toEqual([]);
    expect(cycle.outcomes.flatMap((o) => o.failed)).toEqual([]);
    const personsAfter = await pipeline.db.selectFrom('persons').select('id').execute();
    expect(personsAfter.map((p) => p.id).filter((id) => !personsBefore.has(id))).toEqual([]);
  }, 300_000);

  it('hands back the writes that settle its creates when asked to, instead of sending them', async () => {
    const conn = pipeline.connectors.salesforce.caller.conn;
    const tag = randomUUID().slice(0, 8);
    const lead = (await conn.sobject('Lead').create({
      FirstName: 'Sett',
      LastName: `Ling-${tag}`,
      Company: 'Follow Up Inc',
      Email: `settling-${tag}@follow-up.io`,
      Status: 'Working - Contacted', // past MQL: the person gets a HubSpot contact
    })) as { id: string };
    const batches: WriteBatch[] = [];
    for await (const page of pipeline.pull('salesforce', 'Lead', { mode: 'incremental' })) {
      const refs = page.refs.filter((r) => r.id === lead.id);
      if (refs.length > 0) batches.push(...(await pipeline.reconcile(page.kind, refs)).writes);
    }
    const create = batches.find((b) => b.system === 'hubspot' && b.writes.some((w) => w.action === 'create'));
    expect(create).toBeDefined();
    const outcome = await pipeline.writeBack(create as WriteBatch, {
      jobId: `settle-${tag}`,
      queueFollowUps: true,
    });
    expect(outcome.created).toBe(1);
    // Settling the new contact gives the Lead its stage: handed back, not sent.
    const followUps = outcome.followUps ?? [];
    const stageWrite = followUps
      .flatMap((b) => b.writes)
      .find((w) => w.recordId === lead.id)
      ?.fields.find((f) => f.field === 'Tandem_Lifecycle_Stage__c');
    expect(stageWrite?.value).toBe('sal');
    const stageOf = async () =>
      salesforceValue({ salesforce: lead.id, object: 'Lead' }, 'Tandem_Lifecycle_Stage__c');
    expect(await stageOf()).toBeNull();
    for (const b of followUps) {
      const sent = await pipeline.writeBack(b, { jobId: `settle-${tag}-${b.key}`, queueFollowUps: true });
      expect(sent.failed).toEqual([]);
      expect(sent.followUps ?? []).toEqual([]);
    }
    expect(await stageOf()).toBe('sal');
  }, 300_000);

  it('fails a contact create that HubSpot matches to another contact by a secondary email, writing nothing to it', async () => {
    const hubspot = pipeline.connectors.hubspot.client;
    const tag = randomUUID().slice(0, 8);
    const keep = `keep-${tag}@collision-ltd.io`;
    const merged = `merged-${tag}@collision-ltd.io`;
    // Two contacts Tandem has not pulled yet, merged: the survivor holds the other's address in
    // hs_additional_emails. A new Salesforce-only Lead, qualified enough to be created in HubSpot, uses it.
    const survivor = await hubspot.crm.contacts.basicApi.create({
      properties: { email: keep, firstname: 'Keep', lastname: 'Survivor' },
      associations: [],
    });
    const other = await hubspot.crm.contacts.basicApi.create({
      properties: { email: merged, firstname: 'Gone', lastname: 'Merged' },
      associations: [],
    });
    await hubspot.crm.contacts.basicApi.merge({ primaryObjectId: survivor.id, objectIdToMerge: other.id });
    const conn = pipeline.connectors.salesforce.caller.conn;
    const lead = (await conn.sobject('Lead').create({
      FirstName: 'Lena',
      LastName: 'Newlead',
      Company: 'Collision Ltd',
      Email: merged,
      Status: 'Working - Contacted', // accepted by sales: past MQL, so the person gets a HubSpot contact
    })) as { id: string };

    const batches: WriteBatch[] = [];
    for await (const page of pipeline.pull('salesforce', 'Lead', { mode: 'incremental' })) {
      const refs = page.refs.filter((r) => r.id === lead.id);
      if (refs.length > 0) batches.push(...(await pipeline.reconcile(page.kind, refs)).writes);
    }
    const creates = batches.filter((b) => b.system === 'hubspot' && b.object === 'contacts');
    expect(creates.flatMap((b) => b.writes.map((w) => w.action))).toEqual(['create']);
    const failures: RecordFailure[] = [];
    for (const b of creates)
      failures.push(...(await pipeline.writeBack(b, { jobId: `test-${b.key}` })).failed);

    expect(failures).toHaveLength(1);
    const failure = failures[0] as RecordFailure;
    expect(failure.detail).toMatchObject({
      code: 'TANDEM_IDENTITY_COLLISION',
      kind: 'permanent',
      system: 'hubspot',
      object: 'contacts',
    });
    expect(failure.detail.reason).toContain(`existing contact ${survivor.id}`);
    expect(failure.detail.reason).toContain(keep);
    expect(failure.detail.reason).toContain(`Salesforce Lead ${lead.id}`);
    const after = await hubspot.crm.contacts.basicApi.getById(survivor.id, [
      'email',
      'firstname',
      'lastname',
    ]);
    expect(after.properties).toMatchObject({ email: keep, firstname: 'Keep', lastname: 'Survivor' });
    const links = await pipeline.db
      .selectFrom('record_links')
      .selectAll()
      .where('record_id', 'in', [survivor.id, lead.id])
      .execute();
    expect(links.filter((l) => l.record_id === survivor.id)).toEqual([]);
    expect(links.filter((l) => l.system === 'hubspot')).toEqual([]);
  }, 300_000);

  it('keeps a HubSpot edit read after a write of Tandem landed, though the read began before the write was sent', async () => {
    const [unifiedId, pair] = await linkedPair(2);
    const hubspot = pipeline.connectors.hubspot.client;
    const conn = pipeline.connectors.salesforce.caller.conn;
    await fullCycle(pipeline, 'incremental');
    // A rep renames the person in Salesforce: Tandem plans the first name for the HubSpot contact.
    await conn.sobject(pair.object ?? 'Contact').update({ Id: pair.salesforce, FirstName: 'Renamedinsf' });
    const batches = await planFromSalesforce();
    expect(batches.some((b) => b.writes.some((w) => w.recordId === pair.hubspot))).toBe(true);

    // A user retitles the contact in HubSpot. The HubSpot pull begins (its snapshots are stamped with that
    // moment); before its read reaches HubSpot, the write is sent and lands. The read then holds the edit
    // and the write, and the pull's checkpoint passes both: the read must not lose to the snapshot the
    // write-back stored (the older read plus the written name, stamped when the write was sent).
    await hubspot.crm.contacts.basicApi.update(pair.hubspot, {
      properties: { jobtitle: 'Retitled In HubSpot' },
    });
    const connector = pipeline.connectors.hubspot;
    const pull = connector.pull;
    connector.pull = async function* (...args: Parameters<typeof pull>) {
      await new Promise((r) => setTimeout(r, 5));
      for (const b of batches) await pipeline.writeBack(b, { jobId: `raced-${b.key}` });
      yield* pull.apply(connector, args);
    };
    try {
      for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) {
        const refs = page.refs.filter((r) => r.id === pair.hubspot);
        if (refs.length > 0) {
          for (const b of (await pipeline.reconcile(page.kind, refs)).writes)
            await pipeline.writeBack(b, { jobId: `after-${b.key}` });
        }
      }
    } finally {
      connector.pull = pull;
    }
    const [snapshot] = await pipeline.snapshots.findByRecordIds({
      system: 'hubspot',
      recordIds: [pair.hubspot],
    });
    expect(snapshot?.properties).toMatchObject({ firstname: 'Renamedinsf', jobtitle: 'Retitled In HubSpot' });

    // Nothing reads the contact again (its modification is behind the checkpoint): the edit reaches
    // Salesforce and the view only from that read.
    await fullCycle(pipeline, 'incremental');
    expect(await salesforceValue(pair, 'Title')).toBe('Retitled In HubSpot');
    expect(await viewValue(unifiedId, 'job_title')).toBe('Retitled In HubSpot');
  }, 300_000);
  it('reconciles a read whose history shows Tandem overwrote an edit, rather than taking it for the echo', async () => {
    const [unifiedId, pair] = await linkedPair(4);
    const hubspot = pipeline.connectors.hubspot.client;
    const conn = pipeline.connectors.salesforce.caller.conn;
    await fullCycle(pipeline, 'incremental');
    await conn
      .sobject(pair.object ?? 'Contact')
      .update({ Id: pair.salesforce, Title: 'Title From Salesforce' });
    const batches = await planFromSalesforce();
    expect(batches.some((b) => b.writes.some((w) => w.recordId === pair.hubspot))).toBe(true);
    // A marketer edits the same field in HubSpot (a `newest` field: its history is read); Tandem's write,
    // planned before, lands on it.
    await new Promise((r) => setTimeout(r, 20));
    await hubspot.crm.contacts.basicApi.update(pair.hubspot, {
      properties: { jobtitle: 'Title From HubSpot' },
    });
    await new Promise((r) => setTimeout(r, 20));
    for (const b of batches) await pipeline.writeBack(b, { jobId: `overwrite-${b.key}` });
    const overwritten = await hubspot.crm.contacts.basicApi.getById(pair.hubspot, ['jobtitle']);
    expect(overwritten.properties['jobtitle']).toBe('Title From Salesforce');

    // The read back holds Tandem's value, as planned, but its history shows the edit it replaced.
    let handedOn = false;
    for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) {
      if (page.refs.some((r) => r.id === pair.hubspot)) handedOn = true;
      if (page.refs.length > 0)
        for (const b of (await pipeline.reconcile(page.kind, page.refs)).writes)
          await pipeline.writeBack(b, { jobId: `restore-${b.key}` });
    }
    expect(handedOn).toBe(true);
    expect(await salesforceValue(pair, 'Title')).toBe('Title From HubSpot');
    const restored = await hubspot.crm.contacts.basicApi.getById(pair.hubspot, ['jobtitle']);
    expect(restored.properties['jobtitle']).toBe('Title From HubSpot');
    expect(await viewValue(unifiedId, 'job_title')).toBe('Title From HubSpot');

    // Once in step, the echoes of those writes are not reconciled again.
    const next = { handedOn: 0, already: 0 };
    for (const o of pipeline.objects.filter((x) => x.kind === 'person')) {
      for await (const page of pipeline.pull(o.system, o.object, { mode: 'incremental' })) {
        next.handedOn += page.refs.filter((r) => r.id === pair.hubspot || r.id === pair.salesforce).length;
        next.already += page.alreadyReconciled ?? 0;
      }
    }
    expect(next).toEqual({ handedOn: 0, already: expect.any(Number) });
    expect(next.already).toBeGreaterThan(0);
  }, 300_000);
  it('leaves to a reconcile of its own an entity whose write landed while it was read, instead of planning the old value back', async () => {
    const [, pair] = await linkedPair(6);
    const conn = pipeline.connectors.salesforce.caller.conn;
    await fullCycle(pipeline, 'incremental');
    // Sales edits the title; the plan copies it to HubSpot (remembering Salesforce's value as in step).
    await conn
      .sobject(pair.object ?? 'Contact')
      .update({ Id: pair.salesforce, Title: 'Edited In Salesforce' });
    const batches = (await planFromSalesforce()).filter((b) => b.system === 'hubspot');
    expect(batches.some((b) => b.writes.some((w) => w.recordId === pair.hubspot))).toBe(true);
    // Another reconcile of the person reads its snapshots (HubSpot's still the old title), and the
    // write-back lands before it reads the last-written values: the worst interleaving, made certain.
    const store = pipeline.lastWritten;
    const getMany = store.getMany.bind(store);
    let landed = false;
    store.getMany = async (...args: Parameters<typeof getMany>) => {
      if (!landed) {
        landed = true;
        for (const b of batches) await pipeline.writeBack(b, { jobId: `interleaved-${b.key}` });
      }
      return getMany(...args);
    };
    let outcome: Awaited<ReturnType<SyncPipelineImpl['reconcile']>>;
    try {
      outcome = await pipeline.reconcile('person', [
        { system: 'hubspot', object: 'contacts', id: pair.hubspot },
      ]);
    } finally {
      store.getMany = getMany;
    }
    expect(landed).toBe(true);
    // Nothing planned from the stale read: the old title is not written back over the edit…
    const titles = outcome.writes.flatMap((b) =>
      b.writes.flatMap((w) => w.fields.filter((f) => f.field === 'Title' || f.field === 'jobtitle')),
    );
    expect(titles).toEqual([]);
    // …and the person is reconciled again, which plans nothing: both sides hold the edit.
    expect(outcome.reconcileAgain?.map((r) => r.id)).toEqual(expect.arrayContaining([pair.hubspot]));
    const again = await pipeline.reconcile('person', outcome.reconcileAgain ?? []);
    expect(
      again.writes
        .flatMap((b) => b.writes)
        .filter(
          (w) =>
            w.entityKey !== undefined && w.fields.some((f) => f.field === 'Title' || f.field === 'jobtitle'),
        ),
    ).toEqual([]);
    expect(await salesforceValue(pair, 'Title')).toBe('Edited In Salesforce');
    const contact = await pipeline.connectors.hubspot.client.crm.contacts.basicApi.getById(pair.hubspot, [
      'jobtitle',
    ]);
    expect(contact.properties['jobtitle']).toBe('Edited In Salesforce');
  }, 300_000);

  it('leaves out of a reconcile the refs another job reconciled as they are now, and only those', async () => {
    const [, pair] = await linkedPair(5);
    const hubspot = pipeline.connectors.hubspot.client;
    const conn = pipeline.connectors.salesforce.caller.conn;
    await fullCycle(pipeline, 'incremental');
    // Both of the person's records change: one pull of each system reads them (their jobs not run yet).
    await conn.sobject(pair.object ?? 'Contact').update({ Id: pair.salesforce, Title: 'Both Changed SF' });
    await hubspot.crm.contacts.basicApi.update(pair.hubspot, { properties: { firstname: 'Bothchanged' } });
    const pages: Array<{ kind: 'person'; refs: SourceRef[] }> = [];
    for (const o of pipeline.objects.filter((x) => x.kind === 'person')) {
      for await (const page of pipeline.pull(o.system, o.object, { mode: 'incremental' }))
        if (page.refs.length > 0) pages.push({ kind: 'person', refs: page.refs });
    }
    const hsRefs = pages.flatMap((p) => p.refs).filter((r) => r.id === pair.hubspot);
    const sfRefs = pages.flatMap((p) => p.refs).filter((r) => r.id === pair.salesforce);
    expect(hsRefs).toHaveLength(1);
    expect(sfRefs).toHaveLength(1);

    // The Salesforce record's job reconciles the person (both records) and its writes land.
    const first = await pipeline.reconcile('person', sfRefs, { skipReconciled: true });
    expect(first.entities).toBe(1);
    for (const b of first.writes) await pipeline.writeBack(b, { jobId: `both-${b.key}` });
    // The HubSpot record's job finds it holding what that reconcile left it: nothing to do.
    const second = await pipeline.reconcile('person', hsRefs, { skipReconciled: true });
    expect(second).toMatchObject({ entities: 0, alreadyReconciled: 1, writes: [] });
    // Reconciling it anyway (no option) finds the same: nothing to write.
    const anyway = await pipeline.reconcile('person', hsRefs);
    expect(anyway.entities).toBe(1);
    expect(anyway.writes).toEqual([]);
    const contact = await hubspot.crm.contacts.basicApi.getById(pair.hubspot, ['jobtitle']);
    expect(contact.properties['jobtitle']).toBe('Both Changed SF');

    // Once the record holds something else, it is reconciled.
    await hubspot.crm.contacts.basicApi.update(pair.hubspot, { properties: { firstname: 'Changedagain' } });
    for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) void page;
    const third = await pipeline.reconcile('person', hsRefs, { skipReconciled: true });
    expect(third.entities).toBe(1);
    expect(third.alreadyReconciled).toBeUndefined();
  }, 300_000);
});
