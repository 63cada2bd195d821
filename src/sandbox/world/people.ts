import { setHistory, type WorldBuilder } from './builder.js';
import { drawPresence } from './companies.js';
import type { CompanyPlan, PersonPlan } from './plan.js';
import { inHubSpot, inSalesforce } from './plan.js';
import type { HubSpotRecord } from './schema.js';
import { DAY_MS, HOUR_MS, hubspotDateTime, salesforceDate } from './time.js';
import {
  ANALYTICS_SOURCES,
  COMMON_FIRST_NAMES,
  COMMON_LAST_NAMES,
  COUNTRIES,
  COUNTRY_WEIGHTS,
  EMOJI_FIRST_NAMES,
  INTERNATIONAL_FIRST_NAMES,
  INTERNATIONAL_LAST_NAMES,
  JOB_TITLES,
  LEAD_RATINGS,
  LEAD_SOURCE_FOR_ANALYTICS_SOURCE,
  LEAD_STATUSES,
  LIFECYCLE_STAGES,
  MARKUP_FIRST_NAMES,
  type LifecycleStage,
  type NamePart,
} from './vocabulary.js';

const SOURCE_WEIGHTS = ANALYTICS_SOURCES.map((s) => s.weight);
const CONVERSION_EVENTS = [
  'Demo Request Form',
  'Ebook: The RevOps Playbook',
  'Newsletter Signup',
  'Webinar Registration',
  'Contact Us',
  'Pricing Page Chat',
];

export const hasMarkup = (name: string): boolean => /<[a-z/]/i.test(name);

function drawNames(builder: WorldBuilder, forceMarkup: boolean): { first: NamePart; last: NamePart } {
  const { dice, options } = builder;
  const roll = dice.float();
  const international = roll < options.internationalNameShare;
  let first: NamePart;
  if (forceMarkup || roll > 1 - options.markupNameShare) first = dice.pick(MARKUP_FIRST_NAMES);
  else if (roll > 1 - options.markupNameShare - options.emojiNameShare) first = dice.pick(EMOJI_FIRST_NAMES);
  else first = dice.pick(international ? INTERNATIONAL_FIRST_NAMES : COMMON_FIRST_NAMES);
  const last = dice.pick(international && dice.chance(0.7) ? INTERNATIONAL_LAST_NAMES : COMMON_LAST_NAMES);
  return { first, last };
}

function emailLocalPart(company: CompanyPlan, first: NamePart, last: NamePart): string {
  const f = first.ascii.replace(/[^a-z0-9]/g, '');
  const l = last.ascii.replace(/[^a-z0-9]/g, '');
  switch (company.emailPattern) {
    case 'first.last':
      return `${f}.${l}`;
    case 'flast':
      return `${f.charAt(0)}${l}`;
    case 'first':
      return f;
    case 'firstlast':
      return `${f}${l}`;
    case 'first_last':
      return `${f}_${l}`;
  }
}

function salesforceRole(builder: WorldBuilder, company: CompanyPlan): PersonPlan['salesforceAs'] {
  const { dice, options } = builder;
  if (!inSalesforce(company.presence) || !dice.chance(options.salesforceContactShare)) return 'lead';
  return dice.chance(options.convertedLeadShare) ? 'converted' : 'contact';
}

export function planPeople(builder: WorldBuilder, companies: readonly CompanyPlan[]): PersonPlan[] {
  const { dice, options, now } = builder;
  const emails = new Set<string>();
  const people: PersonPlan[] = [];
  let markupPlanted = false;
  const markupFallbackIndex = Math.floor(options.persons / 2);
  for (let index = 0; index < options.persons; index += 1) {
    const company = dice.pick(companies);
    const presence = drawPresence(builder, options.personMix);
    const { first, last } = drawNames(builder, !markupPlanted && index === markupFallbackIndex);
    markupPlanted ||= hasMarkup(first.display);
    const local = emailLocalPart(company, first, last);
    let email = `${local}@${company.domain}`;
    for (let n = 2; emails.has(email); n += 1) email = `${local}${n}@${company.domain}`;
    emails.add(email);
    const country = dice.chance(0.9) ? company.country : dice.weighted(COUNTRIES, COUNTRY_WEIGHTS);
    const source = dice.weighted(ANALYTICS_SOURCES, SOURCE_WEIGHTS);
    const person: PersonPlan = {
      index,
      presence,
      salesforceAs: inSalesforce(presence) ? salesforceRole(builder, company) : null,
      first,
      last,
      email,
      title: dice.pick(JOB_TITLES),
      phone: dice.digits(dice.pick(country.phoneFormats)),
      country,
      city: country === company.country ? company.city : dice.pick(country.cities),
      company,
      source: source.source,
      sourceDetail: dice.pick(source.details),
      createdAt: dice.between(now - 720 * DAY_MS, now - 2 * DAY_MS),
      stage: 'lead',
      deals: [],
    };
    company.people.push(person);
    people.push(person);
  }
  return people;
}

