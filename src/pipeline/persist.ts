// A reconciled batch as customer-view rows (pure), one array per table.

import { createHash } from 'node:crypto';
import type { BatchResult, GroupOutcome } from '../domain/batch.js';
import type { IdentityGroup } from '../domain/identity.js';
import type { SourceRecord } from '../domain/records.js';
import type { UnifiedDeal, UnifiedPerson, UnifiedRecord } from '../domain/reconcile.js';
import { parseInstant } from '../domain/values/coerce.js';
import type {
  AttributionCredit,
  CompanyRecord,
  DealRecord,
  DuplicateReport,
  FieldProvenance,
  PersonRecord,
  RecordLink,
  StageEntry,
  StageName,
  Touchpoint,
} from '../store/customer-view-types.js';
import type { EntityKind } from './contract.js';

export interface ViewRows {
  persons: PersonRecord[];
  companies: CompanyRecord[];
  deals: DealRecord[];
  unifiedIds: string[];
  fieldValues: FieldProvenance[];
  links: RecordLink[];
  duplicates: DuplicateReport[];
  stageEntries: StageEntry[];
  personIds: string[];
  touchpoints: Touchpoint[];
  dealIds: string[];
  credits: AttributionCredit[];
}

function toDate(iso: string | undefined): Date | undefined {
  const ms = parseInstant(iso);
  return ms === undefined ? undefined : new Date(ms);
}

function groupRecords(g: IdentityGroup): SourceRecord[] {
  return [g.hubspot, g.salesforce, ...g.convertedLeads].filter((r): r is SourceRecord => r !== undefined);
}

function createdAt(g: IdentityGroup, fallback: Date): Date {
  let best: number | undefined;
  for (const r of groupRecords(g)) {
    const ms = parseInstant(r.createdAt);
    if (ms !== undefined && (best === undefined || ms < best)) best = ms;
  }
  return best === undefined ? fallback : new Date(best);
}

function values(u: UnifiedRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(u.fields)) out[k] = f.value;
  return out;
}

const str = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : String(v);

function provenance(u: UnifiedRecord, recordType: EntityKind, version: string): FieldProvenance[] {
  const rows: FieldProvenance[] = [];
  for (const [field, f] of Object.entries(u.fields)) {
    const p = f.provenance;
    const changedAt = toDate(p?.changedAt);
    rows.push({
      unifiedId: u.key,
      recordType,
      field,
      value: f.value ?? null,
      sourceSystem: p?.system ?? null,
      sourceObject: p?.object ?? null,
      sourceRecordId: p?.recordId ?? null,
      sourceField: p?.field ?? null,
      changedAt: changedAt ?? null,
      rule: p ? `${p.rule}${p.echo === true ? ' (echo)' : ''}` : 'none',
      mappingVersion: version,
    });
  }
  return rows;
}

function linkRows(g: IdentityGroup, kind: EntityKind): RecordLink[] {
  const linkedBy = g.matchedBy ?? 'link';
  return groupRecords(g).map((r) => ({
    system: r.system,
    object: r.object,
    recordId: r.id,
    unifiedId: g.key,
    recordType: kind,
    linkedBy,
  }));
}

function duplicateRows(g: IdentityGroup, kind: EntityKind, at: Date): DuplicateReport[] {
  return g.duplicates.map((d) => {
    const survivor = d.system === 'hubspot' ? g.hubspot : g.salesforce;
    return {
      system: d.system,
      object: survivor?.object ?? (d.system === 'hubspot' ? 'contacts' : 'Lead'),
      recordIds: [d.survivorId, ...d.duplicateIds],
      survivorRecordId: d.survivorId,
      unifiedId: g.key,
      matchKey: d.sharedKeys.length === 0 ? 'conversion' : kind === 'company' ? 'domain' : 'email',
      rule: d.rule,
      detectedAt: at,
    };
  });
}

