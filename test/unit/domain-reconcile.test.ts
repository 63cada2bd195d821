import { describe, expect, it } from '@jest/globals';
import { reconcileBatch, type BatchInput } from '../../src/domain/batch.js';
import {
  reconcileCompany,
  reconcileDeal,
  reconcilePerson,
  type PersonContext,
} from '../../src/domain/reconcile.js';
import type { RecordWrite } from '../../src/domain/write-plan.js';
import type { SourceRecord } from '../../src/domain/records.js';
import { valueHash } from '../../src/domain/hash.js';
import { replacedEntry, replacedKey, writtenKey } from '../../src/domain/merge.js';
import {
  at,
  defaultMapping,
  hsCompany,
  hsContact,
  hsDeal,
  mappingWith,
  sfAccount,
  sfContact,
  sfId,
  sfLead,
  sfOpportunity,
} from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const NOW = at(30);
const L1 = sfId('00Q', 1);
const C1 = sfId('003', 1);

const person = (
  hubspot: SourceRecord | undefined,
  salesforce: SourceRecord | undefined,
  convertedLeads: SourceRecord[] = [],
) => ({
  key: 'p1',
  ...(hubspot ? { hubspot } : {}),
  ...(salesforce ? { salesforce } : {}),
  convertedLeads,
});
const ctx = (extra: Partial<PersonContext> = {}): PersonContext => ({ now: NOW, ...extra });

/** The planned field values per target, e.g. { 'hubspot:update:1': { jobtitle: 'VP' } }. */
function written(writes: readonly RecordWrite[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const w of writes) {
    out[`${w.system}:${w.action}:${w.recordId ?? w.object}`] = Object.fromEntries(
      w.fields.map((f) => [f.field, f.value]),
    );
  }
  return out;
}

const tandemFields = new Set([
  'tandem_lifecycle_stage',
  'tandem_stage_reason',
  'lifecyclestage',
  'tandem_lead_score',
  'tandem_original_source',
  'tandem_latest_source',
  'salesforce_lead_id',
  'salesforce_contact_id',
  'Tandem_Lifecycle_Stage__c',
  'Tandem_Stage_Reason__c',
  'Tandem_Lead_Score__c',
  'Tandem_Original_Source__c',
  'Tandem_Latest_Source__c',
  'HubSpot_Contact_ID__c',
  'salesforce_account_id',
  'HubSpot_Company_ID__c',
  'salesforce_opportunity_id',
  'HubSpot_Deal_ID__c',
]);
/** Only the mapped fields of a plan (Tandem's own stage/score/source fields left out). */
function mappedWrites(writes: readonly RecordWrite[]): Record<string, Record<string, unknown>> {
  const all = written(writes);
  for (const [k, fields] of Object.entries(all)) {
    for (const f of Object.keys(fields)) if (tandemFields.has(f)) delete fields[f];
    if (Object.keys(fields).length === 0) delete all[k];
  }
  return all;
}

describe('never rewrite an equal value', () => {
  it.each<[string, Record<string, string>, Record<string, string | number>]>([
    ['phone formats', { phone: '(415) 555-0100' }, { Phone: '+1 415-555-0100' }],
    ['email case and spaces', { email: ' Ann@Acme.com ' }, { Email: 'ann@acme.com' }],
    ['trailing and doubled spaces', { jobtitle: 'Head  of Sales ' }, { Title: 'Head of Sales' }],
    [
      'a picklist value listed under the same unified value',
      { hs_lead_status: 'CONNECTED' },
      { Status: 'Working - Contacted' },
    ],
  ])('%s', (_name, hsFields, sfFields) => {
    const r = reconcilePerson(
      person(
        hsContact('1', { email: 'ann@acme.com', ...hsFields }, { modifiedAt: at(2) }),
        sfLead(L1, { Email: 'ann@acme.com', ...sfFields }, { modifiedAt: at(1) }),
      ),
      mapping,
      ctx(),
    );
    expect(r.problems).toEqual([]);
    expect(mappedWrites(r.plan.writes)).toEqual({});
  });

  it('"5" in HubSpot equals 5 in Salesforce', () => {
    const r = reconcileCompany(
      {
        key: 'c1',
        hubspot: hsCompany('1', { numberofemployees: '5', domain: 'https://www.acme.com' }),
        salesforce: sfAccount(sfId('001', 1), { NumberOfEmployees: 5, Website: 'acme.com' }),
        convertedLeads: [],
      },
      mapping,
      { now: NOW },
    );
    expect(mappedWrites(r.plan.writes)).toEqual({});
  });
});

