import type { ConflictRule, System } from './mapping/schema.js';
import type { FieldProblem, Warning } from './problems.js';
import { fieldChangedAt, isBlank, type ObjectName, type RawValue, type SourceRecord } from './records.js';
import { valueHash } from './hash.js';
import { readValue, type CompiledField } from './values/field-codec.js';
import { parseInstant, sameUnified, type UnifiedValue } from './values/coerce.js';

export { valueHash } from './hash.js';

/** Where a unified value came from, and which rule chose it. */
export interface Provenance {
  system: System;
  object: ObjectName;
  recordId: string;
  field: string;
  changedAt: string;
  rule: ConflictRule;
  /** The value is one Tandem wrote itself (it carries no change of its own). */
  echo?: boolean;
}

export interface UnifiedField {
  value: UnifiedValue;
  /** Absent when no system holds the field for this entity. */
  provenance?: Provenance;
}

/** `${system}:${recordId}:${field}` → hash of the rendered value Tandem last wrote there. */
export type LastWritten = ReadonlyMap<string, string>;

export function writtenKey(system: System, recordId: string, field: string): string {
  // Joined into one flat string: these are map keys kept per field and record, hashed on every lookup.
  return [system, recordId, field].join(':');
}

/**
 * `writtenKey` for the fields of an entity's records (one per system at a time): each record's
 * `system:recordId:` prefix is joined once, and a key is that prefix and the field.
 */
export class WrittenKeys {
  private hubspotId: string | undefined;
  private hubspotPrefix = '';
  private salesforceId: string | undefined;
  private salesforcePrefix = '';

  key(system: System, recordId: string, field: string): string {
    if (system === 'hubspot') {
      if (recordId !== this.hubspotId) {
        this.hubspotId = recordId;
        this.hubspotPrefix = [system, recordId, ''].join(':');
      }
      return this.hubspotPrefix + field;
    }
    if (recordId !== this.salesforceId) {
      this.salesforceId = recordId;
      this.salesforcePrefix = [system, recordId, ''].join(':');
    }
    return this.salesforcePrefix + field;
  }
}

/** Next to a write's hash Tandem keeps the hash of the value it planned to replace (`replacedHash`). */
export function replacedField(field: string): string {
  return `${field}#replaced`;
}

export function replacedKey(system: System, recordId: string, field: string): string {
  return writtenKey(system, recordId, replacedField(field));
}

/** Blank in any spelling (`''`, null, absent) hashes alike: history entries and snapshots differ there. */
export function replacedHash(value: RawValue | undefined): string {
  return valueHash(value === undefined || value === '' ? null : value);
}

/**
 * What is kept under `replacedKey`: the hash of the value one write of Tandem's put there, bound to the
 * hash of the value it planned to replace. Bound, because the field's plain hash also records values merely
 * seen in step (an edit Tandem copied elsewhere): the history of such a value says nothing about a write.
 * With `sourceChangedAt`, when the written value last changed where it came from (its provenance): an edit
 * the write overwrote is restored only if it was made after that.
 */
export function replacedEntry(
  writtenHash: string,
  previous: RawValue | undefined,
  sourceChangedAt?: string,
): string {
  const entry = `${writtenHash}>${replacedHash(previous)}`;
  return sourceChangedAt === undefined || sourceChangedAt === '' ? entry : `${entry}>${sourceChangedAt}`;
}

/** The records one entity has: the record of record per system, plus a read-only converted Lead. */
export interface MergeSides {
  hubspot?: SourceRecord;
  salesforce?: SourceRecord;
  /** A converted Lead behind the Salesforce Contact: read for Lead-only fields, never written. */
  convertedLead?: SourceRecord;
}

/** One system's reading of a field. */
export interface SideValue {
  system: System;
  record: SourceRecord;
  field: string;
  raw: RawValue;
  value: UnifiedValue;
  changedAt: string;
  /** Set by the merge when the echo check decides something (`newest` with differing values). */
  echo: boolean;
}

export interface FieldMerge {
  unified: UnifiedField;
  hubspot?: SideValue;
  salesforce?: SideValue;
  /** `on_unmapped_value: skip_field` applied: leave the field alone everywhere. */
  skipped: boolean;
}

export interface MergeResult {
  fields: Record<string, UnifiedField>;
  /** By unified name (the last field of a name, as in `fields`). */
  readonly merges: ReadonlyMap<string, FieldMerge>;
  /** The fields merged, and each one's merge at the same position. */
  readonly fieldList: readonly CompiledField[];
  readonly byField: readonly FieldMerge[];
  changedAt: Record<string, string | undefined>;
  problems: FieldProblem[];
  warnings: Warning[];
}

/** Whether the unified names of a field list are unique (a mapping check reports it when they are not). */
const uniqueNames = new WeakMap<readonly CompiledField[], boolean>();

function namesAreUnique(fields: readonly CompiledField[]): boolean {
  let unique = uniqueNames.get(fields);
  if (unique === undefined) {
    unique = new Set(fields.map((f) => f.name)).size === fields.length;
    uniqueNames.set(fields, unique);
  }
  return unique;
}

