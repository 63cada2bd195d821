import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateWorldWithManifest, type GeneratedWorld } from '../../src/sandbox/world/generate.js';
import type { SalesforceRef } from '../../src/sandbox/world/manifest.js';
import type { HubSpotRecord, SalesforceRecord } from '../../src/sandbox/world/schema.js';
import { INDUSTRIES, LEAD_SOURCES } from '../../src/sandbox/world/vocabulary.js';

const normalised = (email: unknown): string =>
  String(email ?? '')
    .trim()
    .toLowerCase();

let generated: GeneratedWorld;
let contacts: Map<string, HubSpotRecord>;
let rows: Map<string, SalesforceRecord>;
const contact = (id: string): HubSpotRecord => {
  const record = contacts.get(id);
  if (!record) throw new Error(`no HubSpot contact ${id}`);
  return record;
};
const row = (ref: SalesforceRef | string): SalesforceRecord => {
  const id = typeof ref === 'string' ? ref : ref.id;
  const record = rows.get(id);
  if (!record) throw new Error(`no Salesforce row ${id}`);
  if (typeof ref !== 'string') expect(id.startsWith(ref.object === 'Lead' ? '00Q' : '003')).toBe(true);
  return record;
};

beforeAll(() => {
  generated = generateWorldWithManifest({ seed: 'mess-tests', persons: 2_000 });
  const { world } = generated;
  contacts = new Map(world.hubspot.contacts.map((c) => [c.id, c]));
  rows = new Map(
    Object.values(world.salesforce.records)
      .flat()
      .map((r) => [r.Id, r]),
  );
});

