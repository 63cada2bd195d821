// A write plan split into write-back batches: one per system and object, at most one API batch each,
// with a deterministic key (a digest of the content) the queue layer uses as the job id. Pure.

import { createHash } from 'node:crypto';
import { canonicalValue } from '../domain/hash.js';
import type { System } from '../domain/mapping/schema.js';
import type { RecordWrite } from '../domain/write-plan.js';
import type { WriteBatch } from './contract.js';

export const BATCH_LIMIT: Readonly<Record<System, number>> = { hubspot: 100, salesforce: 200 };

const OBJECT_ORDER = ['companies', 'Account', 'contacts', 'Lead', 'Contact', 'deals', 'Opportunity'];

function writeOrder(a: RecordWrite, b: RecordWrite): number {
  const ka = `${a.action === 'create' ? 1 : 0}:${a.recordId ?? ''}:${a.entityKey}`;
  const kb = `${b.action === 'create' ? 1 : 0}:${b.recordId ?? ''}:${b.entityKey}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function batchKey(batch: Omit<WriteBatch, 'key'>): string {
  const digest = createHash('sha256')
    .update(canonicalValue({ s: batch.system, o: batch.object, v: batch.mappingVersion, w: batch.writes }))
    .digest('hex')
    .slice(0, 24);
  return `${batch.system}-${batch.object}-${digest}`;
}

/**
 * Groups writes by system and object (companies first, deals last), orders them (updates, then creates,
 * by record id / entity) and cuts them at each API's batch size.
 */
export function splitWrites(
  writes: readonly RecordWrite[],
  mappingVersion: string,
  limits: Readonly<Record<System, number>> = BATCH_LIMIT,
): WriteBatch[] {
  const groups = new Map<string, RecordWrite[]>();
  for (const w of writes) {
    const k = `${w.system}\n${w.object}`;
    const list = groups.get(k);
    if (list) list.push(w);
    else groups.set(k, [w]);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => {
    const oa = OBJECT_ORDER.indexOf(a.split('\n')[1] ?? '');
    const ob = OBJECT_ORDER.indexOf(b.split('\n')[1] ?? '');
    return oa - ob || (a < b ? -1 : a > b ? 1 : 0);
  });
  const out: WriteBatch[] = [];
  for (const [, list] of ordered) {
    const first = list[0];
    if (first === undefined) continue;
    const sorted = [...list].sort(writeOrder);
    const size = Math.max(1, limits[first.system]);
    for (let i = 0; i < sorted.length; i += size) {
      const batch = {
        system: first.system,
        object: first.object,
        writes: sorted.slice(i, i + size),
        mappingVersion,
      };
      out.push({ ...batch, key: batchKey(batch) });
    }
  }
  return out;
}
