import type { Attribution, AttributionModel, System } from './mapping/schema.js';
import type { CompiledMapping } from './compiled.js';
import { isBlank, type CampaignMembership, type SourceRecord } from './records.js';
import { parseInstant, toIsoInstant } from './values/coerce.js';

/** One marketing or sales touch on a person, in the unified source language. */
export interface Touchpoint {
  /** Deterministic: `${system}:${recordId}:${kind}` (campaigns add the campaign id). */
  id: string;
  kind: 'original_source' | 'latest_source' | 'lead_source' | 'campaign';
  source: string;
  detail?: string;
  occurredAt: string;
  system: System;
  recordId: string;
  /** The value the system held, before translation. */
  systemValue: string;
}

export interface TouchpointInput {
  hubspot?: SourceRecord;
  /** The Salesforce Lead(s) and Contact of the person (converted Leads included). */
  salesforce: readonly SourceRecord[];
  campaignMemberships: readonly CampaignMembership[];
}

/** Two touches with one source within this window are the same touch seen by both systems. */
export const SAME_TOUCH_WINDOW_MS = 24 * 60 * 60 * 1000;

function text(value: unknown): string | undefined {
  if (isBlank(value)) return undefined;
  return typeof value === 'string' ? value.trim() : String(value);
}

const touchOrder = (a: Touchpoint, b: Touchpoint): number => {
  const d = (parseInstant(a.occurredAt) ?? 0) - (parseInstant(b.occurredAt) ?? 0);
  if (d !== 0) return d;
  if (a.system !== b.system) return a.system === 'hubspot' ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/**
 * Touchpoints from both systems: HubSpot's original source (at the contact's creation) and latest source
 * (at its timestamp), Salesforce `LeadSource` (at the Lead's creation; a Contact's only when there is no
 * Lead, since conversion copies it) and responded campaign memberships (at the first response). The same
 * source seen by both systems within `SAME_TOUCH_WINDOW_MS` counts once (the earlier, HubSpot on a tie).
 * Returned in time order (`touchOrder`).
 */
export function collectTouchpoints(input: TouchpointInput, compiled: CompiledMapping): Touchpoint[] {
  const cfg: Attribution = compiled.mapping.attribution;
  const t = cfg.touchpoints;
  const all: Touchpoint[] = [];
  const hs = input.hubspot;
  if (hs) {
    const original = text(hs.fields[t.hubspot_original_source]);
    if (original !== undefined) {
      const detail = text(hs.fields[t.hubspot_original_source_detail]);
      all.push({
        id: `hubspot:${hs.id}:original_source`,
        kind: 'original_source',
        source: compiled.sourceFor('hubspot', original),
        ...(detail !== undefined ? { detail } : {}),
        occurredAt: hs.createdAt,
        system: 'hubspot',
        recordId: hs.id,
        systemValue: original,
      });
    }
    const latest = text(hs.fields[t.hubspot_latest_source]);
    const latestAt = parseInstant(hs.fields[t.hubspot_latest_source_timestamp]);
    if (latest !== undefined && latestAt !== undefined) {
      all.push({
        id: `hubspot:${hs.id}:latest_source`,
        kind: 'latest_source',
        source: compiled.sourceFor('hubspot', latest),
        occurredAt: toIsoInstant(latestAt),
        system: 'hubspot',
        recordId: hs.id,
        systemValue: latest,
      });
    }
  }
  const hasLead = input.salesforce.some((r) => r.object === 'Lead');
  for (const r of input.salesforce) {
    if (r.object === 'Contact' && hasLead) continue;
    const source = text(r.fields[t.salesforce_lead_source]);
    if (source === undefined) continue;
    all.push({
      id: `salesforce:${r.id}:lead_source`,
      kind: 'lead_source',
      source: compiled.sourceFor('salesforce', source),
      occurredAt: r.createdAt,
      system: 'salesforce',
      recordId: r.id,
      systemValue: source,
    });
  }
  if (t.salesforce_campaign_members) {
    for (const m of input.campaignMemberships) {
      if (!m.hasResponded) continue;
      const at = m.firstRespondedDate ?? m.createdDate;
      all.push({
        id: `salesforce:${m.personId}:campaign:${m.campaignId}`,
        kind: 'campaign',
        source: t.campaign_type_sources[m.campaignType] ?? cfg.unknown_source,
        detail: m.campaignName,
        occurredAt: toIsoInstant(parseInstant(at) ?? 0),
        system: 'salesforce',
        recordId: m.personId,
        systemValue: m.campaignType,
      });
    }
  }
  sortSmall(all, touchOrder);
  const kept: Touchpoint[] = [];
  for (const touch of all) {
    const at = parseInstant(touch.occurredAt) ?? 0;
    let same = false;
    for (let i = 0; i < kept.length && !same; i += 1) {
      const k = kept[i] as Touchpoint;
      same =
        k.source === touch.source &&
        (k.detail === undefined || touch.detail === undefined || k.detail === touch.detail) &&
        Math.abs((parseInstant(k.occurredAt) ?? 0) - at) <= SAME_TOUCH_WINDOW_MS;
    }
    if (!same) kept.push(touch);
  }
  return kept;
}

/**
 * A stable in-place sort (the same order as `Array.prototype.sort` for a consistent comparator): insertion
 * sort for the handful of touches a person has, without the work array the built-in allocates.
 */
function sortSmall<T>(items: T[], order: (a: T, b: T) => number): void {
  if (items.length > 16) {
    items.sort(order);
    return;
  }
  for (let i = 1; i < items.length; i += 1) {
    const item = items[i] as T;
    let j = i - 1;
    while (j >= 0 && order(items[j] as T, item) > 0) {
      items[j + 1] = items[j] as T;
      j -= 1;
    }
    items[j + 1] = item;
  }
}

export function originalSource(touchpoints: readonly Touchpoint[]): Touchpoint | undefined {
  return [...touchpoints].sort(touchOrder)[0];
}

/** The last touch at or before `before` (overall latest without it). */
export function latestSource(touchpoints: readonly Touchpoint[], before?: string): Touchpoint | undefined {
  const limit =
    before === undefined ? Number.POSITIVE_INFINITY : (parseInstant(before) ?? Number.POSITIVE_INFINITY);
  return [...touchpoints]
    .sort(touchOrder)
    .filter((t) => (parseInstant(t.occurredAt) ?? 0) <= limit)
    .at(-1);
}

export interface DealForCredit {
  id: string;
  amount: number;
  createdAt: string;
  closeDate?: string;
}

export interface Credit {
  touchpointId?: string;
  source: string;
  detail?: string;
  cents: number;
  share: number;
}

/** A deal's amount credited over its touches by one model. */
export interface DealCredits {
  dealId: string;
  model: AttributionModel;
  amountCents: number;
  credits: Credit[];
}

export interface DealAttribution extends DealCredits {
  /**
   * The unified persons on the deal, in key order: whose touches were credited. A credit without a
   * touchpoint (the unknown source, when no touch came before the deal) belongs to the first.
   */
  personIds: string[];
}

export interface CreditOptions {
  model: AttributionModel;
  halfLifeDays: number;
  /** When the person became a lead (the W-shaped middle touch is the last touch at or before it). */
  leadCreatedAt?: string;
  unknownSource: string;
}

const DAY_MS = 86_400_000;

/**
 * Each eligible touch's weight under a model (the touches are in time order, all before the deal).
 * - u_shaped: 40/20/40, the middle 20 spread evenly; 1 touch → 100; 2 touches → 50/50.
 * - w_shaped: 30 each on the first touch, the lead-creation touch (last at or before the lead's
 *   creation; the first touch when unknown) and the opportunity-creation touch (the last before the deal),
 *   10 spread over the rest. When key touches coincide, the distinct ones share 90 evenly; when there are
 *   no other touches the key touches share 100 (so 1 touch → 100, 2 → 50/50, 3 → thirds).
 * - time_decay: 2^(−age/half-life), age measured back from the deal's creation.
 */
export function modelWeights(
  touches: readonly Touchpoint[],
  deal: DealForCredit,
  options: CreditOptions,
): number[] {
  const n = touches.length;
  if (n === 0) return [];
  const weights = new Array<number>(n).fill(0);
  switch (options.model) {
    case 'first_touch':
      weights[0] = 1;
      return weights;
    case 'last_touch':
      weights[n - 1] = 1;
      return weights;
    case 'linear':
      return weights.fill(1);
    case 'u_shaped': {
      if (n <= 2) return weights.fill(1);
      weights.fill(20 / (n - 2));
      weights[0] = 40;
      weights[n - 1] = 40;
      return weights;
    }
    case 'w_shaped': {
      const leadAt = parseInstant(options.leadCreatedAt);
      let leadIndex = 0;
      if (leadAt !== undefined) {
        touches.forEach((t, i) => {
          if ((parseInstant(t.occurredAt) ?? 0) <= leadAt) leadIndex = i;
        });
      }
      const keys = new Set([0, leadIndex, n - 1]);
      const others = n - keys.size;
      if (others === 0) {
        for (const k of keys) weights[k] = 1;
        return weights;
      }
      weights.fill(10 / others);
      for (const k of keys) weights[k] = 90 / keys.size;
      return weights;
    }
    case 'time_decay': {
      const ref = parseInstant(deal.createdAt) ?? 0;
      const halfLife = options.halfLifeDays * DAY_MS;
      return touches.map((t) =>
        Math.pow(2, -Math.max(0, ref - (parseInstant(t.occurredAt) ?? 0)) / halfLife),
      );
    }
  }
}

/**
 * Split `totalCents` by weight so the parts sum exactly: each part is floored, and the cents left over go
 * one each to the largest fractional remainders (ties to the earlier touch).
 */
export function distributeCents(totalCents: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0 || sum <= 0) return weights.map(() => 0);
  const sign = totalCents < 0 ? -1 : 1;
  const total = Math.abs(totalCents);
  const exact = weights.map((w) => (w / sum) * total);
  const parts = exact.map((x) => Math.floor(x + 1e-9));
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, frac: x - Math.floor(x + 1e-9) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0 && order.length > 0; k = (k + 1) % order.length, left -= 1) {
    const slot = order[k];
    if (slot) parts[slot.i] = (parts[slot.i] ?? 0) + 1;
  }
  return parts.map((p) => p * sign);
}

