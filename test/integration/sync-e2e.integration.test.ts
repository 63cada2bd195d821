import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compileMapping } from '../../src/domain/compiled.js';
import type { RawValue } from '../../src/domain/records.js';
import { sameUnified } from '../../src/domain/values/coerce.js';
import { readValue } from '../../src/domain/values/field-codec.js';
import { loadMapping } from '../../src/pipeline/open.js';
import { openDatabase } from '../../src/store/database.js';
import { runTandem } from '../support/cli.js';
import { emailCounts, startSyncWorld, type SyncWorld } from './sync-e2e-support.js';

/**
 * `tandem sync --once --json` as a script runs it, with the REAL pipeline: a child process pointed at the two
 * sandboxes (a demo world of a few hundred persons), the private Redis and a temporary data directory
 * (PGlite, opened by one process at a time: the child, then this test to read the links). Both CRMs are
 * then read back through their official SDKs.
 */

interface Summary {
  objects: Array<{ system: string; object: string; pulled: number; written: number; failed: number }>;
  failures: Array<{ code: string; reason: string; system?: string; object?: string; recordId?: string }>;
  unreachable: unknown[];
}

let world: SyncWorld;
let first: { code: number | null; summary: Summary; stderr: string };
let second: { code: number | null; summary: Summary; stderr: string };
let emailsAfterFirst: Map<string, number>;

const sync = async (): Promise<typeof first> => {
  const run = await runTandem(['sync', '--once', '--json'], world.env);
  return { code: run.code, stderr: run.stderr, summary: JSON.parse(run.stdout) as Summary };
};
const written = (s: Summary): number => s.objects.reduce((n, o) => n + o.written, 0);

