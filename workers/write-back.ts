import { DelayedError, type Job } from 'bullmq';
import { writeFailureJobId } from '../src/queues/ids.js';
import { type ChildJob, parseWriteBackJob, type WriteBackJobResult } from '../src/queues/jobs.js';
import {
  contextOf,
  failPermanently,
  runClassified,
  type ProcessingContext,
} from '../src/queues/processing.js';
import type { WorkerDeps } from './deps.js';

/**
 * Write-back: send one batch of planned writes to a CRM. Each record's outcome is the pipeline's: records
 * the CRM rejected come back one by one and each becomes its own failed job carrying the single write to
 * replay, so the batch-mates are written and this job completes. When the daily budget ran out part-way,
 * the unsent writes replace the job's batch and the job waits (`deferred.waitMs`) without burning an
 * attempt.
 *
 * A per-record failure job (`knownFailure` set) records the failure on its first run without calling the
 * CRM again; a replay reads the records again and writes what they need now. Writes are idempotent (updates set values; creates are matched by
 * the pipeline's links first), so a replayed or re-run job never duplicates a record.
 */
export function writeBackProcessor(deps: WorkerDeps, ctx: ProcessingContext) {
  return async (job: Job, token?: string): Promise<WriteBackJobResult> =>
    runClassified(
      job,
      token,
      ctx,
      async () => {
        const data = parseWriteBackJob(job.data);
        if (data.knownFailure !== undefined) return failPermanently(job, data.knownFailure);
        // A job that failed before and runs again is a replay: re-read and re-plan, so a fix made in either
        // CRM since is picked up instead of re-sending the values planned back then.
        const outcome = await deps.pipeline.writeBack(data.batch, {
          jobId: job.id ?? '',
          replan: data.failure !== undefined,
          queueFollowUps: true,
        });
        const handOn = { cycleId: data.cycleId, batch: data.batch };
        // What settles this job's creates goes out with other jobs' writes, as a reconcile's plan does.
        const next = { cycleId: data.cycleId, priority: job.opts.priority };
        const children: ChildJob[] = await deps.producers.enqueueWriteBacks(outcome.followUps ?? [], next);
        if (outcome.reconcileAgain !== undefined)
          children.push(
            ...(await deps.producers.enqueueReconcile(
              outcome.reconcileAgain.kind,
              outcome.reconcileAgain.refs,
              next,
            )),
          );
        let own: (typeof outcome.failed)[number] | undefined;
        for (const failure of outcome.failed) {
          if (failure.write !== undefined && writeFailureJobId(failure.write) === job.id) {
            own = failure; // this job is that record's failure job, replayed: it fails again itself
            continue;
          }
          const child = await deps.producers.enqueueRecordFailure(failure, handOn);
          if (child !== undefined) children.push(child);
          else
            deps.log.warn(
              { code: failure.detail.code },
              `write failure with nothing to replay: ${failure.detail.reason}`,
            );
        }
        if (own !== undefined) return failPermanently(job, own.detail);
        if (outcome.deferred !== undefined && outcome.deferred.batch.writes.length > 0) {
          const { waitMs, batch } = outcome.deferred;
          deps.log.info(
            { jobId: job.id, waitMs, writes: batch.writes.length },
            'writes deferred: API budget spent',
          );
          await job.updateData({ ...data, batch });
          await job.moveToDelayed(Date.now() + waitMs, token);
          throw new DelayedError();
        }
        return {
          written: outcome.written,
          created: outcome.created,
          failed: outcome.failed.length,
          deferred: 0,
          children,
        };
      },
      contextOf(job),
    );
}
