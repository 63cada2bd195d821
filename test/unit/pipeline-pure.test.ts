import { describe, expect, it } from '@jest/globals';
import type { RecordWrite } from '../../src/domain/write-plan.js';
import { splitWrites } from '../../src/pipeline/batches.js';
import { buildCampaignMemberships, buildDealFacts } from '../../src/pipeline/facts.js';
import { hubspotPullProperties, salesforcePullFields } from '../../src/pipeline/fields.js';
import type { BatchResult } from '../../src/domain/batch.js';
import {
  emptyViewRows,
  rowsOfParts,
  viewFingerprints,
  viewRows,
  type ViewRows,
} from '../../src/pipeline/persist.js';
import { recordToSnapshot, snapshotToRecord, withWrittenValues } from '../../src/pipeline/snapshots.js';
import {
  defaultMapping,
  hsContact,
  hsDeal,
  sfId,
  sfLead,
  sfOpportunity,
} from '../support/domain-fixtures.js';

const mapping = defaultMapping();

const update = (
  system: 'hubspot' | 'salesforce',
  object: RecordWrite['object'],
  id: string,
): RecordWrite => ({
  action: 'update',
  system,
  object,
  recordId: id,
  entityKey: `person:${id}`,
  fields: [{ field: 'x', value: id, hash: 'h', reason: 'r' }],
});

describe('splitWrites', () => {
  it('cuts per system and object at each API batch size, companies first, with content keys', () => {
    const writes = [
      ...Array.from({ length: 250 }, (_, i) => update('hubspot', 'contacts', String(1000 + i))),
      ...Array.from({ length: 450 }, (_, i) => update('salesforce', 'Lead', sfId('00Q', i + 1))),
      update('hubspot', 'companies', '7'),
    ];
    const batches = splitWrites(writes, 'v1');
    expect(batches.map((b) => `${b.system} ${b.object} ${b.writes.length}`)).toEqual([
      'hubspot companies 1',
      'hubspot contacts 100',
      'hubspot contacts 100',
      'hubspot contacts 50',
      'salesforce Lead 200',
      'salesforce Lead 200',
      'salesforce Lead 50',
    ]);
    expect(new Set(batches.map((b) => b.key)).size).toBe(batches.length);
    expect(splitWrites([...writes].reverse(), 'v1').map((b) => b.key)).toEqual(batches.map((b) => b.key));
    expect(splitWrites(writes, 'v2')[0]?.key).not.toBe(batches[0]?.key);
  });
});

describe('snapshots', () => {
  it('round-trip a record and carry its identity keys and emails', () => {
    const lead = sfLead(sfId('00Q', 3), {
      Email: ' Ann@Acme.com ',
      HubSpot_Contact_ID__c: '101',
      IsConverted: true,
      ConvertedContactId: sfId('003', 3),
    });
    const snapshot = recordToSnapshot(lead, mapping, new Date(0));
    expect(snapshot.emails).toEqual(['ann@acme.com']);
    expect(snapshot.crossReferences).toEqual(
      expect.arrayContaining([sfId('00Q', 3).slice(0, 15), '101', sfId('003', 3).slice(0, 15)]),
    );
    expect(snapshotToRecord(snapshot)).toEqual(lead);
    const written = withWrittenValues(snapshot, { Title: 'CTO' }, mapping, new Date(1000));
    expect(snapshotToRecord(written).fields['Title']).toBe('CTO');
    expect(written.contentHash).not.toBe(snapshot.contentHash);
  });

  it('index secondary emails too', () => {
    const c = hsContact('5', { email: 'a@x.io', hs_additional_emails: 'b@x.io;A@x.io' });
    expect(recordToSnapshot(c, mapping, new Date(0)).emails).toEqual(['a@x.io', 'b@x.io']);
  });
});

describe('pull fields', () => {
  it('read what the mapping maps and what identity, lifecycle and attribution need', () => {
    const hs = hubspotPullProperties(mapping);
    expect(hs.properties.contacts).toEqual(
      expect.arrayContaining([
        'email',
        'hs_additional_emails',
        'salesforce_lead_id',
        'hs_analytics_source',
        'tandem_lifecycle_stage',
      ]),
    );
    expect(hs.history.contacts).toEqual(expect.arrayContaining(['email', 'phone', 'jobtitle']));
    const sf = salesforcePullFields(mapping);
    expect(sf.Lead).toEqual(
      expect.arrayContaining(['Company', 'Status', 'LeadSource', 'Tandem_Lifecycle_Stage__c']),
    );
    expect(sf.Contact).toEqual(expect.arrayContaining(['MailingCountry', 'AccountId']));
    expect(sf.Contact).not.toContain('Company');
    expect(sf.Opportunity).toEqual(
      expect.arrayContaining(['StageName', 'IsWon', 'IsClosed', 'Amount', 'CloseDate']),
    );
  });
});

