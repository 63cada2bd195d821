import type { Condition, Identity, Mapping } from './mapping/schema.js';
import { compileMapping, type CompiledMapping } from './compiled.js';
import { evaluate, type ConditionFacts } from './conditions.js';
import { mergeFields } from './merge.js';
import type { CompiledField } from './values/field-codec.js';
import { creditDeal, type DealAttribution, type Touchpoint } from './attribution.js';
import {
  linkFor,
  resolveIdentity,
  salesforceIdKey,
  type IdentityFields,
  type IdentityGroup,
  type IdentityResult,
} from './identity.js';
import type { FieldProblem, Warning } from './problems.js';
import type { CampaignMembership, DealFact, SourceRecord, StoredLink } from './records.js';
import {
  reconcileCompany,
  reconcileDeal,
  reconcilePerson,
  type PersonContext,
  type ReconcileContext,
  type ReconcileResult,
  type StageState,
  type UnifiedDeal,
  type UnifiedPerson,
  type UnifiedRecord,
} from './reconcile.js';
import { concatPlans, type WritePlan } from './write-plan.js';
import { entityFingerprint, fingerprintScope, type FingerprintScope } from './fingerprint.js';
import { parseInstant } from './values/coerce.js';

export interface RecordSet {
  hubspot: readonly SourceRecord[];
  salesforce: readonly SourceRecord[];
}

export interface BatchInput {
  persons?: RecordSet;
  companies?: RecordSet;
  deals?: RecordSet;
  links?: { person?: readonly StoredLink[]; company?: readonly StoredLink[]; deal?: readonly StoredLink[] };
  dealFacts?: readonly DealFact[];
  campaignMemberships?: readonly CampaignMembership[];
  /** The stage state Tandem stored per unified person key. */
  previousStages?: ReadonlyMap<string, StageState>;
  /**
   * Opt-in (off when absent): skip unchanged entities. `previous` holds the fingerprints the last batch
   * returned (`BatchResult.fingerprints`); an entity whose inputs still match its fingerprint is not
   * reconciled but listed in `BatchResult.unchanged`, and its stored outcome stands.
   */
  fingerprints?: { previous?: ReadonlyMap<string, string> };
}

export interface GroupOutcome<U extends UnifiedRecord> extends ReconcileResult<U> {
  group: IdentityGroup;
}

export interface BatchResult {
  identity: { person: IdentityResult; company?: IdentityResult; deal?: IdentityResult };
  persons: GroupOutcome<UnifiedPerson>[];
  companies: GroupOutcome<UnifiedRecord>[];
  deals: GroupOutcome<UnifiedDeal>[];
  attribution: DealAttribution[];
  /** Entities left alone (outside the mapping's scope). */
  skipped: SkippedGroup[];
  /** What every record holds once the plan is applied (store it as the next `lastWritten`). */
  synced: Map<string, string>;
  /** The links to store (one per entity), duplicates included, so the next batch resolves alike. */
  links: { person: StoredLink[]; company: StoredLink[]; deal: StoredLink[] };
  plan: WritePlan;
  problems: FieldProblem[];
  warnings: Warning[];
  /**
   * With `BatchInput.fingerprints` only: the fingerprint of every settled entity (reconciled with nothing to
   * write, no stage move and no problem, or unchanged) — store them for the next batch.
   */
  fingerprints?: Map<string, string>;
  /** With `BatchInput.fingerprints` only: entities skipped because nothing they read changed. */
  unchanged?: UnchangedGroup[];
}

/** An entity not reconciled again: its last stored outcome (unified record, warnings) still holds. */
export interface UnchangedGroup {
  key: string;
  group: IdentityGroup;
  fingerprint: string;
}

/** One batch's fingerprint bookkeeping (`BatchInput.fingerprints`). */
interface Fingerprints {
  scope: FingerprintScope;
  previous: ReadonlyMap<string, string>;
  next: Map<string, string>;
  unchanged: UnchangedGroup[];
}

