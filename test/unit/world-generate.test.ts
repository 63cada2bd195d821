import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  generateWorld,
  generateWorldWithManifest,
  type GeneratedWorld,
} from '../../src/sandbox/world/generate.js';
import { isSalesforceId, SALESFORCE_KEY_PREFIXES } from '../../src/sandbox/world/salesforce-id.js';
import { WorldSchema, type SalesforceObjectName, type World } from '../../src/sandbox/world/schema.js';

const PERSONS = 2_000;
const sha256 = (world: World): string => createHash('sha256').update(JSON.stringify(world)).digest('hex');
const normalisedEmail = (email: unknown): string =>
  String(email ?? '')
    .trim()
    .toLowerCase();

let generated: GeneratedWorld;
let world: World;

beforeAll(() => {
  generated = generateWorldWithManifest({ seed: 'world-tests', persons: PERSONS });
  world = generated.world;
});

describe('determinism', () => {
  it('gives byte-identical JSON for the same seed and options', () => {
    const again = generateWorld({ seed: 'world-tests', persons: PERSONS });
    expect(sha256(again)).toBe(sha256(world));
  });

  it('gives a different world for a different seed', () => {
    expect(sha256(generateWorld({ seed: 'another-seed', persons: PERSONS }))).not.toBe(sha256(world));
  });

  it('uses the fixed epoch, not the clock, when no now is given', () => {
    expect(generated.manifest.now).toBe('2026-11-01T00:00:00.000Z');
    const latest = world.hubspot.contacts
      .map((c) => c.updatedAt)
      .sort()
      .at(-1);
    expect(latest! < '2026-11-01T00:00:00.000Z').toBe(true);
  });

  it('places every timestamp before the given now', () => {
    const now = new Date('2030-03-15T09:30:00.000Z');
    const shifted = generateWorldWithManifest({ seed: 'world-tests', persons: 200, now });
    expect(shifted.manifest.now).toBe(now.toISOString());
    for (const contact of shifted.world.hubspot.contacts) {
      expect(contact.createdAt <= contact.updatedAt).toBe(true);
      expect(contact.updatedAt < now.toISOString()).toBe(true);
    }
    for (const lead of shifted.world.salesforce.records.Lead) {
      expect(String(lead.LastModifiedDate) < '2030-03-15T09:30:00.000+0000').toBe(true);
    }
  });
});

