import type { Direction, SalesforceFieldRef, System } from './mapping/schema.js';
import type { FieldProblem, Warning } from './problems.js';
import { isBlank, type ObjectName, type RawValue, type SourceRecord } from './records.js';
import { canonicalValue, valueHash } from './hash.js';
import { fieldMergeAt, type MergeResult } from './merge.js';
import type { FieldWrite } from './write-plan.js';
import { readValue, renderValue, type CompiledField } from './values/field-codec.js';
import { sameUnified } from './values/coerce.js';
import { salesforceIdKey } from './identity.js';

/**
 * The field-level half of planning, shared by persons, companies and deals: which mapped fields a
 * record needs written (update) or starts with (create), after rendering for the target system.
 */

/** Max string lengths of target fields, keyed `${system}:${object}:${field}` (from the live schema). */
export type TargetSchemaHints = Readonly<Record<string, number>>;

export function hintKey(system: System, object: ObjectName, field: string): string {
  return `${system}:${object}:${field}`;
}

export function writesTo(direction: Direction, system: System): boolean {
  return (
    direction === 'both' ||
    (system === 'hubspot' ? direction === 'to_hubspot' : direction === 'to_salesforce')
  );
}

export function resolveSalesforceRef(
  ref: SalesforceFieldRef | undefined,
  object: ObjectName,
): string | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref === 'string') return ref;
  return object === 'Lead' ? ref.Lead : object === 'Contact' ? ref.Contact : undefined;
}

/** Equal as the target system would hold them: both read back through the field's own pipeline. */
export function sameOnTarget(
  field: CompiledField,
  system: System,
  current: RawValue,
  rendered: RawValue,
): boolean {
  if (isBlank(current) && isBlank(rendered)) return true;
  const a = readValue(field, system, current);
  const b = readValue(field, system, rendered);
  if (a.ok && b.ok) return sameUnified(a.value, b.value);
  return canonicalValue(current) === canonicalValue(rendered);
}

export interface Sink {
  problems: FieldProblem[];
  warnings: Warning[];
}

function reasonFor(field: CompiledField, merge: MergeResult, system: System): string {
  const p = merge.fields[field.name]?.provenance;
  if (!p) return `${field.name}: no system holds a value`;
  // Joined into one flat string: a template literal would keep a chain of a dozen pieces per write alive.
  return [
    field.name,
    ': ',
    p.rule,
    ' rule chose ',
    p.system,
    ' ',
    p.object,
    ' ',
    p.recordId,
    '.',
    p.field,
    ' (changed ',
    p.changedAt,
    ')',
    p.echo ? ' [echo]' : '',
    ' → ',
    system,
  ].join('');
}

/** Updates for one existing target record: only fields whose rendered value differs from what it holds. */
export function planFieldUpdates(
  fields: readonly CompiledField[],
  merge: MergeResult,
  target: SourceRecord,
  hints: TargetSchemaHints | undefined,
  sink: Sink,
): FieldWrite[] {
  const system = target.system;
  const writes: FieldWrite[] = [];
  for (let i = 0; i < fields.length; i += 1) {
    const field = fields[i];
    if (field === undefined || !writesTo(field.mapping.direction, system)) continue;
    const name = field.fieldIn(system, target.object);
    if (name === undefined) continue;
    const fm = fieldMergeAt(merge, fields, i);
    if (!fm || fm.skipped) continue;
    const held = system === 'hubspot' ? fm.hubspot : fm.salesforce;
    const p = fm.unified.provenance;
    // The value came from this very field as it stands (not from its history: an overwritten edit restored).
    const fromHere = p && p.system === system && p.recordId === target.id && p.field === name;
    if (fromHere && (held === undefined || held.record === target)) continue;
    const current = target.fields[name] ?? null;
    const value = fm.unified.value;
    const max = hints?.[hintKey(system, target.object, name)];
    // Fast path: the merge already read what this record holds; equal in unified form and not to be cut.
    if (
      held !== undefined &&
      held.record === target &&
      held.field === name &&
      sameUnified(held.value, value) &&
      (max === undefined || typeof value !== 'string' || value.length <= max)
    ) {
      continue;
    }
    const rendered = renderValue(field, system, value, max);
    const where = { system, object: target.object, recordId: target.id, field: name };
    if (!rendered.ok) {
      sink.problems.push({
        code: 'unmapped_value',
        message: `${target.object} ${target.id}: ${rendered.message}`,
        ...where,
      });
      continue;
    }
    if (sameOnTarget(field, system, current, rendered.value)) continue;
    if (isBlank(rendered.value) && field.mapping.required_on_create.includes(system)) {
      sink.warnings.push({
        code: 'required_not_cleared',
        message: `${target.object} ${target.id}: ${name} is required in ${system}; not cleared`,
        ...where,
      });
      continue;
    }
    if (rendered.ok && rendered.truncatedFrom !== undefined) {
      sink.warnings.push({
        code: 'truncated',
        message: `${target.object} ${target.id}: ${name} cut to ${max ?? 0} characters`,
        ...where,
      });
    }
    const written = rendered.value;
    const hash = valueHash(written);
    const reason = reasonFor(field, merge, system);
    // Each shape in one literal: a key added afterwards would give every write a second property store.
    writes.push(
      p
        ? {
            field: name,
            value: written,
            previous: current,
            hash,
            reason,
            unifiedField: field.name,
            provenance: p,
          }
        : { field: name, value: written, previous: current, hash, reason, unifiedField: field.name },
    );
  }
  return writes;
}

