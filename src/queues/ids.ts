import { createHash, randomUUID } from 'node:crypto';
import type { System } from '../domain/mapping/schema.js';
import type { RecordWrite } from '../domain/write-plan.js';
import type { EntityKind, SourceRef } from '../pipeline/contract.js';

/**
 * Job and deduplication ids. BullMQ refuses a custom job id that is an integer, or that contains `:` unless
 * it has exactly three `:`-separated parts (`pull:hubspot:contacts` passes): every custom id made here is a
 * prefix and a digest (or a uuid), or the pull's three parts. Deduplication ids have no such rule.
 */

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** One pull per system and object is queued at a time. */
export function pullJobId(system: System, object: string): string {
  return `pull:${system}:${object}`;
}

/** Order-independent digest of a batch of refs: the same records make the same reconcile job. */
export function refsDigest(kind: EntityKind, refs: readonly SourceRef[]): string {
  const keys = [...new Set(refs.map((r) => `${r.system}/${r.object}/${r.id}`))].sort();
  return digest(`${kind}\n${keys.join('\n')}`);
}

export function reconcileDedupId(kind: EntityKind, refs: readonly SourceRef[]): string {
  return `rc-${refsDigest(kind, refs)}`;
}

/** A reconcile job's own id: fresh per add, so a job BullMQ re-queues behind its running twin can be found. */
export function reconcileJobId(): string {
  return `rcn-${randomUUID()}`;
}

/** The failed reconcile job of these records (one per record set, replaced when it fails again). */
export function reconcileFailureJobId(kind: EntityKind, refs: readonly SourceRef[]): string {
  return `rcf-${refsDigest(kind, refs)}`;
}

/** A write-back job's own id: fresh per add, so later batches can join it while it waits. */
export function writeBackJobId(): string {
  return `wbn-${randomUUID()}`;
}

/** The deduplication id of a write-back batch: its content key. */
export function writeBackDedupId(batchKey: string): string {
  return `wb-${batchKey}`;
}

/** The failed write of one CRM record (or of one record to create, by its entity): one job per record. */
export function writeFailureJobId(write: RecordWrite): string {
  const target = write.recordId ?? `new/${write.entityKey}`;
  return `wbf-${digest(`${write.system}/${write.object}/${write.action}/${target}`)}`;
}

/** The key of the one-write batch a failure job replays (content digest, like the pipeline's keys). */
export function singleWriteKey(write: RecordWrite): string {
  return `wb1-${digest(JSON.stringify(write))}`;
}
