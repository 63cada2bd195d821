import type { Job } from 'bullmq';
import { reconcileFailureJobId } from '../src/queues/ids.js';
import { type ChildJob, parseReconcileJob, type ReconcileJobResult } from '../src/queues/jobs.js';
import {
  contextOf,
  failPermanently,
  runClassified,
  type ProcessingContext,
} from '../src/queues/processing.js';
import type { WorkerDeps } from './deps.js';

/**
 * Reconcile: merge a batch of records into the customer view and plan the writes (no API call), then queue
 * one write-back job per planned batch and one failed job per record that could not be reconciled (e.g. an
 * unmapped picklist value), so its batch-mates go on.
 *
 * A per-record failure job (`knownFailure` set) records that failure on its first run without reconciling
 * again; replayed, it reconciles its records for real and fails again only if they still fail.
 */
export function reconcileProcessor(deps: WorkerDeps, ctx: ProcessingContext) {
  return async (job: Job, token?: string): Promise<ReconcileJobResult> =>
    runClassified(
      job,
      token,
      ctx,
      async () => {
        const data = parseReconcileJob(job.data);
        if (data.knownFailure !== undefined) return failPermanently(job, data.knownFailure);
        // A run after a failed or interrupted one reconciles every ref: that run may have stored its records'
        // marks (what they will hold once its writes land) and died before queuing those writes.
        const firstRun = job.attemptsMade === 0 && job.attemptsStarted <= 1;
        const outcome = await deps.pipeline.reconcile(data.kind, data.refs, {
          jobId: job.id ?? '',
          ...(data.skipReconciled === true && firstRun ? { skipReconciled: true } : {}),
        });
        const handOn = { cycleId: data.cycleId, priority: job.opts.priority };
        const children: ChildJob[] = await deps.producers.enqueueWriteBacks(outcome.writes, handOn);
        let own: (typeof outcome.failures)[number] | undefined;
        for (const failure of outcome.failures) {
          const refs = failure.refs ?? [];
          if (refs.length > 0 && reconcileFailureJobId(failure.kind ?? data.kind, refs) === job.id) {
            own = failure; // this job is that record's failure job, replayed: it fails again itself
            continue;
          }
          const child = await deps.producers.enqueueRecordFailure(failure, { ...handOn, kind: data.kind });
          if (child !== undefined) children.push(child);
          else
            deps.log.warn(
              { code: failure.detail.code },
              `reconcile failure with nothing to replay: ${failure.detail.reason}`,
            );
        }
        if (outcome.reconcileAgain !== undefined && outcome.reconcileAgain.length > 0)
          children.push(
            ...(await deps.producers.enqueueReconcile(data.kind, outcome.reconcileAgain, handOn)),
          );
        if (own !== undefined) return failPermanently(job, own.detail);
        return {
          entities: outcome.entities,
          refs: data.refs.length,
          ...(outcome.alreadyReconciled !== undefined
            ? { alreadyReconciled: outcome.alreadyReconciled }
            : {}),
          writes: outcome.writes.reduce((n, b) => n + b.writes.length, 0),
          failed: outcome.failures.length,
          children,
        };
      },
      contextOf(job),
    );
}
