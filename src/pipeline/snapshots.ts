// SourceRecord ⇄ source snapshot (tandem.source_records), and the identity keys reconcile uses to load a
// batch's closure. Pure.
//
// `cross_references` holds every *key* a snapshot can be found by besides its emails: its own key, the
// other system's ids it names (cross-reference fields, converted-lead ids) and, for HubSpot deals and the
// Salesforce link objects (OpportunityContactRole, CampaignMember), the person/deal keys they connect.
// Salesforce ids are kept in their 15-character form so 15- and 18-character references meet.

import { createHash } from 'node:crypto';
import { canonicalValue } from '../domain/hash.js';
import { normaliseDomain, normaliseEmail, salesforceIdKey } from '../domain/identity.js';
import type { Mapping, System } from '../domain/mapping/schema.js';
import type { ObjectName, RawValue, SourceRecord } from '../domain/records.js';
import type { SourceSnapshot } from '../store/customer-view-types.js';
import { kindOf } from './fields.js';

/** Where Tandem keeps what it needs besides the CRM's own fields inside `properties`. */
export const META_KEY = '$tandem';

export interface SnapshotMeta {
  createdAt: string;
  modifiedAt: string;
  fieldChangedAt?: Record<string, string>;
  fieldPrevious?: SourceRecord['fieldPrevious'];
  /** HubSpot deals: the contacts and companies they are associated with. */
  associations?: { contacts: string[]; companies: string[] };
}

/** A pulled row that is not one of the synced objects (OpportunityContactRole, CampaignMember, Campaign). */
export interface RelatedRow {
  system: System;
  object: string;
  id: string;
  fields: Record<string, RawValue>;
  createdAt: string;
  modifiedAt: string;
  archived?: boolean;
}

