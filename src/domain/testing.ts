import type { BatchInput, BatchResult } from './batch.js';
import type { SourceRecord, StoredLink } from './records.js';
import { valueHash, writtenKey } from './merge.js';
import type { RecordWrite, WritePlan } from './write-plan.js';

/**
 * A pure stand-in for the connectors, for tests and previews: applies a plan to in-memory records the
 * way the CRMs would (new values stamped with `now`), records what Tandem wrote (for echo suppression)
 * and links created records to their counterparts.
 */
export interface AppliedPlan {
  records: SourceRecord[];
  lastWritten: Map<string, string>;
  links: StoredLink[];
}

export interface ApplyOptions {
  now: string;
  lastWritten?: ReadonlyMap<string, string>;
  links?: readonly StoredLink[];
}

function linkSide(write: Pick<RecordWrite, 'system' | 'object'>, id: string): Partial<StoredLink> {
  if (write.system === 'hubspot') return { hubspotId: id };
  if (write.object === 'Lead') return { salesforceLeadId: id };
  if (write.object === 'Contact') return { salesforceContactId: id };
  return { salesforceId: id };
}

export function createdId(write: RecordWrite): string {
  return `new-${write.system}-${write.object}-${write.entityKey}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function applyPlan(
  records: readonly SourceRecord[],
  plan: WritePlan,
  options: ApplyOptions,
): AppliedPlan {
  const { now } = options;
  const byKey = new Map<string, SourceRecord>();
  for (const r of records) {
    byKey.set(`${r.system}:${r.id}`, {
      ...r,
      fields: { ...r.fields },
      ...(r.fieldChangedAt ? { fieldChangedAt: { ...r.fieldChangedAt } } : {}),
    });
  }
  const lastWritten = new Map(options.lastWritten ?? []);
  const links = (options.links ?? []).map((l) => ({ ...l }));
  for (const write of plan.writes) {
    let record: SourceRecord | undefined;
    if (write.action === 'update') {
      record = byKey.get(`${write.system}:${write.recordId ?? ''}`);
      if (!record) throw new Error(`applyPlan: no ${write.system} record ${write.recordId ?? ''}`);
    } else {
      const id = createdId(write);
      record = {
        system: write.system,
        object: write.object,
        id,
        fields: {},
        fieldChangedAt: {},
        createdAt: now,
        modifiedAt: now,
      };
      byKey.set(`${write.system}:${id}`, record);
      const existing = links.find((l) => l.unifiedId === write.entityKey);
      const sides = {
        ...linkSide(write, id),
        ...(write.counterpart ? linkSide(write.counterpart, write.counterpart.id) : {}),
      };
      if (existing) Object.assign(existing, sides);
      else links.push({ unifiedId: write.entityKey, ...sides });
      const other = write.counterpart
        ? byKey.get(`${write.counterpart.system}:${write.counterpart.id}`)
        : undefined;
      if (other && write.linkBack) {
        other.fields[write.linkBack.field] = id;
        other.fieldChangedAt = { ...(other.fieldChangedAt ?? {}), [write.linkBack.field]: now };
        other.modifiedAt = now;
        lastWritten.set(writtenKey(other.system, other.id, write.linkBack.field), valueHash(id));
      }
    }
    const changed = { ...(record.fieldChangedAt ?? {}) };
    for (const f of write.fields) {
      record.fields[f.field] = f.value;
      changed[f.field] = now;
      for (const [key, hash] of Object.entries(f.heldElsewhere ?? {})) lastWritten.set(key, hash);
      lastWritten.set(writtenKey(write.system, record.id, f.field), f.hash);
    }
    record.fieldChangedAt = changed;
    record.modifiedAt = now;
  }
  return { records: [...byKey.values()], lastWritten, links };
}

/**
 * The next person batch once a plan was applied: `records` (the applied ones unless given) as the CRMs now
 * hold them, the links the plan made, and each person's stage as `result` left it.
 */
export function personBatchAfter(
  input: BatchInput,
  result: BatchResult,
  applied: AppliedPlan,
  records: readonly SourceRecord[] = applied.records,
): BatchInput {
  return {
    ...input,
    persons: {
      hubspot: records.filter((r) => r.system === 'hubspot'),
      salesforce: records.filter((r) => r.system === 'salesforce'),
    },
    links: { person: applied.links },
    previousStages: new Map(
      result.persons.map((p) => [p.unified.key, { stage: p.unified.stage, history: p.unified.stageEntries }]),
    ),
  };
}
