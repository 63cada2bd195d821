import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compileMapping } from '../../src/domain/compiled.js';
import { readValue } from '../../src/domain/values/field-codec.js';
import { sameUnified } from '../../src/domain/values/coerce.js';
import type { RawValue } from '../../src/domain/records.js';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import type { CustomerViewConnection } from '../../src/store/database.js';
import { databaseVariants, type DatabaseVariant } from './store-databases.js';
import {
  fullCycle,
  startPipelineHarness,
  type CycleResult,
  type PipelineHarness,
} from './pipeline-support.js';

/**
 * The demo world (600 persons) through the whole pipeline without queues: pull every object, reconcile
 * every page, write back every batch; then a second cycle, and both CRMs read back through their SDKs.
 * On PGlite, and on a PostgreSQL server when one answers (a fresh database, dropped afterwards).
 */

const variants = await databaseVariants();

interface Disagreement {
  hubspot: string;
  salesforce: string;
  field: string;
  values: [unknown, unknown];
}

async function disagreements(
  pipeline: SyncPipelineImpl,
): Promise<{ checked: number; found: Disagreement[] }> {
  const links = await pipeline.db
    .selectFrom('record_links')
    .selectAll()
    .where('record_type', '=', 'person')
    .execute();
  const pairs = new Map<string, { hubspot?: string; salesforce?: { id: string; object: string } }>();
  for (const l of links) {
    const p = pairs.get(l.unified_id) ?? {};
    if (l.system === 'hubspot') p.hubspot = l.record_id;
    else if (p.salesforce === undefined || l.object === 'Contact')
      p.salesforce = { id: l.record_id, object: l.object };
    pairs.set(l.unified_id, p);
  }
  const hubspot = pipeline.connectors.hubspot.client;
  const properties = [
    ...new Set(
      pipeline.mapping.objects.person.fields
        .map((f) => f.hubspot)
        .filter((f): f is string => f !== undefined)
        .concat(['tandem_lifecycle_stage', 'tandem_original_source', 'tandem_latest_source']),
    ),
  ];
  const contacts = new Map<string, Record<string, RawValue>>();
  for (const c of await hubspot.crm.contacts.getAll(100, undefined, properties))
    contacts.set(c.id, c.properties);
  const conn = pipeline.connectors.salesforce.caller.conn;
  const sf = new Map<string, Record<string, RawValue>>();
  for (const object of ['Lead', 'Contact']) {
    const fields = [
      'Id',
      'Tandem_Lifecycle_Stage__c',
      'Tandem_Original_Source__c',
      'Tandem_Latest_Source__c',
    ];
    for (const f of pipeline.mapping.objects.person.fields) {
      const name =
        typeof f.salesforce === 'string' ? f.salesforce : f.salesforce?.[object as 'Lead' | 'Contact'];
      if (name !== undefined && !fields.includes(name)) fields.push(name);
    }
    const rows = await conn.query<Record<string, RawValue>>(`SELECT ${fields.join(', ')} FROM ${object}`, {
      autoFetch: true,
      maxFetch: 100_000,
    });
    for (const r of rows.records) sf.set(String(r['Id']), r);
  }
  const compiled = compileMapping(pipeline.mapping);
  const found: Disagreement[] = [];
  let checked = 0;
  for (const p of pairs.values()) {
    if (p.hubspot === undefined || p.salesforce === undefined) continue;
    const hs = contacts.get(p.hubspot);
    const s = sf.get(p.salesforce.id);
    if (hs === undefined || s === undefined) continue;
    checked += 1;
    const object = p.salesforce.object as 'Lead' | 'Contact';
    for (const field of compiled.person) {
      const direction = field.mapping.direction;
      const hName = field.fieldIn('hubspot', 'contacts');
      const sName = field.fieldIn('salesforce', object);
      if (direction === 'none' || hName === undefined || sName === undefined) continue;
      const a = readValue(field, 'hubspot', hs[hName] ?? null);
      const b = readValue(field, 'salesforce', s[sName] ?? null);
      if (!a.ok || !b.ok) continue;
      if (!sameUnified(a.value, b.value)) {
        found.push({
          hubspot: p.hubspot,
          salesforce: p.salesforce.id,
          field: field.name,
          values: [hs[hName], s[sName]],
        });
      }
    }
    for (const [h, f] of [
      ['tandem_lifecycle_stage', 'Tandem_Lifecycle_Stage__c'],
      ['tandem_original_source', 'Tandem_Original_Source__c'],
      ['tandem_latest_source', 'Tandem_Latest_Source__c'],
    ] as const) {
      if ((hs[h] ?? null) !== (s[f] ?? null)) {
        found.push({ hubspot: p.hubspot, salesforce: p.salesforce.id, field: h, values: [hs[h], s[f]] });
      }
    }
  }
  return { checked, found };
}

