import type { LifecycleStage, Mapping, System } from './mapping/schema.js';
import { compileMapping, type CompiledMapping } from './compiled.js';
import { atStage, evaluate, type ConditionFacts } from './conditions.js';
import {
  addExtra,
  planFieldsForCreate,
  planFieldUpdates,
  resolveSalesforceRef,
  type Sink,
  type TargetSchemaHints,
} from './field-sync.js';
import { salesforceIdKey, type IdentityGroup } from './identity.js';
import { decideStage, type StageEntry, type StageInput } from './lifecycle.js';
import {
  forEachMerge,
  mergeFields,
  WrittenKeys,
  type FieldMerge,
  type LastWritten,
  type MergeResult,
  type MergeSides,
  type UnifiedField,
} from './merge.js';
import type { FieldProblem, Warning } from './problems.js';
import { valueHash } from './hash.js';
import {
  type CampaignMembership,
  type DealFact,
  type DealOutcome,
  type ObjectName,
  type SourceRecord,
} from './records.js';
import { scorePerson, type LeadScore } from './score.js';
import { collectTouchpoints, type Touchpoint, type TouchpointInput } from './attribution.js';
import { parseInstant } from './values/coerce.js';
import { nextReevaluation } from './reevaluation.js';
import type { CompiledField } from './values/field-codec.js';
import type { FieldWrite, RecordWrite, WritePlan } from './write-plan.js';

/** What every reconcile needs besides the records: the time, Tandem's own last writes, target limits. */
export interface ReconcileContext {
  now: string;
  lastWritten?: LastWritten;
  targetHints?: TargetSchemaHints;
}

export interface StageState {
  stage: LifecycleStage | null;
  history: readonly StageEntry[];
}

export interface PersonContext extends ReconcileContext {
  previousStage?: StageState;
  /** Deals the person is on (filtered here by the person's record ids). */
  deals?: readonly DealFact[];
  /** Campaign memberships (filtered here by the person's Salesforce ids). */
  campaignMemberships?: readonly CampaignMembership[];
}

/** The records of one entity, as identity resolution grouped them. */
export type EntityRecords = Pick<IdentityGroup, 'key' | 'hubspot' | 'salesforce' | 'convertedLeads'> &
  Partial<Pick<IdentityGroup, 'unresolved'>>;

export interface UnifiedRecord {
  key: string;
  fields: Record<string, UnifiedField>;
  mappingVersion: string;
  records: { hubspot?: string; salesforce?: { object: ObjectName; id: string } };
}

export interface UnifiedPerson extends UnifiedRecord {
  stage: LifecycleStage | null;
  stageReason?: string;
  /** Entries this reconcile adds to the stage history. */
  stageEntries: StageEntry[];
  score: LeadScore;
  /**
   * When one of the mapping's `changed_within_days` windows next closes for this person (ISO), absent when
   * none is open: the person is reconciled again then, though no record changed (`reevaluation.ts`).
   */
  reevaluateAt?: string;
  touchpoints: Touchpoint[];
  originalSource?: Touchpoint;
  latestSource?: Touchpoint;
  converted: boolean;
  hasOpenDeal: boolean;
  hasWonDeal: boolean;
}

export interface UnifiedDeal extends UnifiedRecord {
  outcome?: DealOutcome;
}

export interface ReconcileResult<U extends UnifiedRecord> {
  unified: U;
  plan: WritePlan;
  problems: FieldProblem[];
  warnings: Warning[];
  /**
   * `${system}:${recordId}:${field}` → hash of the value each record will hold once the plan is applied
   * (what it holds now, or what Tandem writes) — for `newest` fields and every planned write. Store it as
   * the next `lastWritten` (merged into the previous one): a value still equal
   * to it carries no change of its own, which matters for Salesforce, whose only change time is the
   * record's — bumped by Tandem's own writes to other fields.
   */
  synced: Map<string, string>;
}

