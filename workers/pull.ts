import type { Job } from 'bullmq';
import { parsePullJob, type PullJobResult } from '../src/queues/jobs.js';
import { BusyError, contextOf, runClassified, type ProcessingContext } from '../src/queues/processing.js';
import type { WorkerDeps } from './deps.js';

/** Refs per reconcile job: one page can hold up to 2,000 Salesforce records. */
export const RECONCILE_BATCH = 200;
const LEASE_MS = 60_000;

/**
 * Pull: read one system's object from its checkpoint, page by page, and queue each page's records for
 * reconcile (the pipeline stores snapshots, and saves the checkpoint once this loop asks for the next page,
 * i.e. after the page's reconcile jobs are queued: a crash or a retry resumes where it stopped, and no page
 * is ever pulled without being reconciled). One pull per object runs at a time, whoever queued it: a lease lock per
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
          for await (const page of deps.pipeline.pull(system, object, {
            mode: data.mode,
            scheduled: job.repeatJobKey !== undefined,
          })) {
            result.pages += 1;
            result.pulled += page.refs.length;
            result.deleted += page.deleted.length;
            for (let i = 0; i < page.refs.length; i += RECONCILE_BATCH) {
              const refs = page.refs.slice(i, i + RECONCILE_BATCH);
              const jobs = await deps.producers.enqueueReconcile(page.kind, refs, {
                cycleId: data.cycleId,
                priority,
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
