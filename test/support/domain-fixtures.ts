import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MappingSchema, type Mapping, type MappingInput } from '../../src/domain/mapping/schema.js';
import type { RawValue, SourceRecord } from '../../src/domain/records.js';

/** Builders for the domain tests: records as the connectors would hand them over. */
export function defaultMapping(): Mapping {
  return MappingSchema.parse(parse(readFileSync('mappings/default.yaml', 'utf8')));
}

/** The default mapping with parts replaced (parsed again, so defaults apply). */
export function mappingWith(edit: (raw: MappingInput) => void): Mapping {
  const raw = parse(readFileSync('mappings/default.yaml', 'utf8')) as MappingInput;
  edit(raw);
  return MappingSchema.parse(raw);
}

export const T0 = '2026-01-01T00:00:00.000Z';
export const at = (days: number, hours = 0): string =>
  new Date(Date.parse(T0) + days * 86_400_000 + hours * 3_600_000).toISOString();

interface RecordOptions {
  createdAt?: string;
  modifiedAt?: string;
  changedAt?: Record<string, string>;
  archived?: boolean;
}

function record(
  system: SourceRecord['system'],
  object: SourceRecord['object'],
  id: string,
  fields: Record<string, RawValue>,
  o: RecordOptions,
): SourceRecord {
  return {
    system,
    object,
    id,
    fields,
    createdAt: o.createdAt ?? T0,
    modifiedAt: o.modifiedAt ?? o.createdAt ?? T0,
    ...(o.changedAt ? { fieldChangedAt: o.changedAt } : {}),
    ...(o.archived ? { archived: true } : {}),
  };
}

export const hsContact = (
  id: string,
  fields: Record<string, RawValue>,
  o: RecordOptions = {},
): SourceRecord => record('hubspot', 'contacts', id, fields, o);
export const sfLead = (id: string, fields: Record<string, RawValue>, o: RecordOptions = {}): SourceRecord =>
  record('salesforce', 'Lead', id, fields, o);
export const sfContact = (
  id: string,
  fields: Record<string, RawValue>,
  o: RecordOptions = {},
): SourceRecord => record('salesforce', 'Contact', id, fields, o);
export const hsCompany = (
  id: string,
  fields: Record<string, RawValue>,
  o: RecordOptions = {},
): SourceRecord => record('hubspot', 'companies', id, fields, o);
export const sfAccount = (
  id: string,
  fields: Record<string, RawValue>,
  o: RecordOptions = {},
): SourceRecord => record('salesforce', 'Account', id, fields, o);
export const hsDeal = (id: string, fields: Record<string, RawValue>, o: RecordOptions = {}): SourceRecord =>
  record('hubspot', 'deals', id, fields, o);
export const sfOpportunity = (
  id: string,
  fields: Record<string, RawValue>,
  o: RecordOptions = {},
): SourceRecord => record('salesforce', 'Opportunity', id, fields, o);

/** An 18-character Salesforce-like id with a given prefix and number. */
export const sfId = (prefix: '00Q' | '003' | '001' | '006', n: number): string =>
  `${prefix}${String(n).padStart(12, '0')}AAA`;