describe('echo hashes wait for the write they depend on', () => {
  const records = () =>
    person(
      hsContact('1', { email: 'ann@acme.com', jobtitle: 'Head of Growth' }, { modifiedAt: at(9) }),
      sfLead(L1, { Email: 'ann@acme.com', Title: 'Analyst' }, { modifiedAt: at(1) }),
    );

  it('the winning side’s value travels with the write, not with what is stored at once', () => {
    const first = reconcilePerson(records(), mapping, ctx());
    const title = first.plan.writes.flatMap((w) => w.fields).find((f) => f.field === 'Title');
    expect(title?.value).toBe('Head of Growth');
    expect(Object.keys(title?.heldElsewhere ?? {})).toEqual(['hubspot:1:jobtitle']);
    expect([...first.synced.keys()]).not.toContain('hubspot:1:jobtitle');
  });

  it('a person seen in one system only leaves no echo behind: the newer value wins once the other appears', () => {
    const hubspotOnly = reconcilePerson(
      person(
        hsContact('1', { email: 'ann@acme.com', jobtitle: 'Head of Growth' }, { modifiedAt: at(9) }),
        undefined,
      ),
      mapping,
      ctx(),
    );
    expect([...hubspotOnly.synced.keys()]).not.toContain('hubspot:1:jobtitle');
    const both = reconcilePerson(records(), mapping, ctx({ lastWritten: hubspotOnly.synced }));
    expect(mappedWrites(both.plan.writes)).toEqual({
      [`salesforce:update:${L1}`]: { Title: 'Head of Growth' },
    });
  });

  it('a write that failed leaves the newer value a real change: the next pass plans it again', () => {
    const first = reconcilePerson(records(), mapping, ctx());
    // Nothing was applied: only what reconcile stores at once is known.
    const again = reconcilePerson(records(), mapping, ctx({ lastWritten: first.synced }));
    expect(mappedWrites(again.plan.writes)).toEqual({
      [`salesforce:update:${L1}`]: { Title: 'Head of Growth' },
    });
  });
});

