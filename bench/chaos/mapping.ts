import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The person fields of a mapping file, read straight from the YAML (not through Tandem's mapping loader),
 * and an independent normaliser for comparing a CRM value with a unified one.
 */

export interface PersonField {
  name: string;
  type: string;
  hubspot?: string;
  /** Salesforce field per object (Lead, Contact). */
  salesforce: Partial<Record<'Lead' | 'Contact', string>>;
  direction: string;
  conflict: string;
  /** enum: CRM value → unified key, per system. */
  values?: { hubspot: Map<string, string>; salesforce: Map<string, string> };
}

interface RawField {
  name: string;
  type?: string;
  hubspot?: string;
  salesforce?: string | Record<string, string>;
  direction?: string;
  conflict: string;
  values?: Record<string, { hubspot?: string | string[]; salesforce?: string | string[] }>;
}

export function personFields(mappingPath: string): PersonField[] {
  const doc = parse(readFileSync(mappingPath, 'utf8')) as {
    objects: { person: { fields: RawField[] } };
  };
  return doc.objects.person.fields.map((f) => {
    const salesforce: PersonField['salesforce'] =
      typeof f.salesforce === 'string'
        ? { Lead: f.salesforce, Contact: f.salesforce }
        : f.salesforce === undefined
          ? {}
          : (f.salesforce as PersonField['salesforce']);
    const field: PersonField = {
      name: f.name,
      type: f.type ?? 'string',
      salesforce,
      direction: f.direction ?? 'both',
      conflict: f.conflict,
    };
    if (f.hubspot !== undefined) field.hubspot = f.hubspot;
    if (f.values !== undefined) {
      const hubspot = new Map<string, string>();
      const sf = new Map<string, string>();
      for (const [key, v] of Object.entries(f.values)) {
        for (const x of [v.hubspot ?? []].flat()) hubspot.set(x, key);
        for (const x of [v.salesforce ?? []].flat()) sf.set(x, key);
      }
      field.values = { hubspot, salesforce: sf };
    }
    return field;
  });
}

/** A comparable form: '' for blank; enum values as unified keys; phones as digits; emails lower-cased. */
export function normalise(field: PersonField, value: unknown, system?: 'hubspot' | 'salesforce'): string {
  if (value === null || value === undefined) return '';
  let text = String(value).trim().replace(/\s+/g, ' ');
  if (text === '') return '';
  if (field.values !== undefined && system !== undefined) {
    const key = field.values[system].get(text);
    return key ?? `unmapped:${text}`;
  }
  if (field.type === 'email') text = text.toLowerCase();
  if (field.type === 'phone') {
    const digits = text.replace(/\D/g, '');
    text = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  }
  if (field.type === 'integer' || field.type === 'number') {
    const n = Number(text);
    return Number.isFinite(n) ? String(n) : text;
  }
  return text;
}
