import type { Queue } from 'bullmq';
import type { Schedule, TandemConfig } from '../config/index.js';
import type { EntityKind, SyncPipeline } from '../pipeline/contract.js';
import { JobName, type PullJobData } from './jobs.js';
import { Priority } from './names.js';
import type { Producers } from './producers.js';

/**
 * Job schedulers (BullMQ `upsertJobScheduler`), one per system and object, that queue an incremental pull
 * on the configured interval or cron pattern (`TANDEM_SCHEDULE_PERSONS|COMPANIES|DEALS`). They live in
 * Redis: once upserted, any running worker produces the next pull, so `tandem scheduler` upserts and exits
 * (run it again after changing a schedule; `--remove` deletes them). Upserting is idempotent: the same id
 * replaces its previous settings rather than adding a second scheduler.
 */

export function schedulerId(system: string, object: string): string {
  return `pull-${system}-${object}`;
}

function scheduleFor(kind: EntityKind, schedules: TandemConfig['schedules']): Schedule {
  return kind === 'person' ? schedules.persons : kind === 'company' ? schedules.companies : schedules.deals;
}

export interface UpsertedSchedule {
  id: string;
  system: string;
  object: string;
  every?: number;
  pattern?: string;
}

export async function upsertSchedules(
  producers: Producers,
  objects: SyncPipeline['objects'],
  schedules: TandemConfig['schedules'],
): Promise<UpsertedSchedule[]> {
  const queue: Queue = producers.queues.pull;
  const done: UpsertedSchedule[] = [];
  for (const { system, object, kind } of objects) {
    const schedule = scheduleFor(kind, schedules);
    const id = schedulerId(system, object);
    const repeat = schedule.kind === 'interval' ? { every: schedule.everyMs } : { pattern: schedule.pattern };
    const data: PullJobData = { system, object, mode: 'incremental' };
    const opts = producers.jobOptions(Priority.Incremental);
    await queue.upsertJobScheduler(id, repeat, { name: JobName.Pull, data, opts });
    done.push({ id, system, object, ...repeat });
  }
  return done;
}

export async function removeSchedules(
  producers: Producers,
  objects: SyncPipeline['objects'],
): Promise<number> {
  let removed = 0;
  for (const { system, object } of objects) {
    if (await producers.queues.pull.removeJobScheduler(schedulerId(system, object))) removed += 1;
  }
  return removed;
}