describe('an edit Tandem overwrote without reading it', () => {
  // Marketing set the title to "Analyst 67" at day 9, after Tandem had read "Analyst 31" and planned to
  // write Salesforce's "Analyst 19"; Tandem's write landed at day 10. HubSpot's history shows what it replaced.
  const overwritten = (plannedAgainst: string, sourceChangedAt?: string) => {
    const contact = {
      ...hsContact(
        '1',
        { email: 'ann@acme.com', jobtitle: 'Analyst 19' },
        { modifiedAt: at(10), changedAt: { jobtitle: at(10) } },
      ),
      fieldPrevious: { jobtitle: { value: 'Analyst 67', at: at(9) } },
    };
    const lead = sfLead(L1, { Email: 'ann@acme.com', Title: 'Analyst 19' }, { modifiedAt: at(10) });
    const lastWritten = new Map([
      [writtenKey('hubspot', '1', 'jobtitle'), valueHash('Analyst 19')],
      [
        replacedKey('hubspot', '1', 'jobtitle'),
        replacedEntry(valueHash('Analyst 19'), plannedAgainst, sourceChangedAt),
      ],
      [writtenKey('salesforce', L1, 'Title'), valueHash('Analyst 19')],
    ]);
    return reconcilePerson(person(contact, lead), mapping, ctx({ lastWritten }));
  };

  it('is restored when made after the written value changed where it came from', () => {
    const titles = mappedWrites(overwritten('Analyst 31', at(8)).plan.writes);
    expect(titles[`salesforce:update:${L1}`]).toEqual(expect.objectContaining({ Title: 'Analyst 67' }));
  });

  it('is not restored when made before it: the later edit Tandem copied over it wins, as newest says', () => {
    // Sales typed "Analyst 19" at day 9 and 12 hours, after marketing's "Analyst 67" (day 9): the chaos run's
    // lost update, where the restore beat the newer Salesforce edit because Tandem had copied it.
    const r = overwritten('Analyst 31', at(9, 12));
    expect(mappedWrites(r.plan.writes)).toEqual({});
    expect(r.warnings.filter((w) => w.code === 'overwritten_edit_restored')).toEqual([]);
  });

  it('is found in the history and restored on both sides, with a warning that says so', () => {
    const r = overwritten('Analyst 31');
    const titles = mappedWrites(r.plan.writes);
    expect(titles['hubspot:update:1']).toEqual(expect.objectContaining({ jobtitle: 'Analyst 67' }));
    expect(titles[`salesforce:update:${L1}`]).toEqual(expect.objectContaining({ Title: 'Analyst 67' }));
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'overwritten_edit_restored', field: 'jobtitle' }),
      ]),
    );
  });

  it('is not an overwrite when Tandem replaced exactly the value it had read', () => {
    const r = overwritten('Analyst 67');
    expect(mappedWrites(r.plan.writes)).toEqual({});
    expect(r.warnings.filter((w) => w.code === 'overwritten_edit_restored')).toEqual([]);
  });

  it('is not an overwrite when the value held is an edit Tandem only copied elsewhere', () => {
    // Tandem once wrote "Head of Growth" over a blank; then marketing typed "Analyst 16", which Tandem
    // copied to Salesforce (so HubSpot's hash marks it in step). Its history replaced "Head of Growth".
    const contact = {
      ...hsContact(
        '1',
        { email: 'ann@acme.com', jobtitle: 'Analyst 16' },
        { modifiedAt: at(10), changedAt: { jobtitle: at(10) } },
      ),
      fieldPrevious: { jobtitle: { value: 'Head of Growth', at: at(2) } },
    };
    const lead = sfLead(L1, { Email: 'ann@acme.com', Title: 'Analyst 16' }, { modifiedAt: at(11) });
    const lastWritten = new Map([
      [writtenKey('hubspot', '1', 'jobtitle'), valueHash('Analyst 16')],
      [replacedKey('hubspot', '1', 'jobtitle'), replacedEntry(valueHash('Head of Growth'), null)],
      [writtenKey('salesforce', L1, 'Title'), valueHash('Analyst 16')],
    ]);
    const r = reconcilePerson(person(contact, lead), mapping, ctx({ lastWritten }));
    expect(mappedWrites(r.plan.writes)).toEqual({});
    expect(r.warnings.filter((w) => w.code === 'overwritten_edit_restored')).toEqual([]);
  });
});

describe('stage dates on a first sync', () => {
  it('dates stages by when the CRMs say their evidence changed, not by the day Tandem first looks', () => {
    // Qualified on day 8 (page views pushed the score over 50), accepted by sales on day 12.
    const r = reconcilePerson(
      person(
        hsContact(
          '1',
          {
            email: 'ann@acme.com',
            jobtitle: 'VP Sales',
            country: 'US',
            hs_analytics_num_page_views: '20',
            num_conversion_events: '1',
          },
          {
            createdAt: at(1),
            modifiedAt: at(8),
            changedAt: { email: at(1), jobtitle: at(2), country: at(2), hs_analytics_num_page_views: at(8) },
          },
        ),
        sfLead(L1, { Email: 'ann@acme.com', Status: 'Working - Contacted' }, { modifiedAt: at(12) }),
      ),
      mapping,
      ctx(),
    );
    expect(r.unified.stageEntries.map((e) => [e.stage, e.rule, e.enteredAt])).toEqual([
      ['subscriber', 'definitions.subscriber', at(1)],
      ['lead', 'definitions.lead', at(8)],
      ['mql', 'definitions.mql', at(8)],
      ['sal', 'definitions.sal', at(12)],
    ]);
  });
});

