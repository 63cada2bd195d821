import { epochOf, setHistory, touchHubSpot, touchSalesforce, type WorldBuilder } from './builder.js';
import type { SalesforceRef } from './manifest.js';
import type { CompanyPlan, PersonPlan } from './plan.js';
import type { HubSpotRecord, SalesforceRecord } from './schema.js';
import { DAY_MS, HOUR_MS, hubspotDateTime } from './time.js';
import {
  JOB_TITLES,
  LEAD_STATUSES,
  UNMAPPED_HUBSPOT_INDUSTRIES,
  UNMAPPED_LEAD_SOURCES,
  UNMAPPED_SALESFORCE_INDUSTRIES,
} from './vocabulary.js';

/**
 * Plants the mess real CRMs have, each case on people no other case touched, and lists every case in
 * the manifest so tests can find it.
 */
export function plantMess(
  builder: WorldBuilder,
  people: readonly PersonPlan[],
  companies: readonly CompanyPlan[],
): void {
  const pool = new PersonPool(builder, people);
  const cases = builder.options.messCasesPerKind;
  plantEmailCaseMismatches(builder, pool, cases);
  plantHubSpotAdditionalEmailDuplicates(builder, pool, cases);
  plantSalesforceDuplicateLeads(builder, pool, cases);
  plantLeadContactDuplicates(builder, pool, cases);
  plantBlanks(builder, pool, cases);
  plantConflictingEdits(builder, pool, cases);
  plantUnmappedPicklistValues(builder, pool, companies, cases);
  plantConflictingCrossReferences(builder, pool, cases);
  ensureLeadOnlyCrossReference(builder, pool);
  plantDeletions(builder, pool, cases);
}

/** People in a seeded random order; each is handed out to one mess case at most. */
class PersonPool {
  private readonly order: PersonPlan[];

  constructor(
    private readonly builder: WorldBuilder,
    people: readonly PersonPlan[],
  ) {
    this.order = builder.dice.shuffled(people);
  }

  take(count: number, fits: (person: PersonPlan) => boolean): PersonPlan[] {
    const taken: PersonPlan[] = [];
    for (const person of this.order) {
      if (taken.length >= count) break;
      if (this.builder.claimed.has(person) || !fits(person)) continue;
      this.builder.claimed.add(person);
      taken.push(person);
    }
    return taken;
  }
}

/** The Salesforce row a person is worked on: their Contact, else their Lead. */
const activeRow = (person: PersonPlan): SalesforceRecord | undefined => person.contact ?? person.lead;
const refOf = (person: PersonPlan): SalesforceRef | undefined => {
  if (person.contact) return { object: 'Contact', id: person.contact.Id };
  if (person.lead) return { object: 'Lead', id: person.lead.Id };
  return undefined;
};
const hasCrossReference = (person: PersonPlan): boolean =>
  Boolean(
    person.hubspot?.properties.salesforce_lead_id ||
    person.hubspot?.properties.salesforce_contact_id ||
    activeRow(person)?.HubSpot_Contact_ID__c,
  );
const inBoth = (person: PersonPlan): boolean => Boolean(person.hubspot && activeRow(person));
/** Nobody touched it in the last three days, so a planted edit can come after everything else. */
const quietSince = (builder: WorldBuilder, person: PersonPlan): boolean => {
  const row = activeRow(person);
  const limit = builder.now - 3 * DAY_MS;
  return (
    (!person.hubspot || Date.parse(person.hubspot.updatedAt) < limit) &&
    (!row || epochOf(row.LastModifiedDate) < limit)
  );
};

/** `jane.doe@acme.com` → `Jane.Doe@Acme.com`. */
function capitalised(email: string): string {
  return email.replace(
    /(^|[.@_])([a-z])/g,
    (_match, separator: string, letter: string) => separator + letter.toUpperCase(),
  );
}

function plantEmailCaseMismatches(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  const people = pool.take(cases, (p) => inBoth(p) && !hasCrossReference(p));
  people.forEach((person, i) => {
    const hubspot = person.hubspot as HubSpotRecord;
    const row = activeRow(person) as SalesforceRecord;
    const ref = refOf(person) as SalesforceRef;
    if (i % 2 === 0) {
      row.Email = `${capitalised(person.email)} `;
    } else {
      hubspot.properties.email = capitalised(person.email);
      setHistory(hubspot, 'email', [
        { value: capitalised(person.email), at: person.createdAt, sourceType: 'IMPORT' },
      ]);
      row.Email = `  ${person.email}`;
    }
    builder.mess.emailCaseMismatch.push({
      hubspotContactId: hubspot.id,
      salesforce: ref,
      hubspotEmail: String(hubspot.properties.email),
      salesforceEmail: String(row.Email),
    });
  });
}

