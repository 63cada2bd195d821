/**
 * Output digest of the pure engine, for speed work: a change that only makes the engine faster must leave
 * every output byte-identical. Reconciles a generated world (persons with conflicts, duplicates, secondary
 * emails, stale cross-references, conversions, unmapped and invalid values, overwritten edits, deals and
 * campaign memberships; companies and deals) under several attribution models, over several rounds where
 * round N+1 starts from round N's plan applied (links, `lastWritten`, stages) plus some edits, and prints
 * one SHA-256 per output section per round, then one for everything.
 *
 *   npx tsx bench/engine-digest.ts [persons=3000] [rounds=3] > before.txt
 *   … change the engine …
 *   npx tsx bench/engine-digest.ts [persons=3000] [rounds=3] > after.txt && diff before.txt after.txt
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MappingSchema, type AttributionModel, type Mapping } from '../src/domain/mapping/schema.js';
import { reconcileBatch, type BatchInput, type BatchResult } from '../src/domain/batch.js';
import type { CampaignMembership, DealFact, SourceRecord } from '../src/domain/records.js';
import type { StageState } from '../src/domain/reconcile.js';
import { applyPlan } from '../src/domain/testing.js';

const persons = Number(process.argv[2] ?? 3_000);
const rounds = Number(process.argv[3] ?? 3);
const base: unknown = parse(readFileSync(new URL('../mappings/default.yaml', import.meta.url), 'utf8'));

function mappingWith(model: AttributionModel): Mapping {
  const raw = structuredClone(base) as { attribution?: Record<string, unknown> };
  raw.attribution = { ...(raw.attribution ?? {}), model };
  return MappingSchema.parse(raw);
}

const T0 = Date.UTC(2026, 0, 1);
const iso = (days: number): string => new Date(T0 + days * 86_400_000).toISOString();
const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;
const titles = ['VP Sales', 'Director  of IT', ' Marketing Manager', 'Engineer', 'Head of Growth', ''];
const countries = ['US', 'Germany', 'Peru', 'United Kingdom', '', ' France '];
const statuses = [
  'Open - Not Contacted',
  'Working - Contacted',
  'Closed - Not Converted',
  'Closed - Converted',
];
const hsStatuses = ['NEW', 'IN_PROGRESS', 'OPEN_DEAL', 'UNQUALIFIED', ''];
const sources = ['ORGANIC_SEARCH', 'PAID_SEARCH', 'OFFLINE', 'REFERRALS', 'DIRECT_TRAFFIC', 'SOCIAL_MEDIA'];
const leadSources = ['Web', 'Phone Inquiry', 'Partner Referral', 'Trade Show', ''];
const phones = ['(415) 555-0100', '+14155550100', '415.555.0101 x12', '020 7946 0958', ''];
const sfId = (prefix: string, n: number): string => `${prefix}${String(n).padStart(12, '0')}AAA`;

function world(n: number): BatchInput {
  const hubspot: SourceRecord[] = [];
  const salesforce: SourceRecord[] = [];
  const dealFacts: DealFact[] = [];
  const campaignMemberships: CampaignMembership[] = [];
  for (let i = 0; i < n; i += 1) {
    const email = `person${i}@${i % 7 === 0 ? 'gmail.com' : `co${i % 100}.com`}`;
    const shape = i % 10; // 0-5 both, 6-7 HubSpot only, 8 Salesforce only, 9 converted
    const leadId = sfId('00Q', i);
    const contactId = sfId('003', i);
    if (shape !== 8) {
      const fields: SourceRecord['fields'] = {
        email: i % 3 === 0 ? ` ${email.toUpperCase()} ` : email,
        firstname: i % 11 === 0 ? '' : `First${i}`,
        lastname: `Last${i}`,
        jobtitle: pick(titles, i),
        phone: pick(phones, i),
        country: pick(countries, i),
        hs_analytics_num_page_views: i % 97 === 0 ? 'many' : String(i % 40),
        num_conversion_events: String(i % 4),
        hs_email_click: String(i % 13),
        hs_analytics_source: pick(sources, i),
        hs_analytics_source_data_1: i % 2 === 0 ? 'google' : '',
        hs_latest_source: pick(sources, i + 2),
        hs_latest_source_timestamp: iso(i % 35),
        hs_lead_status: i % 89 === 0 ? 'NOT_A_STATUS' : pick(hsStatuses, i),
        lifecyclestage: i % 5 === 0 ? 'customer' : 'lead',
      };
      if (i % 13 === 0)
        fields['hs_additional_emails'] = `alt${i}@co${i % 100}.com;person${i + 1}@co${(i + 1) % 100}.com`;
      // Cross-references: most right, some stale (naming another person), some naming nobody in the batch.
      if (shape <= 5 && i % 4 === 0)
        fields['salesforce_lead_id'] = i % 40 === 0 ? sfId('00Q', i + 3) : leadId;
      if (i % 53 === 0) fields['salesforce_contact_id'] = sfId('003', 900_000 + i);
      const record: SourceRecord = {
        system: 'hubspot',
        object: 'contacts',
        id: String(1000 + i),
        fields,
        fieldChangedAt: { jobtitle: iso(i % 30), ...(i % 2 === 0 ? { phone: iso(i % 17) } : {}) },
        createdAt: iso(i % 20),
        modifiedAt: iso(i % 30),
      };
      if (i % 29 === 0) record.fieldPrevious = { jobtitle: { value: 'Old Title', at: iso(3) } };
      if (i % 211 === 0) record.archived = true;
      hubspot.push(record);
      // A HubSpot duplicate sharing the email.
      if (i % 17 === 0) {
        hubspot.push({
          system: 'hubspot',
          object: 'contacts',
          id: String(500_000 + i),
          fields: { email, firstname: `Dup${i}`, lastname: `Last${i}` },
          createdAt: iso((i % 20) + 1),
          modifiedAt: iso(31),
        });
      }
    }
    if (shape <= 5 || shape >= 8) {
      const lead = shape !== 9;
      const id = lead ? leadId : contactId;
      const fields: SourceRecord['fields'] = {
        Email: i % 19 === 0 ? `other${i}@co${i % 100}.com` : email,
        FirstName: `First${i}`,
        LastName: i % 23 === 0 ? '' : `Last${i}`,
        Title: pick(titles, i + 1),
        Phone: pick(phones, i + 1),
        LeadSource: pick(leadSources, i),
        ...(lead
          ? {
              Status: i % 83 === 0 ? 'Mystery Status' : pick(statuses.slice(0, 3), i),
              Company: i % 9 === 0 ? '[not provided]' : `Co ${i % 100}`,
              Country: pick(countries, i + 2),
            }
          : { MailingCountry: pick(countries, i + 3) }),
      };
      if (i % 4 === 1)
        fields['HubSpot_Contact_ID__c'] = i % 36 === 1 ? String(1000 + i + 1) : String(1000 + i);
      salesforce.push({
        system: 'salesforce',
        object: lead ? 'Lead' : 'Contact',
        id: i % 2 === 0 ? id : id.slice(0, 15),
        fields,
        createdAt: iso(i % 20),
        modifiedAt: iso((i * 7) % 30),
      });
      // A Salesforce duplicate Lead sharing the email.
      if (i % 31 === 0) {
        salesforce.push({
          system: 'salesforce',
          object: 'Lead',
          id: sfId('00Q', 700_000 + i),
          fields: { Email: email, LastName: `Dup${i}`, Company: 'Dup Co', Status: 'Open - Not Contacted' },
          createdAt: iso(i % 20),
          modifiedAt: iso(29),
        });
      }
      if (!lead) {
        salesforce.push({
          system: 'salesforce',
          object: 'Lead',
          id: leadId,
          fields: {
            Email: email,
            LastName: `Last${i}`,
            Company: `Co ${i % 100}`,
            IsConverted: true,
            ConvertedContactId: id,
            ConvertedDate: iso(24).slice(0, 10),
            Status: 'Closed - Converted',
            LeadSource: pick(leadSources, i + 1),
          },
          createdAt: iso(i % 20),
          modifiedAt: iso(25),
        });
      }
      if (!lead || i % 7 === 3) {
        dealFacts.push({
          dealUnifiedId: `deal-${i}`,
          amount: 1000 + i + (i % 3) / 3,
          outcome: i % 20 === 9 ? 'won' : i % 20 === 3 ? 'lost' : 'open',
          createdAt: iso(26 + (i % 5)),
          closeDate: iso(40),
          contactIds: {
            hubspot: [String(1000 + i), ...(i % 6 === 3 ? [String(1000 + i + 1)] : [])],
            salesforce: [lead ? leadId : id],
          },
        });
      }
      if (i % 3 === 0) {
        campaignMemberships.push({
          campaignId: `701${i % 12}`,
          campaignName: `Campaign ${i % 12}`,
          campaignType: pick(['Webinar', 'Email', 'Trade Show', 'Advertisement', 'Partners'], i),
          status: 'Responded',
          hasResponded: i % 2 === 0,
          ...(i % 4 === 0 ? { firstRespondedDate: iso(i % 25) } : {}),
          createdDate: iso(i % 22),
          personId: i % 6 === 0 ? leadId : id,
        });
      }
    }
  }
  return {
    persons: { hubspot, salesforce },
    companies: companies(Math.ceil(n / 10)),
    deals: deals(Math.ceil(n / 5)),
    dealFacts,
    campaignMemberships,
  };
}

function companies(n: number): { hubspot: SourceRecord[]; salesforce: SourceRecord[] } {
  const hubspot: SourceRecord[] = [];
  const salesforce: SourceRecord[] = [];
  const industries = ['COMPUTER_SOFTWARE', 'BANKING', 'RETAIL', 'UNKNOWN_INDUSTRY', ''];
  for (let i = 0; i < n; i += 1) {
    if (i % 4 !== 3)
      hubspot.push({
        system: 'hubspot',
        object: 'companies',
        id: String(2000 + i),
        fields: {
          name: `Co ${i}`,
          domain: i % 5 === 0 ? `https://www.co${i}.com/` : `co${i}.com`,
          industry: pick(industries, i),
          numberofemployees: String(10 * i),
          country: pick(countries, i),
        },
        createdAt: iso(i % 10),
        modifiedAt: iso(i % 30),
      });
    if (i % 4 !== 2)
      salesforce.push({
        system: 'salesforce',
        object: 'Account',
        id: sfId('001', i),
        fields: {
          Name: i % 6 === 0 ? '' : `Co ${i} Inc`,
          Website: `co${i}.com`,
          Industry: pick(['Technology', 'Banking', 'Retail', 'Other'], i),
          NumberOfEmployees: 10 * i + (i % 3),
          AnnualRevenue: i * 1000,
          BillingCity: 'Lima',
        },
        createdAt: iso(i % 10),
        modifiedAt: iso((i * 3) % 30),
      });
  }
  return { hubspot, salesforce };
}

function deals(n: number): { hubspot: SourceRecord[]; salesforce: SourceRecord[] } {
  const hubspot: SourceRecord[] = [];
  const salesforce: SourceRecord[] = [];
  const stages = ['appointmentscheduled', 'qualifiedtobuy', 'closedwon', 'closedlost', 'weird'];
  const sfStages = ['Prospecting', 'Needs Analysis', 'Closed Won', 'Negotiation/Review'];
  for (let i = 0; i < n; i += 1) {
    if (i % 3 !== 2)
      hubspot.push({
        system: 'hubspot',
        object: 'deals',
        id: String(3000 + i),
        fields: {
          dealname: `Deal ${i}`,
          amount: String(100 * i),
          closedate: iso(40 + (i % 9)),
          dealstage: pick(stages, i),
          ...(i % 2 === 0 ? { salesforce_opportunity_id: sfId('006', i) } : {}),
        },
        createdAt: iso(i % 10),
        modifiedAt: iso(i % 30),
      });
    if (i % 3 !== 1)
      salesforce.push({
        system: 'salesforce',
        object: 'Opportunity',
        id: sfId('006', i),
        fields: {
          Name: `Deal ${i}`,
          Amount: 100 * i + (i % 4),
          CloseDate: iso(41).slice(0, 10),
          StageName: pick(sfStages, i),
          ...(i % 2 === 1 ? { HubSpot_Deal_ID__c: String(3000 + i) } : {}),
        },
        createdAt: iso(i % 10),
        modifiedAt: iso((i * 5) % 30),
      });
  }
  return { hubspot, salesforce };
}

/** Maps and Sets as sorted-by-insertion arrays, so JSON carries them. */
function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v instanceof Map ? { map: [...v.entries()] } : v instanceof Set ? { set: [...v] } : v,
  );
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

