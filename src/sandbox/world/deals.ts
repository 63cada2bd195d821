import { touchHubSpot, touchSalesforce, epochOf, type WorldBuilder } from './builder.js';
import { drawPresence } from './companies.js';
import type { Presence } from './manifest.js';
import {
  inHubSpot,
  inSalesforce,
  isClosedStage,
  type CompanyPlan,
  type DealPlan,
  type PersonPlan,
} from './plan.js';
import { DAY_MS, HOUR_MS, hubspotDateTime, salesforceDate } from './time.js';
import {
  CONTACT_ROLES,
  DEAL_STAGES,
  LEAD_SOURCE_FOR_ANALYTICS_SOURCE,
  SALESFORCE_ONLY_STAGES,
} from './vocabulary.js';

const PRODUCTS = [
  'Platform Annual',
  'Expansion',
  'Renewal 2027',
  'Pilot',
  'Enterprise Upgrade',
  'Add-on Seats',
];
const DEAL_STAGE_WEIGHTS = [14, 12, 10, 8, 8, 22, 16];

function dealPresence(builder: WorldBuilder, company: CompanyPlan): Presence {
  if (company.presence !== 'both') return company.presence;
  return drawPresence(builder, builder.options.dealMix);
}

interface StageDraw {
  hubspot: string | null;
  salesforce: string;
  probability: number;
}

function drawStage(builder: WorldBuilder, presence: Presence): StageDraw {
  const { dice } = builder;
  if (presence === 'salesforce' && dice.chance(0.3)) {
    const stage = dice.pick(SALESFORCE_ONLY_STAGES);
    return { hubspot: null, salesforce: stage.salesforce, probability: stage.probability };
  }
  return dice.weighted(DEAL_STAGES, DEAL_STAGE_WEIGHTS);
}

/** Picks who is on the deal: one to three people of the company. */
function dealContacts(builder: WorldBuilder, company: CompanyPlan): PersonPlan[] {
  const { dice } = builder;
  if (company.people.length === 0) return [];
  const count = Math.min(company.people.length, dice.weighted([1, 2, 3], [55, 30, 15]));
  return dice.shuffled(company.people).slice(0, count);
}

export function planDeals(builder: WorldBuilder, companies: readonly CompanyPlan[]): DealPlan[] {
  const { dice, options, now } = builder;
  const deals: DealPlan[] = [];
  const maxPerCompany = Math.round(2 * options.dealsPerCompany);
  for (const company of companies) {
    const count = dice.int(0, maxPerCompany);
    for (let n = 0; n < count; n += 1) {
      const presence = dealPresence(builder, company);
      const stage = drawStage(builder, presence);
      const createdAt = dice.between(Math.max(company.createdAt, now - 540 * DAY_MS), now - 3 * DAY_MS);
      const closed = isClosedStage(stage.salesforce);
      const closeDate = closed
        ? Math.min(createdAt + dice.int(14, 150) * DAY_MS, now - DAY_MS)
        : now + dice.int(7, 180) * DAY_MS;
      const contacts = dealContacts(builder, company);
      const deal: DealPlan = {
        index: deals.length,
        presence,
        company,
        name: `${company.name} - ${dice.pick(PRODUCTS)}`,
        amount: dice.int(5, 400) * 500,
        hubspotStage: stage.hubspot,
        salesforceStage: stage.salesforce,
        probability: stage.probability,
        createdAt,
        closeDate,
        contacts,
        leadSource: LEAD_SOURCE_FOR_ANALYTICS_SOURCE[contacts[0]?.source ?? 'OFFLINE'] ?? 'Other',
      };
      for (const person of contacts) person.deals.push(deal);
      company.deals.push(deal);
      deals.push(deal);
    }
  }
  return deals;
}