/**
 * Settled: reconciling the same inputs again gives the same outcome. Writes still to make (they may fail
 * and need planning again), problems, and a stage move (dated by `now`) are not.
 */
function isSettled(outcome: GroupOutcome<UnifiedRecord>): boolean {
  if (outcome.plan.writes.length > 0 || outcome.problems.length > 0) return false;
  const entries = (outcome.unified as Partial<UnifiedPerson>).stageEntries;
  return entries === undefined || entries.length === 0;
}

/** The fields that carry the identity keys: the mapped email field for persons, the domain for companies. */
export function identityFields(mapping: Mapping, kind: 'person' | 'company'): IdentityFields {
  const fields = kind === 'person' ? mapping.objects.person.fields : (mapping.objects.company?.fields ?? []);
  const field =
    kind === 'person'
      ? fields.find((f) => f.type === 'email')
      : fields.find((f) => f.name === 'domain' || f.hubspot === 'domain');
  const sf = field?.salesforce;
  const salesforceKey = typeof sf === 'string' ? sf : (sf?.Lead ?? sf?.Contact);
  return {
    ...(field?.hubspot !== undefined ? { hubspotKey: field.hubspot } : {}),
    ...(salesforceKey !== undefined ? { salesforceKey } : {}),
  };
}

function guarded<U extends UnifiedRecord>(
  group: IdentityGroup,
  run: (g: IdentityGroup) => ReconcileResult<U>,
): GroupOutcome<U> | { group: IdentityGroup; error: FieldProblem } {
  try {
    return { group, ...run(group) };
  } catch (err) {
    const record = group.hubspot ?? group.salesforce;
    return {
      group,
      error: {
        code: 'internal_error',
        message: `${group.key}: ${err instanceof Error ? err.message : String(err)}`,
        ...(record ? { system: record.system, object: record.object, recordId: record.id } : {}),
      },
    };
  }
}

function identityWarnings(result: IdentityResult): Warning[] {
  return [
    ...result.duplicates.map((d): Warning => ({
      code: 'duplicate',
      message: `${d.system} duplicates of ${d.survivorId}: ${d.duplicateIds.join(', ')} (kept by ${d.rule}; shared ${d.sharedKeys.join(', ') || 'conversion'})`,
      system: d.system,
      recordId: d.survivorId,
    })),
    ...result.conflicts.map((c): Warning => ({
      code: 'identity_conflict',
      message: `${c.message}; ${c.resolution}`,
    })),
  ];
}

type Scope = { hubspot?: Condition | undefined; salesforce?: Condition | undefined };

/** Why a group was left out of this batch. */
export interface SkippedGroup {
  key: string;
  reason: string;
}

/**
 * The mapping's `scope`: a record outside it is still matched (so its counterpart is not created twice)
 * but its entity is not synced at all. Scope conditions see the record's own fields, read through the
 * mapping (unified names).
 */
function inScope(
  group: IdentityGroup,
  scope: Scope,
  fields: readonly CompiledField[],
  compiled: CompiledMapping,
): string | undefined {
  for (const system of ['hubspot', 'salesforce'] as const) {
    const condition = scope[system];
    const record = group[system];
    if (condition === undefined || record === undefined) continue;
    const merge = mergeFields(fields, { [system]: record }, new Map());
    const values: Record<string, ConditionFacts['fields'][string]> = {};
    for (const [k, v] of Object.entries(merge.fields)) values[k] = v.value;
    if (!evaluate(condition, { fields: values, changedAt: merge.changedAt }, compiled)) {
      return `${system} ${record.object} ${record.id} is outside the mapping's scope`;
    }
  }
  return undefined;
}