describe('deal facts and memberships', () => {
  it('pair a HubSpot deal with its Opportunity and union their contacts; Salesforce decides the outcome', () => {
    const opp = sfOpportunity(sfId('006', 1), {
      StageName: 'Closed Won',
      IsWon: true,
      IsClosed: true,
      Amount: 500,
      CloseDate: '2026-02-10',
    });
    const deal = hsDeal('201', {
      dealstage: 'contractsent',
      amount: '400',
      salesforce_opportunity_id: sfId('006', 1),
    });
    const facts = buildDealFacts(
      {
        hubspotDeals: [{ record: deal, contacts: ['101'] }],
        opportunities: [opp],
        contactRoles: [
          {
            id: '00K000000000001AAA',
            fields: { OpportunityId: sfId('006', 1), ContactId: sfId('003', 3) },
            createdAt: '',
          },
        ],
        dealLinks: new Map(),
      },
      mapping,
    );
    expect(facts).toEqual([
      expect.objectContaining({
        dealUnifiedId: 'deal:hubspot:201',
        hubspotDealId: '201',
        salesforceOpportunityId: sfId('006', 1),
        amount: 500,
        outcome: 'won',
        contactIds: { hubspot: ['101'], salesforce: [sfId('003', 3)] },
      }),
    ]);
  });

  it('flatten campaign members with their campaign', () => {
    const [m] = buildCampaignMemberships([
      {
        id: '00v000000000001AAA',
        createdAt: '2026-01-01T00:00:00.000Z',
        fields: {
          CampaignId: '701000000000001AAA',
          LeadId: sfId('00Q', 1),
          HasResponded: true,
          FirstRespondedDate: '2026-01-02',
          Status: 'Responded',
          'Campaign.Name': 'Spring webinar',
          'Campaign.Type': 'Webinar',
        },
      },
    ]);
    expect(m).toMatchObject({
      campaignName: 'Spring webinar',
      campaignType: 'Webinar',
      hasResponded: true,
      firstRespondedDate: '2026-01-02T00:00:00.000Z',
      personId: sfId('00Q', 1),
    });
  });
});

describe('view rows', () => {
  it("credit a deal's unknown source (no touch before it) to the deal's own first person", () => {
    const result = {
      identity: {},
      persons: [],
      companies: [],
      deals: [],
      attribution: [
        {
          dealId: 'd1',
          model: 'linear',
          amountCents: 120_000,
          credits: [{ source: 'other', cents: 120_000, share: 1 }],
          personIds: ['person:p2', 'person:p3'],
        },
      ],
    } as unknown as BatchResult;
    const rows = viewRows('person', result, 'v1', new Date('2026-02-01T00:00:00Z'), new Map());
    expect(rows.credits).toEqual([
      expect.objectContaining({
        dealId: 'd1',
        touchpointId: 'd1:other',
        personId: 'person:p2',
        credit: 1200,
      }),
    ]);
  });
});

describe('view fingerprints', () => {
  const empty = emptyViewRows();
  const rows = (at: Date, title = 'CTO'): ViewRows => ({
    ...empty,
    persons: ['p1', 'p2'].map((id) => ({
      id,
      fields: { title: id === 'p1' ? title : 'CEO' },
      createdAt: new Date('2026-01-01T00:00:00Z'),
      updatedAt: at,
    })),
    unifiedIds: ['p1', 'p2'],
    personIds: ['p1', 'p2'],
    fieldValues: [
      { unifiedId: 'p1', recordType: 'person', field: 'title', value: title, rule: 'newest' },
      { unifiedId: 'p2', recordType: 'person', field: 'title', value: 'CEO', rule: 'newest' },
    ],
    dealIds: ['d1'],
    credits: [
      {
        dealId: 'd1',
        model: 'linear',
        touchpointId: 't1',
        personId: 'p1',
        source: 'ORGANIC_SEARCH',
        share: 1,
        credit: 10,
        computedAt: at,
      },
    ],
  });

  it('hash each part the same when only the time the rows were made differs', () => {
    const first = viewFingerprints('person', rows(new Date('2026-02-01T00:00:00Z')));
    expect([...first.keys()].sort()).toEqual(['credits:d1', 'person:p1', 'person:p2']);
    expect(viewFingerprints('person', rows(new Date('2026-03-01T00:00:00Z')))).toEqual(first);
  });

  it('tell the part whose rows changed, and keep only those rows', () => {
    const at = new Date('2026-02-01T00:00:00Z');
    const before = viewFingerprints('person', rows(at));
    const after = viewFingerprints('person', rows(at, 'VP Sales'));
    const changed = new Set([...after].filter(([part, h]) => before.get(part) !== h).map(([part]) => part));
    expect(changed).toEqual(new Set(['person:p1']));
    const kept = rowsOfParts('person', rows(at, 'VP Sales'), changed);
    expect(kept.persons.map((p) => p.id)).toEqual(['p1']);
    expect(kept.fieldValues.map((f) => f.unifiedId)).toEqual(['p1']);
    expect(kept.personIds).toEqual(['p1']);
    expect(kept.dealIds).toEqual([]);
    expect(kept.credits).toEqual([]);
  });

  it('give a part that lost all its rows of one kind a new hash (its touchpoints go)', () => {
    const at = new Date('2026-02-01T00:00:00Z');
    const withTouch: ViewRows = {
      ...rows(at),
      touchpoints: [
        {
          id: 't1',
          personId: 'p2',
          source: 'ORGANIC_SEARCH',
          occurredAt: at,
          system: 'hubspot',
          recordId: '1',
        },
      ],
    };
    const a = viewFingerprints('person', withTouch);
    const b = viewFingerprints('person', rows(at));
    expect(a.get('person:p2')).not.toBe(b.get('person:p2'));
    expect(a.get('person:p1')).toBe(b.get('person:p1'));
  });
});
