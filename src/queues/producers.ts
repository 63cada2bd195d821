import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { System } from '../domain/mapping/schema.js';
import type { ObjectName } from '../domain/records.js';
import type { EntityKind, PullMode, RecordFailure, SourceRef, WriteBatch } from '../pipeline/contract.js';
import { batchKey } from '../pipeline/batches.js';
import {
  pullJobId,
  reconcileDedupId,
  reconcileFailureJobId,
  reconcileJobId,
  singleWriteKey,
  writeBackDedupId,
  writeBackJobId,
  writeFailureJobId,
} from './ids.js';
import {
  JobName,
  singleWriteBatch,
  type ChildJob,
  type PullJobData,
  type ReconcileJobData,
  type WriteBackJobData,
} from './jobs.js';
import { bullPrefix, Priority, QueueName, Retention } from './names.js';
import { appendToOpenBatch, openBatch, openBatchKey, writeBackJobData } from './write-coalescing.js';

/**
 * Producers: the one place jobs are added, with Tandem's options. How each queue avoids double work:
 *
 * - **pull**: job id `pull:{system}:{object}`. While one is waiting, delayed or running, enqueueing again
 *   returns it; a finished one is replaced. Pulls fired by the job schedulers get BullMQ's own ids, so the
 *   pull processor also holds a lease lock per object (see `workers/pull.ts`).
 * - **reconcile**: BullMQ deduplication with id `rc-<digest of the sorted refs>` and `keepLastIfActive`:
 *   the same records queued again while waiting are coalesced into the queued job; queued again while it
 *   runs, they run once more after it (never in parallel; BullMQ gives that run a new id). A person in two
 *   batches at once: the plan of the later read stands (`PlanVersions`).
 * - **write-back**: a batch joins a job of the same system and object still waiting in the queue, up to the
 *   API's batch size (`write-coalescing.ts`). Otherwise BullMQ deduplication by the batch `key` (a content
 *   digest): a re-planned identical batch is not queued twice while the first waits or runs; once it
 *   finished, the same content is a new job with a new id, so a cycle that follows the first still counts
 *   what the first wrote.
 * - **per-record failures**: their own jobs with deterministic ids (one per CRM record for writes, one per
 *   record set for reconcile), replaced when the record fails again, so a record never has two.
 *
 * Priorities (`Priority`): replays first, then incremental sync, then back-fills and rebuilds; a job's
 * children inherit its priority, so a back-fill never starves incremental sync.
 */

export interface QueueSettings {
  /** The configured Redis prefix (`TANDEM_REDIS_PREFIX`); queues live under `bullPrefix(prefix)`. */
  redisPrefix: string;
  /** Attempts for transient errors (default 5). */
  attempts?: number;
  /** First backoff delay; doubles per attempt, with jitter (default 1000 ms). */
  backoffMs?: number;
  /** How long failed jobs are kept (`TANDEM_FAILED_JOB_RETENTION`). */
  failedRetentionMs: number;
}

export type TandemQueues = Record<QueueName, Queue>;

export const DEFAULT_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1_000;

export function openQueues(connection: Redis, redisPrefix: string): TandemQueues {
  const prefix = bullPrefix(redisPrefix);
  return {
    [QueueName.Pull]: new Queue(QueueName.Pull, { connection, prefix }),
    [QueueName.Reconcile]: new Queue(QueueName.Reconcile, { connection, prefix }),
    [QueueName.WriteBack]: new Queue(QueueName.WriteBack, { connection, prefix }),
  };
}