function personRows(p: GroupOutcome<UnifiedPerson>, version: string, now: Date): PersonRecord {
  const u = p.unified;
  const email = u.fields['email']?.value;
  return {
    id: u.key,
    email: typeof email === 'string' ? email.trim().toLowerCase() : null,
    lifecycleStage: u.stage,
    leadScore: u.score.total,
    originalSource: u.originalSource?.source ?? null,
    latestSource: u.latestSource?.source ?? null,
    companyId: null,
    fields: values(u),
    mappingVersion: version,
    // Only when set: persons without a time window keep the row fingerprints they had before the column.
    ...(u.reevaluateAt !== undefined ? { reevaluateAt: new Date(u.reevaluateAt) } : {}),
    createdAt: createdAt(p.group, now),
    updatedAt: now,
  };
}

function stageRows(p: GroupOutcome<UnifiedPerson>, previous: StageName | null): StageEntry[] {
  let before = previous;
  return p.unified.stageEntries.map((e) => {
    const row: StageEntry = {
      personId: p.unified.key,
      stage: e.stage,
      enteredAt: toDate(e.enteredAt) ?? new Date(0),
      previousStage: before,
      reason: e.reason,
      rule: e.rule,
    };
    before = e.stage;
    return row;
  });
}

function touchpointRows(p: GroupOutcome<UnifiedPerson>): Touchpoint[] {
  const objects = new Map(groupRecords(p.group).map((r) => [`${r.system}:${r.id}`, r.object]));
  return p.unified.touchpoints.map((t) => ({
    id: t.id,
    personId: p.unified.key,
    source: t.source,
    detail: t.detail ?? null,
    campaign: t.kind === 'campaign' ? (t.detail ?? null) : null,
    occurredAt: toDate(t.occurredAt) ?? new Date(0),
    system: t.system,
    object: t.kind === 'campaign' ? 'CampaignMember' : (objects.get(`${t.system}:${t.recordId}`) ?? null),
    recordId: t.recordId,
  }));
}

/** No rows for any table. */
export function emptyViewRows(): ViewRows {
  return {
    persons: [],
    companies: [],
    deals: [],
    unifiedIds: [],
    fieldValues: [],
    links: [],
    duplicates: [],
    stageEntries: [],
    personIds: [],
    touchpoints: [],
    dealIds: [],
    credits: [],
  };
}

/**
 * Everything a batch result stores. `previousStages` gives each person's stage before this reconcile (to
 * chain `previous_stage`).
 */
export function viewRows(
  kind: EntityKind,
  result: BatchResult,
  version: string,
  now: Date,
  previousStages: ReadonlyMap<string, StageName | null>,
): ViewRows {
  const rows = emptyViewRows();
  const identity = result.identity[kind];
  for (const g of identity?.groups ?? []) {
    rows.links.push(...linkRows(g, kind));
    rows.duplicates.push(...duplicateRows(g, kind, now));
  }
  const touchOwner = new Map<string, string>();
  for (const p of result.persons) {
    rows.persons.push(personRows(p, version, now));
    rows.unifiedIds.push(p.unified.key);
    rows.fieldValues.push(...provenance(p.unified, 'person', version));
    rows.stageEntries.push(...stageRows(p, previousStages.get(p.unified.key) ?? null));
    rows.personIds.push(p.unified.key);
    const tps = touchpointRows(p);
    rows.touchpoints.push(...tps);
    for (const t of tps) touchOwner.set(t.id, t.personId);
  }
  for (const c of result.companies) {
    const u = c.unified;
    const f = values(u);
    rows.companies.push({
      id: u.key,
      name: str(f['name']),
      domain: str(f['domain']),
      fields: f,
      mappingVersion: version,
      createdAt: createdAt(c.group, now),
      updatedAt: now,
    });
    rows.unifiedIds.push(u.key);
    rows.fieldValues.push(...provenance(u, 'company', version));
  }
  for (const d of result.deals) {
    const u: UnifiedDeal = d.unified;
    const f = values(u);
    const amount = typeof f['amount'] === 'number' ? f['amount'] : Number(f['amount'] ?? NaN);
    const close = str(f['close_date']);
    rows.deals.push({
      id: u.key,
      name: str(f['name']),
      amount: Number.isFinite(amount) ? amount : null,
      currency: null,
      stage: str(f['stage']),
      outcome: u.outcome ?? 'open',
      closeDate: close === null ? null : close.slice(0, 10),
      companyId: null,
      fields: f,
      mappingVersion: version,
      createdAt: createdAt(d.group, now),
      updatedAt: now,
    });
    rows.unifiedIds.push(u.key);
    rows.fieldValues.push(...provenance(u, 'deal', version));
  }
  for (const a of result.attribution) {
    rows.dealIds.push(a.dealId);
    // A credit without a touchpoint (the unknown source) is the deal's own first person's.
    const dealPerson = a.personIds[0] ?? '';
    for (const c of a.credits) {
      const touchpointId = c.touchpointId ?? `${a.dealId}:${c.source}`;
      rows.credits.push({
        dealId: a.dealId,
        model: a.model,
        touchpointId,
        personId: (c.touchpointId !== undefined ? touchOwner.get(c.touchpointId) : undefined) ?? dealPerson,
        source: c.source,
        share: c.share,
        credit: c.cents / 100,
        computedAt: now,
      });
    }
  }
  return rows;
}

