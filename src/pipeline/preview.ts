// What a dry run would write, per record and field: before → after, and which rule decided. Pure.

import type { RawValue } from '../domain/records.js';
import type { RecordFailure, WriteBatch } from './contract.js';

export interface PreviewLine {
  action: 'update' | 'create';
  system: string;
  object: string;
  /** Absent on create. */
  recordId?: string;
  unifiedId: string;
  field: string;
  before?: RawValue;
  after: RawValue;
  /** The conflict rule, or what computed the value (lifecycle, score, attribution, cross-reference). */
  rule: string;
  reason: string;
}

export function previewLines(batches: readonly WriteBatch[]): PreviewLine[] {
  const lines: PreviewLine[] = [];
  for (const b of batches) {
    for (const w of b.writes) {
      for (const f of w.fields) {
        lines.push({
          action: w.action,
          system: w.system,
          object: w.object,
          ...(w.recordId !== undefined ? { recordId: w.recordId } : {}),
          unifiedId: w.entityKey,
          field: f.field,
          ...(f.previous !== undefined ? { before: f.previous } : {}),
          after: f.value,
          rule: f.provenance?.rule ?? f.reason.split(':')[0] ?? 'computed',
          reason: f.reason,
        });
      }
    }
  }
  return lines;
}

const show = (v: RawValue | undefined): string => (v === undefined ? '∅' : JSON.stringify(v));

/** Terminal text: one block per record, one line per field. */
export function formatPlanPreview(
  batches: readonly WriteBatch[],
  failures: readonly RecordFailure[],
): string {
  const out: string[] = [];
  let current = '';
  for (const l of previewLines(batches)) {
    const head =
      l.action === 'create'
        ? `create ${l.system} ${l.object} (for ${l.unifiedId})`
        : `${l.system} ${l.object} ${l.recordId ?? ''} (${l.unifiedId})`;
    if (head !== current) {
      out.push(head);
      current = head;
    }
    out.push(`  ${l.field}: ${show(l.before)} → ${show(l.after)}  [${l.rule}] ${l.reason}`);
  }
  for (const f of failures) {
    const d = f.detail;
    out.push(
      `✗ ${d.system ?? ''} ${d.object ?? ''} ${d.recordId ?? ''}${d.field ? ` ${d.field}` : ''}: ${d.reason}`,
    );
  }
  return out.length === 0 ? 'Nothing would be written.\n' : `${out.join('\n')}\n`;
}
