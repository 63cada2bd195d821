import { describe, expect, it } from '@jest/globals';
import { resolveIdentity, type IdentityGroup, type IdentityResult } from '../../src/domain/identity.js';
import { identityFields } from '../../src/domain/batch.js';
import type { SourceRecord, StoredLink } from '../../src/domain/records.js';
import { IdentitySchema, type Identity } from '../../src/domain/mapping/schema.js';
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

const mapping = defaultMapping();
const personIdentity = mapping.objects.person.identity;
const fields = identityFields(mapping, 'person');
const L1 = sfId('00Q', 1);
const L2 = sfId('00Q', 2);
const C1 = sfId('003', 1);
const C2 = sfId('003', 2);

function persons(
  hubspot: SourceRecord[],
  salesforce: SourceRecord[],
  links: StoredLink[] = [],
  identity: Identity = personIdentity,
): IdentityResult {
  return resolveIdentity({ kind: 'person', hubspot, salesforce, links }, identity, fields);
}

/** Each group as "hs-id|sf-id|matchedBy" for compact tables. */
const pairs = (r: IdentityResult): string[] =>
  r.groups
    .map((g: IdentityGroup) => `${g.hubspot?.id ?? '-'}|${g.salesforce?.id ?? '-'}|${g.matchedBy ?? '-'}`)
    .sort();

