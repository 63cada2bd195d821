// What the person side needs to know about deals and campaigns, built from stored snapshots. Pure.

import { compileMapping } from '../domain/compiled.js';
import { salesforceIdKey } from '../domain/identity.js';
import type { Mapping } from '../domain/mapping/schema.js';
import type { CampaignMembership, DealFact, DealOutcome, RawValue, SourceRecord } from '../domain/records.js';
import { parseInstant, toIsoInstant } from '../domain/values/coerce.js';

export interface RelatedRecord {
  id: string;
  fields: Record<string, RawValue>;
  createdAt: string;
  archived?: boolean;
}

export interface DealFactInput {
  hubspotDeals: ReadonlyArray<{ record: SourceRecord; contacts: readonly string[] }>;
  opportunities: readonly SourceRecord[];
  contactRoles: readonly RelatedRecord[];
  /** Deal record key (`hubspot:<id>` / `salesforce:<15-char id>`) → unified deal id, from stored links. */
  dealLinks: ReadonlyMap<string, string>;
}

const text = (v: RawValue | undefined): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined;

function num(v: RawValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function dateText(v: RawValue | undefined): string | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v}T00:00:00.000Z`;
  const ms = parseInstant(v);
  return ms === undefined ? undefined : toIsoInstant(ms);
}

function earliest(...values: Array<string | undefined>): string {
  let best: string | undefined;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const v of values) {
    const ms = parseInstant(v);
    if (v !== undefined && ms !== undefined && ms < bestMs) {
      best = v;
      bestMs = ms;
    }
  }
  return best ?? '';
}

/**
 * One fact per deal entity: a HubSpot deal and an Opportunity are one deal when a stored link or a
 * cross-reference says so. Salesforce's amount, outcome and close date win (sales owns them); contacts
 * come from HubSpot associations and OpportunityContactRoles.
 */
export function buildDealFacts(input: DealFactInput, mapping: Mapping): DealFact[] {
  const compiled = compileMapping(mapping);
  const x = mapping.objects.deal?.identity.cross_reference;
  const opps = new Map<string, SourceRecord>();
  for (const o of input.opportunities) if (o.archived !== true) opps.set(salesforceIdKey(o.id), o);
  const hsDeals = new Map<string, { record: SourceRecord; contacts: readonly string[] }>();
  for (const d of input.hubspotDeals) if (d.record.archived !== true) hsDeals.set(d.record.id, d);
  const roles = new Map<string, string[]>();
  for (const r of input.contactRoles) {
    if (r.archived === true) continue;
    const opp = text(r.fields['OpportunityId']);
    const contact = text(r.fields['ContactId']);
    if (opp === undefined || contact === undefined) continue;
    const list = roles.get(salesforceIdKey(opp)) ?? [];
    if (!list.includes(contact)) list.push(contact);
    roles.set(salesforceIdKey(opp), list);
  }
  // Pair HubSpot deals with Opportunities: link first, then cross-reference (either side).
  const pairOfHs = new Map<string, string>();
  const pairOfSf = new Map<string, string>();
  const pair = (hs: string, sf: string): void => {
    if (pairOfHs.has(hs) || pairOfSf.has(sf) || !hsDeals.has(hs) || !opps.has(sf)) return;
    pairOfHs.set(hs, sf);
    pairOfSf.set(sf, hs);
  };
  const byUnified = new Map<string, { hs?: string; sf?: string }>();
  for (const [key, unified] of input.dealLinks) {
    const entry = byUnified.get(unified) ?? {};
    if (key.startsWith('hubspot:')) entry.hs = key.slice('hubspot:'.length);
    else entry.sf = salesforceIdKey(key.slice('salesforce:'.length));
    byUnified.set(unified, entry);
  }
  for (const e of [...byUnified.values()]) if (e.hs !== undefined && e.sf !== undefined) pair(e.hs, e.sf);
  const hsRef = x?.hubspot_property_for_opportunity_id;
  const sfRef = x?.salesforce_field_for_hubspot_id;
  for (const [id, d] of [...hsDeals].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ref = hsRef === undefined ? undefined : text(d.record.fields[hsRef]);
    if (ref !== undefined) pair(id, salesforceIdKey(ref));
  }
  for (const [id, o] of [...opps].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ref = sfRef === undefined ? undefined : text(o.fields[sfRef]);
    if (ref !== undefined) pair(ref, id);
  }

  const facts: DealFact[] = [];
  const fact = (
    hs: { record: SourceRecord; contacts: readonly string[] } | undefined,
    sf: SourceRecord | undefined,
  ): void => {
    const hsId = hs?.record.id;
    const sfKey = sf === undefined ? undefined : salesforceIdKey(sf.id);
    const unified =
      (hsId !== undefined ? input.dealLinks.get(`hubspot:${hsId}`) : undefined) ??
      (sfKey !== undefined ? input.dealLinks.get(`salesforce:${sfKey}`) : undefined) ??
      (hsId !== undefined ? `deal:hubspot:${hsId}` : `deal:salesforce:${sf?.id ?? ''}`);
    let outcome: DealOutcome = 'open';
    if (sf !== undefined) {
      outcome = sf.fields['IsWon'] === true ? 'won' : sf.fields['IsClosed'] === true ? 'lost' : 'open';
    } else if (hs !== undefined) {
      const stage = text(hs.record.fields['dealstage']);
      outcome = compiled.dealOutcome(stage ?? null) ?? 'open';
    }
    const amount = num(sf?.fields['Amount']) ?? num(hs?.record.fields['amount']) ?? 0;
    const closeDate = dateText(sf?.fields['CloseDate']) ?? dateText(hs?.record.fields['closedate']);
    const salesforceContacts = sfKey === undefined ? [] : (roles.get(sfKey) ?? []);
    facts.push({
      dealUnifiedId: unified,
      ...(hsId !== undefined ? { hubspotDealId: hsId } : {}),
      ...(sf !== undefined ? { salesforceOpportunityId: sf.id } : {}),
      amount,
      outcome,
      ...(closeDate !== undefined ? { closeDate } : {}),
      createdAt: earliest(hs?.record.createdAt, sf?.createdAt),
      contactIds: {
        ...(hs !== undefined ? { hubspot: [...hs.contacts].sort() } : {}),
        ...(sf !== undefined ? { salesforce: [...salesforceContacts].sort() } : {}),
      },
    });
  };
  for (const [id, d] of hsDeals) {
    const sf = pairOfHs.get(id);
    fact(d, sf === undefined ? undefined : opps.get(sf));
  }
  for (const [id, o] of opps) if (!pairOfSf.has(id)) fact(undefined, o);
  return facts.sort((a, b) => ((a.dealUnifiedId ?? '') < (b.dealUnifiedId ?? '') ? -1 : 1));
}

/** CampaignMember rows (with `Campaign.Name`, `Campaign.Type` flattened) as the domain's memberships. */
export function buildCampaignMemberships(rows: readonly RelatedRecord[]): CampaignMembership[] {
  const out: CampaignMembership[] = [];
  for (const r of rows) {
    if (r.archived === true) continue;
    const personId = text(r.fields['LeadId']) ?? text(r.fields['ContactId']);
    const campaignId = text(r.fields['CampaignId']);
    if (personId === undefined || campaignId === undefined) continue;
    const responded = dateText(r.fields['FirstRespondedDate']);
    out.push({
      campaignId,
      campaignName: text(r.fields['Campaign.Name']) ?? campaignId,
      campaignType: text(r.fields['Campaign.Type']) ?? '',
      status: text(r.fields['Status']) ?? '',
      hasResponded: r.fields['HasResponded'] === true || r.fields['HasResponded'] === 'true',
      ...(responded !== undefined ? { firstRespondedDate: responded } : {}),
      createdDate: r.createdAt,
      personId,
    });
  }
  return out.sort((a, b) => (`${a.personId}:${a.campaignId}` < `${b.personId}:${b.campaignId}` ? -1 : 1));
}
