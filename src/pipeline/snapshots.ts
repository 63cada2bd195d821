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
  // As the CRM's history will show it: each written field's previous value is the one Tandem replaced.
  const previous = { ...(record.fieldPrevious ?? {}) };
  for (const k of Object.keys(written)) {
    if (record.fieldChangedAt !== undefined && written[k] !== record.fields[k])
      previous[k] = { value: record.fields[k] ?? null, at: record.fieldChangedAt[k] ?? record.modifiedAt };
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