describe('what is written where', () => {
  it('writes only the fields that differ, each with a reason and the value’s hash', () => {
    const r = reconcilePerson(
      person(
        hsContact(
          '1',
          { email: 'ann@acme.com', jobtitle: 'VP Sales', firstname: 'Ann' },
          { changedAt: { jobtitle: at(5) }, modifiedAt: at(1) },
        ),
        sfLead(L1, { Email: 'ann@acme.com', Title: 'Director', FirstName: 'Annie' }, { modifiedAt: at(3) }),
      ),
      mapping,
      ctx(),
    );
    expect(mappedWrites(r.plan.writes)).toEqual({
      [`salesforce:update:${L1}`]: { Title: 'VP Sales' },
      'hubspot:update:1': { firstname: 'Annie' },
    });
    const title = r.plan.writes.flatMap((w) => w.fields).find((f) => f.field === 'Title');
    expect(title).toEqual(
      expect.objectContaining({
        previous: 'Director',
        hash: expect.stringMatching(/^[0-9a-f]{16}$/),
        reason: expect.stringContaining('job_title: newest rule chose hubspot contacts 1.jobtitle'),
        provenance: expect.objectContaining({ system: 'hubspot', recordId: '1', rule: 'newest' }),
      }),
    );
  });

  it('to_hubspot never writes Salesforce; none never writes', () => {
    const r = reconcilePerson(
      person(
        hsContact(
          '1',
          { email: 'a@acme.com', hs_lead_status: 'NEW', hs_analytics_num_page_views: '9' },
          { modifiedAt: at(9) },
        ),
        sfLead(L1, { Email: 'a@acme.com', Status: 'Working - Contacted' }, { modifiedAt: at(1) }),
      ),
      mapping,
      ctx(),
    );
    expect(mappedWrites(r.plan.writes)).toEqual({ 'hubspot:update:1': { hs_lead_status: 'IN_PROGRESS' } });
  });

  it('writes Tandem’s stage, reason, score, sources and cross-references to both sides', () => {
    const r = reconcilePerson(
      person(
        hsContact('1', { email: 'a@acme.com', hs_analytics_source: 'REFERRALS' }),
        sfLead(L1, { Email: 'a@acme.com' }),
      ),
      mapping,
      ctx(),
    );
    const w = written(r.plan.writes);
    expect(w['hubspot:update:1']).toEqual({
      tandem_lifecycle_stage: 'subscriber',
      tandem_stage_reason: 'The subscriber definition holds',
      lifecyclestage: 'subscriber',
      tandem_lead_score: '0',
      tandem_original_source: 'referral',
      tandem_latest_source: 'referral',
      salesforce_lead_id: L1,
    });
    expect(w[`salesforce:update:${L1}`]).toEqual(
      expect.objectContaining({
        Tandem_Lifecycle_Stage__c: 'subscriber',
        Tandem_Lead_Score__c: 0,
        HubSpot_Contact_ID__c: '1',
      }),
    );
  });

  it('cuts a value to the target length with a warning', () => {
    const r = reconcilePerson(
      person(
        hsContact('1', { email: 'a@acme.com', jobtitle: 'Vice President of Sales' }, { modifiedAt: at(5) }),
        sfLead(L1, { Email: 'a@acme.com', Title: 'VP' }, { modifiedAt: at(1) }),
      ),
      mapping,
      ctx({ targetHints: { 'salesforce:Lead:Title': 14 } }),
    );
    expect(mappedWrites(r.plan.writes)).toEqual({ [`salesforce:update:${L1}`]: { Title: 'Vice President' } });
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'truncated', field: 'Title', recordId: L1 }),
    ]);
  });
});

describe('converted leads', () => {
  const lead = sfLead(L1, {
    Email: 'a@acme.com',
    IsConverted: true,
    ConvertedContactId: C1,
    Company: 'Acme',
    Status: 'Closed - Converted',
    ConvertedDate: at(4),
  });

  it('are never written: the Contact is', () => {
    const r = reconcilePerson(
      person(
        hsContact('1', { email: 'a@acme.com', jobtitle: 'CEO' }, { modifiedAt: at(9) }),
        sfContact(C1, { Email: 'a@acme.com', Title: 'CTO' }, { modifiedAt: at(1) }),
        [lead],
      ),
      mapping,
      ctx(),
    );
    expect(r.plan.writes.some((w) => w.recordId === L1)).toBe(false);
    expect(mappedWrites(r.plan.writes)).toEqual({
      [`salesforce:update:${C1}`]: { Title: 'CEO' },
      'hubspot:update:1': { company: 'Acme', hs_lead_status: 'OPEN_DEAL' },
    });
    expect(r.unified.converted).toBe(true);
    expect(r.unified.stage).toBe('sql');
  });

  it('without its Contact in the batch, nothing is written to Salesforce and a warning says why', () => {
    const r = reconcilePerson(
      person(hsContact('1', { email: 'a@acme.com', jobtitle: 'CEO' }), lead),
      mapping,
      ctx(),
    );
    expect(r.plan.writes.filter((w) => w.system === 'salesforce')).toEqual([]);
    expect(r.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'converted_lead_not_written', recordId: L1 })]),
    );
  });
});