/**
 * The held values of `newest` fields, split by whether they may be stored now. A field no write touches
 * on an entity with records in both systems is in step: its values go to `synced`. A field being written is in step only once that write
 * succeeds: the values the other records hold travel with the write (`FieldWrite.heldElsewhere`), so a
 * failed write never turns the winning side's real change into what looks like Tandem's own echo.
 */
function syncedHashes(records: EntityRecords, merge: MergeResult, plan: WritePlan): Map<string, string> {
  const twoSided = records.hubspot !== undefined && records.salesforce !== undefined;
  const out = new Map<string, string>();
  const keys = new WrittenKeys();
  // Echoes only ever decide `newest`, so only those fields' held values need remembering.
  forEachMerge(merge, (fm, name) => {
    if (fm.unified.provenance?.rule !== 'newest') return;
    // A plan has a handful of writes: scanning them per field is cheaper than indexing them.
    let written = false;
    for (const w of plan.writes)
      for (const f of w.fields) {
        if (f.unifiedField !== name) continue;
        written = true;
        const held = heldElsewhere(fm, w, keys);
        if (held !== undefined) f.heldElsewhere = held;
      }
    if (written) return;
    // An entity with a record in one system only is in step with nothing: remembering its values would
    // make them look like Tandem's own once the other system's record appears, and the older side would win.
    if (!twoSided) return;
    const h = fm.hubspot;
    if (h) out.set(keys.key('hubspot', h.record.id, h.field), valueHash(h.raw));
    const s = fm.salesforce;
    if (s) out.set(keys.key('salesforce', s.record.id, s.field), valueHash(s.raw));
  });
  for (const w of plan.writes) {
    if (w.action !== 'update' || w.recordId === undefined) continue;
    for (const f of w.fields) out.set(keys.key(w.system, w.recordId, f.field), f.hash);
  }
  return out;
}

/** What the entity's other records hold for a field `w` writes (`FieldWrite.heldElsewhere`), if any. */
function heldElsewhere(
  fm: FieldMerge,
  w: RecordWrite,
  keys: WrittenKeys,
): Record<string, string> | undefined {
  let held: Record<string, string> | undefined;
  const h = fm.hubspot;
  if (h && !(h.system === w.system && h.record.id === w.recordId)) {
    held = {};
    held[keys.key(h.system, h.record.id, h.field)] = valueHash(h.raw);
  }
  const s = fm.salesforce;
  if (s && !(s.system === w.system && s.record.id === w.recordId)) {
    held ??= {};
    held[keys.key(s.system, s.record.id, s.field)] = valueHash(s.raw);
  }
  return held;
}

const NO_WRITES: LastWritten = new Map();

const HUBSPOT_LIFECYCLE_ORDER = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];

function isConvertedLead(record: SourceRecord | undefined): boolean {
  return (
    record !== undefined &&
    record.object === 'Lead' &&
    (record.fields['IsConverted'] === true || record.fields['IsConverted'] === 'true')
  );
}

function unifiedValues(merge: MergeResult): Record<string, UnifiedField['value']> {
  const out: Record<string, UnifiedField['value']> = {};
  for (const k in merge.fields) out[k] = (merge.fields[k] as UnifiedField).value;
  return out;
}

function recordsOf(group: EntityRecords): UnifiedRecord['records'] {
  const out: UnifiedRecord['records'] = {};
  if (group.hubspot) out.hubspot = group.hubspot.id;
  if (group.salesforce) out.salesforce = { object: group.salesforce.object, id: group.salesforce.id };
  return out;
}

interface CreateSpec {
  system: System;
  object: ObjectName;
  allowed: boolean;
}

interface PlanInput {
  group: EntityRecords;
  fields: readonly CompiledField[];
  merge: MergeResult;
  context: ReconcileContext;
  sink: Sink;
  /**
   * Appends the writes of Tandem's own values a target (absent on create) needs, per (system, object):
   * stage, score, sources, cross-references.
   */
  extras: (
    writes: FieldWrite[],
    system: System,
    target: SourceRecord | undefined,
    object: ObjectName,
    counterpart: SourceRecord | undefined,
  ) => void;
  creates: CreateSpec[];
  /** The counterpart's cross-reference field for a record created in (system, object). */
  linkBack: (system: System, object: ObjectName) => string | undefined;
}

