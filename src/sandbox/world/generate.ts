import { WorldBuilder } from './builder.js';
import { emitCampaignsAndMembers } from './campaigns.js';
import { emitCompanies, planCompanies } from './companies.js';
import { emitDeals, planDeals } from './deals.js';
import type { CompanyTruth, DealTruth, PersonTruth, WorldManifest } from './manifest.js';
import { plantMassImport, plantMess } from './mess.js';
import { resolveWorldOptions, type WorldOptions } from './options.js';
import { assignStages, emitPeople, hasMarkup, planPeople } from './people.js';
import type { CompanyPlan, DealPlan, PersonPlan } from './plan.js';
import type { World } from './schema.js';
import { hubspotDateTime } from './time.js';

export type { WorldOptions, PresenceMix } from './options.js';
export type { WorldManifest } from './manifest.js';

export interface GeneratedWorld {
  world: World;
  manifest: WorldManifest;
}

/**
 * A realistic, messy B2B world for both sandboxes: pure and deterministic (same options, same JSON).
 *
 * @example
 * const { world, manifest } = generateWorldWithManifest({ seed: 'demo', persons: 2_000 });
 * manifest.mess.conflictingEdits[0]?.hubspotContactId; // a contact whose title differs in Salesforce
 */
export function generateWorldWithManifest(options: WorldOptions): GeneratedWorld {
  const resolved = resolveWorldOptions(options);
  const builder = new WorldBuilder(resolved);
  const companies = planCompanies(builder);
  const people = planPeople(builder, companies);
  const deals = planDeals(builder, companies);
  assignStages(builder, people);

  emitCompanies(builder, companies);
  emitPeople(builder, people);
  emitDeals(builder, deals);
  emitCampaignsAndMembers(builder, people);

  plantMess(builder, people, companies);
  plantMassImport(builder, people);
  recordConvertedLeads(builder, people);
  recordMarkupInNames(builder, people);

  const description = `Generated demo world: seed "${resolved.seed}", ${resolved.persons} persons, ${resolved.companies} companies`;
  return {
    world: builder.toWorld(description),
    manifest: {
      seed: resolved.seed,
      now: hubspotDateTime(resolved.now),
      people: people.map(personTruth),
      companies: companies.map(companyTruth),
      deals: deals.map(dealTruth),
      mess: builder.mess,
    },
  };
}

export function generateWorld(options: WorldOptions): World {
  return generateWorldWithManifest(options).world;
}

function recordConvertedLeads(builder: WorldBuilder, people: readonly PersonPlan[]): void {
  for (const person of people) {
    const { lead, contact, hubspot } = person;
    if (person.salesforceAs !== 'converted' || !lead || !contact) continue;
    const knowsLead = hubspot?.properties.salesforce_lead_id === lead.Id;
    builder.mess.convertedLeads.push({
      leadId: lead.Id,
      contactId: contact.Id,
      accountId: String(lead.ConvertedAccountId),
      opportunityId: typeof lead.ConvertedOpportunityId === 'string' ? lead.ConvertedOpportunityId : null,
      hubspotContactId: hubspot?.id ?? null,
      hubspotKnowsOnlyLeadId: knowsLead && !hubspot?.properties.salesforce_contact_id,
    });
  }
}

function recordMarkupInNames(builder: WorldBuilder, people: readonly PersonPlan[]): void {
  for (const person of people) {
    const name = person.first.display;
    if (!hasMarkup(name)) continue;
    const entries = builder.mess.markupInNames;
    if (person.hubspot) entries.push({ system: 'hubspot', object: 'contacts', id: person.hubspot.id, name });
    if (person.lead) entries.push({ system: 'salesforce', object: 'Lead', id: person.lead.Id, name });
    if (person.contact)
      entries.push({ system: 'salesforce', object: 'Contact', id: person.contact.Id, name });
  }
}

function personTruth(person: PersonPlan): PersonTruth {
  const truth: PersonTruth = { presence: person.presence };
  if (person.hubspot) truth.hubspotContactId = person.hubspot.id;
  if (person.lead) truth.leadId = person.lead.Id;
  if (person.contact) truth.contactId = person.contact.Id;
  return truth;
}

function companyTruth(company: CompanyPlan): CompanyTruth {
  const truth: CompanyTruth = { presence: company.presence };
  if (company.hubspot) truth.hubspotCompanyId = company.hubspot.id;
  if (company.account) truth.accountId = company.account.Id;
  return truth;
}

function dealTruth(deal: DealPlan): DealTruth {
  const truth: DealTruth = { presence: deal.presence };
  if (deal.hubspot) truth.hubspotDealId = deal.hubspot.id;
  if (deal.opportunity) truth.opportunityId = deal.opportunity.Id;
  return truth;
}