describe('planted mess for 2,000 persons', () => {
  it('plants the configured number of each case', () => {
    const { mess } = generated.manifest;
    const cases = 5; // max(2, 2000 / 400)
    expect(mess.emailCaseMismatch).toHaveLength(cases);
    expect(mess.hubspotAdditionalEmailDuplicates).toHaveLength(cases);
    expect(mess.salesforceDuplicateLeads).toHaveLength(cases);
    expect(mess.leadContactDuplicates).toHaveLength(cases);
    expect(mess.blanks).toHaveLength(cases);
    expect(mess.conflictingEdits).toHaveLength(cases);
    expect(mess.conflictingCrossReferences).toHaveLength(cases);
    expect(mess.deleted.hubspotContactIds).toHaveLength(cases);
    expect(mess.deleted.salesforce).toHaveLength(cases);
    expect(mess.markupInNames.length).toBeGreaterThan(0);
  });

  it('honours messCasesPerKind', () => {
    const small = generateWorldWithManifest({ seed: 'mess-tests', persons: 400, messCasesPerKind: 1 });
    expect(small.manifest.mess.conflictingEdits).toHaveLength(1);
    expect(small.manifest.mess.blanks).toHaveLength(1);
  });

  it('differs only by case and whitespace between the systems for the email mismatches', () => {
    for (const entry of generated.manifest.mess.emailCaseMismatch) {
      const hubspotEmail = String(contact(entry.hubspotContactId).properties.email);
      const salesforceEmail = String(row(entry.salesforce).Email);
      expect([hubspotEmail, salesforceEmail]).toEqual([entry.hubspotEmail, entry.salesforceEmail]);
      expect(hubspotEmail).not.toBe(salesforceEmail);
      expect(normalised(hubspotEmail)).toBe(normalised(salesforceEmail));
    }
  });

  it('holds the first contact’s email in the duplicate’s hs_additional_emails', () => {
    for (const { hubspotContactIds, email } of generated.manifest.mess.hubspotAdditionalEmailDuplicates) {
      const [original, duplicate] = hubspotContactIds.map(contact);
      expect(original?.properties.email).toBe(email);
      expect(duplicate?.properties.hs_additional_emails).toBe(email);
      expect(duplicate?.properties.email).not.toBe(email);
      expect(duplicate?.properties.lastname).toBe(original?.properties.lastname);
    }
  });

  it('gives duplicate Leads, and a Lead and a Contact, the same email', () => {
    for (const { leadIds, email } of generated.manifest.mess.salesforceDuplicateLeads) {
      expect(leadIds[0]).not.toBe(leadIds[1]);
      expect(leadIds.map((id) => normalised(row(id).Email))).toEqual([email, email]);
      expect(leadIds.every((id) => id.startsWith('00Q'))).toBe(true);
    }
    for (const { leadId, contactId, email } of generated.manifest.mess.leadContactDuplicates) {
      expect([leadId.slice(0, 3), contactId.slice(0, 3)]).toEqual(['00Q', '003']);
      expect([row(leadId).Email, row(contactId).Email]).toEqual([email, email]);
      expect(row(leadId).IsConverted).toBe(false);
    }
  });

  it('leaves the listed fields blank on one side only', () => {
    const sides = new Set<string>();
    for (const blank of generated.manifest.mess.blanks) {
      sides.add(blank.system);
      if (blank.system === 'hubspot') {
        const record = contact(blank.id);
        for (const field of blank.fields) expect(record.properties[field] ?? '').toBe('');
      } else {
        const record = row(blank.id);
        for (const field of blank.fields) expect([null, '[not provided]']).toContain(record[field]);
      }
    }
    expect(sides).toEqual(new Set(['hubspot', 'salesforce']));
  });

  it('records conflicting edits with differing values, times and matching history', () => {
    const newer = new Set<string>();
    for (const edit of generated.manifest.mess.conflictingEdits) {
      const hubspot = contact(edit.hubspotContactId);
      const salesforce = row(edit.salesforce);
      newer.add(edit.newer);
      for (const field of edit.fields) {
        expect(hubspot.properties[field.hubspotProperty]).toBe(field.hubspotValue);
        expect(salesforce[field.salesforceField]).toBe(field.salesforceValue);
        expect(field.hubspotValue).not.toBe(field.salesforceValue);
        const history = hubspot.propertiesWithHistory?.[field.hubspotProperty] ?? [];
        expect(history.length).toBeGreaterThanOrEqual(2);
        expect(history[0]).toMatchObject({ value: field.hubspotValue, timestamp: edit.hubspotModifiedAt });
      }
      expect(hubspot.updatedAt).toBe(edit.hubspotModifiedAt);
      expect(salesforce.LastModifiedDate).toBe(edit.salesforceModifiedAt);
      const hubspotAt = Date.parse(edit.hubspotModifiedAt);
      const salesforceAt = Date.parse(edit.salesforceModifiedAt.replace('+0000', 'Z'));
      expect(hubspotAt).not.toBe(salesforceAt);
      expect(edit.newer).toBe(hubspotAt > salesforceAt ? 'hubspot' : 'salesforce');
    }
    expect(newer.size).toBe(2);
  });

  it('uses picklist values the standard lists do not have', () => {
    const known = new Set([
      ...LEAD_SOURCES,
      ...INDUSTRIES.flatMap((i) => [i.label, i.hubspot, i.salesforce]),
    ]);
    const systems = new Set<string>();
    for (const entry of generated.manifest.mess.unmappedPicklistValues) {
      const record = entry.system === 'hubspot' ? contact(entry.id).properties : row(entry.id);
      expect(record[entry.field]).toBe(entry.value);
      expect(known.has(entry.value)).toBe(false);
      systems.add(`${entry.object}.${entry.field}`);
    }
    expect(systems).toEqual(new Set(['Lead.LeadSource', 'contacts.industry', 'Account.Industry']));
    expect(generated.manifest.mess.unmappedPicklistValues.some((e) => e.value === 'Trade Show 2019')).toBe(
      true,
    );
  });

  it('lists every converted Lead, with one HubSpot contact that knows only the Lead id', () => {
    const { convertedLeads } = generated.manifest.mess;
    const convertedRows = generated.world.salesforce.records.Lead.filter((lead) => lead.IsConverted);
    expect(convertedLeads.map((c) => c.leadId).sort()).toEqual(convertedRows.map((l) => l.Id).sort());
    for (const converted of convertedLeads) {
      const lead = row(converted.leadId);
      expect([lead.ConvertedContactId, lead.ConvertedAccountId, lead.ConvertedOpportunityId]).toEqual([
        converted.contactId,
        converted.accountId,
        converted.opportunityId,
      ]);
    }
    const leadOnly = convertedLeads.filter((c) => c.hubspotKnowsOnlyLeadId);
    expect(leadOnly.length).toBeGreaterThan(0);
    for (const converted of leadOnly) {
      const hubspot = contact(String(converted.hubspotContactId));
      expect(hubspot.properties.salesforce_lead_id).toBe(converted.leadId);
      expect(hubspot.properties.salesforce_contact_id).toBeUndefined();
    }
  });

  it('stores cross-reference ids where the manifest says', () => {
    const { crossReferences } = generated.manifest.mess;
    expect(new Set(crossReferences.map((c) => c.storedOn))).toEqual(
      new Set(['hubspot', 'salesforce', 'both']),
    );
    for (const reference of crossReferences) {
      const hubspot = contact(reference.hubspotContactId);
      const salesforce = row(reference.salesforce);
      const hubspotKnows = [hubspot.properties.salesforce_lead_id, hubspot.properties.salesforce_contact_id]
        .filter(Boolean)
        .every((id) => rows.has(String(id)));
      const hubspotHas = Boolean(
        hubspot.properties.salesforce_lead_id || hubspot.properties.salesforce_contact_id,
      );
      expect(hubspotKnows).toBe(true);
      expect(hubspotHas).toBe(reference.storedOn !== 'salesforce');
      expect(salesforce.HubSpot_Contact_ID__c === hubspot.id).toBe(reference.storedOn !== 'hubspot');
    }
  });

  it('plants cross-references that contradict each other', () => {
    for (const conflict of generated.manifest.mess.conflictingCrossReferences) {
      const hubspot = contact(conflict.hubspotContactId);
      const salesforce = row(conflict.salesforce);
      expect(hubspot.properties.salesforce_contact_id).toBe(salesforce.Id);
      expect(salesforce.HubSpot_Contact_ID__c).toBe(conflict.salesforcePointsTo);
      expect(conflict.salesforcePointsTo).not.toBe(hubspot.id);
      expect(contacts.has(conflict.salesforcePointsTo)).toBe(true);
    }
  });

  it('archives HubSpot contacts and moves Salesforce rows to deleted', () => {
    const { deleted } = generated.manifest.mess;
    for (const id of deleted.hubspotContactIds) {
      const record = contact(id);
      expect(record.archived).toBe(true);
      expect(record.archivedAt).toBe(record.updatedAt);
    }
    const bin = new Map(generated.world.salesforce.deleted.map((d) => [d.record.Id, d]));
    for (const ref of deleted.salesforce) {
      expect(rows.has(ref.id)).toBe(false);
      expect(bin.get(ref.id)?.record.IsDeleted).toBe(true);
      expect(bin.get(ref.id)?.object).toBe(ref.object);
    }
    const members = generated.world.salesforce.records.CampaignMember;
    expect(members.filter((m) => bin.has(String(m.LeadId)))).toEqual([]);
  });

  it('gives a few percent of records one identical modified timestamp', () => {
    const { massImport } = generated.manifest.mess;
    expect(massImport.hubspotContactIds.length).toBeGreaterThan(20);
    expect(massImport.salesforce.length).toBeGreaterThan(10);
    for (const id of massImport.hubspotContactIds) {
      expect([contact(id).updatedAt, contact(id).properties.lastmodifieddate]).toEqual([
        massImport.at,
        massImport.at,
      ]);
    }
    const salesforceAt = massImport.at.replace('Z', '+0000');
    for (const ref of massImport.salesforce) expect(row(ref).SystemModstamp).toBe(salesforceAt);
    const sharing = generated.world.hubspot.contacts.filter((c) => c.updatedAt === massImport.at);
    expect(sharing.length).toBe(massImport.hubspotContactIds.length);
  });

  it('lists names with markup, as stored', () => {
    for (const entry of generated.manifest.mess.markupInNames) {
      const name =
        entry.system === 'hubspot' ? contact(entry.id).properties.firstname : row(entry.id).FirstName;
      expect(name).toBe(entry.name);
      expect(entry.name).toMatch(/<[a-z/]/i);
    }
  });
});