/** Updates for the records that exist, creates for the side that is missing (when policy allows). */
function buildPlan(input: PlanInput): WritePlan {
  const { group, fields, merge, context, sink } = input;
  const writes: RecordWrite[] = [];
  const hints = context.targetHints;
  const targets: SourceRecord[] = [];
  if (group.hubspot) targets.push(group.hubspot);
  if (group.salesforce) {
    if (isConvertedLead(group.salesforce)) {
      sink.warnings.push({
        code: 'converted_lead_not_written',
        message: `Lead ${group.salesforce.id} is converted and cannot be updated; its Contact is not in this batch`,
        system: 'salesforce',
        object: 'Lead',
        recordId: group.salesforce.id,
      });
    } else targets.push(group.salesforce);
  }
  for (const target of targets) {
    const other = target.system === 'hubspot' ? group.salesforce : group.hubspot;
    const fieldWrites = planFieldUpdates(fields, merge, target, hints, sink);
    input.extras(fieldWrites, target.system, target, target.object, other);
    if (fieldWrites.length > 0) {
      writes.push({
        action: 'update',
        system: target.system,
        object: target.object,
        recordId: target.id,
        entityKey: group.key,
        fields: fieldWrites,
      });
    }
  }
  for (const create of input.creates) {
    if (!create.allowed) continue;
    const existing = create.system === 'hubspot' ? group.hubspot : group.salesforce;
    if (existing) continue;
    const counterpart = create.system === 'hubspot' ? group.salesforce : group.hubspot;
    if (!counterpart) continue;
    if ((group.unresolved ?? []).some((u) => u.system === create.system)) {
      sink.warnings.push({
        code: 'create_skipped',
        message: `${group.key}: not created in ${create.system}: a link or cross-reference names a record not in this batch`,
        system: create.system,
      });
      continue;
    }
    const mapped = planFieldsForCreate(fields, merge, create.system, create.object, group.key, hints, sink);
    if (!mapped) continue;
    input.extras(mapped, create.system, undefined, create.object, counterpart);
    const linkBack = input.linkBack(create.system, create.object);
    writes.push({
      action: 'create',
      system: create.system,
      object: create.object,
      entityKey: group.key,
      counterpart: { system: counterpart.system, object: counterpart.object, id: counterpart.id },
      ...(linkBack !== undefined ? { linkBack: { field: linkBack } } : {}),
      fields: mapped,
    });
  }
  return { writes };
}

function linkBackField(
  mapping: Mapping,
  kind: 'person' | 'company' | 'deal',
  system: System,
  object: ObjectName,
): string | undefined {
  const x = mapping.objects[kind]?.identity.cross_reference;
  if (!x) return undefined;
  if (system === 'hubspot') return x.salesforce_field_for_hubspot_id;
  if (kind === 'company') return x.hubspot_property_for_account_id;
  if (kind === 'deal') return x.hubspot_property_for_opportunity_id;
  return object === 'Lead' ? x.hubspot_property_for_lead_id : x.hubspot_property_for_contact_id;
}

function addCrossReference(
  writes: FieldWrite[],
  mapping: Mapping,
  kind: 'person' | 'company' | 'deal',
  system: System,
  target: SourceRecord | undefined,
  counterpart: SourceRecord | undefined,
): void {
  if (!counterpart) return;
  const objectMapping = mapping.objects[kind];
  if (!objectMapping) return;
  const x = objectMapping.identity.cross_reference;
  if (system === 'salesforce') {
    const f = x.salesforce_field_for_hubspot_id;
    if (f !== undefined) addExtra(writes, system, target, f, counterpart.id, hubspotIdReason, kind);
    return;
  }
  const prop =
    kind === 'company'
      ? x.hubspot_property_for_account_id
      : kind === 'deal'
        ? x.hubspot_property_for_opportunity_id
        : counterpart.object === 'Lead'
          ? x.hubspot_property_for_lead_id
          : x.hubspot_property_for_contact_id;
  if (prop !== undefined) {
    addExtra(writes, system, target, prop, counterpart.id, salesforceIdReason, counterpart.object, true);
  }
}