/** The stage a person has reached, from their deals first, then from marketing's view. */
export function assignStages(builder: WorldBuilder, people: readonly PersonPlan[]): void {
  const { dice } = builder;
  for (const person of people) {
    const stages = person.deals.map((deal) => deal.salesforceStage);
    if (stages.includes('Closed Won')) person.stage = 'customer';
    else if (stages.some((stage) => !stage.startsWith('Closed'))) person.stage = 'opportunity';
    else if (stages.length > 0 || person.salesforceAs === 'converted') person.stage = 'salesqualifiedlead';
    else {
      person.stage = dice.weighted<LifecycleStage>(
        ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead'],
        [18, 42, 26, 14],
      );
    }
  }
}

interface Timeline {
  /** Each lifecycle stage the person passed through, oldest first, with when. */
  stages: { stage: LifecycleStage; at: number }[];
  modifiedAt: number;
}

function drawTimeline(builder: WorldBuilder, person: PersonPlan): Timeline {
  const { dice, now } = builder;
  const target = LIFECYCLE_STAGES.indexOf(person.stage);
  const start = person.source === 'EMAIL_MARKETING' && target > 0 ? 0 : Math.min(1, target);
  const stages: Timeline['stages'] = [];
  let at = person.createdAt;
  for (let i = start; i <= target; i += 1) {
    if (i !== start && i !== target && dice.chance(0.3)) continue;
    if (i !== start) at = dice.between(at + HOUR_MS, Math.min(at + 120 * DAY_MS, now - DAY_MS));
    stages.push({ stage: LIFECYCLE_STAGES[i] as LifecycleStage, at });
  }
  return { stages, modifiedAt: dice.between(at, now - HOUR_MS) };
}

function hubspotLeadStatus(builder: WorldBuilder, stage: LifecycleStage): string {
  const { dice } = builder;
  if (dice.chance(0.05)) return dice.pick(['UNQUALIFIED', 'BAD_TIMING']);
  switch (stage) {
    case 'subscriber':
    case 'lead':
      return dice.pick(['NEW', 'OPEN', 'ATTEMPTED_TO_CONTACT']);
    case 'marketingqualifiedlead':
      return 'OPEN';
    case 'salesqualifiedlead':
      return dice.pick(['IN_PROGRESS', 'CONNECTED']);
    case 'opportunity':
      return 'OPEN_DEAL';
    case 'customer':
      return 'CONNECTED';
  }
}