/** `merges` is built on first read: the engine reads merges by position (no map per entity). */
class Merged implements MergeResult {
  fields: Record<string, UnifiedField> = {};
  readonly byField: FieldMerge[] = [];
  changedAt: Record<string, string | undefined> = {};
  problems: FieldProblem[] = [];
  warnings: Warning[] = [];
  /** Whether `fieldList` has unique names (looked up once per merge, not per read). */
  readonly uniqueNames: boolean;
  private byName: Map<string, FieldMerge> | undefined;
  constructor(readonly fieldList: readonly CompiledField[]) {
    this.uniqueNames = namesAreUnique(fieldList);
  }
  get merges(): ReadonlyMap<string, FieldMerge> {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (let i = 0; i < this.byField.length; i += 1) {
        const field = this.fieldList[i];
        const merged = this.byField[i];
        if (field !== undefined && merged !== undefined) this.byName.set(field.name, merged);
      }
    }
    return this.byName;
  }
}

/**
 * The merge `merges.get(fields[i].name)` gives, read by position when `fields` is the list merged and its
 * names are unique (always, for a checked mapping).
 */
export function fieldMergeAt(
  merge: MergeResult,
  fields: readonly CompiledField[],
  i: number,
): FieldMerge | undefined {
  if (merge.fieldList === fields && (merge instanceof Merged ? merge.uniqueNames : namesAreUnique(fields)))
    return merge.byField[i];
  const field = fields[i];
  return field === undefined ? undefined : merge.merges.get(field.name);
}

/** Calls `visit` with each unified name and its merge, in the order of `merges`. */
export function forEachMerge(merge: MergeResult, visit: (fm: FieldMerge, name: string) => void): void {
  const fields = merge.fieldList;
  if (!(merge instanceof Merged ? merge.uniqueNames : namesAreUnique(fields))) {
    merge.merges.forEach(visit);
    return;
  }
  for (let i = 0; i < merge.byField.length; i += 1) {
    const field = fields[i];
    const fm = merge.byField[i];
    if (field !== undefined && fm !== undefined) visit(fm, field.name);
  }
}

function readSide(
  field: CompiledField,
  system: System,
  record: SourceRecord,
  name: string,
  out: { problems: FieldProblem[]; warnings: Warning[] },
): SideValue | 'skip' | 'fail' | 'absent' {
  const held = record.fields[name];
  // A field the record does not carry (a partial read, a record Tandem just created) is unknown, not blank.
  if (held === undefined) return 'absent';
  const raw = held;
  const read = readValue(field, system, raw);
  if (!read.ok) {
    const where = { system, object: record.object, recordId: record.id, field: name };
    if (read.code === 'unmapped_value' && field.mapping.on_unmapped_value === 'skip_field') {
      out.warnings.push({
        code: 'unmapped_value_skipped',
        message: `${record.object} ${record.id}: ${read.message}; field left alone (known: ${(read.knownValues ?? []).join(', ')})`,
        ...where,
      });
      return 'skip';
    }
    out.problems.push({
      code: read.code,
      message: `${record.object} ${record.id}: ${read.message}`,
      ...where,
      value: raw,
      ...(read.knownValues ? { knownValues: read.knownValues } : {}),
    });
    return 'fail';
  }
  return {
    system,
    record,
    field: name,
    raw,
    value: read.value,
    changedAt: fieldChangedAt(record, name),
    echo: false,
  };
}

/** Is this value the one Tandem wrote (or last saw in step) there? Looked up only when it can matter. */
function isEcho(side: SideValue, lastWritten: LastWritten): boolean {
  if (lastWritten.size === 0) return false;
  const written = lastWritten.get(writtenKey(side.system, side.record.id, side.field));
  return written !== undefined && written === valueHash(side.raw);
}

/**
 * A write of Tandem's that landed on an edit it never read (made between its read and its write) is found
 * in the field's history: the value the write replaced is not the one Tandem planned to replace. That edit
 * is the record's real value, with its own time; the overwrite is undone by the plan that follows.
 */
