import { describe, expect, it } from '@jest/globals';
import { reconcileBatch, type BatchInput, type BatchResult } from '../../src/domain/batch.js';
import { applyPlan } from '../../src/domain/testing.js';
import { describePlan, type RecordWrite } from '../../src/domain/write-plan.js';
import type { CampaignMembership, DealFact, SourceRecord } from '../../src/domain/records.js';
import {
  at,
  defaultMapping,
  hsCompany,
  hsContact,
  hsDeal,
  sfAccount,
  sfContact,
  sfId,
  sfLead,
  sfOpportunity,
} from '../support/domain-fixtures.js';

/**
 * A hand-built mini world reconciled with the default mapping, end to end:
 * - Ann is in both systems (HubSpot contact + Lead) and the two disagree on her title;
 * - Bea is a HubSpot-only MQL who gets a Lead created;
 * - Carl's Lead was converted to a Contact, and his won deal makes him a customer, with W-shaped credit;
 * - Dan is a Salesforce-only Lead below MQL (nothing is created for him);
 * - Acme is a company in both, and Carl's deal an opportunity in both.
 */
const mapping = defaultMapping();
const NOW = at(50);

const LA = sfId('00Q', 1);
const LC = sfId('00Q', 3);
const CC = sfId('003', 3);
const LD = sfId('00Q', 4);
const O1 = sfId('006', 1);
const A1 = sfId('001', 1);

const hubspotPersons: SourceRecord[] = [
  hsContact(
    '101',
    {
      email: 'Ann@Acme.com',
      firstname: 'Ann',
      lastname: 'Archer',
      jobtitle: 'VP Sales',
      country: 'US',
      hs_analytics_num_page_views: '25',
      num_conversion_events: '1',
      hs_analytics_source: 'ORGANIC_SEARCH',
    },
    { createdAt: at(1), modifiedAt: at(20), changedAt: { jobtitle: at(20), email: at(1) } },
  ),
  hsContact(
    '102',
    {
      email: 'bea@bigco.io',
      firstname: 'Bea',
      lastname: 'Brown',
      jobtitle: 'Director of Marketing',
      country: 'Germany',
      hs_analytics_num_page_views: '30',
      num_conversion_events: '2',
      hs_analytics_source: 'PAID_SOCIAL',
    },
    { createdAt: at(5), modifiedAt: at(6) },
  ),
  hsContact(
    '103',
    {
      email: 'carl@acme.com',
      firstname: 'Carl',
      lastname: 'Cole',
      salesforce_lead_id: LC,
      hs_analytics_source: 'ORGANIC_SEARCH',
      hs_analytics_source_data_1: 'google',
      hs_latest_source: 'PAID_SEARCH',
      hs_latest_source_timestamp: String(Date.parse(at(22))),
    },
    { createdAt: at(2), modifiedAt: at(22) },
  ),
];

const salesforcePersons: SourceRecord[] = [
  sfLead(
    LA,
    {
      Email: 'ann@acme.com',
      FirstName: 'Ann',
      LastName: 'Archer',
      Title: 'Sales Director',
      Company: 'Acme',
      Status: 'Working - Contacted',
      LeadSource: 'Web',
    },
    { createdAt: at(1, 2), modifiedAt: at(10) },
  ),
  sfLead(
    LC,
    {
      Email: 'carl@acme.com',
      LastName: 'Cole',
      Company: 'Acme',
      Status: 'Closed - Converted',
      LeadSource: 'Partner Referral',
      IsConverted: true,
      ConvertedContactId: CC,
      ConvertedDate: at(24),
    },
    { createdAt: at(3), modifiedAt: at(24) },
  ),
  sfContact(
    CC,
    {
      Email: 'carl@acme.com',
      FirstName: 'Carl',
      LastName: 'Cole',
      Title: 'CTO',
      LeadSource: 'Partner Referral',
    },
    { createdAt: at(24), modifiedAt: at(24) },
  ),
  sfLead(
    LD,
    {
      Email: 'dan@dan.org',
      LastName: 'Dune',
      Company: 'Dune',
      Status: 'Open - Not Contacted',
      LeadSource: 'Purchased List',
    },
    { createdAt: at(7) },
  ),
];

const memberships: CampaignMembership[] = [
  {
    campaignId: '701W',
    campaignName: 'Spring webinar',
    campaignType: 'Webinar',
    status: 'Attended',
    hasResponded: true,
    firstRespondedDate: at(15),
    createdDate: at(14),
    personId: LC,
  },
];

