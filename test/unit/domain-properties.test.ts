import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LIFECYCLE_STAGES, type LifecycleStage } from '../../src/domain/mapping/schema.js';
import { reconcileBatch, type BatchInput } from '../../src/domain/batch.js';
import { compileMapping } from '../../src/domain/compiled.js';
import { decideStage } from '../../src/domain/lifecycle.js';
import { stageRank } from '../../src/domain/stages.js';
import { applyPlan, personBatchAfter } from '../../src/domain/testing.js';
import { describePlan } from '../../src/domain/write-plan.js';
import { writtenKey } from '../../src/domain/merge.js';
import type { DealFact, SourceRecord, StoredLink } from '../../src/domain/records.js';
import { at, defaultMapping, hsContact, sfContact, sfId, sfLead } from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const compiled = compileMapping(mapping);

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null });
const titles = fc.constantFrom(
  'VP Sales',
  'Director of IT',
  'Marketing Manager',
  'Engineer',
  ' Head  of Growth ',
  '',
);
const phones = fc.constantFrom('(415) 555-0100', '+1 415 555 0100', '020 7946 0958', '555-0100', '');
const countries = fc.constantFrom('US', 'Germany', 'Peru', ' United Kingdom ', '');
const hsStatuses = fc.constantFrom(
  'NEW',
  'IN_PROGRESS',
  'CONNECTED',
  'OPEN_DEAL',
  'UNQUALIFIED',
  'BAD_TIMING',
);
const sfStatuses = fc.constantFrom('Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted');
const domains = fc.constantFrom('acme.com', 'gmail.com', 'test.com', 'bigco.io');
const day = fc.integer({ min: 0, max: 60 });

interface PersonSpec {
  local: string;
  domain: string;
  emailStyle: 'same' | 'shouting' | 'other' | 'secondary';
  hs: boolean;
  sf: 'none' | 'lead' | 'contact' | 'converted';
  duplicate: 'none' | 'hubspot' | 'salesforce';
  hsTitle: string | null;
  sfTitle: string | null;
  hsPhone: string;
  sfPhone: string;
  country: string;
  hsStatus: string | null;
  sfStatus: string;
  pageViews: number;
  forms: number;
  days: [number, number, number, number];
  source: string | null;
  linked: boolean;
  deal: 'none' | 'open' | 'won';
}

const personSpec: fc.Arbitrary<PersonSpec> = fc.record({
  local: fc.constantFrom('ann', 'bob', 'cy', 'dee'),
  domain: domains,
  emailStyle: fc.constantFrom('same', 'shouting', 'other', 'secondary'),
  hs: fc.boolean(),
  sf: fc.constantFrom('none', 'lead', 'contact', 'converted'),
  duplicate: fc.constantFrom('none', 'none', 'hubspot', 'salesforce'),
  hsTitle: maybe(titles),
  sfTitle: maybe(titles),
  hsPhone: phones,
  sfPhone: phones,
  country: countries,
  hsStatus: maybe(hsStatuses),
  sfStatus: sfStatuses,
  pageViews: fc.integer({ min: 0, max: 40 }),
  forms: fc.integer({ min: 0, max: 4 }),
  days: fc.tuple(day, day, day, day),
  source: maybe(fc.constantFrom('ORGANIC_SEARCH', 'PAID_SEARCH', 'OFFLINE', 'SOMETHING_NEW')),
  linked: fc.boolean(),
  deal: fc.constantFrom('none', 'open', 'won'),
});

interface World {
  input: BatchInput;
  records: SourceRecord[];
}

