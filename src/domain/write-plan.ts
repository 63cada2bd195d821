import type { System } from './mapping/schema.js';
import type { ObjectName, RawValue } from './records.js';
import type { Provenance } from './merge.js';

/**
 * What Tandem will write: per system and record, only the fields whose rendered value differs from what
 * the system holds, each with a human-readable reason. Connectors execute it; the store records each
 * write's `hash` so the value is recognised as an echo when it comes back.
 */
export interface FieldWrite {
  /** The system's field name. */
  field: string;
  value: RawValue;
  /** What the system held (undefined on create). */
  previous?: RawValue;
  hash: string;
  reason: string;
  /** The unified field this value comes from, when it is a mapped field. */
  unifiedField?: string;
  provenance?: Provenance;
  /**
   * `newest` fields: what the entity's other records hold for this unified field (`system:recordId:field`
   * → value hash). Once this write succeeds they are all in step: the store keeps these hashes with the
   * write's own, so none of them reads back as a change.
   */
  heldElsewhere?: Record<string, string>;
  /**
   * HubSpot's `lifecyclestage` only moves forward: to move it back the connector clears it first, then
   * writes `value` — two requests, in that order.
   */
  clearFirst?: boolean;
}

export interface RecordWrite {
  action: 'update' | 'create';
  system: System;
  object: ObjectName;
  /** The record to update; absent on create. */
  recordId?: string;
  /** The unified entity (identity group key) this write belongs to. */
  entityKey: string;
  /** On create: the record in the other system the new one belongs with (link them once created). */
  counterpart?: { system: System; object: ObjectName; id: string };
  /** On create: once created, write the new record's id into this field of the counterpart. */
  linkBack?: { field: string };
  fields: FieldWrite[];
  /** The reconcile that planned this write (set by the pipeline): a newer plan for the entity supersedes it. */
  planId?: string;
}

export interface WritePlan {
  writes: RecordWrite[];
}

export function emptyPlan(): WritePlan {
  return { writes: [] };
}

export function concatPlans(plans: readonly WritePlan[]): WritePlan {
  return { writes: plans.flatMap((p) => p.writes) };
}

export function countFieldWrites(plan: WritePlan): number {
  return plan.writes.reduce((n, w) => n + w.fields.length, 0);
}

/** Human-readable account of a plan, one line per field, for previews and logs. */
export function describePlan(plan: WritePlan): string[] {
  const lines: string[] = [];
  for (const w of plan.writes) {
    const target =
      w.action === 'create'
        ? `create ${w.system} ${w.object}`
        : `${w.system} ${w.object} ${w.recordId ?? ''}`;
    for (const f of w.fields) lines.push(`${target}: ${f.field} = ${JSON.stringify(f.value)} — ${f.reason}`);
  }
  return lines;
}