/**
 * Deal credit under a model. Eligible touches are those at or before the deal's creation; with none, the
 * whole amount goes to the unknown source, so credits always sum exactly to the amount.
 */
export function creditDeal(
  deal: DealForCredit,
  touchpoints: readonly Touchpoint[],
  options: CreditOptions,
): DealCredits {
  const amountCents = Math.round(deal.amount * 100);
  const created = parseInstant(deal.createdAt) ?? Number.POSITIVE_INFINITY;
  const touches = [...touchpoints]
    .sort(touchOrder)
    .filter((t) => (parseInstant(t.occurredAt) ?? 0) <= created);
  if (touches.length === 0) {
    return {
      dealId: deal.id,
      model: options.model,
      amountCents,
      credits: [{ source: options.unknownSource, cents: amountCents, share: 1 }],
    };
  }
  const weights = modelWeights(touches, deal, options);
  const cents = distributeCents(amountCents, weights);
  const sum = weights.reduce((a, b) => a + b, 0);
  const credits: Credit[] = [];
  touches.forEach((t, i) => {
    const c = cents[i] ?? 0;
    const w = weights[i] ?? 0;
    if (w === 0) return;
    credits.push({
      touchpointId: t.id,
      source: t.source,
      ...(t.detail !== undefined ? { detail: t.detail } : {}),
      cents: c,
      share: w / sum,
    });
  });
  return { dealId: deal.id, model: options.model, amountCents, credits };
}