describe('identity: persons', () => {
  it.each<[string, SourceRecord[], SourceRecord[], StoredLink[], string[]]>([
    [
      'email ignores case and surrounding space',
      [hsContact('1', { email: '  Ann@Acme.COM ' })],
      [sfLead(L1, { Email: 'ann@acme.com' })],
      [],
      [`1|${L1}|email`],
    ],
    [
      'different emails stay apart',
      [hsContact('1', { email: 'ann@acme.com' })],
      [sfLead(L1, { Email: 'bob@acme.com' })],
      [],
      [`-|${L1}|-`, '1|-|-'],
    ],
    [
      'secondary email matches',
      [hsContact('1', { email: 'ann@home.net', hs_additional_emails: 'x@y.io; Ann@Acme.com' })],
      [sfLead(L1, { Email: 'ann@acme.com' })],
      [],
      [`1|${L1}|secondary_email`],
    ],
    [
      'a stored link beats email',
      [hsContact('1', { email: 'ann@acme.com' }), hsContact('2', { email: 'other@acme.com' })],
      [sfLead(L1, { Email: 'ann@acme.com' })],
      [{ unifiedId: 'u-9', hubspotId: '2', salesforceLeadId: L1 }],
      [`2|${L1}|link`],
    ],
    [
      'a cross-reference beats email',
      [
        hsContact('1', { email: 'ann@acme.com' }),
        hsContact('2', { email: 'z@z.io', salesforce_lead_id: L1 }),
      ],
      [sfLead(L1, { Email: 'ann@acme.com' })],
      [],
      [`2|${L1}|cross_reference`],
    ],
    [
      'a 15-character cross-reference finds the 18-character id',
      [hsContact('1', { email: 'a@a.io', salesforce_contact_id: C1.slice(0, 15) })],
      [sfContact(C1, { Email: 'b@b.io' })],
      [],
      [`1|${C1}|cross_reference`],
    ],
    [
      'a converted lead follows its Contact: one person, the Contact is the record',
      [hsContact('1', { email: 'ann@acme.com' })],
      [
        sfLead(L1, { Email: 'ann@acme.com', IsConverted: true, ConvertedContactId: C1 }),
        sfContact(C1, { Email: 'ann@new-job.com' }),
      ],
      [],
      [`1|${C1}|email`],
    ],
  ])('%s', (_name, hubspot, salesforce, links, expected) => {
    expect(pairs(persons(hubspot, salesforce, links))).toEqual(expected);
  });

  it('a record sharing an email with the other side of a stronger match is that person’s duplicate', () => {
    const r = persons(
      [hsContact('1', { email: 'ann@acme.com' }), hsContact('2', { email: 'other@acme.com' })],
      [sfLead(L1, { Email: 'ann@acme.com' })],
      [{ unifiedId: 'u-9', hubspotId: '2', salesforceLeadId: L1 }],
    );
    expect(r.duplicates).toEqual([
      expect.objectContaining({
        system: 'hubspot',
        survivorId: '2',
        duplicateIds: ['1'],
        sharedKeys: ['ann@acme.com'],
      }),
    ]);
  });

  it('a duplicate remembered in a link stays a duplicate after the keys that showed it change', () => {
    const r = persons(
      [hsContact('1', { email: 'new@acme.com' }), hsContact('2', { email: 'other@acme.com' })],
      [sfLead(L1, { Email: 'x@acme.com' })],
      [
        {
          unifiedId: 'u-9',
          hubspotId: '2',
          salesforceLeadId: L1,
          duplicates: [{ system: 'hubspot', id: '1' }],
        },
      ],
    );
    expect(pairs(r)).toEqual([`2|${L1}|link`]);
    expect(r.duplicates[0]?.duplicateIds).toEqual(['1']);
  });

  it('keeps the converted lead with its Contact, not as a duplicate', () => {
    const r = persons(
      [],
      [
        sfLead(L1, { Email: 'ann@acme.com', IsConverted: true, ConvertedContactId: C1 }),
        sfContact(C1, { Email: 'x@y.io' }),
      ],
    );
    expect(r.groups).toHaveLength(1);
    expect(r.groups[0]?.salesforce?.id).toBe(C1);
    expect(r.groups[0]?.convertedLeads.map((l) => l.id)).toEqual([L1]);
    expect(r.duplicates).toEqual([]);
  });

  it.each<[string, Identity['duplicate_survivor'], SourceRecord[], string, string[]]>([
    [
      'two HubSpot contacts with one email: the oldest survives',
      'oldest',
      [
        hsContact('9', { email: 'a@a.io' }, { createdAt: at(1) }),
        hsContact('7', { email: 'A@a.io' }, { createdAt: at(2) }),
      ],
      '9',
      ['7'],
    ],
    [
      'ties go to the lowest id',
      'oldest',
      [hsContact('9', { email: 'a@a.io' }), hsContact('10', { email: 'a@a.io' })],
      '10',
      ['9'],
    ],
    [
      'most recently modified',
      'most_recently_modified',
      [
        hsContact('1', { email: 'a@a.io' }, { modifiedAt: at(1) }),
        hsContact('2', { email: 'a@a.io' }, { modifiedAt: at(5) }),
      ],
      '2',
      ['1'],
    ],
    [
      'most complete',
      'most_complete',
      [
        hsContact('1', { email: 'a@a.io' }),
        hsContact('2', { email: 'a@a.io', firstname: 'A', lastname: '' }),
      ],
      '2',
      ['1'],
    ],
    [
      'a secondary email equal to another contact’s primary makes them duplicates',
      'oldest',
      [
        hsContact('1', { email: 'a@a.io' }, { createdAt: at(3) }),
        hsContact('2', { email: 'b@b.io', hs_additional_emails: 'a@a.io' }, { createdAt: at(1) }),
      ],
      '2',
      ['1'],
    ],
  ])('%s', (_name, rule, hubspot, survivor, duplicates) => {
    const identity = IdentitySchema.parse({ ...personIdentity, duplicate_survivor: rule });
    const r = persons(hubspot, [], [], identity);
    expect(r.groups.map((g) => g.hubspot?.id)).toEqual([survivor]);
    expect(r.duplicates).toEqual([
      expect.objectContaining({ system: 'hubspot', survivorId: survivor, duplicateIds: duplicates, rule }),
    ]);
  });

  it('two Leads with one email are one person, reported as duplicates', () => {
    const r = persons(
      [hsContact('1', { email: 'a@a.io' })],
      [
        sfLead(L2, { Email: 'a@a.io' }, { createdAt: at(1) }),
        sfLead(L1, { Email: 'A@A.io' }, { createdAt: at(2) }),
      ],
    );
    expect(pairs(r)).toEqual([`1|${L2}|email`]);
    expect(r.duplicates).toEqual([
      expect.objectContaining({ system: 'salesforce', survivorId: L2, duplicateIds: [L1] }),
    ]);
  });

  it('a Lead and an unrelated Contact with one email: the preferred object (Contact) survives', () => {
    const r = persons(
      [],
      [
        sfLead(L1, { Email: 'a@a.io' }, { createdAt: at(0) }),
        sfContact(C2, { Email: 'a@a.io' }, { createdAt: at(5) }),
      ],
    );
    expect(r.groups.map((g) => g.salesforce?.id)).toEqual([C2]);
    expect(r.duplicates[0]?.duplicateIds).toEqual([L1]);
  });

  it('conflicting cross-references: the reference held in Salesforce wins, and the conflict is reported', () => {
    const r = persons(
      [hsContact('1', { email: 'one@a.io', salesforce_lead_id: L1 }), hsContact('2', { email: 'two@a.io' })],
      [sfLead(L1, { Email: 'lead@a.io', HubSpot_Contact_ID__c: '2' })],
    );
    expect(pairs(r)).toEqual(['1|-|-', `2|${L1}|cross_reference`]);
    expect(r.conflicts).toEqual([
      expect.objectContaining({
        level: 'cross_reference',
        resolution: expect.stringContaining('HubSpot contacts 2'),
      }),
    ]);
  });

  it('conflicting cross-references: the one the emails back up wins over a stale one in Salesforce', () => {
    // Salesforce's HubSpot id names another person; the HubSpot contact names the Lead, and both hold the
    // same email (the demo world's conflicting cross-references).
    const r = persons(
      [
        hsContact('1', { email: 'mary@a.io', salesforce_lead_id: L1 }),
        hsContact('2', { email: 'giulia@a.io' }),
      ],
      [sfLead(L1, { Email: 'Mary@a.io', HubSpot_Contact_ID__c: '2' })],
    );
    expect(pairs(r)).toEqual([`1|${L1}|cross_reference`, '2|-|-']);
    expect(r.conflicts).toEqual([
      expect.objectContaining({
        level: 'cross_reference',
        resolution: expect.stringContaining('HubSpot contacts 1'),
      }),
    ]);
  });

  it('a mutual cross-reference beats a one-way one', () => {
    const r = persons(
      [hsContact('1', { salesforce_lead_id: L1 }), hsContact('2', { salesforce_lead_id: L1 })],
      [sfLead(L1, { HubSpot_Contact_ID__c: '1' })],
    );
    expect(pairs(r)).toEqual([`1|${L1}|cross_reference`, '2|-|-']);
    expect(r.conflicts).toHaveLength(1);
  });

  it('matched records whose cross-references disagree are reported', () => {
    const r = persons(
      [hsContact('1', { email: 'a@a.io', salesforce_lead_id: L2 }), hsContact('2', { email: 'b@a.io' })],
      [sfLead(L1, { Email: 'a@a.io' }), sfLead(L2, { Email: 'x@x.io', HubSpot_Contact_ID__c: '2' })],
      [{ unifiedId: 'u1', hubspotId: '1', salesforceLeadId: L1 }],
    );
    expect(pairs(r)).toEqual([`1|${L1}|link`, `2|${L2}|cross_reference`]);
    expect(r.conflicts.map((c) => c.level)).toContain('cross_reference');
  });

  it('names the ids a link points at that are not in the batch (so nothing is created twice)', () => {
    const r = persons(
      [hsContact('1', { email: 'a@a.io' })],
      [],
      [{ unifiedId: 'u1', hubspotId: '1', salesforceLeadId: L1 }],
    );
    expect(r.groups[0]).toEqual(
      expect.objectContaining({ key: 'u1', unresolved: [{ system: 'salesforce', id: L1 }] }),
    );
  });

  it('uses the link as the key and a survivor id otherwise', () => {
    const r = persons(
      [hsContact('1', { email: 'a@a.io' }), hsContact('2', { email: 'b@a.io' })],
      [sfLead(L1, { Email: 'c@a.io' })],
      [{ unifiedId: 'u-1', hubspotId: '1' }],
    );
    expect(r.groups.map((g) => g.key)).toEqual([`person:hubspot:2`, `person:salesforce:${L1}`, 'u-1']);
  });

  it('ignores archived records', () => {
    const r = persons(
      [hsContact('1', { email: 'a@a.io' }, { archived: true })],
      [sfLead(L1, { Email: 'a@a.io' })],
    );
    expect(pairs(r)).toEqual([`-|${L1}|-`]);
  });

  it('gives the same answer whatever the input order', () => {
    const hubspot = [
      hsContact('1', { email: 'a@a.io' }, { createdAt: at(2) }),
      hsContact('2', { email: 'A@a.io ' }, { createdAt: at(2) }),
      hsContact('3', { email: 'c@a.io', hs_additional_emails: 'd@a.io' }),
      hsContact('4', { email: 'e@a.io', salesforce_lead_id: L2 }),
    ];
    const salesforce = [
      sfLead(L1, { Email: 'd@a.io' }),
      sfLead(L2, { Email: 'a@a.io', HubSpot_Contact_ID__c: '1' }),
      sfContact(C1, { Email: 'c@a.io' }),
      sfContact(C2, { Email: 'a@a.io' }),
    ];
    const expected = persons(hubspot, salesforce);
    for (let k = 0; k < 6; k += 1) {
      const rot = <T>(xs: T[]): T[] => [...xs.slice(k % xs.length), ...xs.slice(0, k % xs.length)];
      expect(persons(rot([...hubspot].reverse()), rot(salesforce))).toEqual(expected);
    }
  });
});

