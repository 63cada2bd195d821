// Which fields each object's pull reads: what the mapping maps, plus what identity, lifecycle, scoring,
// attribution and write-back need. Pure: derived from the mapping alone.

import { compileMapping } from '../domain/compiled.js';
import { resolveSalesforceRef } from '../domain/field-sync.js';
import type { Mapping, SalesforceFieldRef } from '../domain/mapping/schema.js';
import type { HubSpotObjectName, ObjectName, SalesforceObjectName } from '../domain/records.js';
import type { EntityKind } from './contract.js';

export const HUBSPOT_OBJECTS: Readonly<Record<EntityKind, HubSpotObjectName>> = {
  person: 'contacts',
  company: 'companies',
  deal: 'deals',
};

export function kindOf(object: ObjectName): EntityKind | undefined {
  switch (object) {
    case 'contacts':
    case 'Lead':
    case 'Contact':
      return 'person';
    case 'companies':
    case 'Account':
      return 'company';
    case 'deals':
    case 'Opportunity':
      return 'deal';
  }
}

export function objectsOfKind(kind: EntityKind, mapping: Mapping): ObjectName[] {
  if (kind === 'person') return ['contacts', ...mapping.objects.person.salesforce.objects];
  if (kind === 'company') return mapping.objects.company ? ['companies', 'Account'] : [];
  return mapping.objects.deal ? ['deals', 'Opportunity'] : [];
}

const add = (set: Set<string>, ...names: Array<string | undefined>): void => {
  for (const n of names) if (n !== undefined && n !== '') set.add(n);
};

const sfRef = (set: Set<string>, ref: SalesforceFieldRef | undefined, object: SalesforceObjectName): void =>
  add(set, resolveSalesforceRef(ref, object));

/**
 * HubSpot properties per object, and those whose change times `newest` and `changed_within_days` need
 * (`propertiesWithHistory`).
 */
export function hubspotPullProperties(mapping: Mapping): {
  properties: Record<HubSpotObjectName, string[]>;
  history: Record<HubSpotObjectName, string[]>;
} {
  const contacts = new Set<string>(['email', 'createdate', 'lastmodifieddate', 'lifecyclestage']);
  const companies = new Set<string>(['name', 'domain', 'createdate', 'hs_lastmodifieddate']);
  const deals = new Set<string>([
    'dealname',
    'dealstage',
    'pipeline',
    'amount',
    'closedate',
    'createdate',
    'hs_lastmodifieddate',
  ]);
  const history = { contacts: new Set<string>(), companies: new Set<string>(), deals: new Set<string>() };
  const person = mapping.objects.person;
  // A `changed_within_days` test needs the field's own change time: without its history a field's time is
  // the record's, which every write to any field (Tandem's own too) moves, reopening the window.
  const windowed = new Set(compileMapping(mapping).personTimeWindows.map((w) => w.field));
  for (const f of person.fields) {
    add(contacts, f.hubspot);
    if (f.conflict === 'newest' || windowed.has(f.name)) add(history.contacts, f.hubspot);
  }
  const px = person.identity.cross_reference;
  add(contacts, px.hubspot_property_for_contact_id, px.hubspot_property_for_lead_id);
  add(contacts, person.identity.secondary_emails.hubspot);
  const t = mapping.attribution.touchpoints;
  add(
    contacts,
    t.hubspot_original_source,
    t.hubspot_original_source_detail,
    t.hubspot_latest_source,
    t.hubspot_latest_source_timestamp,
  );
  const lw = mapping.lifecycle.writeback;
  add(contacts, lw.hubspot_property, lw.reason_hubspot_property);
  add(contacts, mapping.score.writeback.hubspot_property);
  const aw = mapping.attribution.writeback;
  add(contacts, aw.hubspot_original_source, aw.hubspot_latest_source);
  const company = mapping.objects.company;
  if (company) {
    for (const f of company.fields) {
      add(companies, f.hubspot);
      if (f.conflict === 'newest') add(history.companies, f.hubspot);
    }
    add(companies, company.identity.cross_reference.hubspot_property_for_account_id);
  }
  const deal = mapping.objects.deal;
  if (deal) {
    for (const f of deal.fields) {
      add(deals, f.hubspot);
      if (f.conflict === 'newest') add(history.deals, f.hubspot);
    }
    add(deals, deal.identity.cross_reference.hubspot_property_for_opportunity_id);
  }
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return {
    properties: { contacts: sorted(contacts), companies: sorted(companies), deals: sorted(deals) },
    history: {
      contacts: sorted(history.contacts),
      companies: sorted(history.companies),
      deals: sorted(history.deals),
    },
  };
}

/** Salesforce fields per object (the connector adds system and identity fields, and drops unknown ones). */
export function salesforcePullFields(mapping: Mapping): Record<SalesforceObjectName, string[]> {
  const out: Record<SalesforceObjectName, Set<string>> = {
    Lead: new Set(['Email', 'LeadSource', 'Status']),
    Contact: new Set(['Email', 'LeadSource', 'AccountId']),
    Account: new Set(['Name', 'Website']),
    Opportunity: new Set(['Name', 'AccountId', 'StageName', 'IsWon', 'IsClosed', 'Amount', 'CloseDate']),
  };
  const person = mapping.objects.person;
  const t = mapping.attribution.touchpoints;
  const lw = mapping.lifecycle.writeback;
  const sw = mapping.score.writeback;
  const aw = mapping.attribution.writeback;
  for (const object of ['Lead', 'Contact'] as const) {
    const set = out[object];
    for (const f of person.fields) sfRef(set, f.salesforce, object);
    add(set, person.identity.cross_reference.salesforce_field_for_hubspot_id);
    for (const f of person.identity.secondary_emails.salesforce ?? []) add(set, f);
    add(set, t.salesforce_lead_source);
    sfRef(set, lw.salesforce_field, object);
    sfRef(set, lw.reason_salesforce_field, object);
    sfRef(set, sw.salesforce_field, object);
    sfRef(set, aw.salesforce_original_source, object);
    sfRef(set, aw.salesforce_latest_source, object);
  }
  const company = mapping.objects.company;
  if (company) {
    for (const f of company.fields) sfRef(out.Account, f.salesforce, 'Account');
    add(out.Account, company.identity.cross_reference.salesforce_field_for_hubspot_id);
  }
  const deal = mapping.objects.deal;
  if (deal) {
    for (const f of deal.fields) sfRef(out.Opportunity, f.salesforce, 'Opportunity');
    add(out.Opportunity, deal.identity.cross_reference.salesforce_field_for_hubspot_id);
  }
  return {
    Lead: [...out.Lead].sort(),
    Contact: [...out.Contact].sort(),
    Account: [...out.Account].sort(),
    Opportunity: [...out.Opportunity].sort(),
  };
}