const hubspotIdReason = (kind: string): string => `cross-reference: HubSpot id of ${group(kind)}`;
const salesforceIdReason = (object: ObjectName): string => `cross-reference: Salesforce ${object} id`;

const group = (kind: string): string => (kind === 'person' ? 'the contact' : `the ${kind}`);

function failed<U extends UnifiedRecord>(unified: U, sink: Sink): ReconcileResult<U> {
  return {
    unified,
    plan: { writes: [] },
    problems: sink.problems,
    warnings: sink.warnings,
    synced: new Map(),
  };
}

function personDeals(
  sfIds: readonly string[],
  hubspot: SourceRecord | undefined,
  deals: readonly DealFact[],
): DealFact[] {
  if (deals.length === 0) return [];
  return deals.filter(
    (d) =>
      (hubspot !== undefined && (d.contactIds.hubspot ?? []).includes(hubspot.id)) ||
      (d.contactIds.salesforce ?? []).some((id) => sfIds.includes(salesforceIdKey(id))),
  );
}

function earliest(values: ReadonlyArray<string | undefined>): string | undefined {
  let best: string | undefined;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const v of values) {
    const ms = parseInstant(v);
    if (ms !== undefined && ms < bestMs) {
      bestMs = ms;
      best = v;
    }
  }
  return best;
}

/**
 * One person: merge fields, score, decide the stage, collect touchpoints, and plan the writes that make
 * both systems show the result. A record with a problem (e.g. an unmapped picklist value) fails alone:
 * its plan is empty and the problems say why.
 */