function emitHubSpotContact(builder: WorldBuilder, person: PersonPlan, timeline: Timeline): HubSpotRecord {
  const { dice, now } = builder;
  const { createdAt } = person;
  const { modifiedAt } = timeline;
  const pageViews = Math.floor(Math.exp(dice.float() * Math.log(300)));
  const conversions = dice.weighted([0, 1, 2, 3, 5, 8], [25, 35, 18, 10, 8, 4]);
  const latest = dice.chance(0.6) ? ANALYTICS_SOURCES.find((s) => s.source === person.source) : undefined;
  const latestSource = latest ?? dice.weighted(ANALYTICS_SOURCES, SOURCE_WEIGHTS);
  const latestAt = dice.between(createdAt, modifiedAt);
  const emailOpens = dice.int(0, 40);
  const properties: Record<string, string | null> = {
    email: person.email,
    firstname: person.first.display,
    lastname: person.last.display,
    jobtitle: person.title,
    phone: person.phone,
    company: person.company.name,
    country: person.country.name,
    city: person.city,
    industry: person.company.industry.label,
    numemployees: employeeBand(person.company.employees),
    lifecyclestage: person.stage,
    hs_lead_status: hubspotLeadStatus(builder, person.stage),
    hs_analytics_source: person.source,
    hs_analytics_source_data_1: person.sourceDetail,
    hs_latest_source: latestSource.source,
    hs_latest_source_data_1: latest ? person.sourceDetail : dice.pick(latestSource.details),
    hs_latest_source_timestamp: hubspotDateTime(latestAt),
    hs_analytics_first_timestamp: hubspotDateTime(createdAt),
    hs_analytics_num_page_views: String(pageViews),
    hs_analytics_num_visits: String(Math.max(1, Math.ceil(pageViews / dice.int(1, 4)))),
    num_conversion_events: String(conversions),
    num_unique_conversion_events: String(Math.min(conversions, dice.int(1, 3))),
    hs_email_open: String(emailOpens),
    hs_email_click: String(dice.int(0, Math.floor(emailOpens / 3))),
  };
  if (conversions > 0) {
    properties.first_conversion_event_name = dice.pick(CONVERSION_EVENTS);
    properties.first_conversion_date = hubspotDateTime(createdAt);
    properties.recent_conversion_event_name = dice.pick(CONVERSION_EVENTS);
    properties.recent_conversion_date = hubspotDateTime(conversions > 1 ? latestAt : createdAt);
  }
  for (const { stage, at } of timeline.stages)
    properties[`hs_lifecyclestage_${stage}_date`] = hubspotDateTime(at);

  const record = builder.hubspotRecord('contacts', properties, createdAt, modifiedAt);
  const createdBy = person.source === 'OFFLINE' ? 'IMPORT' : 'FORM';
  setHistory(record, 'email', [{ value: person.email, at: createdAt, sourceType: createdBy }]);
  setHistory(record, 'phone', [{ value: person.phone, at: createdAt, sourceType: createdBy }]);
  setHistory(
    record,
    'lifecyclestage',
    timeline.stages.map(({ stage, at }, i) => ({
      value: stage,
      at,
      sourceType: i === 0 ? createdBy : dice.pick(['CRM_UI', 'AUTOMATION_PLATFORM', 'SALESFORCE']),
    })),
  );
  const titleHistory = [{ value: person.title, at: createdAt, sourceType: createdBy }];
  if (dice.chance(0.25)) {
    const promotedAt = dice.between(createdAt, Math.min(modifiedAt, now));
    titleHistory[0] = {
      value: dice.pick(['Manager', 'Senior Manager', 'Consultant', 'Analyst']),
      at: createdAt,
      sourceType: createdBy,
    };
    titleHistory.push({ value: person.title, at: promotedAt, sourceType: 'CRM_UI' });
  }
  setHistory(record, 'jobtitle', titleHistory);
  return record;
}

/** HubSpot's `numemployees` enumeration bands. */
export function employeeBand(employees: number): string {
  if (employees <= 5) return '1-5';
  if (employees <= 25) return '5-25';
  if (employees <= 50) return '25-50';
  if (employees <= 100) return '50-100';
  if (employees <= 500) return '100-500';
  if (employees <= 1000) return '500-1000';
  return '1000+';
}

function leadStatus(builder: WorldBuilder, stage: LifecycleStage): string {
  if (stage === 'subscriber' || stage === 'lead') {
    return builder.dice.chance(0.15) ? LEAD_STATUSES.notConverted : LEAD_STATUSES.open;
  }
  return stage === 'marketingqualifiedlead' ? LEAD_STATUSES.open : LEAD_STATUSES.working;
}

function leadRating(builder: WorldBuilder, stage: LifecycleStage): string | null {
  if (builder.dice.chance(0.2)) return null;
  const index = LIFECYCLE_STAGES.indexOf(stage);
  return index >= 3 ? 'Hot' : index === 2 ? 'Warm' : builder.dice.pick(LEAD_RATINGS.slice(1));
}

function personFields(person: PersonPlan): Record<string, string | number | boolean | null> {
  return {
    FirstName: person.first.display,
    LastName: person.last.display,
    Email: person.email,
    Phone: person.phone,
    Title: person.title,
    LeadSource: LEAD_SOURCE_FOR_ANALYTICS_SOURCE[person.source] ?? 'Other',
    HubSpot_Contact_ID__c: null,
  };
}