function buildWorld(specs: PersonSpec[]): World {
  const hubspot: SourceRecord[] = [];
  const salesforce: SourceRecord[] = [];
  const links: StoredLink[] = [];
  const dealFacts: DealFact[] = [];
  specs.forEach((p, i) => {
    const email = `${p.local}${i}@${p.domain}`;
    const [d0, d1, d2, d3] = p.days;
    const hsId = String(100 + i);
    const sfRecordId = sfId(p.sf === 'contact' || p.sf === 'converted' ? '003' : '00Q', i + 1);
    if (p.hs) {
      const hsEmail =
        p.emailStyle === 'shouting'
          ? ` ${email.toUpperCase()} `
          : p.emailStyle === 'other'
            ? `x${email}`
            : p.emailStyle === 'secondary'
              ? `home${i}@mail.net`
              : email;
      hubspot.push(
        hsContact(
          hsId,
          {
            email: hsEmail,
            ...(p.emailStyle === 'secondary' ? { hs_additional_emails: email } : {}),
            firstname: p.local,
            jobtitle: p.hsTitle,
            phone: p.hsPhone,
            country: p.country,
            hs_lead_status: p.hsStatus,
            hs_analytics_num_page_views: String(p.pageViews),
            num_conversion_events: String(p.forms),
            hs_analytics_source: p.source,
          },
          { createdAt: at(d0), modifiedAt: at(d1), changedAt: { jobtitle: at(d2), phone: at(d3) } },
        ),
      );
      if (p.duplicate === 'hubspot')
        hubspot.push(hsContact(String(900 + i), { email }, { createdAt: at(d0 + 1) }));
    }
    if (p.sf !== 'none') {
      const common = {
        Email: email,
        LastName: p.local.toUpperCase(),
        Title: p.sfTitle,
        Phone: p.sfPhone,
        LeadSource: 'Web',
      };
      const times = { createdAt: at(d1), modifiedAt: at(d2) };
      if (p.sf === 'lead')
        salesforce.push(sfLead(sfRecordId, { ...common, Status: p.sfStatus, Company: 'Acme' }, times));
      else salesforce.push(sfContact(sfRecordId, common, times));
      if (p.sf === 'converted') {
        salesforce.push(
          sfLead(
            sfId('00Q', 500 + i),
            {
              ...common,
              Status: 'Closed - Converted',
              IsConverted: true,
              ConvertedContactId: sfRecordId,
              ConvertedDate: at(d1),
            },
            times,
          ),
        );
      }
      if (p.duplicate === 'salesforce')
        salesforce.push(
          sfLead(
            sfId('00Q', 700 + i),
            { Email: email, LastName: 'DUP', Status: 'Open - Not Contacted' },
            times,
          ),
        );
      if (p.linked && p.hs) {
        links.push({
          unifiedId: `u-${i}`,
          hubspotId: hsId,
          ...(p.sf === 'lead' ? { salesforceLeadId: sfRecordId } : { salesforceContactId: sfRecordId }),
        });
      }
    }
    if (p.deal !== 'none') {
      dealFacts.push({
        dealUnifiedId: `d-${i}`,
        amount: 1000 + i,
        outcome: p.deal === 'won' ? 'won' : 'open',
        createdAt: at(d3),
        ...(p.deal === 'won' ? { closeDate: at(d3 + 5) } : {}),
        contactIds: { hubspot: [hsId], salesforce: [sfRecordId] },
      });
    }
  });
  return {
    input: { persons: { hubspot, salesforce }, links: { person: links }, dealFacts },
    records: [...hubspot, ...salesforce],
  };
}

const worlds = fc.array(personSpec, { minLength: 1, maxLength: 6 }).map(buildWorld);
const NOW = at(100);