export function reconcilePerson(
  records: EntityRecords,
  mapping: Mapping,
  context: PersonContext,
): ReconcileResult<UnifiedPerson> {
  const compiled = compileMapping(mapping);
  const lastWritten = context.lastWritten ?? NO_WRITES;
  const convertedLead = records.convertedLeads[0];
  const sides: MergeSides = {};
  if (records.hubspot) sides.hubspot = records.hubspot;
  if (records.salesforce) sides.salesforce = records.salesforce;
  if (convertedLead) sides.convertedLead = convertedLead;
  const merge = mergeFields(compiled.person, sides, lastWritten);
  const sink: Sink = { problems: merge.problems, warnings: merge.warnings };
  const sfRecords: SourceRecord[] = [];
  if (records.salesforce) sfRecords.push(records.salesforce);
  for (const lead of records.convertedLeads) sfRecords.push(lead);
  const converted = sfRecords.some(isConvertedLead);
  // One or two ids: a list is cheaper than a set.
  const sfIds = sfRecords.map((r) => salesforceIdKey(r.id));
  const deals = personDeals(sfIds, records.hubspot, context.deals ?? []);
  const openDeals = deals.filter((d) => d.outcome === 'open');
  const wonDeals = deals.filter((d) => d.outcome === 'won');
  const nowMs = parseInstant(context.now);
  const facts: ConditionFacts = {
    fields: unifiedValues(merge),
    changedAt: merge.changedAt,
    score: undefined,
    converted,
    hasOpenDeal: openDeals.length > 0,
    hasWonDeal: wonDeals.length > 0,
    stage: undefined,
    now: nowMs,
  };
  const score = scorePerson(mapping.score, facts, compiled);
  facts.score = score;
  const previous = context.previousStage ?? { stage: null, history: [] };
  const convertedAt = earliest(
    sfRecords.map((r) =>
      typeof r.fields['ConvertedDate'] === 'string' ? r.fields['ConvertedDate'] : undefined,
    ),
  );
  const opportunityAt = earliest(deals.map((d) => d.createdAt));
  const customerAt = earliest(wonDeals.map((d) => d.closeDate ?? d.createdAt));
  const evidenceAt: StageInput['evidenceAt'] = {};
  if (convertedAt !== undefined) evidenceAt.sql = convertedAt;
  if (opportunityAt !== undefined) evidenceAt.opportunity = opportunityAt;
  if (customerAt !== undefined) evidenceAt.customer = customerAt;
  const decision = decideStage(
    mapping.lifecycle,
    { previous: previous.stage, history: previous.history, facts, now: context.now, evidenceAt },
    compiled,
  );
  const memberships = (context.campaignMemberships ?? []).filter((m) =>
    sfIds.includes(salesforceIdKey(m.personId)),
  );
  const touchInput: TouchpointInput = { salesforce: sfRecords, campaignMemberships: memberships };
  if (records.hubspot) touchInput.hubspot = records.hubspot;
  const touchpoints = collectTouchpoints(touchInput, compiled);
  // `collectTouchpoints` hands them over in time order: the original source is the first, the latest the last.
  const first = touchpoints[0];
  const latest = touchpoints.at(-1);
  const reevaluateAt = nextReevaluation(compiled.personTimeWindows, merge.changedAt, nowMs);
  const unified: UnifiedPerson = {
    key: records.key,
    fields: merge.fields,
    mappingVersion: mapping.version,
    records: recordsOf(records),
    stage: decision.stage,
    ...(decision.reason !== undefined ? { stageReason: decision.reason } : {}),
    stageEntries: decision.entries,
    score,
    ...(reevaluateAt !== undefined ? { reevaluateAt } : {}),
    touchpoints,
    ...(first ? { originalSource: first } : {}),
    ...(latest ? { latestSource: latest } : {}),
    converted,
    hasOpenDeal: openDeals.length > 0,
    hasWonDeal: wonDeals.length > 0,
  };
  if (sink.problems.length > 0) return failed(unified, sink);

  const lastEntry = decision.entries.at(-1) ?? previous.history.at(-1);
  const movedBackByRule =
    lastEntry !== undefined &&
    (lastEntry.rule.startsWith('recycle[') || lastEntry.rule.startsWith('disqualify['));
  const extras = (
    writes: FieldWrite[],
    system: System,
    target: SourceRecord | undefined,
    object: ObjectName,
    counterpart: SourceRecord | undefined,
  ): void =>
    addPersonExtras(
      writes,
      mapping,
      unified,
      system,
      target,
      object,
      counterpart,
      movedBackByRule,
      records.hubspot,
      sink,
    );

  const createPolicy = mapping.objects.person.create;
  const stageFacts = atStage(facts, decision.stage);
  const createAllowed =
    createPolicy.only_when === undefined || evaluate(createPolicy.only_when, stageFacts, compiled);
  const sfObject: ObjectName = createPolicy.in_salesforce === 'Contact' ? 'Contact' : 'Lead';
  const plan = buildPlan({
    group: records,
    fields: compiled.person,
    merge,
    context,
    sink,
    extras,
    linkBack: (system, object) => linkBackField(mapping, 'person', system, object),
    creates: [
      { system: 'hubspot', object: 'contacts', allowed: createPolicy.in_hubspot && createAllowed },
      {
        system: 'salesforce',
        object: sfObject,
        allowed: createPolicy.in_salesforce !== false && createAllowed,
      },
    ],
  });
  if (sink.problems.length > 0) return failed(unified, sink);
  return {
    unified,
    plan,
    problems: sink.problems,
    warnings: sink.warnings,
    synced: syncedHashes(records, merge, plan),
  };
}

// The reasons of Tandem's own values, built only for a write that is kept.
const stageReason = (p: UnifiedPerson): string => `lifecycle stage: ${p.stageReason ?? String(p.stage)}`;
const stageReasonReason = (p: UnifiedPerson): string => `reason for stage ${String(p.stage)}`;
const hubspotStageReason = (p: UnifiedPerson): string => `lifecycle stage ${String(p.stage)}`;
const hubspotStageBackReason = (p: UnifiedPerson): string =>
  `lifecycle stage ${String(p.stage)} (moved back by rule: clear, then set)`;