function plantHubSpotAdditionalEmailDuplicates(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  const { dice, now } = builder;
  for (const person of pool.take(cases, (p) => Boolean(p.hubspot))) {
    const original = person.hubspot as HubSpotRecord;
    const personalEmail = `${person.first.ascii.replace(/[^a-z0-9]/g, '')}.${person.last.ascii.replace(/[^a-z0-9]/g, '')}.${person.index}@gmail.com`;
    const createdAt = dice.between(person.createdAt + DAY_MS, now - DAY_MS);
    const duplicate = builder.hubspotRecord(
      'contacts',
      {
        email: personalEmail,
        hs_additional_emails: person.email,
        firstname: person.first.display,
        lastname: person.last.display,
        lifecyclestage: 'subscriber',
        hs_analytics_source: 'OFFLINE',
        hs_analytics_source_data_1: 'IMPORT',
        hs_latest_source: 'OFFLINE',
        hs_analytics_num_page_views: '0',
        num_conversion_events: '0',
      },
      createdAt,
      createdAt,
    );
    setHistory(duplicate, 'email', [{ value: personalEmail, at: createdAt, sourceType: 'IMPORT' }]);
    if (person.company.hubspot) {
      builder.associate('contacts', duplicate.id, 'companies', person.company.hubspot.id, 279);
    }
    builder.claimed.add(duplicate);
    builder.mess.hubspotAdditionalEmailDuplicates.push({
      hubspotContactIds: [original.id, duplicate.id],
      email: person.email,
    });
  }
}

/** A second, later Lead for the same email, as a purchased list or a trade-show scan creates. */
function duplicateLead(builder: WorldBuilder, person: PersonPlan, email: string): SalesforceRecord {
  const { dice, now } = builder;
  const createdAt = dice.between(person.createdAt + DAY_MS, now - DAY_MS);
  const lead = builder.salesforceRow(
    'Lead',
    {
      FirstName: person.first.display,
      LastName: person.last.display,
      Email: email,
      Phone: null,
      Title: person.title,
      LeadSource: 'Purchased List',
      HubSpot_Contact_ID__c: null,
      Company: person.company.name,
      Country: person.country.name,
      City: null,
      Industry: null,
      NumberOfEmployees: null,
      AnnualRevenue: null,
      Rating: 'Cold',
      Status: LEAD_STATUSES.open,
      IsConverted: false,
      ConvertedDate: null,
      ConvertedAccountId: null,
      ConvertedContactId: null,
      ConvertedOpportunityId: null,
    },
    createdAt,
    createdAt,
  );
  builder.claimed.add(lead);
  return lead;
}

function plantSalesforceDuplicateLeads(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  for (const person of pool.take(cases, (p) => p.salesforceAs === 'lead' && Boolean(p.lead))) {
    const original = person.lead as SalesforceRecord;
    const duplicate = duplicateLead(builder, person, person.email);
    builder.mess.salesforceDuplicateLeads.push({ leadIds: [original.Id, duplicate.Id], email: person.email });
  }
}

function plantLeadContactDuplicates(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  for (const person of pool.take(cases, (p) => p.salesforceAs === 'contact' && Boolean(p.contact))) {
    const contact = person.contact as SalesforceRecord;
    const lead = duplicateLead(builder, person, person.email);
    builder.mess.leadContactDuplicates.push({ leadId: lead.Id, contactId: contact.Id, email: person.email });
  }
}

function plantBlanks(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  pool.take(cases, inBoth).forEach((person, i) => {
    const hubspot = person.hubspot as HubSpotRecord;
    const row = activeRow(person) as SalesforceRecord;
    if (i % 2 === 0) {
      for (const property of ['phone', 'jobtitle', 'company']) delete hubspot.properties[property];
      if (hubspot.propertiesWithHistory) {
        delete hubspot.propertiesWithHistory.phone;
        delete hubspot.propertiesWithHistory.jobtitle;
      }
      builder.mess.blanks.push({
        system: 'hubspot',
        object: 'contacts',
        id: hubspot.id,
        fields: ['phone', 'jobtitle', 'company'],
      });
    } else {
      const ref = refOf(person) as SalesforceRef;
      row.Phone = null;
      row.Title = null;
      const fields = ['Phone', 'Title'];
      // A Lead's Company is required; Salesforce fills a blank one with this placeholder.
      if (ref.object === 'Lead') {
        row.Company = '[not provided]';
        fields.push('Company');
      }
      builder.mess.blanks.push({ system: 'salesforce', object: ref.object, id: row.Id, fields });
    }
  });
}