describe.each(variants)('a full cycle over the demo world on $kind', (variant: DatabaseVariant) => {
  let h: PipelineHarness;
  let pipeline: SyncPipelineImpl;
  let first: CycleResult;
  let echoes: CycleResult;
  let second: CycleResult;
  let connection: CustomerViewConnection | undefined;

  beforeAll(async () => {
    h = await startPipelineHarness({ seed: 'demo', persons: 600 });
    connection = await variant.open();
    pipeline = await h.open({ connection });
    first = await fullCycle(pipeline, 'incremental');
    // Reads back what the first cycle wrote: its echoes.
    echoes = await fullCycle(pipeline, 'incremental');
    second = await fullCycle(pipeline, 'backfill');
  }, 900_000);

  afterAll(async () => {
    await pipeline?.close();
    await h?.stop();
    await connection?.close();
    await variant.dispose();
  });

  it('writes to both systems, and fails records alone with a readable reason', () => {
    const written = first.outcomes.reduce((n, o) => n + o.written, 0);
    expect(written).toBeGreaterThan(500);
    const failures = [...first.reconcileFailures, ...first.outcomes.flatMap((o) => o.failed)];
    for (const f of failures) {
      expect(f.detail.reason.length).toBeGreaterThan(20);
      expect(f.detail.code).toMatch(/^[A-Z_]+$/);
      expect(f.refs ?? f.write).toBeDefined();
    }
  });

  it('stores the unified view: persons with stages, links, touchpoints and credits', async () => {
    const count = async (
      table: 'persons' | 'record_links' | 'touchpoints' | 'attribution_credits' | 'stage_history',
    ) =>
      Number(
        (
          await pipeline.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('persons')).toBeGreaterThan(500);
    expect(await count('record_links')).toBeGreaterThan(1000);
    expect(await count('touchpoints')).toBeGreaterThan(500);
    expect(await count('attribution_credits')).toBeGreaterThan(0);
    expect(await count('stage_history')).toBeGreaterThan(500);
  });

  it('leaves both systems agreeing on every mapped field, stage and source of every linked person', async () => {
    const { checked, found } = await disagreements(pipeline);
    expect(checked).toBeGreaterThan(300);
    expect(found).toEqual([]);
  }, 300_000);

  it('hands the echoes of its own writes on to no reconcile, and plans nothing from them', () => {
    const persons = echoes.pages.filter((p) => p.kind === 'person');
    const read = persons.reduce((n, p) => n + p.refs.length + (p.alreadyReconciled ?? 0), 0);
    const skipped = persons.reduce((n, p) => n + (p.alreadyReconciled ?? 0), 0);
    // Every person record the first cycle wrote to (or created and read back) comes back…
    expect(read).toBeGreaterThan(500);
    // …holding what its reconcile planned: only persons reached through a changed link object (a contact
    // role, a campaign member) are handed on.
    expect(read - skipped).toBeLessThan(read * 0.02);
    expect(echoes.batches.flatMap((b) => b.writes)).toEqual([]);
    // A back-fill reads everything again and reconciles everything, whatever was reconciled before.
    expect(second.pages.reduce((n, p) => n + (p.alreadyReconciled ?? 0), 0)).toBe(0);
  });

  it('plans nothing on the next cycle (fixed point)', () => {
    const lines = second.batches.flatMap((b) =>
      b.writes.flatMap((w) =>
        w.fields.map((f) => `${w.action} ${w.system} ${w.object} ${w.recordId ?? ''} ${f.field}`),
      ),
    );
    expect(lines).toEqual([]);
  });
});