function digest(result: BatchResult): Record<string, string> {
  return {
    identity: sha(json(result.identity)),
    persons: sha(json(result.persons)),
    companies: sha(json(result.companies)),
    deals: sha(json(result.deals)),
    attribution: sha(json(result.attribution)),
    skipped: sha(json(result.skipped)),
    synced: sha(json(result.synced)),
    links: sha(json(result.links)),
    plan: sha(json(result.plan)),
    problems: sha(json(result.problems)),
    warnings: sha(json(result.warnings)),
  };
}

/** Some edits between rounds: titles in HubSpot, statuses in Salesforce, one record gone. */
function edit(records: SourceRecord[], round: number, now: string): SourceRecord[] {
  return records.map((r, i) => {
    if (i % 37 !== round % 37) return r;
    if (r.system === 'hubspot' && r.object === 'contacts') {
      return {
        ...r,
        fields: { ...r.fields, jobtitle: `Title r${round}` },
        fieldChangedAt: { ...r.fieldChangedAt, jobtitle: now },
        modifiedAt: now,
      };
    }
    if (r.object === 'Lead' && r.fields['IsConverted'] !== true) {
      return {
        ...r,
        fields: { ...r.fields, Status: 'Working - Contacted', Title: 'Edited' },
        modifiedAt: now,
      };
    }
    return r;
  });
}