function emitHubSpotDeal(builder: WorldBuilder, deal: DealPlan, modifiedAt: number): void {
  const hubspotStage = deal.hubspotStage ?? 'appointmentscheduled';
  const record = builder.hubspotRecord(
    'deals',
    {
      dealname: deal.name,
      amount: String(deal.amount),
      dealstage: hubspotStage,
      pipeline: 'default',
      closedate: hubspotDateTime(deal.closeDate),
      dealtype: 'newbusiness',
      hs_is_closed: String(isClosedStage(deal.salesforceStage)),
      hs_is_closed_won: String(deal.salesforceStage === 'Closed Won'),
    },
    deal.createdAt,
    modifiedAt,
  );
  deal.hubspot = record;
  if (deal.company.hubspot) builder.associate('deals', record.id, 'companies', deal.company.hubspot.id, 341);
  for (const person of deal.contacts) {
    if (person.hubspot) builder.associate('deals', record.id, 'contacts', person.hubspot.id, 3);
  }
}

function emitOpportunity(builder: WorldBuilder, deal: DealPlan, modifiedAt: number): void {
  const { dice } = builder;
  const closed = isClosedStage(deal.salesforceStage);
  const opportunity = builder.salesforceRow(
    'Opportunity',
    {
      Name: deal.name,
      StageName: deal.salesforceStage,
      Amount: deal.amount,
      CloseDate: salesforceDate(deal.closeDate),
      AccountId: deal.company.account?.Id ?? null,
      Probability: deal.probability,
      IsClosed: closed,
      IsWon: deal.salesforceStage === 'Closed Won',
      LeadSource: deal.leadSource,
      Type: 'New Business',
      HubSpot_Deal_ID__c: null,
    },
    deal.createdAt,
    modifiedAt,
  );
  deal.opportunity = opportunity;
  let primary = true;
  for (const person of deal.contacts) {
    if (!person.contact) continue;
    builder.salesforceRow(
      'OpportunityContactRole',
      {
        OpportunityId: opportunity.Id,
        ContactId: person.contact.Id,
        Role: dice.pick(CONTACT_ROLES),
        IsPrimary: primary,
      },
      deal.createdAt,
      deal.createdAt,
    );
    primary = false;
  }
}

/** A converted person's Lead points at one opportunity of their company, as convertLead leaves it. */
function linkConvertedLeads(builder: WorldBuilder, deals: readonly DealPlan[]): void {
  const used = new Set<string>();
  for (const deal of deals) {
    const opportunity = deal.opportunity;
    if (!opportunity || used.has(opportunity.Id)) continue;
    const person = deal.contacts.find(
      (p) => p.salesforceAs === 'converted' && p.lead?.ConvertedOpportunityId === null,
    );
    const lead = person?.lead;
    if (!lead) continue;
    lead.ConvertedOpportunityId = opportunity.Id;
    used.add(opportunity.Id);
  }
}

export function emitDeals(builder: WorldBuilder, deals: readonly DealPlan[]): void {
  const { dice, now } = builder;
  for (const deal of deals) {
    const lastActivity = Math.min(deal.closeDate, now - HOUR_MS);
    const modifiedAt = dice.between(Math.min(deal.createdAt + DAY_MS, lastActivity), lastActivity);
    if (inHubSpot(deal.presence)) emitHubSpotDeal(builder, deal, modifiedAt);
    if (inSalesforce(deal.presence)) emitOpportunity(builder, deal, modifiedAt);
    if (deal.hubspot && deal.opportunity && dice.chance(0.8)) {
      deal.hubspot.properties.salesforce_opportunity_id = deal.opportunity.Id;
      deal.opportunity.HubSpot_Deal_ID__c = deal.hubspot.id;
    }
    if (deal.salesforceStage === 'Closed Won') markCustomer(deal.company, modifiedAt);
  }
  linkConvertedLeads(builder, deals);
}

function markCustomer(company: CompanyPlan, at: number): void {
  if (company.hubspot && company.hubspot.properties.lifecyclestage !== 'customer') {
    company.hubspot.properties.lifecyclestage = 'customer';
    if (Date.parse(company.hubspot.updatedAt) < at) touchHubSpot(company.hubspot, 'companies', at);
  }
  if (company.account && company.account.Type !== 'Customer - Direct') {
    company.account.Type = 'Customer - Direct';
    if (epochOf(company.account.LastModifiedDate) < at) touchSalesforce(company.account, at);
  }
}