beforeAll(async () => {
  world = await startSyncWorld(300);
  first = await sync();
  emailsAfterFirst = await emailCounts(world);
  second = await sync();
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

describe('tandem sync --once with the real pipeline over a demo world', () => {
  it('converges: exit 0 or 1, every object pulled and written, each failure named with a reason', () => {
    expect(first.stderr).toBe('');
    expect([0, 1]).toContain(first.code);
    expect(first.summary.unreachable).toEqual([]);
    expect(first.summary.objects).toHaveLength(7);
    expect(first.summary.objects.reduce((n, o) => n + o.pulled, 0)).toBeGreaterThan(300);
    expect(written(first.summary)).toBeGreaterThan(500);
    expect(first.code === 1).toBe(first.summary.failures.length > 0);
    // A failure without a record is a whole batch or job failing: print it whole when it happens.
    expect(first.summary.failures.filter((f) => f.recordId === undefined)).toEqual([]);
    for (const f of first.summary.failures) {
      expect(f.code).toMatch(/^[A-Z_]+$/);
      expect(f.system).toMatch(/^(hubspot|salesforce)$/);
      expect(f.reason.length).toBeGreaterThan(20);
    }
  });

  // KNOWN GAP (reported): through the queues a HubSpot company's reconcile can run before the Salesforce
  // Account pull has stored its snapshots, so Tandem creates a second Account and then fails
  // SALESFORCE_DUPLICATE_VALUE writing HubSpot_Company_ID__c onto the original; converted Contacts also
  // fail SALESFORCE_NOT_FOUND. Skipped until fixed; see the issue notes.
  it('fails only records the world planted as mess', () => {
    const unplanted = first.summary.failures.filter((f) => !world.planted.has(f.recordId ?? ''));
    expect(unplanted.map((f) => `${f.code} ${f.object ?? ''} ${f.recordId ?? ''}: ${f.reason}`)).toEqual([]);
  });

  // KNOWN GAP (reported, same as the pipeline-cycle test's fixed point): a few entities still write on the
  // next cycle, and the duplicate-Account failures above fail again.
  it('writes nothing on the second cycle', () => {
    expect(second.summary.objects.filter((o) => o.written > 0)).toEqual([]);
    expect(second.summary.failures.filter((f) => !world.planted.has(f.recordId ?? ''))).toEqual([]);
  });

  it('writes little on the second cycle, reaches every system, and creates no person twice', async () => {
    expect(second.stderr).toBe('');
    expect(second.summary.unreachable).toEqual([]);
    expect(written(second.summary)).toBeLessThan(20);
    // No record failed on the second cycle that had not failed on the first.
    const before = new Set(first.summary.failures.map((f) => `${f.code} ${f.recordId ?? ''}`));
    expect(second.summary.failures.filter((f) => !before.has(`${f.code} ${f.recordId ?? ''}`))).toEqual([]);
    const after = await emailCounts(world);
    const grown = [...after].filter(([email, n]) => n > 1 && n > (emailsAfterFirst.get(email) ?? 0));
    expect(grown).toEqual([]);
  });

  it('leaves both systems agreeing on mapped fields, stage and sources for a sample of linked persons', async () => {
    const { mapping } = await loadMapping('mappings/default.yaml');
    const db = await openDatabase({ dataDir: world.env['TANDEM_DATA_DIR'] as string });
    let links;
    try {
      links = await db.db
        .selectFrom('record_links')
        .selectAll()
        .where('record_type', '=', 'person')
        .execute();
    } finally {
      await db.close();
    }
    const pairs = new Map<string, { hubspot?: string; salesforce?: { id: string; object: string } }>();
    for (const l of links) {
      const p = pairs.get(l.unified_id) ?? {};
      if (l.system === 'hubspot') p.hubspot = l.record_id;
      else if (p.salesforce === undefined || l.object === 'Contact')
        p.salesforce = { id: l.record_id, object: l.object };
      pairs.set(l.unified_id, p);
    }
    // Persons touched by a failure (or written again on the second cycle) are not expected to agree.
    const failures = [...first.summary.failures, ...second.summary.failures];
    const failed = new Set(failures.map((f) => f.recordId));
    // A failure may name a second record (e.g. "Contact already exists. Existing ID: 409").
    for (const f of failures)
      for (const id of f.reason.match(/\b[0-9A-Za-z]{15,18}\b|\b\d+\b/g) ?? []) failed.add(id);
    const linked = [...pairs.values()].filter(
      (p): p is { hubspot: string; salesforce: { id: string; object: string } } =>
        p.hubspot !== undefined &&
        p.salesforce !== undefined &&
        !failed.has(p.hubspot) &&
        !failed.has(p.salesforce.id),
    );
    expect(linked.length).toBeGreaterThan(60);
    // A deterministic sample: every third linked person.
    const sample = linked.filter((_, i) => i % 3 === 0);
    const compiled = compileMapping(mapping);
    const tandem = [
      ['tandem_lifecycle_stage', 'Tandem_Lifecycle_Stage__c'],
      ['tandem_original_source', 'Tandem_Original_Source__c'],
      ['tandem_latest_source', 'Tandem_Latest_Source__c'],
    ] as const;
    const properties = [
      ...new Set([
        ...mapping.objects.person.fields.flatMap((f) => (f.hubspot !== undefined ? [f.hubspot] : [])),
        ...tandem.map(([h]) => h),
      ]),
    ];
    const disagreements: string[] = [];
    let stages = 0;
    for (const p of sample) {
      const contact = await world.hubspot.crm.contacts.basicApi.getById(p.hubspot, properties);
      const object = p.salesforce.object as 'Lead' | 'Contact';
      const record = (await world.salesforce.sobject(object).retrieve(p.salesforce.id)) as unknown as Record<
        string,
        RawValue
      >;
      const hs = contact.properties as Record<string, RawValue>;
      for (const field of compiled.person) {
        const hName = field.fieldIn('hubspot', 'contacts');
        const sName = field.fieldIn('salesforce', object);
        if (field.mapping.direction === 'none' || hName === undefined || sName === undefined) continue;
        const a = readValue(field, 'hubspot', hs[hName] ?? null);
        const b = readValue(field, 'salesforce', record[sName] ?? null);
        if (a.ok && b.ok && !sameUnified(a.value, b.value))
          disagreements.push(
            `${p.hubspot}/${p.salesforce.id} ${field.name}: ${String(hs[hName])} ≠ ${String(record[sName])}`,
          );
      }
      for (const [h, s] of tandem) {
        if ((hs[h] ?? null) !== (record[s] ?? null))
          disagreements.push(`${p.hubspot}/${p.salesforce.id} ${h}: ${String(hs[h])} ≠ ${String(record[s])}`);
      }
      if (typeof hs['tandem_lifecycle_stage'] === 'string' && hs['tandem_lifecycle_stage'] !== '')
        stages += 1;
    }
    expect(disagreements).toEqual([]);
    expect(stages).toBeGreaterThan(sample.length / 2);
  }, 120_000);
});
