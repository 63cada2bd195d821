import { describe, expect, it } from '@jest/globals';
import { reconcileBatch, type BatchInput, type BatchResult, type RecordSet } from '../../src/domain/batch.js';
import type { Mapping } from '../../src/domain/mapping/schema.js';
import { writtenKey } from '../../src/domain/merge.js';
import type { SourceRecord } from '../../src/domain/records.js';
import { applyPlan, personBatchAfter } from '../../src/domain/testing.js';
import { at, defaultMapping, hsContact, mappingWith, sfId, sfLead } from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const L1 = sfId('00Q', 1);
const L2 = sfId('00Q', 2);

interface Synced {
  input: BatchInput;
  lastWritten: Map<string, string>;
  /** What the last batch (fingerprints on) returned. */
  stored: BatchResult;
}

/** Two persons (HubSpot contact + Lead each), synced: the first plan applied, then a batch that settles. */
function synced(m: Mapping = mapping, now = at(40)): Synced {
  const records: SourceRecord[] = [
    hsContact(
      '1',
      { email: 'ann@acme.com', firstname: 'Ann', jobtitle: 'VP' },
      { changedAt: { jobtitle: at(2) } },
    ),
    sfLead(L1, {
      Email: 'ann@acme.com',
      LastName: 'Lee',
      Title: 'VP',
      Company: 'Acme',
      Status: 'Open - Not Contacted',
    }),
    hsContact('2', { email: 'bob@acme.com', firstname: 'Bob', jobtitle: 'CTO' }),
    sfLead(L2, {
      Email: 'bob@acme.com',
      LastName: 'Ray',
      Title: 'CTO',
      Company: 'Acme',
      Status: 'Open - Not Contacted',
    }),
  ];
  const split = (rs: readonly SourceRecord[]): RecordSet => ({
    hubspot: rs.filter((r) => r.system === 'hubspot'),
    salesforce: rs.filter((r) => r.system === 'salesforce'),
  });
  const firstInput: BatchInput = { persons: split(records) };
  const first = reconcileBatch(firstInput, m, { now: at(30) });
  const applied = applyPlan(records, first.plan, {
    now: at(31),
    links: first.links.person,
    lastWritten: first.synced,
  });
  const lastWritten = new Map(applied.lastWritten);
  const input = personBatchAfter(firstInput, first, applied);
  let stored = reconcileBatch({ ...input, fingerprints: {} }, m, { now, lastWritten });
  // Store its `synced` as the pipeline does, and run once more: now every entity is settled.
  for (const [k, v] of stored.synced) lastWritten.set(k, v);
  stored = reconcileBatch({ ...input, fingerprints: {} }, m, { now, lastWritten });
  return { input, lastWritten, stored };
}

function again(
  s: Synced,
  edit: Partial<BatchInput> = {},
  ctx: { now?: string; lastWritten?: Map<string, string> } = {},
  m = mapping,
) {
  return reconcileBatch(
    { ...s.input, ...edit, fingerprints: { previous: s.stored.fingerprints ?? new Map() } },
    m,
    {
      now: ctx.now ?? at(41),
      lastWritten: ctx.lastWritten ?? s.lastWritten,
    },
  );
}

const unchangedKeys = (r: BatchResult): string[] => (r.unchanged ?? []).map((u) => u.key).sort();
const reconciledKeys = (r: BatchResult): string[] => r.persons.map((p) => p.unified.key).sort();

function editRecord(s: Synced, id: string, change: (r: SourceRecord) => SourceRecord): Partial<BatchInput> {
  const persons = s.input.persons!;
  const map = (rs: readonly SourceRecord[]) => rs.map((r) => (r.id === id ? change(r) : r));
  return { persons: { hubspot: map(persons.hubspot), salesforce: map(persons.salesforce) } };
}