function runAll<U extends UnifiedRecord>(
  groups: readonly IdentityGroup[],
  run: (g: IdentityGroup) => ReconcileResult<U>,
  problems: FieldProblem[],
  skip?: (g: IdentityGroup) => string | undefined,
  skipped?: SkippedGroup[],
  prints?: Fingerprints,
  fingerprintOf?: (g: IdentityGroup) => string | undefined,
): GroupOutcome<U>[] {
  const out: GroupOutcome<U>[] = [];
  for (const g of groups) {
    const reason = skip?.(g);
    if (reason !== undefined) {
      skipped?.push({ key: g.key, reason });
      continue;
    }
    const print = prints && fingerprintOf ? fingerprintOf(g) : undefined;
    if (prints && print !== undefined && prints.previous.get(g.key) === print) {
      prints.unchanged.push({ key: g.key, group: g, fingerprint: print });
      prints.next.set(g.key, print);
      continue;
    }
    const r = guarded(g, run);
    if ('error' in r) problems.push(r.error);
    else {
      problems.push(...r.problems);
      out.push(r);
      if (prints && print !== undefined && isSettled(r)) prints.next.set(g.key, print);
    }
  }
  return out;
}

/**
 * Identity, then one reconcile per entity. Every entity stands alone: a problem or even an exception in
 * one record becomes that record's problem, and the rest of the batch goes on.
 */
export function reconcileBatch(input: BatchInput, mapping: Mapping, context: ReconcileContext): BatchResult {
  const problems: FieldProblem[] = [];
  const resolve = (
    kind: 'person' | 'company' | 'deal',
    set: RecordSet,
    identity: Identity,
    fields: IdentityFields,
  ): IdentityResult =>
    resolveIdentity(
      { kind, hubspot: set.hubspot, salesforce: set.salesforce, links: input.links?.[kind] ?? [] },
      identity,
      fields,
    );
  const personIdentity = resolve(
    'person',
    input.persons ?? { hubspot: [], salesforce: [] },
    mapping.objects.person.identity,
    identityFields(mapping, 'person'),
  );
  const dealIndex = indexByPerson(input.dealFacts ?? [], (d) => ({
    hubspot: d.contactIds.hubspot ?? NONE,
    salesforce: d.contactIds.salesforce ?? NONE,
  }));
  const membershipIndex = indexByPerson(input.campaignMemberships ?? [], (m) => ({
    hubspot: NONE,
    salesforce: [m.personId],
  }));
  const compiled = compileMapping(mapping);
  const skipped: SkippedGroup[] = [];
  const scopeOf =
    (scope: Scope | undefined, fields: readonly CompiledField[]) =>
    (g: IdentityGroup): string | undefined =>
      scope && (scope.hubspot || scope.salesforce) ? inScope(g, scope, fields, compiled) : undefined;
  const prints: Fingerprints | undefined = input.fingerprints
    ? {
        scope: fingerprintScope(mapping, context),
        previous: input.fingerprints.previous ?? new Map(),
        next: new Map(),
        unchanged: [],
      }
    : undefined;
  const persons = runAll(
    personIdentity.groups,
    (g) => {
      const ids = personIds(g);
      const personContext: PersonContext = {
        ...context,
        deals: dealIndex.find(ids),
        campaignMemberships: membershipIndex.find(ids),
      };
      const previousStage = input.previousStages?.get(g.key);
      if (previousStage) personContext.previousStage = previousStage;
      return reconcilePerson(g, mapping, personContext);
    },
    problems,
    scopeOf(mapping.objects.person.scope, compiled.person),
    skipped,
    prints,
    prints &&
      ((g) => {
        const ids = personIds(g);
        const deals = dealIndex.find(ids);
        // Deal attribution reads the touchpoints of every person on a deal: those are always reconciled.
        if (deals.length > 0) return undefined;
        return entityFingerprint(prints.scope, 'person', g, compiled.person, {
          deals,
          campaignMemberships: membershipIndex.find(ids),
          previousStage: input.previousStages?.get(g.key),
        });
      }),
  );
  const company = mapping.objects.company;
  const companyIdentity =
    company && input.companies
      ? resolve('company', input.companies, company.identity, identityFields(mapping, 'company'))
      : undefined;
  const companies = companyIdentity
    ? runAll(
        companyIdentity.groups,
        (g) => reconcileCompany(g, mapping, context),
        problems,
        scopeOf(company?.scope, compiled.company),
        skipped,
        prints,
        prints && ((g) => entityFingerprint(prints.scope, 'company', g, compiled.company)),
      )
    : [];
  const deal = mapping.objects.deal;
  const dealIdentity = deal && input.deals ? resolve('deal', input.deals, deal.identity, {}) : undefined;
  const deals = dealIdentity
    ? runAll(
        dealIdentity.groups,
        (g) => reconcileDeal(g, mapping, context),
        problems,
        scopeOf(deal?.scope, compiled.deal),
        skipped,
        prints,
        prints && ((g) => entityFingerprint(prints.scope, 'deal', g, compiled.deal)),
      )
    : [];
  const attribution = attributeDeals(input.dealFacts ?? [], persons, mapping);
  const outcomes = [...persons, ...companies, ...deals];
  const warnings = [
    ...identityWarnings(personIdentity),
    ...(companyIdentity ? identityWarnings(companyIdentity) : []),
    ...(dealIdentity ? identityWarnings(dealIdentity) : []),
    ...outcomes.flatMap((o) => o.warnings),
  ];
  let synced: Map<string, string> | undefined;
  return {
    identity: {
      person: personIdentity,
      ...(companyIdentity ? { company: companyIdentity } : {}),
      ...(dealIdentity ? { deal: dealIdentity } : {}),
    },
    persons,
    companies,
    deals,
    attribution,
    skipped,
    // Built on first read: the pipeline stores each outcome's own `synced` and never reads this copy.
    get synced() {
      return (synced ??= mergeMaps(outcomes.map((o) => o.synced)));
    },
    links: {
      person: personIdentity.groups.map(linkFor),
      company: companyIdentity?.groups.map(linkFor) ?? [],
      deal: dealIdentity?.groups.map(linkFor) ?? [],
    },
    plan: concatPlans(outcomes.map((o) => o.plan)),
    problems,
    warnings,
    ...(prints ? { fingerprints: prints.next, unchanged: prints.unchanged } : {}),
  };
}