const scoreReason = (p: UnifiedPerson): string =>
  `lead score ${p.score.fit} fit + ${p.score.engagement} engagement`;
const originalSourceReason = (t: Touchpoint): string => `original source: earliest touchpoint ${t.id}`;
const latestSourceReason = (t: Touchpoint): string => `latest source: last touchpoint ${t.id}`;

function addPersonExtras(
  writes: FieldWrite[],
  mapping: Mapping,
  person: UnifiedPerson,
  system: System,
  target: SourceRecord | undefined,
  object: ObjectName,
  counterpart: SourceRecord | undefined,
  movedBackByRule: boolean,
  hubspot: SourceRecord | undefined,
  sink: Sink,
): void {
  const hs = system === 'hubspot';
  const lw = mapping.lifecycle.writeback;
  const stage = person.stage;
  if (stage !== null) {
    const f = hs ? lw.hubspot_property : resolveSalesforceRef(lw.salesforce_field, object);
    if (f !== undefined) addExtra(writes, system, target, f, stage, stageReason, person);
    const r = hs ? lw.reason_hubspot_property : resolveSalesforceRef(lw.reason_salesforce_field, object);
    if (r !== undefined && person.stageReason !== undefined) {
      addExtra(writes, system, target, r, person.stageReason, stageReasonReason, person);
    }
    const hsStage = lw.hubspot_lifecyclestage?.[stage];
    if (hs && hsStage !== undefined) {
      const current = hubspot?.fields['lifecyclestage'];
      const from = typeof current === 'string' ? HUBSPOT_LIFECYCLE_ORDER.indexOf(current) : -1;
      const to = HUBSPOT_LIFECYCLE_ORDER.indexOf(hsStage);
      const backwards = from >= 0 && to >= 0 && to < from;
      if (!backwards || movedBackByRule) {
        const why = backwards ? hubspotStageBackReason : hubspotStageReason;
        addExtra(writes, system, target, 'lifecyclestage', hsStage, why, person, undefined, backwards);
        if (backwards && current !== hsStage) {
          sink.warnings.push({
            code: 'lifecyclestage_clear_first',
            message: `HubSpot contact ${hubspot?.id ?? ''}: lifecyclestage moves back from ${String(current)} to ${hsStage}; cleared first`,
            system: 'hubspot',
            object: 'contacts',
            ...(hubspot ? { recordId: hubspot.id } : {}),
            field: 'lifecyclestage',
          });
        }
      }
    }
  }
  const sw = mapping.score.writeback;
  const sf = hs ? sw.hubspot_property : resolveSalesforceRef(sw.salesforce_field, object);
  if (sf !== undefined) addExtra(writes, system, target, sf, person.score.total, scoreReason, person);
  const aw = mapping.attribution.writeback;
  const o = hs ? aw.hubspot_original_source : resolveSalesforceRef(aw.salesforce_original_source, object);
  const original = person.originalSource;
  if (o !== undefined && original) {
    addExtra(writes, system, target, o, original.source, originalSourceReason, original);
  }
  const l = hs ? aw.hubspot_latest_source : resolveSalesforceRef(aw.salesforce_latest_source, object);
  const latest = person.latestSource;
  if (l !== undefined && latest)
    addExtra(writes, system, target, l, latest.source, latestSourceReason, latest);
  addCrossReference(writes, mapping, 'person', system, target, counterpart);
}