describe('creates', () => {
  const mql = {
    email: 'pat@bigco.com',
    jobtitle: 'VP Marketing',
    country: 'US',
    hs_analytics_num_page_views: '40',
    num_conversion_events: '1',
  };

  it('a HubSpot-only person below MQL is not created in Salesforce', () => {
    const r = reconcilePerson(person(hsContact('1', { email: 'pat@bigco.com' }), undefined), mapping, ctx());
    expect(r.plan.writes.filter((w) => w.action === 'create')).toEqual([]);
  });

  it('a HubSpot-only MQL becomes a Lead, with defaults for required blanks and a link back', () => {
    const r = reconcilePerson(person(hsContact('1', mql), undefined), mapping, ctx());
    expect(r.unified.stage).toBe('mql');
    const create = r.plan.writes.find((w) => w.action === 'create');
    expect(create).toEqual(
      expect.objectContaining({
        system: 'salesforce',
        object: 'Lead',
        counterpart: { system: 'hubspot', object: 'contacts', id: '1' },
        linkBack: { field: 'salesforce_lead_id' },
      }),
    );
    expect(Object.fromEntries(create?.fields.map((f) => [f.field, f.value]) ?? [])).toEqual(
      expect.objectContaining({
        Email: 'pat@bigco.com',
        Title: 'VP Marketing',
        LastName: '[not provided]',
        Company: '[not provided]',
        HubSpot_Contact_ID__c: '1',
        Tandem_Lifecycle_Stage__c: 'mql',
      }),
    );
  });

  it('a Salesforce-only person without an email is not created in HubSpot (email is required there)', () => {
    const m = mappingWith((raw) => {
      delete raw.objects.person.create?.only_when;
    });
    const r = reconcilePerson(person(undefined, sfLead(L1, { LastName: 'Lee', Email: null })), m, ctx());
    expect(r.plan.writes.filter((w) => w.action === 'create')).toEqual([]);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'create_skipped', message: expect.stringContaining('email') }),
    ]);
  });

  it('nothing is created when a link names a counterpart that was not loaded', () => {
    const r = reconcilePerson(
      { ...person(hsContact('1', mql), undefined), unresolved: [{ system: 'salesforce', id: L1 }] },
      mapping,
      ctx(),
    );
    expect(r.plan.writes.filter((w) => w.action === 'create')).toEqual([]);
  });
});

describe('HubSpot lifecyclestage only moves forward', () => {
  it('is left alone when HubSpot is ahead and no rule moved the stage back', () => {
    const r = reconcilePerson(
      person(hsContact('1', { email: 'a@acme.com', lifecyclestage: 'customer' }), undefined),
      mapping,
      ctx(),
    );
    expect(written(r.plan.writes)['hubspot:update:1']).not.toHaveProperty('lifecyclestage');
  });

  it('is cleared first, then set, when a recycle rule moved the stage back', () => {
    const r = reconcilePerson(
      person(
        hsContact('1', {
          email: 'a@acme.com',
          lifecyclestage: 'marketingqualifiedlead',
          hs_lead_status: 'UNQUALIFIED',
        }),
        undefined,
      ),
      mapping,
      ctx({ previousStage: { stage: 'mql', history: [] } }),
    );
    expect(r.unified.stage).toBe('lead');
    const write = r.plan.writes.flatMap((w) => w.fields).find((f) => f.field === 'lifecyclestage');
    expect(write).toEqual(expect.objectContaining({ value: 'lead', clearFirst: true }));
  });
});

describe('problems fail one record alone', () => {
  it('an unmapped status fails its person; the batch goes on', () => {
    const input: BatchInput = {
      persons: {
        hubspot: [
          hsContact('1', { email: 'a@acme.com', jobtitle: 'CEO' }),
          hsContact('2', { email: 'b@acme.com', jobtitle: 'CTO' }),
        ],
        salesforce: [
          sfLead(L1, { Email: 'a@acme.com', Status: 'Nurturing' }),
          sfLead(sfId('00Q', 2), { Email: 'b@acme.com' }),
        ],
      },
    };
    const r = reconcileBatch(input, mapping, { now: NOW });
    expect(r.problems).toEqual([
      expect.objectContaining({ code: 'unmapped_value', recordId: L1, field: 'Status', value: 'Nurturing' }),
    ]);
    expect(r.plan.writes.some((w) => w.recordId === L1 || w.recordId === '1')).toBe(false);
    expect(r.plan.writes.some((w) => w.recordId === sfId('00Q', 2))).toBe(true);
  });
});