function mergeMaps(maps: ReadonlyArray<ReadonlyMap<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of maps) for (const [k, v] of m) out.set(k, v);
  return out;
}

/** Person record ids per system (Salesforce ids by their 15-character key). */
interface PersonIds {
  hubspot: readonly string[];
  salesforce: readonly string[];
}

const NONE: readonly never[] = Object.freeze([]);

/** Calls `visit` with each record id of a person group: HubSpot first, then Salesforce and converted Leads. */
function forEachPersonId(
  g: IdentityGroup,
  visit: (system: 'hubspot' | 'salesforce', id: string) => void,
): void {
  if (g.hubspot) visit('hubspot', g.hubspot.id);
  if (g.salesforce) visit('salesforce', salesforceIdKey(g.salesforce.id));
  for (const r of g.convertedLeads) visit('salesforce', salesforceIdKey(r.id));
}

/** A person group's record ids, looked up in the indexes: HubSpot, then Salesforce keys (converted Leads last). */
interface GroupIds {
  hubspot: string | undefined;
  salesforce: readonly string[];
}

/** Computed once per group for both indexes (each Salesforce key is a fresh slice). */
function personIds(g: IdentityGroup): GroupIds {
  const salesforce: string[] = [];
  if (g.salesforce) salesforce.push(salesforceIdKey(g.salesforce.id));
  for (const r of g.convertedLeads) salesforce.push(salesforceIdKey(r.id));
  return { hubspot: g.hubspot?.id, salesforce };
}

