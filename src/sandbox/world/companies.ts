import type { WorldBuilder } from './builder.js';
import type { Presence } from './manifest.js';
import type { PresenceMix } from './options.js';
import { inHubSpot, inSalesforce, type CompanyPlan, type EmailPattern } from './plan.js';
import { DAY_MS } from './time.js';
import {
  AWKWARD_COMPANIES,
  COMPANY_SUFFIXES,
  COMPANY_WORDS,
  COUNTRIES,
  COUNTRY_WEIGHTS,
  INDUSTRIES,
  TOP_LEVEL_DOMAINS,
} from './vocabulary.js';

const EMAIL_PATTERNS: readonly EmailPattern[] = [
  'first.last',
  'first.last',
  'flast',
  'first',
  'firstlast',
  'first_last',
];
const PRESENCES: readonly Presence[] = ['both', 'hubspot', 'salesforce'];

export const drawPresence = (builder: WorldBuilder, mix: PresenceMix): Presence =>
  builder.dice.weighted(PRESENCES, [mix.both, mix.hubspotOnly, mix.salesforceOnly]);

/** Unique company names and domains, however many companies are asked for. */
class CompanyNamer {
  private readonly names = new Set<string>();
  private readonly domains = new Set<string>();

  constructor(private readonly builder: WorldBuilder) {}

  next(): { name: string; domain: string } {
    const { dice } = this.builder;
    if (dice.chance(0.01)) {
      const awkward = dice.pick(AWKWARD_COMPANIES);
      if (!this.names.has(awkward.name)) return this.claim(awkward.name, awkward.stem);
    }
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const words =
        attempt < 2 ? [dice.pick(COMPANY_WORDS)] : [dice.pick(COMPANY_WORDS), dice.pick(COMPANY_WORDS)];
      const name = `${words.join(' ')} ${dice.pick(COMPANY_SUFFIXES)}`;
      if (!this.names.has(name)) return this.claim(name, words.join('').toLowerCase());
    }
    const words = [dice.pick(COMPANY_WORDS), dice.pick(COMPANY_WORDS)];
    const name = `${words.join(' ')} ${this.names.size + 1}`;
    return this.claim(name, `${words.join('').toLowerCase()}${this.names.size + 1}`);
  }

  private claim(name: string, stem: string): { name: string; domain: string } {
    this.names.add(name);
    let domain = `${stem}.${this.builder.dice.pick(TOP_LEVEL_DOMAINS)}`;
    for (let n = 2; this.domains.has(domain); n += 1) domain = `${stem}${n}.com`;
    this.domains.add(domain);
    return { name, domain };
  }
}

export function planCompanies(builder: WorldBuilder): CompanyPlan[] {
  const { dice, options, now } = builder;
  const namer = new CompanyNamer(builder);
  const companies: CompanyPlan[] = [];
  for (let index = 0; index < options.companies; index += 1) {
    const { name, domain } = namer.next();
    const country = dice.weighted(COUNTRIES, COUNTRY_WEIGHTS);
    // Log-uniform headcount: many small companies, a few large ones.
    const employees = Math.round(Math.exp(dice.float() * Math.log(20_000)) + 4);
    companies.push({
      index,
      presence: drawPresence(builder, options.companyMix),
      name,
      domain,
      emailPattern: dice.pick(EMAIL_PATTERNS),
      industry: dice.pick(INDUSTRIES),
      employees,
      annualRevenue: Math.round((employees * dice.int(60, 260)) / 10) * 10_000,
      country,
      city: dice.pick(country.cities),
      createdAt: dice.between(now - 900 * DAY_MS, now - 60 * DAY_MS),
      people: [],
      deals: [],
    });
  }
  return companies;
}

/** Salesforce `Website` is free text: the same domain arrives in several shapes. */
function websiteFor(builder: WorldBuilder, domain: string): string {
  return builder.dice.pick([
    `https://www.${domain}`,
    `http://${domain}/`,
    `www.${domain}`,
    domain,
    `https://${domain}`,
  ]);
}

export function emitCompanies(builder: WorldBuilder, companies: readonly CompanyPlan[]): void {
  const { dice, now } = builder;
  for (const company of companies) {
    const modifiedAt = dice.between(company.createdAt, now - DAY_MS);
    if (inHubSpot(company.presence)) {
      company.hubspot = builder.hubspotRecord(
        'companies',
        {
          name: company.name,
          domain: company.domain,
          industry: company.industry.hubspot,
          numberofemployees: String(company.employees),
          annualrevenue: String(company.annualRevenue),
          country: company.country.name,
          city: company.city,
          lifecyclestage: 'lead',
        },
        company.createdAt,
        modifiedAt,
      );
    }
    if (inSalesforce(company.presence)) {
      company.account = builder.salesforceRow(
        'Account',
        {
          Name: company.name,
          Website: websiteFor(builder, company.domain),
          Industry: company.industry.salesforce,
          NumberOfEmployees: company.employees,
          AnnualRevenue: company.annualRevenue,
          BillingCountry: company.country.name,
          BillingCity: company.city,
          Type: 'Prospect',
          HubSpot_Company_ID__c: null,
        },
        Math.min(company.createdAt + dice.int(0, 30) * DAY_MS, modifiedAt),
        modifiedAt,
      );
    }
    if (company.hubspot && company.account && dice.chance(0.4)) {
      company.hubspot.properties.salesforce_account_id = company.account.Id;
      company.account.HubSpot_Company_ID__c = company.hubspot.id;
    }
  }
}
