import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { System } from '../domain/mapping/schema.js';
import type { ObjectName } from '../domain/records.js';
import type { PullMode, SyncPipeline } from '../pipeline/contract.js';
import type { FailureDetail } from './failure.js';
import type { ChildJob, PullJobResult, ReconcileJobResult, WriteBackJobResult } from './jobs.js';
import { QueueName } from './names.js';
import type { Producers } from './producers.js';

/**
 * One complete sync cycle through the queues (`tandem sync --once`): queue a pull per object, then follow
 * the jobs it causes — each processor returns the ids of the jobs it queued (`children`; a pull also keeps
 * them in its data while it runs, so a retried pull loses none) — until every one of them has finished. A
 * reconcile queued behind its running twin is followed once the twin has finished (`ChildJob.after`).
 * Jobs finish as completed, or failed for good (retries exhausted, or permanent); a job waiting out a rate
 * limit or a backoff is still pending. Counts are kept per object: pulled and reconciled under the object
 * pulled, written and failed under the object written (or reconciled, for reconcile failures).
 */

export interface ObjectCounts {
  system: System;
  object: string;
  pulled: number;
  reconciled: number;
  written: number;
  created: number;
  failed: number;
}

export interface CycleFailure {
  queue: string;
  jobId: string;
  code: string;
  reason: string;
  kind: string;
  system?: string;
  object?: string;
  recordId?: string;
  field?: string;
}

export interface CycleSummary {
  cycleId: string;
  mode: PullMode;
  startedAt: string;
  finishedAt: string;
  objects: ObjectCounts[];
  failures: CycleFailure[];
  /** Pulls that failed because a system could not be reached or refused Tandem's credentials. */
  unreachable: Array<{ system: string; object: string; code: string; reason: string }>;
}

export interface CycleProgress {
  finished: number;
  known: number;
}

export interface RunCycleOptions {
  producers: Producers;
  objects: SyncPipeline['objects'];
  mode: PullMode;
  cycleId?: string;
  pollMs?: number;
  onProgress?: (progress: CycleProgress) => void;
  /** Stop waiting (the summary then has what finished so far). */
  signal?: AbortSignal;
}

interface Pending {
  queue: QueueName;
  id: string;
  /** The object pulled that led here. */
  origin: { system: System; object: string };
  /** Polls that found no job under this id. */
  missing?: number;
  /** A job that exists only once this one has finished (see `ChildJob.after`). */
  after?: string;
}

/**
 * A job id can be briefly absent: a record's failure job is removed and added again under the same id when
 * the record fails anew. Only an id absent this many polls running counts as gone.
 */
const MISSING_POLLS = 3;

const UNREACHABLE_CODE = /^(NETWORK_|AUTH_|HUBSPOT_SERVER_ERROR|SALESFORCE_SERVER_ERROR|HTTP_SERVER_ERROR)/;

