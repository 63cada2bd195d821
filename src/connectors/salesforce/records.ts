// Salesforce rows → the domain's SourceRecord, and records ↔ Bulk API 2.0 CSV cells. Pure: no I/O.
import type { RawValue, SalesforceObjectName, SourceRecord } from '../../domain/records.js';
import type { FieldValue } from '../connector.js';
import { toIsoZ } from './window.js';

/** Salesforce field type by field name (from describe), to type CSV cells and find datetimes. */
export type FieldTypes = ReadonlyMap<string, string>;

/** Read on every pull whatever the mapping says: the cursor, identity and lifecycle facts. */
export const SYSTEM_FIELDS = [
  'Id',
  'IsDeleted',
  'CreatedDate',
  'LastModifiedDate',
  'SystemModstamp',
] as const;

export const IDENTITY_FIELDS: Readonly<Record<SalesforceObjectName, readonly string[]>> = {
  // A converted Lead stays a Lead change carrying where it went: follow ConvertedContactId. A merged-away
  // Lead, Contact or Account comes back deleted (queryAll) with MasterRecordId naming the survivor.
  Lead: [
    'Email',
    'HubSpot_Contact_ID__c',
    'IsConverted',
    'ConvertedDate',
    'ConvertedContactId',
    'ConvertedAccountId',
    'ConvertedOpportunityId',
    'MasterRecordId',
  ],
  Contact: ['Email', 'AccountId', 'HubSpot_Contact_ID__c', 'MasterRecordId'],
  Account: ['Name', 'Website', 'HubSpot_Company_ID__c', 'MasterRecordId'],
  Opportunity: ['AccountId', 'StageName', 'IsClosed', 'IsWon', 'HubSpot_Deal_ID__c'],
};

/** The fields a pull of `object` reads: system and identity fields first, then the configured ones, once each. */
export function pullFields(object: SalesforceObjectName, configured: readonly string[] = []): string[] {
  const seen = new Set<string>();
  const fields: string[] = [];
  for (const name of [...SYSTEM_FIELDS, ...IDENTITY_FIELDS[object], ...configured]) {
    const key = name.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      fields.push(name);
    }
  }
  return fields;
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const NUMERIC = new Set(['double', 'currency', 'percent', 'int', 'long']);

/** One field value with datetimes in ISO `Z` form; relationship objects (`Account: {…}`) are skipped. */
export function typedValue(value: unknown, type: string | undefined): RawValue | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return undefined;
  if (typeof value === 'string' && (type === 'datetime' || (type === undefined && DATETIME.test(value)))) {
    return DATETIME.test(value) ? toIsoZ(value) : value;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

/** A REST query row (JSON types) as a SourceRecord. */
export function toSourceRecord(
  object: SalesforceObjectName,
  row: Record<string, unknown>,
  types: FieldTypes,
): SourceRecord {
  const fields: Record<string, RawValue> = {};
  for (const [name, raw] of Object.entries(row)) {
    if (name === 'attributes') continue;
    const value = typedValue(raw, types.get(name));
    if (value !== undefined) fields[name] = value;
  }
  return finish(object, fields);
}

/** A Bulk API 2.0 CSV row (all strings, empty = null) as a SourceRecord, typed by describe. */
export function csvRowToSourceRecord(
  object: SalesforceObjectName,
  row: Readonly<Record<string, string>>,
  types: FieldTypes,
): SourceRecord {
  const fields: Record<string, RawValue> = {};
  for (const [name, cell] of Object.entries(row)) fields[name] = fromCsvCell(cell, types.get(name));
  return finish(object, fields);
}

function finish(object: SalesforceObjectName, fields: Record<string, RawValue>): SourceRecord {
  const id = fields['Id'];
  if (typeof id !== 'string') throw new TypeError(`a ${object} row without an Id`);
  const created = fields['CreatedDate'];
  const modified = fields['LastModifiedDate'] ?? fields['SystemModstamp'];
  const record: SourceRecord = {
    system: 'salesforce',
    object,
    id,
    fields,
    createdAt: typeof created === 'string' ? created : '',
    modifiedAt: typeof modified === 'string' ? modified : '',
  };
  if (fields['IsDeleted'] === true) record.archived = true;
  return record;
}

/** One Bulk API 2.0 query result cell → a typed value. */
export function fromCsvCell(cell: string, type: string | undefined): RawValue {
  if (cell === '') return null;
  if (type === 'boolean') return cell === 'true';
  if (type !== undefined && NUMERIC.has(type)) {
    const n = Number(cell);
    return Number.isFinite(n) ? n : cell;
  }
  if (type === 'datetime' || (type === undefined && DATETIME.test(cell))) {
    return DATETIME.test(cell) ? toIsoZ(cell) : cell;
  }
  return cell;
}

/**
 * One value for a Bulk API 2.0 upload cell: `#N/A` sets a field to null (an empty cell would leave it as it
 * is), booleans and numbers as text.
 */
export function toCsvCell(value: FieldValue | undefined): string {
  if (value === undefined) return '';
  if (value === null) return BULK_NULL;
  return String(value);
}

export const BULK_NULL = '#N/A';