function plantConflictingEdits(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  const { dice, now } = builder;
  pool
    .take(cases, (p) => inBoth(p) && quietSince(builder, p))
    .forEach((person, i) => {
      const hubspot = person.hubspot as HubSpotRecord;
      const row = activeRow(person) as SalesforceRecord;
      const from = now - 3 * DAY_MS + HOUR_MS;
      const hubspotAt = dice.between(from, now - HOUR_MS);
      let salesforceAt = dice.between(from, now - HOUR_MS);
      if (salesforceAt === hubspotAt) salesforceAt -= 1000;
      const titles = dice.shuffled(JOB_TITLES.filter((title) => title !== person.title));
      const hubspotTitle = titles[0] ?? 'Director';
      const salesforceTitle = titles[1] ?? 'Manager';
      const format = dice.pick(person.country.phoneFormats);
      const hubspotPhone = dice.digits(format);
      const salesforcePhone = dice.digits(format);

      hubspot.properties.jobtitle = hubspotTitle;
      hubspot.properties.phone = hubspotPhone;
      const history = hubspot.propertiesWithHistory ?? {};
      const previousTitle = history.jobtitle?.[0]?.value ?? person.title;
      setHistory(hubspot, 'jobtitle', [
        { value: previousTitle, at: person.createdAt, sourceType: 'FORM' },
        { value: hubspotTitle, at: hubspotAt, sourceType: i % 2 === 0 ? 'CRM_UI' : 'FORM' },
      ]);
      setHistory(hubspot, 'phone', [
        { value: person.phone, at: person.createdAt, sourceType: 'FORM' },
        { value: hubspotPhone, at: hubspotAt, sourceType: 'CRM_UI' },
      ]);
      touchHubSpot(hubspot, 'contacts', hubspotAt);
      row.Title = salesforceTitle;
      row.Phone = salesforcePhone;
      touchSalesforce(row, salesforceAt);

      builder.mess.conflictingEdits.push({
        hubspotContactId: hubspot.id,
        salesforce: refOf(person) as SalesforceRef,
        fields: [
          {
            hubspotProperty: 'jobtitle',
            salesforceField: 'Title',
            hubspotValue: hubspotTitle,
            salesforceValue: salesforceTitle,
          },
          {
            hubspotProperty: 'phone',
            salesforceField: 'Phone',
            hubspotValue: hubspotPhone,
            salesforceValue: salesforcePhone,
          },
        ],
        hubspotModifiedAt: hubspotDateTime(hubspotAt),
        salesforceModifiedAt: String(row.LastModifiedDate),
        newer: hubspotAt > salesforceAt ? 'hubspot' : 'salesforce',
      });
    });
}

function plantUnmappedPicklistValues(
  builder: WorldBuilder,
  pool: PersonPool,
  companies: readonly CompanyPlan[],
  cases: number,
): void {
  const { mess } = builder;
  pool
    .take(cases, (p) => p.salesforceAs === 'lead' && Boolean(p.lead))
    .forEach((person, i) => {
      const lead = person.lead as SalesforceRecord;
      const value = UNMAPPED_LEAD_SOURCES[i % UNMAPPED_LEAD_SOURCES.length] as string;
      lead.LeadSource = value;
      mess.unmappedPicklistValues.push({
        system: 'salesforce',
        object: 'Lead',
        id: lead.Id,
        field: 'LeadSource',
        value,
      });
    });
  pool
    .take(Math.ceil(cases / 2), (p) => Boolean(p.hubspot))
    .forEach((person, i) => {
      const hubspot = person.hubspot as HubSpotRecord;
      const value = UNMAPPED_HUBSPOT_INDUSTRIES[i % UNMAPPED_HUBSPOT_INDUSTRIES.length] as string;
      hubspot.properties.industry = value;
      mess.unmappedPicklistValues.push({
        system: 'hubspot',
        object: 'contacts',
        id: hubspot.id,
        field: 'industry',
        value,
      });
    });
  const accounts = companies.filter((c) => c.account).slice(0, Math.ceil(cases / 2));
  accounts.forEach((company, i) => {
    const account = company.account as SalesforceRecord;
    const value = UNMAPPED_SALESFORCE_INDUSTRIES[i % UNMAPPED_SALESFORCE_INDUSTRIES.length] as string;
    account.Industry = value;
    mess.unmappedPicklistValues.push({
      system: 'salesforce',
      object: 'Account',
      id: account.Id,
      field: 'Industry',
      value,
    });
  });
}

function removeCrossReferenceEntry(builder: WorldBuilder, hubspotContactId: string): void {
  const entries = builder.mess.crossReferences;
  const at = entries.findIndex((entry) => entry.hubspotContactId === hubspotContactId);
  if (at >= 0) entries.splice(at, 1);
}