const all = (set: { hubspot: readonly SourceRecord[]; salesforce: readonly SourceRecord[] } | undefined) => [
  ...(set?.hubspot ?? []),
  ...(set?.salesforce ?? []),
];
const split = (records: readonly SourceRecord[]) => ({
  hubspot: records.filter((r) => r.system === 'hubspot'),
  salesforce: records.filter((r) => r.system === 'salesforce'),
});

const everything = createHash('sha256');
const models: AttributionModel[] = ['w_shaped', 'linear', 'time_decay', 'u_shaped'];
for (const model of models) {
  const mapping = mappingWith(model);
  let input = world(persons);
  let lastWritten: ReadonlyMap<string, string> = new Map();
  for (let round = 0; round < rounds; round += 1) {
    const now = iso(60 + 2 * round);
    const hints =
      round === 1 ? { targetHints: { 'salesforce:Lead:Title': 8, 'hubspot:contacts:jobtitle': 10 } } : {};
    const result = reconcileBatch(input, mapping, { now, lastWritten, ...hints });
    const d = digest(result);
    const line = `${model} round ${round}: ${json(d)} writes=${result.plan.writes.length} problems=${result.problems.length} warnings=${result.warnings.length}`;
    console.log(line);
    everything.update(line);
    // Round N+1: the plan applied, the links, `synced` and stages stored, then some edits.
    const applied = applyPlan(
      [...all(input.persons), ...all(input.companies), ...all(input.deals)],
      result.plan,
      {
        now: iso(61 + 2 * round),
        links: [...result.links.person, ...result.links.company, ...result.links.deal],
        lastWritten,
      },
    );
    const merged = new Map(applied.lastWritten);
    for (const [k, v] of result.synced) merged.set(k, v);
    lastWritten = merged;
    const linksOf = (kind: string) => applied.links.filter((l) => l.unifiedId.startsWith(`${kind}:`));
    const links = { person: linksOf('person'), company: linksOf('company'), deal: linksOf('deal') };
    const of = (...objects: string[]) => applied.records.filter((r) => objects.includes(r.object));
    const previousStages = new Map<string, StageState>(input.previousStages ?? []);
    for (const p of result.persons) {
      const before = previousStages.get(p.unified.key)?.history ?? [];
      previousStages.set(p.unified.key, {
        stage: p.unified.stage,
        history: [...before, ...p.unified.stageEntries],
      });
    }
    const editNow = iso(61.5 + 2 * round);
    input = {
      ...input,
      persons: split(edit(of('contacts', 'Lead', 'Contact'), round, editNow)),
      companies: split(of('companies', 'Account')),
      deals: split(of('deals', 'Opportunity')),
      links,
      previousStages,
    };
  }
}
console.log(`all: ${everything.digest('hex').slice(0, 16)}`);