describe('skip unchanged entities (opt-in fingerprints)', () => {
  it('is off by default: the result has no fingerprints and reconciles everything', () => {
    const s = synced();
    const result = reconcileBatch(s.input, mapping, { now: at(41), lastWritten: s.lastWritten });
    expect('fingerprints' in result).toBe(false);
    expect('unchanged' in result).toBe(false);
    expect(result.persons).toHaveLength(2);
  });

  it('skips a settled entity whose inputs did not change (a later `now` included) and reports it', () => {
    const s = synced();
    expect(s.stored.plan.writes).toEqual([]);
    expect(s.stored.fingerprints?.size).toBe(2);
    const result = again(s);
    expect(result.persons).toEqual([]);
    expect(unchangedKeys(result)).toEqual(['person:hubspot:1', 'person:hubspot:2']);
    // Fingerprints carry over, so it stays skipped until something changes.
    expect(result.fingerprints).toEqual(s.stored.fingerprints);
    expect(result.unchanged?.[0]?.group.hubspot?.id).toBe('1');
  });

  it('reconciles an entity when a field value of one of its records changed', () => {
    const s = synced();
    const result = again(
      s,
      editRecord(s, L1, (r) => ({ ...r, fields: { ...r.fields, Title: 'CEO' } })),
    );
    expect(reconciledKeys(result)).toEqual(['person:hubspot:1']);
    expect(unchangedKeys(result)).toEqual(['person:hubspot:2']);
  });

  it('reconciles an entity when only a change time changed', () => {
    const s = synced();
    const result = again(
      s,
      editRecord(s, '1', (r) => ({ ...r, fieldChangedAt: { jobtitle: at(39) } })),
    );
    expect(reconciledKeys(result)).toEqual(['person:hubspot:1']);
  });

  it('reconciles an entity when what Tandem last wrote to one of its newest fields changed, not for others', () => {
    const s = synced();
    const lastWritten = new Map(s.lastWritten);
    lastWritten.set(writtenKey('salesforce', L1, 'Title'), 'someotherhash000');
    lastWritten.set(writtenKey('salesforce', sfId('00Q', 99), 'Title'), 'unrelated0000000');
    const result = again(s, {}, { lastWritten });
    expect(reconciledKeys(result)).toEqual(['person:hubspot:1']);
    expect(unchangedKeys(result)).toEqual(['person:hubspot:2']);
  });

  it('reconciles an entity whose previous stage changed', () => {
    const s = synced();
    const previousStages = new Map(s.input.previousStages);
    previousStages.set('person:hubspot:2', { stage: 'mql', history: [] });
    const result = again(s, { previousStages });
    expect(reconciledKeys(result)).toEqual(['person:hubspot:2']);
  });

  it('always reconciles a person on a deal (attribution reads its touchpoints)', () => {
    const s = synced();
    const result = again(s, {
      dealFacts: [
        {
          dealUnifiedId: 'd1',
          amount: 10,
          outcome: 'open',
          createdAt: at(35),
          contactIds: { hubspot: ['2'] },
        },
      ],
    });
    expect(reconciledKeys(result)).toEqual(['person:hubspot:2']);
    expect(result.fingerprints?.has('person:hubspot:2')).toBe(false);
    expect(result.attribution).toHaveLength(1);
  });

  it('reconciles everything when the mapping changed', () => {
    const s = synced();
    const other = mappingWith((raw) => {
      raw.name = 'Another funnel';
    });
    expect(reconciledKeys(again(s, {}, {}, other))).toEqual(['person:hubspot:1', 'person:hubspot:2']);
  });

  it('with a changed_within_days condition in the mapping, skips only at the same `now`', () => {
    const recent = mappingWith((raw) => {
      const fit = (raw.score as { fit: unknown[] }).fit;
      fit.push({ when: { field: 'job_title', changed_within_days: 30 }, points: 5 });
    });
    const s = synced(recent, at(40));
    const settled = [...(s.stored.fingerprints?.keys() ?? [])].sort();
    expect(settled.length).toBeGreaterThan(0);
    expect(unchangedKeys(again(s, {}, { now: at(40) }, recent))).toEqual(settled);
    expect(unchangedKeys(again(s, {}, { now: at(41) }, recent))).toEqual([]);
  });

  it('stores no fingerprint for an entity with writes to make', () => {
    const s = synced();
    const edited = editRecord(s, L2, (r) => ({
      ...r,
      fields: { ...r.fields, Title: 'Chief' },
      modifiedAt: at(40),
    }));
    const result = again(s, edited);
    expect(result.plan.writes.map((w) => w.entityKey)).toEqual(['person:hubspot:2']);
    expect([...(result.fingerprints?.keys() ?? [])]).toEqual(['person:hubspot:1']);
  });
});