describe('scope', () => {
  it('an entity with a record outside the scope is matched but not synced', () => {
    const m = mappingWith((raw) => {
      raw.objects.person.scope = { hubspot: { not: { field: 'email', contains: '@partner.io' } } };
    });
    const r = reconcileBatch(
      {
        persons: {
          hubspot: [
            hsContact('1', { email: 'a@partner.io', jobtitle: 'CEO' }, { modifiedAt: at(5) }),
            hsContact('2', { email: 'b@acme.com', jobtitle: 'CEO' }, { modifiedAt: at(5) }),
          ],
          salesforce: [
            sfLead(L1, { Email: 'a@partner.io', Title: 'VP' }),
            sfLead(sfId('00Q', 2), { Email: 'b@acme.com', Title: 'VP' }),
          ],
        },
      },
      m,
      { now: NOW },
    );
    expect(r.skipped).toEqual([
      { key: 'person:hubspot:1', reason: expect.stringContaining('outside the mapping') },
    ]);
    expect(r.plan.writes.some((w) => w.recordId === L1 || w.recordId === '1')).toBe(false);
    expect(r.plan.writes.some((w) => w.recordId === sfId('00Q', 2))).toBe(true);
  });
});

describe('deals and companies', () => {
  it('translates the stage through the pipeline map and knows the outcome', () => {
    const r = reconcileDeal(
      {
        key: 'd1',
        hubspot: hsDeal(
          '1',
          { dealname: 'Big', dealstage: 'contractsent', amount: '1000' },
          { modifiedAt: at(9) },
        ),
        salesforce: sfOpportunity(
          sfId('006', 1),
          { Name: 'Big', StageName: 'Closed Won', Amount: 1200, CloseDate: '2026-01-20' },
          { modifiedAt: at(1) },
        ),
        convertedLeads: [],
      },
      mapping,
      { now: NOW },
    );
    expect(r.unified.outcome).toBe('won');
    expect(mappedWrites(r.plan.writes)).toEqual({
      'hubspot:update:1': { dealstage: 'closedwon', amount: '1200', closedate: '2026-01-20' },
    });
  });

  it('creates a HubSpot deal in the stage’s pipeline', () => {
    const r = reconcileDeal(
      {
        key: 'd1',
        salesforce: sfOpportunity(sfId('006', 1), { Name: 'Big', StageName: 'Qualification', Amount: 10 }),
        convertedLeads: [],
      },
      mapping,
      { now: NOW },
    );
    expect(written(r.plan.writes)['hubspot:create:deals']).toEqual(
      expect.objectContaining({
        dealname: 'Big',
        dealstage: 'qualifiedtobuy',
        pipeline: 'default',
        amount: '10',
      }),
    );
  });

  it('a StageName listed after the first reads as its HubSpot stage and is never rewritten to the first', () => {
    const r = reconcileDeal(
      {
        key: 'd1',
        hubspot: hsDeal('1', { dealname: 'Big', dealstage: 'appointmentscheduled' }, { modifiedAt: at(9) }),
        salesforce: sfOpportunity(sfId('006', 1), { Name: 'Big', StageName: 'Needs Analysis' }),
        convertedLeads: [],
      },
      mapping,
      { now: NOW },
    );
    expect(r.problems).toEqual([]);
    expect(r.unified.fields['stage']?.value).toBe('qualifiedtobuy');
    expect(mappedWrites(r.plan.writes)).toEqual({ 'hubspot:update:1': { dealstage: 'qualifiedtobuy' } });
  });

  it('an unknown Salesforce stage is a problem for that deal', () => {
    const r = reconcileDeal(
      {
        key: 'd1',
        salesforce: sfOpportunity(sfId('006', 1), { Name: 'Big', StageName: 'Limbo' }),
        convertedLeads: [],
      },
      mapping,
      { now: NOW },
    );
    expect(r.problems).toEqual([
      expect.objectContaining({
        code: 'unmapped_value',
        value: 'Limbo',
        knownValues: expect.arrayContaining(['Closed Won']),
      }),
    ]);
    expect(r.plan.writes).toEqual([]);
  });
});