/**
 * The mapped fields a new record starts with: every non-blank unified value that flows to the system,
 * else the mapping's `default_on_create`. Returns undefined (with a warning) when a required field has
 * neither.
 */
export function planFieldsForCreate(
  fields: readonly CompiledField[],
  merge: MergeResult,
  system: System,
  object: ObjectName,
  entityKey: string,
  hints: TargetSchemaHints | undefined,
  sink: Sink,
): FieldWrite[] | undefined {
  const writes: FieldWrite[] = [];
  const missing: string[] = [];
  for (let i = 0; i < fields.length; i += 1) {
    const field = fields[i];
    if (field === undefined) continue;
    const name = field.fieldIn(system, object);
    if (name === undefined) continue;
    const required = field.mapping.required_on_create.includes(system);
    const fm = fieldMergeAt(merge, fields, i);
    const flows = writesTo(field.mapping.direction, system) && fm !== undefined && !fm.skipped;
    let value: RawValue = null;
    let reason = '';
    if (flows && fm) {
      const max = hints?.[hintKey(system, object, name)];
      const rendered = renderValue(field, system, fm.unified.value, max);
      if (rendered.ok) {
        value = rendered.value;
        reason = reasonFor(field, merge, system);
      }
    }
    if (isBlank(value)) {
      const fallback = field.mapping.default_on_create?.[system];
      if (fallback !== undefined) {
        value = fallback;
        reason = `${field.name}: blank, default_on_create for ${system}`;
      }
    }
    if (isBlank(value)) {
      if (required) missing.push(name);
      continue;
    }
    const p = fm?.unified.provenance;
    const hash = valueHash(value);
    writes.push(
      p
        ? { field: name, value, hash, reason, unifiedField: field.name, provenance: p }
        : { field: name, value, hash, reason, unifiedField: field.name },
    );
  }
  if (missing.length > 0) {
    sink.warnings.push({
      code: 'create_skipped',
      message: `${entityKey}: not created in ${system} ${object}: required ${missing.join(', ')} blank`,
      system,
      object,
    });
    return undefined;
  }
  return writes;
}

/** A value of Tandem's own (stage, score, source, cross-reference) for a target field. */
export interface ExtraValue {
  field: string;
  value: string | number | null;
  reason: string;
  /** Compare as Salesforce ids (15/18 characters). */
  salesforceId?: boolean;
  clearFirst?: boolean;
}

function sameExtraValue(current: RawValue, value: string | number | null, salesforceId: boolean): boolean {
  if (isBlank(current) && isBlank(value)) return true;
  if (typeof value === 'number') return Number(current) === value && !isBlank(current);
  const a = canonicalValue(current);
  const b = canonicalValue(value);
  if (salesforceId) return salesforceIdKey(a) === salesforceIdKey(b);
  return a === b;
}

export function renderExtra(system: System, value: string | number | null): RawValue {
  return system === 'hubspot' && typeof value === 'number' ? String(value) : value;
}

export function planExtras(
  system: System,
  target: SourceRecord | undefined,
  extras: readonly ExtraValue[],
): FieldWrite[] {
  const writes: FieldWrite[] = [];
  for (const extra of extras) {
    addExtra(
      writes,
      system,
      target,
      extra.field,
      extra.value,
      ownReason,
      extra.reason,
      extra.salesforceId,
      extra.clearFirst,
    );
  }
  return writes;
}

const ownReason = (reason: string): string => reason;

/**
 * `planExtras` for one value, appended to `writes`: nothing unless the target (absent on create) needs it.
 * The reason is built by `reasonOf(arg)` only for a write that is kept (on a steady state nearly every
 * extra is found equal), and with no closure per value.
 */
export function addExtra<A>(
  writes: FieldWrite[],
  system: System,
  target: SourceRecord | undefined,
  field: string,
  extraValue: string | number | null,
  reasonOf: (arg: A) => string,
  arg: A,
  salesforceId?: boolean,
  clearFirst?: boolean,
): void {
  const current = target === undefined ? null : (target.fields[field] ?? null);
  if (target !== undefined) {
    if (sameExtraValue(current, extraValue, salesforceId === true)) return;
  } else if (isBlank(extraValue)) return;
  const value = renderExtra(system, extraValue);
  const hash = valueHash(value);
  const reason = reasonOf(arg);
  // Built in one go, in the order the keys are always listed (no spread temporaries: this runs per extra).
  const write: FieldWrite = target
    ? { field, value, previous: current, hash, reason }
    : { field, value, hash, reason };
  if (clearFirst) write.clearFirst = true;
  writes.push(write);
}