const carlsDeal: DealFact = {
  dealUnifiedId: 'deal-1',
  salesforceOpportunityId: O1,
  hubspotDealId: '201',
  amount: 12_000,
  outcome: 'won',
  createdAt: at(25),
  closeDate: at(40),
  contactIds: { hubspot: ['103'], salesforce: [CC] },
};

const input: BatchInput = {
  persons: { hubspot: hubspotPersons, salesforce: salesforcePersons },
  companies: {
    hubspot: [hsCompany('301', { name: 'Acme', domain: 'acme.com', country: 'US' }, { modifiedAt: at(3) })],
    salesforce: [
      sfAccount(
        A1,
        { Name: 'Acme Inc', Website: 'https://www.acme.com', BillingCountry: null },
        { modifiedAt: at(4) },
      ),
    ],
  },
  deals: {
    hubspot: [
      hsDeal(
        '201',
        {
          dealname: 'Acme platform',
          dealstage: 'contractsent',
          amount: '12000',
          salesforce_opportunity_id: O1,
        },
        { modifiedAt: at(30) },
      ),
    ],
    salesforce: [
      sfOpportunity(
        O1,
        { Name: 'Acme platform', StageName: 'Closed Won', Amount: 12000, CloseDate: '2026-02-10' },
        { modifiedAt: at(40) },
      ),
    ],
  },
  dealFacts: [carlsDeal],
  campaignMemberships: memberships,
};

const result = reconcileBatch(input, mapping, { now: NOW });
const person = (id: string) =>
  result.persons.find((p) => p.group.hubspot?.id === id || p.group.salesforce?.id === id);
const writesTo = (recordId: string): Record<string, unknown> =>
  Object.fromEntries(
    result.plan.writes
      .filter((w) => w.recordId === recordId)
      .flatMap((w) => w.fields.map((f) => [f.field, f.value])),
  );

