import { DelayedError, RateLimitError, UnrecoverableError, type Job } from 'bullmq';
import { classify, toQueueSignal, type ClassifyContext } from '../connectors/classify.js';
import type { Logger } from '../logging.js';
import { metrics } from '../observability/metrics.js';
import type { FailureDetail } from './failure.js';
import { InvalidJobPayloadError } from './jobs.js';

/**
 * How a processor's errors become BullMQ control signals (classified once, by `src/connectors/classify.ts`):
 *
 * - permanent → `data.failure` (FailureDetail) is saved with `job.updateData` first, then
 *   `UnrecoverableError`: the job fails at once, attempts left or not, and stays failed (retained for
 *   `TANDEM_FAILED_JOB_RETENTION`) until replayed;
 * - transient → rethrown: BullMQ retries with exponential backoff and jitter; on the last attempt
 *   `data.failure` is saved too, so an exhausted job reads as clearly as a permanent one;
 * - rate-limited → waits without burning an attempt. A short wait (≤ `SHORT_WAIT_MS`, the CRM's 10-second
 *   and secondly windows) rate-limits the whole queue (`worker.rateLimit(ms)` + `RateLimitError`): every
 *   job of the queue would hit the same limit. A long one (a daily quota) delays only this job
 *   (`job.moveToDelayed` + `DelayedError`), so the other CRM's jobs keep flowing;
 * - a busy lock (another worker holds this person or this object's pull) → delayed by about a second,
 *   without burning an attempt;
 * - a malformed payload → permanent `INVALID_JOB_PAYLOAD`.
 */

export const SHORT_WAIT_MS = 60_000;
const BUSY_DELAY_MS = 1_000;

export interface ProcessingContext {
  queueName: string;
  log: Logger;
  /** Rate-limits the whole queue for `ms` (the worker's `rateLimit`). */
  rateLimit(ms: number): Promise<void>;
  now?: () => Date;
}

/** Thrown by a processor that wants the job tried again a little later (a busy lock). */
export class BusyError extends Error {
  override readonly name = 'BusyError';
}

function isBusy(error: unknown): boolean {
  return error instanceof Error && (error.name === 'BusyError' || error.name === 'LockBusyError');
}

/** Saves the failure on the job, then fails it at once. */
export async function failPermanently(job: Job, detail: FailureDetail, extra: object = {}): Promise<never> {
  const data = { ...(job.data as object), ...extra, failure: detail } as Record<string, unknown>;
  delete data['knownFailure'];
  await job.updateData(data);
  metrics.failures.inc({ code: detail.code, kind: detail.kind });
  throw new UnrecoverableError(detail.reason);
}

export function failureDetail(
  error: unknown,
  context: ClassifyContext & { unifiedId?: string },
  now: Date,
): FailureDetail {
  if (error instanceof InvalidJobPayloadError) {
    return { code: error.code, reason: error.message, kind: 'permanent', failedAt: now.toISOString() };
  }
  const c = classify(error, context);
  const detail: FailureDetail = { code: c.code, reason: c.reason, kind: c.kind, failedAt: now.toISOString() };
  if (context.system !== undefined) detail.system = context.system;
  if (context.object !== undefined) detail.object = context.object;
  const recordId = c.kind === 'permanent' ? (c.recordId ?? context.recordId) : context.recordId;
  if (recordId !== undefined) detail.recordId = recordId;
  if (context.unifiedId !== undefined) detail.unifiedId = context.unifiedId;
  if (c.kind === 'permanent' && c.field !== undefined) detail.field = c.field;
  return detail;
}

/**
 * Runs one job's work and turns what it throws into the right BullMQ signal.
 *
 * @example
 * worker = new Worker('pull', (job, token) => runClassified(job, token, ctx, () => pull(job)), opts);
 */
export async function runClassified<T>(
  job: Job,
  token: string | undefined,
  ctx: ProcessingContext,
  work: () => Promise<T>,
  classifyContext: ClassifyContext & { unifiedId?: string } = {},
): Promise<T> {
  const started = Date.now();
  try {
    const result = await work();
    metrics.jobDuration.observe(
      { queue: ctx.queueName, outcome: 'completed' },
      (Date.now() - started) / 1000,
    );
    return result;
  } catch (error) {
    if (
      error instanceof UnrecoverableError ||
      error instanceof DelayedError ||
      error instanceof RateLimitError
    ) {
      throw error;
    }
    const now = ctx.now?.() ?? new Date();
    if (isBusy(error)) {
      await job.moveToDelayed(Date.now() + BUSY_DELAY_MS + Math.floor(Math.random() * BUSY_DELAY_MS), token);
      throw new DelayedError();
    }
    const detail = failureDetail(error, classifyContext, now);
    const signal =
      error instanceof InvalidJobPayloadError
        ? ({ action: 'fail-now' } as const)
        : toQueueSignal(classify(error));
    metrics.jobDuration.observe({ queue: ctx.queueName, outcome: 'failed' }, (Date.now() - started) / 1000);
    switch (signal.action) {
      case 'fail-now':
        ctx.log.warn({ queue: ctx.queueName, jobId: job.id, code: detail.code }, detail.reason);
        return failPermanently(job, detail);
      case 'retry': {
        const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        ctx.log.info(
          { queue: ctx.queueName, jobId: job.id, code: detail.code, attempt: job.attemptsMade + 1, last },
          detail.reason,
        );
        if (last) {
          await job.updateData({ ...(job.data as object), failure: detail });
          metrics.failures.inc({ code: detail.code, kind: detail.kind });
        }
        throw new Error(detail.reason, { cause: error });
      }
      case 'wait':
        ctx.log.info(
          { queue: ctx.queueName, jobId: job.id, code: detail.code, waitMs: signal.waitMs },
          detail.reason,
        );
        if (signal.waitMs <= SHORT_WAIT_MS) {
          await ctx.rateLimit(signal.waitMs);
          throw new RateLimitError();
        }
        await job.moveToDelayed(Date.now() + signal.waitMs, token);
        throw new DelayedError();
    }
  }
}

/** The system and object a job is about, read loosely (before validation) for error messages. */
export function contextOf(job: Job): ClassifyContext {
  const data = job.data as {
    system?: unknown;
    object?: unknown;
    batch?: { system?: unknown; object?: unknown };
  };
  const source = data?.batch ?? data;
  const context: ClassifyContext = {};
  if (source?.system === 'hubspot' || source?.system === 'salesforce') context.system = source.system;
  if (typeof source?.object === 'string') context.object = source.object;
  return context;
}