/** Items indexed by the person records they name, so each group finds its own without a scan. */
function indexByPerson<T>(
  items: readonly T[],
  idsOf: (item: T) => PersonIds,
): { find(ids: GroupIds): readonly T[] } {
  const index = { hubspot: new Map<string, T[]>(), salesforce: new Map<string, T[]>() };
  const add = (map: Map<string, T[]>, k: string, item: T): void => {
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  };
  for (const item of items) {
    const ids = idsOf(item);
    for (const id of ids.hubspot) add(index.hubspot, id, item);
    for (const id of ids.salesforce) add(index.salesforce, salesforceIdKey(id), item);
  }
  return {
    find(ids) {
      if (items.length === 0) return NONE;
      // Usually one record names the items: hand out its list; several → in order, each item once.
      let first: readonly T[] | undefined;
      let found: Set<T> | undefined;
      const take = (list: readonly T[] | undefined): void => {
        if (list === undefined) return;
        if (first === undefined) first = list;
        else {
          found ??= new Set(first);
          for (const item of list) found.add(item);
        }
      };
      if (ids.hubspot !== undefined) take(index.hubspot.get(ids.hubspot));
      for (const id of ids.salesforce) take(index.salesforce.get(id));
      return found ? [...found] : (first ?? NONE);
    },
  };
}

/** Each deal credited over the touchpoints of every person on it, by the mapping's model. */
export function attributeDeals(
  deals: readonly DealFact[],
  persons: readonly GroupOutcome<UnifiedPerson>[],
  mapping: Mapping,
): DealAttribution[] {
  const out: DealAttribution[] = [];
  const byRecord = {
    hubspot: new Map<string, GroupOutcome<UnifiedPerson>>(),
    salesforce: new Map<string, GroupOutcome<UnifiedPerson>>(),
  };
  for (const p of persons) forEachPersonId(p.group, (system, id) => byRecord[system].set(id, p));
  for (const deal of deals) {
    const found = new Set<GroupOutcome<UnifiedPerson>>();
    for (const id of deal.contactIds.hubspot ?? []) {
      const p = byRecord.hubspot.get(id);
      if (p) found.add(p);
    }
    for (const id of deal.contactIds.salesforce ?? []) {
      const p = byRecord.salesforce.get(salesforceIdKey(id));
      if (p) found.add(p);
    }
    const people = [...found].sort((a, b) => (a.unified.key < b.unified.key ? -1 : 1));
    const touches = new Map<string, Touchpoint>();
    for (const p of people) for (const t of p.unified.touchpoints) touches.set(t.id, t);
    // The lead-creation moment (W-shaped): the Salesforce Lead's creation, else the first record's.
    const byTime = (a: string, b: string): number => (parseInstant(a) ?? 0) - (parseInstant(b) ?? 0);
    const records = people.flatMap((p) => [p.group.hubspot, p.group.salesforce, ...p.group.convertedLeads]);
    const leads = records.filter((r) => r?.object === 'Lead').map((r) => r?.createdAt ?? '');
    const all = records.map((r) => r?.createdAt).filter((t): t is string => t !== undefined);
    const leadCreatedAt = (leads.length > 0 ? leads : all).sort(byTime)[0];
    out.push({
      ...creditDeal(
        {
          id: deal.dealUnifiedId ?? deal.hubspotDealId ?? deal.salesforceOpportunityId ?? '',
          amount: deal.amount,
          createdAt: deal.createdAt,
          ...(deal.closeDate !== undefined ? { closeDate: deal.closeDate } : {}),
        },
        [...touches.values()],
        {
          model: mapping.attribution.model,
          halfLifeDays: mapping.attribution.time_decay_half_life_days,
          unknownSource: mapping.attribution.unknown_source,
          ...(leadCreatedAt !== undefined ? { leadCreatedAt } : {}),
        },
      ),
      personIds: people.map((p) => p.unified.key),
    });
  }
  return out.sort((a, b) => (a.dealId < b.dealId ? -1 : a.dealId > b.dealId ? 1 : 0));
}
