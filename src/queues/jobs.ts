import { z } from 'zod';
import type { System } from '../domain/mapping/schema.js';
import type { ObjectName } from '../domain/records.js';
import type { RecordWrite } from '../domain/write-plan.js';
import type { EntityKind, PullMode, SourceRef, WriteBatch } from '../pipeline/contract.js';
import type { FailureDetail } from './failure.js';
import type { QueueName } from './names.js';

/**
 * What each queue's jobs carry, as zod schemas: a worker validates `job.data` before it calls the pipeline,
 * and a payload that does not parse fails permanently (`INVALID_JOB_PAYLOAD`) with the bad paths named —
 * retrying a malformed payload can never help.
 *
 * Every payload may carry `cycleId` (the `tandem sync --once` run that caused it, handed on to the jobs it
 * enqueues) and, once failed, `failure` (the `FailureDetail` the dashboard and `tandem replay` read).
 * `knownFailure` marks a per-record failure job: its first run records the failure the pipeline already
 * reported without calling an API again; the flag is cleared then, so a replay re-executes for real.
 */

const SYSTEMS = ['hubspot', 'salesforce'] as const satisfies readonly System[];
const OBJECTS = [
  'contacts',
  'companies',
  'deals',
  'Lead',
  'Contact',
  'Account',
  'Opportunity',
] as const satisfies readonly ObjectName[];
const KINDS = ['person', 'company', 'deal'] as const satisfies readonly EntityKind[];
const MODES = ['incremental', 'backfill', 'rebuild'] as const satisfies readonly PullMode[];

export const SystemSchema = z.enum(SYSTEMS);
export const ObjectNameSchema = z.enum(OBJECTS);
export const EntityKindSchema = z.enum(KINDS);
export const PullModeSchema = z.enum(MODES);

export const SourceRefSchema = z.object({
  system: SystemSchema,
  object: ObjectNameSchema,
  id: z.string().min(1),
});

export const FailureDetailSchema = z.object({
  code: z.string().min(1),
  reason: z.string().min(1),
  kind: z.enum(['permanent', 'transient', 'rate_limited']),
  system: SystemSchema.optional(),
  object: z.string().optional(),
  recordId: z.string().optional(),
  unifiedId: z.string().optional(),
  field: z.string().optional(),
  failedAt: z.string(),
});

/** The parts of a `RecordWrite` the queue layer relies on; the rest travels through untouched. */
const FieldWriteSchema = z.looseObject({ field: z.string().min(1), hash: z.string() });
export const RecordWriteSchema = z.looseObject({
  action: z.enum(['update', 'create']),
  system: SystemSchema,
  object: ObjectNameSchema,
  recordId: z.string().min(1).optional(),
  entityKey: z.string().min(1),
  fields: z.array(FieldWriteSchema),
});

export const WriteBatchSchema = z.object({
  system: SystemSchema,
  object: ObjectNameSchema,
  writes: z.array(RecordWriteSchema).min(1),
  mappingVersion: z.string().min(1),
  key: z.string().min(1),
});

const common = {
  cycleId: z.string().min(1).optional(),
  failure: FailureDetailSchema.optional(),
};

export const PullJobSchema = z.object({
  ...common,
  system: SystemSchema,
  object: ObjectNameSchema,
  mode: PullModeSchema,
  /** The reconcile jobs this pull queued so far (kept across retries, for cycle tracking). */
  children: z
    .array(z.object({ queue: z.enum(['pull', 'reconcile', 'write-back']), id: z.string() }))
    .optional(),
});

export const ReconcileJobSchema = z.object({
  ...common,
  kind: EntityKindSchema,
  refs: z.array(SourceRefSchema).min(1),
  knownFailure: FailureDetailSchema.optional(),
  skipReconciled: z.boolean().optional(),
});

export const WriteBackJobSchema = z.object({
  ...common,
  batch: WriteBatchSchema,
  knownFailure: FailureDetailSchema.optional(),
});

export interface CommonJobData {
  cycleId?: string;
  failure?: FailureDetail;
}

export interface PullJobData extends CommonJobData {
  system: System;
  object: ObjectName;
  mode: PullMode;
  children?: ChildJob[];
}

export interface ReconcileJobData extends CommonJobData {
  kind: EntityKind;
  refs: SourceRef[];
  knownFailure?: FailureDetail;
  /** Queued by an incremental pull: refs already reconciled as they are now are left out. */
  skipReconciled?: boolean;
}

export interface WriteBackJobData extends CommonJobData {
  batch: WriteBatch;
  knownFailure?: FailureDetail;
}

/** A job another job queued. */
export interface ChildJob {
  queue: QueueName;
  id: string;
  /**
   * The job this one waits behind: a reconcile queued while its twin ran exists only once that twin has
   * finished (BullMQ's `keepLastIfActive`), and may never exist when a later add replaced it.
   */
  after?: string;
}

/** What each processor returns (the job's `returnvalue`): counts, and the ids of the jobs it enqueued. */
export interface PullJobResult {
  pages: number;
  /** Records read, those handed on to reconcile and those already reconciled. */
  pulled: number;
  /** Records read holding what their last reconcile left them holding (the echo of Tandem's writes). */
  alreadyReconciled?: number;
  deleted: number;
  children: ChildJob[];
}

export interface ReconcileJobResult {
  entities: number;
  refs: number;
  /** Of `refs`, those already reconciled as they are now (left out). */
  alreadyReconciled?: number;
  writes: number;
  failed: number;
  children: ChildJob[];
}

export interface WriteBackJobResult {
  written: number;
  created: number;
  failed: number;
  deferred: number;
  children: ChildJob[];
}

export type JobResult = PullJobResult | ReconcileJobResult | WriteBackJobResult;

/** Job names, one per kind of work (a queue may hold more than one name). */
export const JobName = {
  Pull: 'pull',
  Reconcile: 'reconcile',
  ReconcileFailure: 'reconcile-record',
  WriteBack: 'write-back',
  WriteFailure: 'write-back-record',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** A payload that does not match its schema; the message names every bad path. */
export class InvalidJobPayloadError extends Error {
  override readonly name = 'InvalidJobPayloadError';
  readonly code = 'INVALID_JOB_PAYLOAD';
}

function parse<T>(schema: z.ZodType<unknown>, what: string, data: unknown): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data as T;
  const problems = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  throw new InvalidJobPayloadError(`Malformed ${what} job payload: ${problems.join('; ')}${more}`);
}

export const parsePullJob = (data: unknown): PullJobData => parse(PullJobSchema, 'pull', data);
export const parseReconcileJob = (data: unknown): ReconcileJobData =>
  parse(ReconcileJobSchema, 'reconcile', data);
export const parseWriteBackJob = (data: unknown): WriteBackJobData =>
  parse(WriteBackJobSchema, 'write-back', data);

/** The single write a per-record failure job replays, as a one-write batch. */
export function singleWriteBatch(batch: WriteBatch, write: RecordWrite, key: string): WriteBatch {
  return {
    system: batch.system,
    object: batch.object,
    mappingVersion: batch.mappingVersion,
    writes: [write],
    key,
  };
}