export async function closeQueues(queues: TandemQueues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

export function priorityFor(mode: PullMode | 'replay'): number {
  switch (mode) {
    case 'incremental':
      return Priority.Incremental;
    case 'backfill':
      return Priority.Backfill;
    case 'rebuild':
      return Priority.Rebuild;
    case 'replay':
      return Priority.Replay;
  }
}

export interface EnqueueOptions {
  cycleId?: string | undefined;
  priority?: number | undefined;
}

export class Producers {
  readonly queues: TandemQueues;
  private readonly settings: QueueSettings;

  constructor(queues: TandemQueues, settings: QueueSettings) {
    this.queues = queues;
    this.settings = settings;
  }

  /** Default options of every Tandem job: retries with backoff and jitter, retention of finished jobs. */
  jobOptions(priority: number): JobsOptions {
    return {
      attempts: this.settings.attempts ?? DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.settings.backoffMs ?? DEFAULT_BACKOFF_MS, jitter: 0.5 },
      priority,
      removeOnComplete: { age: Retention.completedAgeSeconds, count: Retention.completedCount },
      // Age only, never a count: a failure is kept for the retention period however many there are.
      removeOnFail: { age: Math.ceil(this.settings.failedRetentionMs / 1000) },
    };
  }

  async enqueuePull(
    system: System,
    object: ObjectName,
    options: EnqueueOptions & { mode: PullMode },
  ): Promise<string> {
    const data: PullJobData = { system, object, mode: options.mode, ...cycle(options) };
    return this.addReplacingFinished(this.queues.pull, JobName.Pull, data, {
      ...this.jobOptions(options.priority ?? priorityFor(options.mode)),
      jobId: pullJobId(system, object),
    });
  }

  /**
   * Returns the jobs that will do this work: the new job; or the waiting twin it was coalesced into; or,
   * when the twin is running, that twin and the job BullMQ re-queues after it. That re-queued job keeps
   * the id given here (a fresh one per add), which is how `runCycle` follows it; when a later add
   * replaces it before the twin finishes, it never exists, and the later add's caller follows that one.
   */
  async enqueueReconcile(
    kind: EntityKind,
    refs: readonly SourceRef[],
    options: EnqueueOptions & { skipReconciled?: boolean } = {},
  ): Promise<ChildJob[]> {
    const data: ReconcileJobData = {
      kind,
      refs: [...refs],
      ...cycle(options),
      ...(options.skipReconciled === true ? { skipReconciled: true } : {}),
    };
    const own = reconcileJobId();
    const job = await this.queues.reconcile.add(JobName.Reconcile, data, {
      ...this.jobOptions(options.priority ?? Priority.Incremental),
      jobId: own,
      deduplication: { id: reconcileDedupId(kind, refs), keepLastIfActive: true },
    });
    const id = job.id ?? own;
    if (id === own) return [{ queue: QueueName.Reconcile, id }];
    return [
      { queue: QueueName.Reconcile, id },
      { queue: QueueName.Reconcile, id: own, after: id },
    ];
  }

  /** Queues each batch (`enqueueWriteBack`): every job they went into, as children of the caller. */
  async enqueueWriteBacks(batches: readonly WriteBatch[], options: EnqueueOptions = {}): Promise<ChildJob[]> {
    const children: ChildJob[] = [];
    for (const batch of batches)
      for (const id of await this.enqueueWriteBack(batch, options))
        children.push({ queue: QueueName.WriteBack, id });
    return children;
  }

  /**
   * Returns the job that will send these writes: a job of the same system, object, priority, cycle and
   * mapping version still waiting in the queue, when it has room for them (`write-coalescing.ts`); else a
   * new job, which becomes the one later batches join.
   */
  async enqueueWriteBack(batch: WriteBatch, options: EnqueueOptions = {}): Promise<string[]> {
    const queue = this.queues['write-back'];
    const priority = options.priority ?? Priority.Incremental;
    const open = openBatchKey(queue, batch, priority, options.cycleId);
    const joined = await appendToOpenBatch(queue, open, batch.writes);
    const ids = joined.jobId === undefined ? [] : [joined.jobId];
    if (joined.rest.length === 0) return ids;
    const rest = joined.rest.length === batch.writes.length ? batch : { ...batch, writes: [...joined.rest] };
    const own = writeBackJobId();
    const key = rest === batch ? batch.key : batchKey(rest);
    const job = await queue.add(JobName.WriteBack, writeBackJobData({ ...rest, key }, options.cycleId), {
      ...this.jobOptions(priority),
      jobId: own,
      deduplication: { id: writeBackDedupId(key) },
    });
    // A deduplicated add returns the twin, whose writes may have been joined by others since: not opened.
    if (job.id === own) await openBatch(queue, open, own, rest.writes.length);
    return [...ids, job.id ?? own];
  }

  /**
   * A record the pipeline reported failed becomes its own job: `knownFailure` makes its first run record the
   * failure without calling the CRM again; a replay then writes (or reconciles) for real. Returns the job id,
   * or undefined when the failure carries nothing to replay.
   */
  async enqueueRecordFailure(
    failure: RecordFailure,
    context: EnqueueOptions & { batch?: WriteBatch; kind?: EntityKind },
  ): Promise<ChildJob | undefined> {
    const opts = { ...this.jobOptions(Priority.Replay) };
    if (failure.write !== undefined && context.batch !== undefined) {
      const write = failure.write;
      const data: WriteBackJobData = {
        batch: singleWriteBatch(context.batch, write, singleWriteKey(write)),
        knownFailure: failure.detail,
        ...cycle(context),
      };
      const id = await this.addReplacingFinished(this.queues['write-back'], JobName.WriteFailure, data, {
        ...opts,
        jobId: writeFailureJobId(write),
      });
      return { queue: QueueName.WriteBack, id };
    }
    const kind = failure.kind ?? context.kind;
    if (failure.refs !== undefined && failure.refs.length > 0 && kind !== undefined) {
      const data: ReconcileJobData = {
        kind,
        refs: failure.refs,
        knownFailure: failure.detail,
        ...cycle(context),
      };
      const id = await this.addReplacingFinished(this.queues.reconcile, JobName.ReconcileFailure, data, {
        ...opts,
        jobId: reconcileFailureJobId(kind, failure.refs),
      });
      return { queue: QueueName.Reconcile, id };
    }
    return undefined;
  }

  /**
   * Adds a job under a deterministic id. BullMQ ignores an add whose id exists in any state, so a finished
   * (completed or failed) job with that id is removed first; a waiting, delayed or active one is kept and
   * its id returned.
   */
  private async addReplacingFinished(
    queue: Queue,
    name: string,
    data: object,
    opts: JobsOptions & { jobId: string },
  ): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const existing = await queue.getJob(opts.jobId);
      if (existing !== undefined && existing !== null) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return opts.jobId;
        try {
          await existing.remove();
        } catch (error) {
          // Locked: it was just picked up again (a replay). Keep it.
          if (attempt >= 2) throw error;
          continue;
        }
      }
      const job = await queue.add(name, data, opts);
      return job.id ?? opts.jobId;
    }
  }
}

function cycle(options: EnqueueOptions): { cycleId?: string } {
  return options.cycleId === undefined ? {} : { cycleId: options.cycleId };
}