function overwrittenEdit(
  field: CompiledField,
  side: SideValue,
  lastWritten: LastWritten,
  out: { problems: FieldProblem[]; warnings: Warning[] },
): SideValue | undefined {
  const before = side.record.fieldPrevious?.[side.field];
  if (before === undefined || !isEcho(side, lastWritten)) return undefined;
  // The value held is the one Tandem's last write there put (not only a value it saw in step)…
  const entry = lastWritten.get(replacedKey(side.system, side.record.id, side.field));
  const [written, replaced, sourceChangedAt] = entry?.split('>') ?? [];
  if (written !== valueHash(side.raw) || replaced === undefined) return undefined;
  // …and the history shows it replaced something other than what Tandem planned to replace…
  if (replaced === replacedHash(before.value)) return undefined;
  // …made after the written value changed where it came from: an older edit lost to it under `newest` anyway
  // (Tandem copied a later edit from the other system over it), so the overwrite stands.
  const editMs = parseInstant(before.at);
  const sourceMs = parseInstant(sourceChangedAt);
  if (editMs !== undefined && sourceMs !== undefined && editMs <= sourceMs) return undefined;
  const record: SourceRecord = {
    ...side.record,
    fields: { ...side.record.fields, [side.field]: before.value },
    fieldChangedAt: { ...side.record.fieldChangedAt, [side.field]: before.at },
  };
  const edit = readSide(field, side.system, record, side.field, out);
  if (typeof edit === 'string') return undefined;
  out.warnings.push({
    code: 'overwritten_edit_restored',
    message: `${record.object} ${record.id}: ${side.field} was changed to ${JSON.stringify(before.value)} while Tandem was writing ${JSON.stringify(side.raw)}; that edit is restored`,
    system: side.system,
    object: record.object,
    recordId: record.id,
    field: side.field,
  });
  return edit;
}

/**
 * `newest`: the later change wins. A value Tandem wrote itself (an echo) carries no change of its own, so
 * it loses to a real value on the other side whatever its timestamp. Ties go to the non-blank value, then
 * to HubSpot.
 */
function newer(h: SideValue, s: SideValue): SideValue {
  if (h.echo !== s.echo) return h.echo ? s : h;
  const th = parseInstant(h.changedAt) ?? 0;
  const ts = parseInstant(s.changedAt) ?? 0;
  if (th !== ts) return th > ts ? h : s;
  if (isBlank(h.value) !== isBlank(s.value)) return isBlank(h.value) ? s : h;
  return h;
}

function earlier(a: string, b: string): string {
  return (parseInstant(a) ?? 0) <= (parseInstant(b) ?? 0) ? a : b;
}

export function chooseValue(
  rule: ConflictRule,
  h: SideValue | undefined,
  s: SideValue | undefined,
): SideValue | undefined {
  if (h === undefined || s === undefined) return h ?? s;
  switch (rule) {
    case 'hubspot':
      return h;
    case 'salesforce':
      return s;
    case 'prefer_nonblank_hubspot':
      return !isBlank(h.value) ? h : !isBlank(s.value) ? s : h;
    case 'prefer_nonblank_salesforce':
      return !isBlank(s.value) ? s : !isBlank(h.value) ? h : s;
    case 'newest':
      return newer(h, s);
  }
}

/** Decide every unified field by its mapping rule, keeping where each value came from. */
export function mergeFields(
  fields: readonly CompiledField[],
  sides: MergeSides,
  lastWritten: LastWritten,
): MergeResult {
  const out = new Merged(fields);
  for (const field of fields) {
    const rule = field.mapping.conflict;
    let skipped = false;
    let h: SideValue | undefined;
    let s: SideValue | undefined;
    const hsName = sides.hubspot ? field.fieldIn('hubspot', sides.hubspot.object) : undefined;
    if (sides.hubspot && hsName !== undefined) {
      const r = readSide(field, 'hubspot', sides.hubspot, hsName, out);
      if (r === 'skip') skipped = true;
      else if (typeof r !== 'string')
        h = (rule === 'newest' ? overwrittenEdit(field, r, lastWritten, out) : undefined) ?? r;
    }
    // The Salesforce record of record, else a converted Lead behind it (for Lead-only fields).
    let sfRecord = sides.salesforce;
    let sfName = sfRecord ? field.fieldIn('salesforce', sfRecord.object) : undefined;
    if (sfName === undefined) {
      sfRecord = sides.convertedLead;
      sfName = sfRecord ? field.fieldIn('salesforce', sfRecord.object) : undefined;
    }
    if (sfRecord && sfName !== undefined) {
      const r = readSide(field, 'salesforce', sfRecord, sfName, out);
      if (r === 'skip') skipped = true;
      else if (typeof r !== 'string') s = r;
    }
    if (rule === 'newest' && h && s && !sameUnified(h.value, s.value)) {
      h.echo = isEcho(h, lastWritten);
      s.echo = isEcho(s, lastWritten);
    }
    const winner = chooseValue(rule, h, s);
    let unified: UnifiedField;
    if (winner) {
      const provenance: Provenance = {
        system: winner.system,
        object: winner.record.object,
        recordId: winner.record.id,
        field: winner.field,
        changedAt: winner.changedAt,
        rule,
      };
      if (winner.echo) provenance.echo = true;
      unified = { value: winner.value, provenance };
    } else unified = { value: null };
    out.fields[field.name] = unified;
    // A value both systems hold has held since the earlier change: the later one is usually Tandem's own
    // copy (or the other team typing the same thing), not a change of the value.
    out.changedAt[field.name] =
      h && s && winner && sameUnified(h.value, s.value)
        ? earlier(h.changedAt, s.changedAt)
        : winner?.changedAt;
    const merged: FieldMerge = { unified, skipped };
    if (h) merged.hubspot = h;
    if (s) merged.salesforce = s;
    out.byField.push(merged);
  }
  return out;
}