export async function runCycle(options: RunCycleOptions): Promise<CycleSummary> {
  const cycleId = options.cycleId ?? randomUUID();
  const startedAt = new Date().toISOString();
  const queues = options.producers.queues;
  const counts = new Map<string, ObjectCounts>();
  const countsFor = (system: System, object: string): ObjectCounts => {
    const key = `${system}/${object}`;
    let row = counts.get(key);
    if (row === undefined) {
      row = { system, object, pulled: 0, reconciled: 0, written: 0, created: 0, failed: 0 };
      counts.set(key, row);
    }
    return row;
  };
  const failures: CycleFailure[] = [];
  const unreachable: CycleSummary['unreachable'] = [];
  const seen = new Set<string>();
  let discovered: Pending[] = [];
  const track = (item: Pending): void => {
    const key = `${item.queue}\n${item.id}`;
    if (item.id === '' || seen.has(key)) return;
    seen.add(key);
    discovered.push(item);
  };

  for (const { system, object } of options.objects) {
    countsFor(system, object);
    const id = await options.producers.enqueuePull(system, object as ObjectName, {
      mode: options.mode,
      cycleId,
    });
    track({ queue: QueueName.Pull, id, origin: { system, object } });
  }
  let pending = discovered;
  discovered = [];

  let finished = 0;
  const pollMs = options.pollMs ?? 200;
  while (pending.length > 0 && options.signal?.aborted !== true) {
    const still: Pending[] = [];
    for (const item of pending) {
      const queue: Queue = queues[item.queue];
      // The state first, the job after: a job read before its state may have finished in between, and its
      // copy would then be counted without the result it has by now. A running pull's job is read for the
      // children listed in its data.
      const state = await queue.getJobState(item.id);
      const unfinished = isPending(state);
      const job =
        state === 'completed' || state === 'failed' || (unfinished && item.queue === QueueName.Pull)
          ? await queue.getJob(item.id)
          : null;
      if (unfinished) {
        // A running pull lists what it queued so far in its data.
        const children = (job?.data as { children?: unknown } | undefined)?.children;
        if (Array.isArray(children))
          for (const child of children as ChildJob[]) track({ ...child, origin: item.origin });
        still.push({ ...item, missing: 0 });
        continue;
      }
      if (job == null) {
        if (item.after !== undefined && isPending(await queue.getJobState(item.after))) {
          still.push(item);
          continue;
        }
        const missing = (item.missing ?? 0) + 1;
        if (missing < MISSING_POLLS) still.push({ ...item, missing });
        else finished += 1; // removed: nothing to count
        continue;
      }
      finished += 1;
      if (state === 'completed') {
        collectCompleted(item, job, countsFor, track);
        continue;
      }
      const failure = failureOf(item.queue, job);
      failures.push(failure);
      const where =
        failure.system !== undefined && failure.object !== undefined
          ? countsFor(failure.system as System, failure.object)
          : countsFor(item.origin.system, item.origin.object);
      where.failed += 1;
      if (item.queue === QueueName.Pull && UNREACHABLE_CODE.test(failure.code)) {
        unreachable.push({ ...item.origin, code: failure.code, reason: failure.reason });
      }
    }
    pending = [...still, ...discovered];
    discovered = [];
    options.onProgress?.({ finished, known: seen.size });
    if (pending.length > 0) await sleep(pollMs, options.signal);
  }
  return {
    cycleId,
    mode: options.mode,
    startedAt,
    finishedAt: new Date().toISOString(),
    objects: [...counts.values()],
    failures,
    unreachable,
  };
}

function collectCompleted(
  item: Pending,
  job: Job,
  countsFor: (system: System, object: string) => ObjectCounts,
  track: (item: Pending) => void,
): void {
  const origin = countsFor(item.origin.system, item.origin.object);
  switch (item.queue) {
    case QueueName.Pull: {
      const result = job.returnvalue as PullJobResult | null;
      origin.pulled += result?.pulled ?? 0;
      for (const child of result?.children ?? []) track({ ...child, origin: item.origin });
      return;
    }
    case QueueName.Reconcile: {
      const result = job.returnvalue as ReconcileJobResult | null;
      // Refs found reconciled already (by another job of the pull) are not counted as reconciled.
      origin.reconciled += (result?.refs ?? 0) - (result?.alreadyReconciled ?? 0);
      for (const child of result?.children ?? []) track({ ...child, origin: item.origin });
      return;
    }
    case QueueName.WriteBack: {
      const result = job.returnvalue as WriteBackJobResult | null;
      const batch = (job.data as { batch?: { system?: System; object?: string } }).batch;
      const target =
        batch?.system !== undefined && batch.object !== undefined
          ? countsFor(batch.system, batch.object)
          : origin;
      target.written += result?.written ?? 0;
      target.created += result?.created ?? 0;
      for (const child of result?.children ?? []) track({ ...child, origin: item.origin });
      return;
    }
  }
}

/** Waiting, delayed, running, or waiting out a rate limit: not finished, and still there. */
function isPending(state: string): boolean {
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}

function failureOf(queue: string, job: Job): CycleFailure {
  const data = job.data as { failure?: FailureDetail; batch?: { system?: string; object?: string } };
  const detail = data.failure;
  const failure: CycleFailure = {
    queue,
    jobId: job.id ?? '',
    code: detail?.code ?? 'UNCLASSIFIED',
    reason: detail?.reason ?? (job.failedReason || 'no reason recorded'),
    kind: detail?.kind ?? 'unknown',
  };
  const system = detail?.system ?? data.batch?.system ?? (job.data as { system?: string }).system;
  const object = detail?.object ?? data.batch?.object ?? (job.data as { object?: string }).object;
  if (system !== undefined) failure.system = system;
  if (object !== undefined) failure.object = object;
  if (detail?.recordId !== undefined) failure.recordId = detail.recordId;
  if (detail?.field !== undefined) failure.field = detail.field;
  return failure;
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no listener behind (a cycle polls often). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