describe('reconcile properties', () => {
  it('is idempotent: after applying its plan, a second pass plans nothing', () => {
    fc.assert(
      fc.property(worlds, ({ input, records }) => {
        const first = reconcileBatch(input, mapping, { now: NOW });
        const applied = applyPlan(records, first.plan, {
          now: at(101),
          links: first.links.person,
          lastWritten: first.synced,
        });
        const second = reconcileBatch(personBatchAfter(input, first, applied), mapping, {
          now: at(102),
          lastWritten: applied.lastWritten,
        });
        expect(describePlan(second.plan)).toEqual([]);
        expect(second.problems).toEqual(first.problems);
        expect(second.persons.map((p) => [p.unified.key, p.unified.stage, p.unified.stageEntries])).toEqual(
          first.persons.map((p) => [p.unified.key, p.unified.stage, []]),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('a change made while Tandem was writing wins over Tandem’s echo (no overwrite war)', () => {
    fc.assert(
      fc.property(worlds, ({ input, records }) => {
        const first = reconcileBatch(input, mapping, { now: NOW });
        const applied = applyPlan(records, first.plan, {
          now: at(101),
          links: first.links.person,
          lastWritten: first.synced,
        });
        const paired = first.persons.find(
          (p) => p.group.hubspot && p.group.salesforce && p.problems.length === 0,
        );
        fc.pre(paired !== undefined);
        const hsId = paired?.group.hubspot?.id;
        const sfRecordId = paired?.group.salesforce?.id;
        // HubSpot changes the title after Tandem read it but before Tandem's writes landed in Salesforce.
        const edited = applied.records.map((r) =>
          r.system === 'hubspot' && r.id === hsId
            ? {
                ...r,
                fields: { ...r.fields, jobtitle: 'Chief Echo Officer' },
                fieldChangedAt: { ...r.fieldChangedAt, jobtitle: at(100, 12) },
              }
            : r,
        );
        const second = reconcileBatch(personBatchAfter(input, first, applied, edited), mapping, {
          now: at(102),
          lastWritten: applied.lastWritten,
        });
        const fields = second.plan.writes.flatMap((w) =>
          w.fields.map((f) => [w.system, w.recordId, f.field, f.value]),
        );
        expect(fields).not.toContainEqual(expect.arrayContaining(['hubspot', hsId, 'jobtitle']));
        // Salesforce's record time is Tandem's write time, but its title is unchanged since the last sync.
        expect(fields).toContainEqual(['salesforce', sfRecordId, 'Title', 'Chief Echo Officer']);
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order records arrive in', () => {
    fc.assert(
      fc.property(worlds, fc.integer({ min: 1, max: 1000 }), ({ input }, seed) => {
        const shuffle = <T>(xs: readonly T[]): T[] => {
          const out = [...xs];
          let s = seed;
          for (let i = out.length - 1; i > 0; i -= 1) {
            s = (s * 1103515245 + 12345) % 2147483648;
            const j = s % (i + 1);
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
        const a = reconcileBatch(input, mapping, { now: NOW });
        const b = reconcileBatch(
          {
            ...input,
            persons: {
              hubspot: shuffle(input.persons?.hubspot ?? []),
              salesforce: shuffle(input.persons?.salesforce ?? []),
            },
            links: { person: shuffle(input.links?.person ?? []) },
            dealFacts: shuffle(input.dealFacts ?? []),
          },
          mapping,
          { now: NOW },
        );
        expect(b.plan).toEqual(a.plan);
        expect(b.identity.person.groups).toEqual(a.identity.person.groups);
        expect(b.persons.map((p) => p.unified)).toEqual(a.persons.map((p) => p.unified));
        expect(b.attribution).toEqual(a.attribution);
      }),
      { numRuns: 150 },
    );
  });
});

describe('lifecycle property', () => {
  const stages = fc.constantFrom<LifecycleStage | null>(null, ...LIFECYCLE_STAGES, 'disqualified');
  it('never moves a stage backwards (or out of disqualified) without a rule', () => {
    fc.assert(
      fc.property(
        stages,
        fc.record({
          email: fc.constantFrom('a@acme.com', 'a@gmail.com', 'qa@test.com', ''),
          lead_status: fc.constantFrom('new', 'working', 'qualified', 'unqualified', null),
          form_submissions: fc.integer({ min: 0, max: 3 }),
        }),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (previous, fields, total, converted, hasOpenDeal, hasWonDeal) => {
          const d = decideStage(
            mapping.lifecycle,
            {
              previous,
              history: [],
              facts: {
                fields,
                score: { fit: 0, engagement: total, total },
                converted,
                hasOpenDeal,
                hasWonDeal,
              },
              now: NOW,
            },
            compiled,
          );
          const backwards =
            (previous !== null && d.stage === null) ||
            (previous === 'disqualified' && d.stage !== 'disqualified') ||
            (previous !== 'disqualified' && stageRank(d.stage) < stageRank(previous));
          if (backwards) expect(d.entries.at(-1)?.rule).toMatch(/^(recycle|disqualify)\[\d+\]$/);
          if (!d.changed) expect(d.stage).toBe(previous);
          for (const e of d.entries) expect(e.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('skip unchanged entities (opt-in fingerprints)', () => {
  const edits = fc.array(
    fc.record({ record: fc.nat(), title: titles, touch: fc.boolean(), forget: fc.boolean() }),
    { maxLength: 4 },
  );
  it('changes nothing but what is reconciled: the rest is reported unchanged, and is exactly what reconciling it would give', () => {
    let unchanged = 0;
    let reconciled = 0;
    fc.assert(
      fc.property(worlds, edits, ({ input, records }, changes) => {
        // A synced world: the first plan applied, then one batch with fingerprints to store.
        const first = reconcileBatch(input, mapping, { now: NOW });
        const applied = applyPlan(records, first.plan, {
          now: at(101),
          links: first.links.person,
          lastWritten: first.synced,
        });
        const lastWritten = new Map(applied.lastWritten);
        const steady = personBatchAfter(input, first, applied);
        const stored = reconcileBatch({ ...steady, fingerprints: {} }, mapping, {
          now: at(102),
          lastWritten,
        });
        // Then some edits: a title, a change time, a `lastWritten` entry forgotten.
        const all = [...steady.persons!.hubspot, ...steady.persons!.salesforce];
        const nextLastWritten = new Map(lastWritten);
        for (const c of all.length === 0 ? [] : changes) {
          const i = c.record % all.length;
          const r = all[i]!;
          const title = r.system === 'hubspot' ? 'jobtitle' : 'Title';
          all[i] = c.touch
            ? { ...r, fieldChangedAt: { ...r.fieldChangedAt, [title]: at(103) } }
            : { ...r, fields: { ...r.fields, [title]: c.title }, modifiedAt: at(103) };
          if (c.forget) nextLastWritten.delete(writtenKey(r.system, r.id, title));
        }
        const next: BatchInput = {
          ...steady,
          persons: {
            hubspot: all.filter((r) => r.system === 'hubspot'),
            salesforce: all.filter((r) => r.system === 'salesforce'),
          },
        };
        const ctx = { now: at(104), lastWritten: nextLastWritten };
        const off = reconcileBatch(next, mapping, ctx);
        const on = reconcileBatch(
          { ...next, fingerprints: { previous: stored.fingerprints ?? new Map() } },
          mapping,
          ctx,
        );
        const offByKey = new Map(off.persons.map((p) => [p.unified.key, p]));
        const storedByKey = new Map(stored.persons.map((p) => [p.unified.key, p]));
        // Every entity is either reconciled (exactly as without fingerprints) or reported unchanged.
        expect(
          [...on.persons.map((p) => p.unified.key), ...(on.unchanged ?? []).map((u) => u.key)].sort(),
        ).toEqual([...offByKey.keys()].sort());
        for (const p of on.persons) expect(p).toEqual(offByKey.get(p.unified.key));
        unchanged += on.unchanged?.length ?? 0;
        reconciled += on.persons.filter((p) => stored.fingerprints?.has(p.unified.key)).length;
        // An unchanged entity's stored outcome is what reconciling it now gives.
        for (const u of on.unchanged ?? []) {
          const fresh = offByKey.get(u.key);
          const kept = storedByKey.get(u.key);
          expect(kept).toBeDefined();
          expect({ ...fresh, group: undefined }).toEqual({ ...kept, group: undefined });
          expect(fresh?.group).toEqual(u.group);
        }
        expect(on.plan).toEqual(off.plan);
        expect(on.problems).toEqual(off.problems);
        expect(on.attribution).toEqual(off.attribution);
        expect(on.links).toEqual(off.links);
        expect(on.identity).toEqual(off.identity);
      }),
      { numRuns: 150 },
    );
    // Not vacuous: entities were skipped, and settled entities whose inputs changed were reconciled.
    expect(unchanged).toBeGreaterThan(0);
    expect(reconciled).toBeGreaterThan(0);
  });
});