function emitLead(builder: WorldBuilder, person: PersonPlan, createdAt: number, modifiedAt: number): void {
  const { company } = person;
  person.lead = builder.salesforceRow(
    'Lead',
    {
      ...personFields(person),
      Company: company.name,
      Country: person.country.name,
      City: person.city,
      Industry: company.industry.salesforce,
      NumberOfEmployees: company.employees,
      AnnualRevenue: company.annualRevenue,
      Rating: leadRating(builder, person.stage),
      Status: leadStatus(builder, person.stage),
      IsConverted: false,
      ConvertedDate: null,
      ConvertedAccountId: null,
      ConvertedContactId: null,
      ConvertedOpportunityId: null,
    },
    createdAt,
    modifiedAt,
  );
}

function emitContact(builder: WorldBuilder, person: PersonPlan, createdAt: number, modifiedAt: number): void {
  person.contact = builder.salesforceRow(
    'Contact',
    {
      ...personFields(person),
      AccountId: person.company.account?.Id ?? null,
      MailingCountry: person.country.name,
      MailingCity: person.city,
    },
    createdAt,
    modifiedAt,
  );
}

function emitSalesforcePerson(builder: WorldBuilder, person: PersonPlan): void {
  const { dice, now } = builder;
  const createdAt = Math.min(person.createdAt + dice.int(0, 20) * HOUR_MS, now - DAY_MS);
  if (person.salesforceAs === 'lead') {
    emitLead(builder, person, createdAt, dice.between(createdAt, now - HOUR_MS));
  } else if (person.salesforceAs === 'contact') {
    emitContact(builder, person, createdAt, dice.between(createdAt, now - HOUR_MS));
  } else if (person.salesforceAs === 'converted') {
    const convertedAt = dice.between(createdAt + HOUR_MS, now - 2 * HOUR_MS);
    emitLead(builder, person, createdAt, convertedAt);
    emitContact(builder, person, convertedAt, dice.between(convertedAt, now - HOUR_MS));
    const lead = person.lead;
    if (lead && person.contact) {
      Object.assign(lead, {
        Status: LEAD_STATUSES.converted,
        IsConverted: true,
        ConvertedDate: salesforceDate(convertedAt),
        ConvertedAccountId: person.company.account?.Id ?? null,
        ConvertedContactId: person.contact.Id,
      });
    }
  }
}

/** Ids a previous integration left behind: the HubSpot contact knows the Salesforce row, or vice versa. */
function storeCrossReferences(builder: WorldBuilder, person: PersonPlan): void {
  const { dice, mess } = builder;
  const hubspot = person.hubspot;
  const row = person.contact ?? person.lead;
  if (!hubspot || !row || !dice.chance(builder.options.crossReferenceShare)) return;
  const storedOn = dice.weighted(['both', 'hubspot', 'salesforce'] as const, [5, 3, 2]);
  const object = person.contact ? 'Contact' : 'Lead';
  if (storedOn !== 'salesforce') {
    if (person.salesforceAs === 'converted' && person.lead && dice.chance(0.5)) {
      hubspot.properties.salesforce_lead_id = person.lead.Id;
    } else if (person.contact) {
      hubspot.properties.salesforce_contact_id = person.contact.Id;
    } else {
      hubspot.properties.salesforce_lead_id = row.Id;
    }
  }
  if (storedOn !== 'hubspot') row.HubSpot_Contact_ID__c = hubspot.id;
  mess.crossReferences.push({ hubspotContactId: hubspot.id, salesforce: { object, id: row.Id }, storedOn });
}

export function emitPeople(builder: WorldBuilder, people: readonly PersonPlan[]): void {
  for (const person of people) {
    const timeline = drawTimeline(builder, person);
    if (inHubSpot(person.presence)) {
      person.hubspot = emitHubSpotContact(builder, person, timeline);
      // A few contacts were never associated with their company.
      if (person.company.hubspot && builder.dice.chance(0.95)) {
        builder.associate('contacts', person.hubspot.id, 'companies', person.company.hubspot.id, 279);
      }
    }
    if (inSalesforce(person.presence)) emitSalesforcePerson(builder, person);
    storeCrossReferences(builder, person);
  }
}