/**
 * The parts of the view a batch stores (see `view_fingerprints`), each with a hash of its rows: an entity's
 * row, field provenance and (persons) touchpoints as `<kind>:<id>`, a deal's credits as `credits:<id>`.
 * Times that only say when the rows were made (`updatedAt`, `computedAt`) are left out, so the same
 * outcome reconciled again hashes the same.
 */
export function viewFingerprints(kind: EntityKind, rows: ViewRows): Map<string, string> {
  const content = new Map<string, unknown[]>();
  const add = (part: string, row?: unknown): void => {
    let list = content.get(part);
    if (list === undefined) content.set(part, (list = []));
    if (row !== undefined) list.push(row);
  };
  for (const e of [...rows.persons, ...rows.companies, ...rows.deals])
    add(`${kind}:${e.id}`, { ...e, updatedAt: 0 });
  for (const id of [...rows.unifiedIds, ...rows.personIds]) add(`${kind}:${id}`);
  for (const f of rows.fieldValues) add(`${kind}:${f.unifiedId}`, f);
  for (const t of rows.touchpoints) add(`${kind}:${t.personId}`, t);
  for (const id of rows.dealIds) add(`credits:${id}`);
  for (const c of rows.credits) add(`credits:${c.dealId}`, { ...c, computedAt: 0 });
  const out = new Map<string, string>();
  for (const [part, list] of content)
    out.set(part, createHash('sha1').update(JSON.stringify(list)).digest('base64'));
  return out;
}

/** The rows of these parts only (`viewFingerprints`); links, duplicates and stage entries are kept whole. */
export function rowsOfParts(kind: EntityKind, rows: ViewRows, parts: ReadonlySet<string>): ViewRows {
  const entity = (id: string): boolean => parts.has(`${kind}:${id}`);
  return {
    ...rows,
    persons: rows.persons.filter((p) => entity(p.id)),
    companies: rows.companies.filter((c) => entity(c.id)),
    deals: rows.deals.filter((d) => entity(d.id)),
    unifiedIds: rows.unifiedIds.filter(entity),
    fieldValues: rows.fieldValues.filter((f) => entity(f.unifiedId)),
    personIds: rows.personIds.filter(entity),
    touchpoints: rows.touchpoints.filter((t) => entity(t.personId)),
    dealIds: rows.dealIds.filter((id) => parts.has(`credits:${id}`)),
    credits: rows.credits.filter((c) => parts.has(`credits:${c.dealId}`)),
  };
}