describe('mini world, default mapping', () => {
  it('reconciles without problems', () => {
    expect(result.problems).toEqual([]);
    expect(
      result.persons.map((p) => [p.group.hubspot?.id, p.group.salesforce?.id, p.group.matchedBy]),
    ).toEqual([
      ['101', LA, 'email'],
      ['102', undefined, undefined],
      ['103', CC, 'cross_reference'],
      [undefined, LD, undefined],
    ]);
  });

  it('Ann: the newer HubSpot title wins and goes to her Lead, with its reason', () => {
    const ann = person('101');
    expect(ann?.unified.fields['job_title']).toEqual({
      value: 'VP Sales',
      provenance: expect.objectContaining({
        system: 'hubspot',
        recordId: '101',
        rule: 'newest',
        changedAt: at(20),
      }),
    });
    expect(writesTo(LA)).toEqual(expect.objectContaining({ Title: 'VP Sales', Country: 'US' }));
    expect(writesTo('101')).toEqual(
      expect.objectContaining({
        company: 'Acme',
        hs_lead_status: 'IN_PROGRESS',
        tandem_lifecycle_stage: 'sal',
      }),
    );
    // fit: senior title 20 + served country 10; engagement: 25 page views capped at 20 + one form 10
    expect(ann?.unified.score).toEqual(expect.objectContaining({ fit: 30, engagement: 30, total: 60 }));
    expect(ann?.unified.stage).toBe('sal');
  });

  it('Bea: a HubSpot-only MQL gets a Lead created', () => {
    const bea = person('102');
    expect(bea?.unified.stage).toBe('mql');
    const create = result.plan.writes.find(
      (w: RecordWrite) => w.action === 'create' && w.entityKey === bea?.unified.key,
    );
    expect(create).toEqual(
      expect.objectContaining({
        system: 'salesforce',
        object: 'Lead',
        linkBack: { field: 'salesforce_lead_id' },
      }),
    );
    expect(Object.fromEntries(create?.fields.map((f) => [f.field, f.value]) ?? [])).toEqual(
      expect.objectContaining({
        Email: 'bea@bigco.io',
        LastName: 'Brown',
        Company: '[not provided]',
        Title: 'Director of Marketing',
        Tandem_Lifecycle_Stage__c: 'mql',
        Tandem_Original_Source__c: 'paid_social',
        HubSpot_Contact_ID__c: '102',
      }),
    );
  });

  it('Carl: converted Lead, won deal → customer; the Contact is written, never the Lead', () => {
    const carl = person('103');
    expect(carl?.group.convertedLeads.map((l) => l.id)).toEqual([LC]);
    expect(carl?.unified.stage).toBe('customer');
    // A subscriber since his HubSpot record last changed (the email both systems hold); the rest since
    // the conversion.
    expect(carl?.unified.stageEntries.map((e) => [e.stage, e.enteredAt])).toEqual([
      ['subscriber', at(22)],
      ['lead', at(24)],
      ['mql', at(24)],
      ['sal', at(24)],
      ['sql', at(24)],
      ['opportunity', at(25)],
      ['customer', at(40)],
    ]);
    expect(result.plan.writes.some((w) => w.recordId === LC)).toBe(false);
    expect(writesTo(CC)).toEqual(
      expect.objectContaining({ Tandem_Lifecycle_Stage__c: 'customer', HubSpot_Contact_ID__c: '103' }),
    );
    expect(writesTo('103')).toEqual(
      expect.objectContaining({
        lifecyclestage: 'customer',
        jobtitle: 'CTO',
        salesforce_contact_id: CC,
        tandem_original_source: 'organic_search',
      }),
    );
  });

  it('Carl’s deal: W-shaped credit, hand-computed, summing to the amount', () => {
    // Touches before the deal (day 25): organic search (day 2, HubSpot), partner referral (day 3, the
    // Lead's creation), webinar (day 15), paid search (day 22, the last before the opportunity).
    // Keys: first = organic, lead creation = referral, opportunity = paid search → 30% each; webinar 10%.
    expect(result.attribution).toEqual([
      {
        dealId: 'deal-1',
        model: 'w_shaped',
        amountCents: 1_200_000,
        credits: [
          expect.objectContaining({ source: 'organic_search', detail: 'google', cents: 360_000 }),
          expect.objectContaining({ source: 'referral', cents: 360_000 }),
          expect.objectContaining({ source: 'events', detail: 'Spring webinar', cents: 120_000 }),
          expect.objectContaining({ source: 'paid_search', cents: 360_000 }),
        ],
        personIds: [person('103')?.unified.key],
      },
    ]);
  });

  it('Dan: a Salesforce-only Lead below MQL is not created in HubSpot', () => {
    expect(person(LD)?.unified.stage).toBe('lead');
    expect(result.plan.writes.filter((w) => w.action === 'create' && w.system === 'hubspot')).toEqual([]);
  });

  it('Acme and the deal: Salesforce name and stage reach HubSpot', () => {
    expect(writesTo('301')).toEqual(expect.objectContaining({ name: 'Acme Inc', salesforce_account_id: A1 }));
    expect(writesTo(A1)).toEqual(
      expect.objectContaining({ BillingCountry: 'US', HubSpot_Company_ID__c: '301' }),
    );
    expect(writesTo('201')).toEqual({ dealstage: 'closedwon', closedate: '2026-02-10' });
    expect(result.deals[0]?.unified.outcome).toBe('won');
  });

  it('is a fixed point: applying the plan and reconciling again plans nothing', () => {
    const all = [
      ...hubspotPersons,
      ...salesforcePersons,
      ...(input.companies?.hubspot ?? []),
      ...(input.companies?.salesforce ?? []),
      ...(input.deals?.hubspot ?? []),
      ...(input.deals?.salesforce ?? []),
    ];
    const applied = applyPlan(all, result.plan, {
      now: at(51),
      links: [...result.links.person, ...result.links.company, ...result.links.deal],
      lastWritten: result.synced,
    });
    const pick = (objects: string[]) => applied.records.filter((r) => objects.includes(r.object));
    const split = (objects: string[]) => ({
      hubspot: pick(objects).filter((r) => r.system === 'hubspot'),
      salesforce: pick(objects).filter((r) => r.system === 'salesforce'),
    });
    const linksOf = (keys: Set<string>) => applied.links.filter((l) => keys.has(l.unifiedId));
    const second: BatchResult = reconcileBatch(
      {
        ...input,
        persons: split(['contacts', 'Lead', 'Contact']),
        companies: split(['companies', 'Account']),
        deals: split(['deals', 'Opportunity']),
        links: {
          person: linksOf(new Set(result.persons.map((p) => p.unified.key))),
          company: linksOf(new Set(result.companies.map((p) => p.unified.key))),
          deal: linksOf(new Set(result.deals.map((p) => p.unified.key))),
        },
        previousStages: new Map(
          result.persons.map((p) => [
            p.unified.key,
            { stage: p.unified.stage, history: p.unified.stageEntries },
          ]),
        ),
      },
      mapping,
      { now: at(52), lastWritten: applied.lastWritten },
    );
    expect(describePlan(second.plan)).toEqual([]);
    expect(second.problems).toEqual([]);
    expect(second.attribution).toEqual(result.attribution);
  });
});