describe('shape', () => {
  it('validates against WorldSchema, and parsing changes nothing', () => {
    const result = WorldSchema.safeParse(JSON.parse(JSON.stringify(world)));
    expect(result.error?.issues.slice(0, 3)).toBeUndefined();
    expect(isDeepStrictEqual(result.data, world)).toBe(true);
  });

  it('writes Salesforce datetimes and dates in Salesforce form', () => {
    const datetime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;
    const offenders = Object.values(world.salesforce.records)
      .flat()
      .filter(
        (row) =>
          !datetime.test(String(row.CreatedDate)) ||
          !datetime.test(String(row.SystemModstamp)) ||
          row.LastModifiedDate !== row.SystemModstamp ||
          row.IsDeleted !== false ||
          String(row.CreatedDate) > String(row.LastModifiedDate),
      );
    expect(offenders).toEqual([]);
    const closeDates = world.salesforce.records.Opportunity.map((o) => String(o.CloseDate));
    expect(closeDates.filter((date) => !/^\d{4}-\d{2}-\d{2}$/.test(date))).toEqual([]);
  });

  it('gives every Salesforce row a valid 18-character id with its object key prefix', () => {
    for (const [object, rows] of Object.entries(world.salesforce.records)) {
      const prefix = SALESFORCE_KEY_PREFIXES[object as SalesforceObjectName];
      const invalid = rows.filter(
        (row) => !isSalesforceId(row.Id) || row.Id.length !== 18 || !row.Id.startsWith(prefix),
      );
      expect(invalid).toEqual([]);
    }
  });

  it('never reuses an id, and hands the sandboxes counters beyond them', () => {
    const hubspotIds = [...world.hubspot.contacts, ...world.hubspot.companies, ...world.hubspot.deals].map(
      (r) => r.id,
    );
    expect(new Set(hubspotIds).size).toBe(hubspotIds.length);
    expect(Math.max(...hubspotIds.map(Number))).toBeLessThan(world.hubspot.nextId!);
    const salesforceIds = [
      ...Object.values(world.salesforce.records).flat(),
      ...world.salesforce.deleted.map((d) => d.record),
    ].map((r) => r.Id.toLowerCase());
    expect(new Set(salesforceIds).size).toBe(salesforceIds.length);
  });

  it('keeps every HubSpot property value a string', () => {
    const records = [...world.hubspot.contacts, ...world.hubspot.companies, ...world.hubspot.deals];
    const offenders = records.filter((r) =>
      Object.values(r.properties).some((value) => typeof value !== 'string'),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps propertiesWithHistory newest first, ending at the current value, never after the last modification', () => {
    const offenders: string[] = [];
    for (const contact of world.hubspot.contacts) {
      for (const [property, history] of Object.entries(contact.propertiesWithHistory ?? {})) {
        const stamps = history.map((h) => h.timestamp);
        const ordered = stamps.join() === [...stamps].sort().reverse().join();
        const current = history[0]?.value === contact.properties[property];
        if (!ordered || !current || stamps[0]! > contact.updatedAt)
          offenders.push(`${contact.id}.${property}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(
      world.hubspot.contacts.filter((c) => c.propertiesWithHistory?.lifecyclestage).length,
    ).toBeGreaterThan(1000);
  });

  it('gives no two HubSpot contacts the same primary email', () => {
    const emails = world.hubspot.contacts.map((c) => normalisedEmail(c.properties.email));
    expect(emails.every((email) => email.includes('@'))).toBe(true);
    expect(new Set(emails).size).toBe(emails.length);
  });
});

describe('proportions for 2,000 persons', () => {
  const share = (count: number): number => count / PERSONS;

  it('puts about 45% of persons in both systems, 35% in HubSpot only and 20% in Salesforce only', () => {
    const { people } = generated.manifest;
    expect(people).toHaveLength(PERSONS);
    const count = (presence: string) => people.filter((p) => p.presence === presence).length;
    expect(share(count('both'))).toBeCloseTo(0.45, 1);
    expect(share(count('hubspot'))).toBeCloseTo(0.35, 1);
    expect(share(count('salesforce'))).toBeCloseTo(0.2, 1);
    const mismatched = people.filter(
      (person) =>
        Boolean(person.hubspotContactId) !== (person.presence !== 'salesforce') ||
        Boolean(person.leadId ?? person.contactId) !== (person.presence !== 'hubspot'),
    );
    expect(mismatched).toEqual([]);
  });

  it('makes about persons / 10 companies, most of them in both systems', () => {
    const { companies } = generated.manifest;
    expect(companies).toHaveLength(PERSONS / 10);
    const both = companies.filter((c) => c.hubspotCompanyId && c.accountId).length;
    expect(both / companies.length).toBeGreaterThan(0.65);
    expect(companies.some((c) => c.presence === 'hubspot')).toBe(true);
    expect(companies.some((c) => c.presence === 'salesforce')).toBe(true);
  });

  it('makes about persons / 5 deals, mostly in both systems', () => {
    const { deals } = generated.manifest;
    expect(deals.length).toBeGreaterThan(PERSONS / 5 - 80);
    expect(deals.length).toBeLessThan(PERSONS / 5 + 80);
    expect(deals.filter((d) => d.presence === 'both').length / deals.length).toBeGreaterThan(0.6);
  });

  it('makes a dozen campaigns with members', () => {
    expect(world.salesforce.records.Campaign).toHaveLength(12);
    expect(world.salesforce.records.CampaignMember.length).toBeGreaterThan(PERSONS * 0.4);
  });

  it('uses every analytics source and every lifecycle stage', () => {
    const sources = new Set(world.hubspot.contacts.map((c) => c.properties.hs_analytics_source));
    expect(sources.size).toBe(9);
    const stages = new Set(world.hubspot.contacts.map((c) => c.properties.lifecyclestage));
    for (const stage of [
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
    ]) {
      expect(stages).toContain(stage);
    }
  });

  it('includes accented, right-to-left and emoji names', () => {
    const names = world.hubspot.contacts.map((c) => `${c.properties.firstname} ${c.properties.lastname}`);
    expect(names.some((n) => /[À-ɏ]/.test(n))).toBe(true);
    expect(names.some((n) => /[\u0590-\u06ff]/.test(n))).toBe(true);
    expect(names.some((n) => /\p{Extended_Pictographic}/u.test(n))).toBe(true);
  });
});

describe('references', () => {
  it('associates only records that exist, with the documented type ids', () => {
    const ids = {
      contacts: new Set(world.hubspot.contacts.map((r) => r.id)),
      companies: new Set(world.hubspot.companies.map((r) => r.id)),
      deals: new Set(world.hubspot.deals.map((r) => r.id)),
    };
    const typeIds: Record<string, number> = {
      'contacts→companies': 279,
      'deals→contacts': 3,
      'deals→companies': 341,
    };
    const dangling = world.hubspot.associations.filter(
      (a) =>
        !ids[a.fromType].has(a.fromId) ||
        !ids[a.toType].has(a.toId) ||
        a.typeId !== typeIds[`${a.fromType}→${a.toType}`],
    );
    expect(dangling).toEqual([]);
    expect(world.hubspot.associations.length).toBeGreaterThan(PERSONS * 0.5);
  });

  it('points every Salesforce lookup at a live row of the right object', () => {
    const { records } = world.salesforce;
    const idsOf = (object: SalesforceObjectName) => new Set(records[object].map((r) => r.Id));
    const accounts = idsOf('Account');
    const contacts = idsOf('Contact');
    const leads = idsOf('Lead');
    const opportunities = idsOf('Opportunity');
    const campaigns = idsOf('Campaign');
    expect(records.Contact.filter((c) => !accounts.has(String(c.AccountId)))).toEqual([]);
    expect(records.Opportunity.filter((o) => !accounts.has(String(o.AccountId)))).toEqual([]);
    expect(
      records.OpportunityContactRole.filter(
        (role) => !opportunities.has(String(role.OpportunityId)) || !contacts.has(String(role.ContactId)),
      ),
    ).toEqual([]);
    const badMembers = records.CampaignMember.filter((member) => {
      const target = member.LeadId
        ? leads.has(String(member.LeadId))
        : contacts.has(String(member.ContactId));
      return (
        !campaigns.has(String(member.CampaignId)) ||
        !target ||
        member.HasResponded !== (member.Status === 'Responded') ||
        (member.FirstRespondedDate === null) !== !member.HasResponded
      );
    });
    expect(badMembers).toEqual([]);
  });

  it('derives IsClosed, IsWon and Probability from the stage', () => {
    const badOpportunities = world.salesforce.records.Opportunity.filter((opportunity) => {
      const stage = String(opportunity.StageName);
      const probability =
        stage === 'Closed Won' ? 100 : stage === 'Closed Lost' ? 0 : opportunity.Probability;
      return (
        opportunity.IsClosed !== stage.startsWith('Closed') ||
        opportunity.IsWon !== (stage === 'Closed Won') ||
        opportunity.Probability !== probability
      );
    });
    expect(badOpportunities).toEqual([]);
    const stages =
      /^(appointmentscheduled|qualifiedtobuy|presentationscheduled|decisionmakerboughtin|contractsent|closedwon|closedlost)$/;
    const badDeals = world.hubspot.deals.filter(
      (deal) => deal.properties.pipeline !== 'default' || !stages.test(String(deal.properties.dealstage)),
    );
    expect(badDeals).toEqual([]);
  });

  it('links converted Leads to real Account, Contact and Opportunity rows', () => {
    const { records } = world.salesforce;
    const byId = new Map(
      Object.values(records)
        .flat()
        .map((r) => [r.Id, r]),
    );
    const converted = records.Lead.filter((lead) => lead.IsConverted);
    expect(converted.length).toBeGreaterThan(50);
    expect(converted.some((lead) => lead.ConvertedOpportunityId)).toBe(true);
    for (const lead of converted) {
      expect(lead.Status).toBe('Closed - Converted');
      expect(lead.ConvertedDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(String(lead.ConvertedAccountId)).toMatch(/^001/);
      const contact = byId.get(String(lead.ConvertedContactId));
      expect(contact?.Id.startsWith('003')).toBe(true);
      expect(contact?.AccountId).toBe(lead.ConvertedAccountId);
      expect(byId.has(String(lead.ConvertedAccountId))).toBe(true);
      if (lead.ConvertedOpportunityId !== null) {
        expect(byId.get(String(lead.ConvertedOpportunityId))?.AccountId).toBe(lead.ConvertedAccountId);
      }
    }
    const unconverted = records.Lead.filter((lead) => !lead.IsConverted);
    expect(
      unconverted.every((lead) => lead.ConvertedContactId === null && lead.Status !== 'Closed - Converted'),
    ).toBe(true);
  });

  it('keeps HubSpot_Contact_ID__c unique per object, as an external id must be', () => {
    for (const object of ['Lead', 'Contact'] as const) {
      const values = world.salesforce.records[object]
        .map((r) => r.HubSpot_Contact_ID__c)
        .filter((v) => v !== null);
      expect(values.length).toBeGreaterThan(0);
      expect(new Set(values).size).toBe(values.length);
    }
  });
});
