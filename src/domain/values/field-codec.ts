import type { FieldMapping, System } from '../mapping/schema.js';
import type { ObjectName, RawValue } from '../records.js';
import { coerce, type UnifiedValue } from './coerce.js';
import { compileTransforms, truncateString, type TransformFn } from './transforms.js';
import { compileValueMap, type CompiledValueMap } from './value-map.js';

/** A field mapping made ready to read and write values: transforms and value map compiled once. */
export interface CompiledField {
  readonly mapping: FieldMapping;
  readonly name: string;
  readonly transform: TransformFn;
  readonly valueMap: CompiledValueMap | undefined;
  /** The `default_on_create` placeholders, trimmed: they read back as blank. */
  readonly placeholders: { readonly hubspot?: string; readonly salesforce?: string };
  /** The field's name in a system object, or undefined when the mapping does not name it there. */
  fieldIn(system: System, object: ObjectName): string | undefined;
}

export function compileField(mapping: FieldMapping, valueMapOverride?: CompiledValueMap): CompiledField {
  const sf = mapping.salesforce;
  const valueMap = valueMapOverride ?? (mapping.values ? compileValueMap(mapping.values) : undefined);
  const fieldIn = (system: System, object: ObjectName): string | undefined => {
    if (system === 'hubspot') return mapping.hubspot;
    if (sf === undefined) return undefined;
    if (typeof sf === 'string') return sf;
    return object === 'Lead' ? sf.Lead : object === 'Contact' ? sf.Contact : undefined;
  };
  const placeholders: { hubspot?: string; salesforce?: string } = {};
  for (const system of ['hubspot', 'salesforce'] as const) {
    const placeholder = mapping.default_on_create?.[system];
    if (placeholder !== undefined) placeholders[system] = placeholder.trim();
  }
  return {
    mapping,
    name: mapping.name,
    transform: compileTransforms(mapping.transforms),
    valueMap,
    placeholders,
    fieldIn,
  };
}

export type ReadResult =
  | { ok: true; value: UnifiedValue }
  | { ok: false; code: 'unmapped_value' | 'invalid_value'; message: string; knownValues?: string[] };

const MULTI_SEPARATOR = ';';

function mapEnum(field: CompiledField, system: System, text: string): ReadResult {
  const map = field.valueMap;
  if (!map) return { ok: true, value: text };
  const mapped = map.toUnified(system, text);
  if (mapped !== undefined) return { ok: true, value: mapped };
  return {
    ok: false,
    code: 'unmapped_value',
    message: `${system} value "${text}" of ${field.name} has no entry in the value map`,
    knownValues: map.knownValues(system),
  };
}

/**
 * A system value → unified: transforms (strings only), coercion to the field type, then the value map.
 * The field's `default_on_create` placeholder reads as blank.
 */
export function readValue(field: CompiledField, system: System, raw: RawValue | undefined): ReadResult {
  const placeholder = field.placeholders[system];
  // The create placeholder (e.g. Lead.Company "[not provided]") means "unknown": it never flows back.
  if (placeholder !== undefined && typeof raw === 'string' && raw.trim() === placeholder) {
    return { ok: true, value: null };
  }
  const transformed = typeof raw === 'string' ? field.transform(raw) : raw;
  const type = field.mapping.type;
  // Plain text needs no coercion beyond "blank is null" (the common case, without a `CoerceResult`).
  if (typeof transformed === 'string' && (type === 'string' || type === 'phone')) {
    return { ok: true, value: transformed.trim() === '' ? null : transformed };
  }
  const coerced = coerce(transformed, type);
  if (!coerced.ok) return { ok: false, code: 'invalid_value', message: coerced.message };
  const value = coerced.value;
  if (value === null || typeof value !== 'string') return { ok: true, value };
  if (field.mapping.type === 'enum') return mapEnum(field, system, value);
  if (field.mapping.type === 'multi_enum') {
    const parts: string[] = [];
    for (const part of value.split(MULTI_SEPARATOR)) {
      if (part.trim() === '') continue;
      const read = mapEnum(field, system, part.trim());
      if (!read.ok) return read;
      parts.push(String(read.value));
    }
    return { ok: true, value: parts.length === 0 ? null : parts.join(MULTI_SEPARATOR) };
  }
  return { ok: true, value };
}

export type RenderResult =
  { ok: true; value: RawValue; truncatedFrom?: string } | { ok: false; message: string };

/**
 * Unified → the value a system wants: HubSpot takes strings (and `null` to clear), Salesforce JSON types;
 * picklists go back through the value map; strings are cut to the target's length when it is known.
 */
export function renderValue(
  field: CompiledField,
  system: System,
  value: UnifiedValue,
  maxLength?: number,
): RenderResult {
  if (value === null) return { ok: true, value: null };
  let out: RawValue = value;
  const type = field.mapping.type;
  if ((type === 'enum' || type === 'multi_enum') && field.valueMap && typeof value === 'string') {
    const parts = type === 'multi_enum' ? value.split(MULTI_SEPARATOR) : [value];
    const rendered: string[] = [];
    for (const part of parts) {
      const v = field.valueMap.fromUnified(system, part);
      if (v === undefined) return { ok: false, message: `unified value "${part}" has no ${system} value` };
      rendered.push(v);
    }
    out = rendered.join(MULTI_SEPARATOR);
  }
  if (system === 'hubspot' && typeof out !== 'string') out = String(out);
  if (
    typeof out === 'string' &&
    maxLength !== undefined &&
    field.mapping.truncate_to_target &&
    out.length > maxLength
  ) {
    return { ok: true, value: truncateString(out, maxLength), truncatedFrom: out };
  }
  return { ok: true, value: out };
}
