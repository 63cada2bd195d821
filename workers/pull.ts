import type { Job } from 'bullmq';
import { parsePullJob, type PullJobResult } from '../src/queues/jobs.js';
import { BusyError, contextOf, runClassified, type ProcessingContext } from '../src/queues/processing.js';
import type { WorkerDeps } from './deps.js';

/** Refs per reconcile job by default (`TANDEM_RECONCILE_BATCH`). */
export const DEFAULT_RECONCILE_BATCH = 500;
const LEASE_MS = 60_000;

/**
 * Pull: read one system's object from its checkpoint and queue its records for reconcile in jobs of about
 * `reconcileBatch` refs. The pipeline groups consecutive connector pages until they hold that many refs
 * (`PullOptions.groupRefs`), stores their snapshots, and saves the group's checkpoint once this loop asks
 * for the next page, i.e. after the group's reconcile jobs are queued: a crash or a retry resumes where it
 * stopped (re-reading at most the group in hand), and no page is ever pulled without being reconciled. One pull per object runs at a time, whoever queued it: a lease lock per
 * object. A scheduled tick that finds a pull running is skipped (that pull covers it); any other pull
 * waits for it.
 */
export function pullProcessor(deps: WorkerDeps, ctx: ProcessingContext) {
  return async (job: Job, token?: string): Promise<PullJobResult> =>
    runClassified(
      job,
      token,
      ctx,
      async () => {
        const data = parsePullJob(job.data);
        const { system, object } = data;
        const lease = await deps.locks.acquire(deps.keys.lock(`pull:${system}:${object}`), LEASE_MS);
        if (lease === undefined) {
          if (job.repeatJobKey !== undefined) {
            deps.log.debug({ system, object }, 'scheduled pull skipped: one is already running');
            return { pages: 0, pulled: 0, deleted: 0, children: [] };
          }
          throw new BusyError(`a pull of ${system} ${object} is already running`);
        }
        const renew = setInterval(() => void lease.extend(LEASE_MS), LEASE_MS / 3);
        const result: PullJobResult = {
          pages: 0,
          pulled: 0,
          deleted: 0,
          children: [...(data.children ?? [])],
        };
        const priority = job.opts.priority;
        try {
          const size = deps.reconcileBatch ?? DEFAULT_RECONCILE_BATCH;
          for await (const page of deps.pipeline.pull(system, object, {
            mode: data.mode,
            groupRefs: size,
            scheduled: job.repeatJobKey !== undefined,
          })) {
            result.pages += 1;
            result.pulled += page.refs.length + (page.alreadyReconciled ?? 0);
            if (page.alreadyReconciled !== undefined)
              result.alreadyReconciled = (result.alreadyReconciled ?? 0) + page.alreadyReconciled;
            result.deleted += page.deleted.length;
            for (const refs of evenSlices(page.refs, size)) {
              const jobs = await deps.producers.enqueueReconcile(page.kind, refs, {
                cycleId: data.cycleId,
                priority,
                // A back-fill or rebuild reconciles everything; an incremental pull's jobs skip records
                // another of its jobs reconciled as they are now, except persons due for re-evaluation.
                skipReconciled: data.mode === 'incremental' && page.dueForReevaluation !== true,
              });
              for (const child of jobs)
                if (!result.children.some((c) => c.id === child.id)) result.children.push(child);
            }
            // Remember what was queued (a retry resumes from the checkpoint, not from page one).
            if (data.cycleId !== undefined) await job.updateData({ ...data, children: result.children });
          }
        } finally {
          clearInterval(renew);
          await deps.locks.release(lease);
        }
        return result;
      },
      contextOf(job),
    );
}

/** `items` in ⌈n/size⌉ slices of near-equal length (1,050 refs at 1,000: two of 525, not 1,000 and 50). */
export function evenSlices<T>(items: readonly T[], size: number): T[][] {
  const count = Math.ceil(items.length / Math.max(1, size));
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < count; i += 1) {
    const end = start + Math.ceil((items.length - start) / (count - i));
    out.push(items.slice(start, end));
    start = end;
  }
  return out;
}