function reconcileRecord(
  kind: 'company' | 'deal',
  records: EntityRecords,
  mapping: Mapping,
  context: ReconcileContext,
  compiled: CompiledMapping,
  fields: readonly CompiledField[],
  hsObject: ObjectName,
  sfObject: ObjectName,
): { merge: MergeResult; result: ReconcileResult<UnifiedRecord> } {
  const merge = mergeFields(
    fields,
    {
      ...(records.hubspot ? { hubspot: records.hubspot } : {}),
      ...(records.salesforce ? { salesforce: records.salesforce } : {}),
    },
    context.lastWritten ?? NO_WRITES,
  );
  const sink: Sink = { problems: merge.problems, warnings: merge.warnings };
  const unified: UnifiedRecord = {
    key: records.key,
    fields: merge.fields,
    mappingVersion: mapping.version,
    records: recordsOf(records),
  };
  if (sink.problems.length > 0) return { merge, result: failed(unified, sink) };
  const objectMapping = mapping.objects[kind];
  const policy = objectMapping?.create;
  const facts: ConditionFacts = { fields: unifiedValues(merge) };
  const allowed =
    policy !== undefined && (policy.only_when === undefined || evaluate(policy.only_when, facts, compiled));
  const extrasFor = (
    writes: FieldWrite[],
    system: System,
    target: SourceRecord | undefined,
    _object: ObjectName,
    counterpart: SourceRecord | undefined,
  ): void => {
    addCrossReference(writes, mapping, kind, system, target, counterpart);
    if (kind === 'deal') addDealExtras(writes, mapping, system, target, merge, records.hubspot === undefined);
  };
  const plan = buildPlan({
    group: records,
    fields,
    merge,
    context,
    sink,
    extras: extrasFor,
    linkBack: (system, object) => linkBackField(mapping, kind, system, object),
    creates: [
      { system: 'hubspot', object: hsObject, allowed: allowed && (policy?.in_hubspot ?? false) },
      { system: 'salesforce', object: sfObject, allowed: allowed && policy?.in_salesforce !== false },
    ],
  });
  if (sink.problems.length > 0) return { merge, result: failed(unified, sink) };
  return {
    merge,
    result: {
      unified,
      plan,
      problems: sink.problems,
      warnings: sink.warnings,
      synced: syncedHashes(records, merge, plan),
    },
  };
}

/** A new HubSpot deal needs its pipeline: the one whose stages include the unified stage. */
function addDealExtras(
  writes: FieldWrite[],
  mapping: Mapping,
  system: System,
  target: SourceRecord | undefined,
  merge: MergeResult,
  creatingInHubspot: boolean,
): void {
  if (system !== 'hubspot' || !creatingInHubspot) return;
  const stageField = mapping.objects.deal?.fields.find((f) => f.hubspot === 'dealstage');
  const stage = stageField ? merge.fields[stageField.name]?.value : undefined;
  const pipeline = mapping.objects.deal?.pipelines.find((p) => p.stages.some((s) => s.hubspot === stage));
  if (pipeline) addExtra(writes, system, target, 'pipeline', pipeline.hubspot_pipeline, pipelineReason, null);
}

const pipelineReason = (): string => 'deal pipeline for its stage';

export function reconcileCompany(
  records: EntityRecords,
  mapping: Mapping,
  context: ReconcileContext,
): ReconcileResult<UnifiedRecord> {
  const compiled = compileMapping(mapping);
  return reconcileRecord(
    'company',
    records,
    mapping,
    context,
    compiled,
    compiled.company,
    'companies',
    'Account',
  ).result;
}

/** Deal stage ⇄ StageName through the pipeline map; the outcome (open, won, lost) follows the stage. */
export function reconcileDeal(
  records: EntityRecords,
  mapping: Mapping,
  context: ReconcileContext,
): ReconcileResult<UnifiedDeal> {
  const compiled = compileMapping(mapping);
  const { merge, result } = reconcileRecord(
    'deal',
    records,
    mapping,
    context,
    compiled,
    compiled.deal,
    'deals',
    'Opportunity',
  );
  const stageField = mapping.objects.deal?.fields.find(
    (f) => f.hubspot === 'dealstage' || f.salesforce === 'StageName',
  );
  const stage = stageField ? merge.fields[stageField.name]?.value : undefined;
  const outcome = typeof stage === 'string' ? compiled.dealOutcome(stage) : undefined;
  return { ...result, unified: { ...result.unified, ...(outcome ? { outcome } : {}) } };
}