describe('identity: companies and deals', () => {
  const companyIdentity = mapping.objects.company?.identity as Identity;
  const dealIdentity = mapping.objects.deal?.identity as Identity;

  it('matches companies by normalised domain and reports duplicate accounts', () => {
    const r = resolveIdentity(
      {
        kind: 'company',
        hubspot: [hsCompany('1', { domain: 'acme.com' })],
        salesforce: [
          sfAccount(sfId('001', 1), { Website: 'https://www.Acme.com/about' }, { createdAt: at(1) }),
          sfAccount(sfId('001', 2), { Website: 'acme.com' }, { createdAt: at(2) }),
        ],
      },
      companyIdentity,
      identityFields(mapping, 'company'),
    );
    expect(pairs(r)).toEqual([`1|${sfId('001', 1)}|domain`]);
    expect(r.duplicates[0]?.duplicateIds).toEqual([sfId('001', 2)]);
  });

  it('matches deals by link, then cross-reference, never by anything weaker', () => {
    const O1 = sfId('006', 1);
    const O2 = sfId('006', 2);
    const r = resolveIdentity(
      {
        kind: 'deal',
        hubspot: [
          hsDeal('1', { dealname: 'Big' }),
          hsDeal('2', { dealname: 'Big' }),
          hsDeal('3', { salesforce_opportunity_id: O2 }),
        ],
        salesforce: [sfOpportunity(O1, { Name: 'Big' }), sfOpportunity(O2, { Name: 'Small' })],
        links: [{ unifiedId: 'd1', hubspotId: '1', salesforceId: O1 }],
      },
      dealIdentity,
    );
    expect(pairs(r)).toEqual([`1|${O1}|link`, '2|-|-', `3|${O2}|cross_reference`]);
  });
});