/** The HubSpot contact names the Salesforce Contact, whose `HubSpot_Contact_ID__c` names someone else. */
function plantConflictingCrossReferences(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  const people = pool.take(cases, (p) => Boolean(p.hubspot && p.contact) && p.salesforceAs === 'contact');
  const others = pool.take(people.length, (p) => Boolean(p.hubspot) && p.presence === 'hubspot');
  people.forEach((person, i) => {
    const other = others[i]?.hubspot;
    if (!other) return;
    const hubspot = person.hubspot as HubSpotRecord;
    const contact = person.contact as SalesforceRecord;
    removeCrossReferenceEntry(builder, hubspot.id);
    delete hubspot.properties.salesforce_lead_id;
    hubspot.properties.salesforce_contact_id = contact.Id;
    contact.HubSpot_Contact_ID__c = other.id;
    builder.mess.conflictingCrossReferences.push({
      hubspotContactId: hubspot.id,
      salesforce: { object: 'Contact', id: contact.Id },
      salesforcePointsTo: other.id,
    });
  });
}

/** At least one converted person whose HubSpot contact knows only the (converted) Lead id. */
function ensureLeadOnlyCrossReference(builder: WorldBuilder, pool: PersonPool): void {
  const [person] = pool.take(
    1,
    (p) => p.salesforceAs === 'converted' && Boolean(p.hubspot && p.lead && p.contact),
  );
  if (!person) return;
  const hubspot = person.hubspot as HubSpotRecord;
  const lead = person.lead as SalesforceRecord;
  const contact = person.contact as SalesforceRecord;
  hubspot.properties.salesforce_lead_id = lead.Id;
  delete hubspot.properties.salesforce_contact_id;
  removeCrossReferenceEntry(builder, hubspot.id);
  const storedOn = contact.HubSpot_Contact_ID__c === hubspot.id ? 'both' : 'hubspot';
  builder.mess.crossReferences.push({
    hubspotContactId: hubspot.id,
    salesforce: { object: 'Contact', id: contact.Id },
    storedOn,
  });
}

function plantDeletions(builder: WorldBuilder, pool: PersonPool, cases: number): void {
  const { dice, now, mess } = builder;
  const recentlyQuiet = (p: PersonPlan) => quietSince(builder, p);
  pool
    .take(cases, (p) => Boolean(p.hubspot) && recentlyQuiet(p))
    .forEach((person) => {
      const hubspot = person.hubspot as HubSpotRecord;
      const archivedAt = dice.between(now - 2 * DAY_MS, now - HOUR_MS);
      hubspot.archived = true;
      hubspot.archivedAt = hubspotDateTime(archivedAt);
      touchHubSpot(hubspot, 'contacts', archivedAt);
      mess.deleted.hubspotContactIds.push(hubspot.id);
    });

  const campaignLeads = new Set(builder.salesforce.CampaignMember.map((member) => member.LeadId));
  const leads = pool.take(
    cases,
    (p) =>
      p.presence === 'salesforce' &&
      p.salesforceAs === 'lead' &&
      !campaignLeads.has(p.lead?.Id) &&
      recentlyQuiet(p),
  );
  const deletedIds = new Set<string>();
  for (const person of leads) {
    const lead = person.lead as SalesforceRecord;
    const deletedAt = dice.between(now - 2 * DAY_MS, now - HOUR_MS);
    lead.IsDeleted = true;
    touchSalesforce(lead, deletedAt);
    deletedIds.add(lead.Id);
    builder.salesforceDeleted.push({ object: 'Lead', record: lead, deletedDate: hubspotDateTime(deletedAt) });
    mess.deleted.salesforce.push({ object: 'Lead', id: lead.Id });
  }
  const live = builder.salesforce.Lead;
  for (let i = live.length - 1; i >= 0; i -= 1) {
    if (deletedIds.has(live[i]?.Id ?? '')) live.splice(i, 1);
  }
}

/** A mass import: many records sharing one exact last-modified timestamp (the paging trap). */
export function plantMassImport(builder: WorldBuilder, people: readonly PersonPlan[]): void {
  const { dice, now, mess, options } = builder;
  const at = Math.floor((now - 6 * DAY_MS) / DAY_MS) * DAY_MS + 14 * HOUR_MS;
  mess.massImport.at = hubspotDateTime(at);
  for (const person of people) {
    if (builder.claimed.has(person)) continue;
    const hubspot = person.hubspot;
    if (
      hubspot &&
      !hubspot.archived &&
      Date.parse(hubspot.updatedAt) < at &&
      dice.chance(options.massImportShare)
    ) {
      touchHubSpot(hubspot, 'contacts', at);
      mess.massImport.hubspotContactIds.push(hubspot.id);
    }
    const row = activeRow(person);
    const ref = refOf(person);
    if (
      row &&
      ref &&
      !row.IsDeleted &&
      epochOf(row.LastModifiedDate) < at &&
      dice.chance(options.massImportShare)
    ) {
      touchSalesforce(row, at);
      mess.massImport.salesforce.push(ref);
    }
  }
}