export function keyOf(system: System, id: string): string {
  return system === 'salesforce' ? salesforceIdKey(id) : id;
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * The keys a record is matched through (its own, and the ids of the other system it names as the same
 * entity). Closure loading follows these; associations are not identity and are left out.
 */
export function identityKeys(
  record: Pick<SourceRecord, 'system' | 'object' | 'id' | 'fields'>,
  mapping: Mapping,
): string[] {
  const keys = new Set<string>([keyOf(record.system, record.id)]);
  const kind = kindOf(record.object);
  if (kind === undefined) return [...keys];
  const objectMapping = mapping.objects[kind];
  const x = objectMapping?.identity.cross_reference;
  const addSf = (v: unknown): void => {
    const id = idText(v);
    if (id !== undefined) keys.add(salesforceIdKey(id));
  };
  const addHs = (v: unknown): void => {
    const id = idText(v);
    if (id !== undefined) keys.add(id);
  };
  if (x !== undefined) {
    if (record.system === 'hubspot') {
      for (const f of [
        x.hubspot_property_for_contact_id,
        x.hubspot_property_for_lead_id,
        x.hubspot_property_for_account_id,
        x.hubspot_property_for_opportunity_id,
      ]) {
        if (f !== undefined) addSf(record.fields[f]);
      }
    } else if (x.salesforce_field_for_hubspot_id !== undefined) {
      addHs(record.fields[x.salesforce_field_for_hubspot_id]);
    }
  }
  if (
    record.object === 'Lead' &&
    (record.fields['IsConverted'] === true || record.fields['IsConverted'] === 'true')
  ) {
    addSf(record.fields['ConvertedContactId']);
  }
  return [...keys];
}

/** Normalised emails (persons, primary first) or domains (companies): the `emails` column. */
export function matchKeys(record: SourceRecord, mapping: Mapping): string[] {
  const kind = kindOf(record.object);
  if (kind === 'person') {
    const person = mapping.objects.person;
    const emailField = person.fields.find((f) => f.type === 'email');
    const field =
      record.system === 'hubspot'
        ? emailField?.hubspot
        : typeof emailField?.salesforce === 'string'
          ? emailField.salesforce
          : record.object === 'Lead'
            ? emailField?.salesforce?.Lead
            : emailField?.salesforce?.Contact;
    const out: string[] = [];
    const push = (v: string | undefined): void => {
      if (v !== undefined && !out.includes(v)) out.push(v);
    };
    if (field !== undefined) push(normaliseEmail(record.fields[field]));
    const secondary =
      record.system === 'hubspot'
        ? [person.identity.secondary_emails.hubspot]
        : (person.identity.secondary_emails.salesforce ?? []);
    for (const f of secondary) {
      const raw = f === undefined ? undefined : record.fields[f];
      if (typeof raw === 'string') for (const part of raw.split(/[;,]/)) push(normaliseEmail(part));
    }
    return out;
  }
  if (kind === 'company') {
    const company = mapping.objects.company;
    const field = company?.fields.find((f) => f.name === 'domain' || f.hubspot === 'domain');
    const name = record.system === 'hubspot' ? field?.hubspot : field?.salesforce;
    const domain = typeof name === 'string' ? normaliseDomain(record.fields[name]) : undefined;
    return domain === undefined ? [] : [domain];
  }
  return [];
}

function relatedKeys(row: RelatedRow): string[] {
  const keys = new Set<string>([keyOf(row.system, row.id)]);
  for (const f of ['OpportunityId', 'ContactId', 'LeadId', 'CampaignId']) {
    const id = idText(row.fields[f]);
    if (id !== undefined) keys.add(salesforceIdKey(id));
  }
  return [...keys];
}

/**
 * The fields every write moves by itself (the CRM's modification stamps): not part of what a record holds.
 * A record's reconcile reads its times from the snapshot's meta, never from these values.
 */
const STAMP_FIELDS: Readonly<Record<System, ReadonlySet<string>>> = {
  hubspot: new Set(['lastmodifieddate', 'hs_lastmodifieddate']),
  salesforce: new Set([
    'LastModifiedDate',
    'SystemModstamp',
    'LastModifiedById',
    'LastViewedDate',
    'LastReferencedDate',
  ]),
};

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** One value as the CRMs may send it back: `42` and `'42'`, `''` and null, `+0000` and `Z` alike. */
function heldValue(value: unknown): string {
  const text = canonicalValue(value);
  if (ISO_DATETIME.test(text)) {
    const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  return text;
}

/**
 * What a record holds as far as its reconcile is concerned: its field values (not the modification
 * stamps), the value each field's history says the latest change replaced (an edit Tandem's write
 * overwrote shows there), a HubSpot deal's associations and the deletion mark — and not the change times,
 * which differ between Tandem's write and its echo. `salt` names the mapping the reconcile ran with.
 *
 * A reconcile stores, per record, this hash of the record as its planned writes will leave it
 * (`source_records.reconciled_hash`); a pull that reads a record back holding exactly that (the echo of
 * Tandem's own writes, or the record read again unchanged) does not reconcile it again.
 */
export function reconcileHash(snapshot: SourceSnapshot, salt: string): string {
  const stamps = STAMP_FIELDS[snapshot.system];
  const fields: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(snapshot.properties)) {
    if (k === META_KEY || stamps.has(k)) continue;
    // A blank field and one the read did not return are alike (a read-back asks for fewer properties).
    const held = heldValue(v);
    if (held !== '') fields.push([k, held]);
  }
  fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const meta = snapshot.properties[META_KEY] as Partial<SnapshotMeta> | undefined;
  const replaced = Object.entries(meta?.fieldPrevious ?? {})
    .map(([k, p]): [string, string] => [k, heldValue(p.value)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const associations = meta?.associations;
  return createHash('sha256')
    .update(
      JSON.stringify([
        salt,
        snapshot.deleted,
        fields,
        replaced,
        associations === undefined
          ? null
          : [[...associations.contacts].sort(), [...associations.companies].sort()],
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

export function contentHash(properties: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalValue(properties)).digest('hex').slice(0, 32);
}

function toDate(iso: string | undefined): Date | null {
  if (iso === undefined || iso === '') return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export function recordToSnapshot(
  record: SourceRecord,
  mapping: Mapping,
  pulledAt: Date,
  associations?: SnapshotMeta['associations'],
): SourceSnapshot {
  const meta: SnapshotMeta = {
    createdAt: record.createdAt,
    modifiedAt: record.modifiedAt,
    ...(record.fieldChangedAt !== undefined ? { fieldChangedAt: record.fieldChangedAt } : {}),
    ...(record.fieldPrevious !== undefined ? { fieldPrevious: record.fieldPrevious } : {}),
    ...(associations !== undefined ? { associations } : {}),
  };
  const properties: Record<string, unknown> = { ...record.fields, [META_KEY]: meta };
  const keys = new Set(identityKeys(record, mapping));
  for (const id of associations?.contacts ?? []) keys.add(id);
  for (const id of associations?.companies ?? []) keys.add(id);
  return {
    system: record.system,
    object: record.object,
    recordId: record.id,
    properties,
    emails: matchKeys(record, mapping),
    crossReferences: [...keys],
    modifiedAt: toDate(record.modifiedAt),
    contentHash: contentHash(properties),
    deleted: record.archived === true,
    pulledAt,
  };
}

export function relatedToSnapshot(row: RelatedRow, pulledAt: Date): SourceSnapshot {
  const meta: SnapshotMeta = { createdAt: row.createdAt, modifiedAt: row.modifiedAt };
  const properties: Record<string, unknown> = { ...row.fields, [META_KEY]: meta };
  return {
    system: row.system,
    object: row.object,
    recordId: row.id,
    properties,
    emails: [],
    crossReferences: relatedKeys(row),
    modifiedAt: toDate(row.modifiedAt),
    contentHash: contentHash(properties),
    deleted: row.archived === true,
    pulledAt,
  };
}

export function metaOf(snapshot: SourceSnapshot): SnapshotMeta {
  const meta = snapshot.properties[META_KEY] as Partial<SnapshotMeta> | undefined;
  const modified = snapshot.modifiedAt?.toISOString() ?? '';
  return {
    createdAt: meta?.createdAt ?? modified,
    modifiedAt: meta?.modifiedAt ?? modified,
    ...(meta?.fieldChangedAt !== undefined ? { fieldChangedAt: meta.fieldChangedAt } : {}),
    ...(meta?.fieldPrevious !== undefined ? { fieldPrevious: meta.fieldPrevious } : {}),
    ...(meta?.associations !== undefined ? { associations: meta.associations } : {}),
  };
}

export function fieldsOf(snapshot: SourceSnapshot): Record<string, RawValue> {
  const fields: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(snapshot.properties)) {
    if (k === META_KEY) continue;
    fields[k] =
      v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  }
  return fields;
}

export function snapshotToRecord(snapshot: SourceSnapshot): SourceRecord {
  const meta = metaOf(snapshot);
  return {
    system: snapshot.system,
    object: snapshot.object as ObjectName,
    id: snapshot.recordId,
    fields: fieldsOf(snapshot),
    ...(meta.fieldChangedAt !== undefined ? { fieldChangedAt: meta.fieldChangedAt } : {}),
    ...(meta.fieldPrevious !== undefined ? { fieldPrevious: meta.fieldPrevious } : {}),
    createdAt: meta.createdAt,
    modifiedAt: meta.modifiedAt,
    ...(snapshot.deleted ? { archived: true } : {}),
  };
}

/** A snapshot with written values applied (after a successful write-back), re-keyed and re-hashed. */
export function withWrittenValues(
  snapshot: SourceSnapshot,
  written: Record<string, RawValue>,
  mapping: Mapping,
  at: Date,
): SourceSnapshot {
  const record = snapshotToRecord(snapshot);
  const meta = metaOf(snapshot);
  const fields = { ...record.fields, ...written };
  const changed = { ...(record.fieldChangedAt ?? {}) };
  // As the CRM's history will show it: each written field's previous value is the one Tandem replaced; a
  // field that never held a value has no history entry before Tandem's.
  const previous = { ...(record.fieldPrevious ?? {}) };
  for (const k of Object.keys(written)) {
    const changedAt = record.fieldChangedAt?.[k];
    if (changedAt !== undefined && written[k] !== record.fields[k])
      previous[k] = { value: record.fields[k] ?? null, at: changedAt };
    changed[k] = at.toISOString();
  }
  return recordToSnapshot(
    {
      ...record,
      fields,
      ...(record.fieldChangedAt !== undefined ? { fieldChangedAt: changed, fieldPrevious: previous } : {}),
    },
    mapping,
    at,
    meta.associations,
  );
}
