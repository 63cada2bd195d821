// What each record of a reconcile will hold once the reconcile's planned writes land, as the hash a pull
// compares a read with (`reconcileHash`): a read holding exactly that is the echo of Tandem's own writes (or
// the record read again unchanged) and needs no reconcile. Pure.

import type { IdentityGroup } from '../domain/identity.js';
import type { Mapping, System } from '../domain/mapping/schema.js';
import type { RawValue } from '../domain/records.js';
import type { RecordWrite } from '../domain/write-plan.js';
import type { SourceSnapshot } from '../store/customer-view-types.js';
import type { ReconciledMark } from '../store/source-snapshots.js';
import { reconcileHash, withWrittenValues } from './snapshots.js';

export interface ReconciledInput {
  /** The entities this reconcile stored (its claimed identity groups). */
  groups: readonly IdentityGroup[];
  /** Their planned writes. */
  writes: readonly RecordWrite[];
  /** Records with a problem are left unmarked: they are read again as before. */
  problems: ReadonlyArray<{ system?: System; recordId?: string }>;
  /** The snapshots the reconcile read, by `system:object:id`. */
  snapshots: ReadonlyMap<string, SourceSnapshot>;
  mapping: Mapping;
  salt: string;
  at: Date;
}

/**
 * One mark per record of the groups (survivors, converted Leads, duplicates) the reconcile read from a stored
 * snapshot: the record as its planned updates leave it. Creates have no snapshot yet; the read-back after
 * them marks the new records.
 */
export function reconciledMarks(input: ReconciledInput): ReconciledMark[] {
  const bySystemId = new Map<string, SourceSnapshot>();
  for (const s of input.snapshots.values()) bySystemId.set(`${s.system}:${s.recordId}`, s);
  const troubled = new Set<string>();
  for (const p of input.problems) if (p.recordId !== undefined) troubled.add(p.recordId);
  const written = new Map<string, Record<string, RawValue>>();
  for (const w of input.writes) {
    if (w.action !== 'update' || w.recordId === undefined) continue;
    const key = `${w.system}:${w.recordId}`;
    const fields = written.get(key) ?? {};
    for (const f of w.fields) fields[f.field] = f.value;
    written.set(key, fields);
  }
  const marks: ReconciledMark[] = [];
  const seen = new Set<string>();
  const mark = (system: System, id: string): void => {
    const key = `${system}:${id}`;
    const snapshot = bySystemId.get(key);
    if (snapshot === undefined || seen.has(key) || troubled.has(id)) return;
    seen.add(key);
    const fields = written.get(key);
    const after =
      fields === undefined ? snapshot : withWrittenValues(snapshot, fields, input.mapping, input.at);
    marks.push({
      system,
      object: snapshot.object,
      recordId: snapshot.recordId,
      contentHash: snapshot.contentHash,
      reconciledHash: reconcileHash(after, input.salt),
    });
  };
  for (const g of input.groups) {
    if (g.hubspot !== undefined) mark('hubspot', g.hubspot.id);
    if (g.salesforce !== undefined) mark('salesforce', g.salesforce.id);
    for (const lead of g.convertedLeads) mark('salesforce', lead.id);
    for (const d of g.duplicates) for (const id of d.duplicateIds) mark(d.system, id);
  }
  return marks;
}
