import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FailureDetail } from '../queues/failure.js';
import { Retention } from '../queues/names.js';
import { recordUrl, type RecordLinkSettings } from './links.js';

/**
 * What the dashboard reads from BullMQ (by queue name only; it never imports the workers): queue depths,
 * recently finished jobs (for the overview's failure rates), failed jobs grouped by error code, and replays
 * (`job.retry()`), each kept as a small replay record in Redis whose progress is read back from the jobs'
 * states.
 */

export const DEPTH_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
export type DepthState = (typeof DEPTH_STATES)[number];
export type QueueDepth = { queue: string } & Record<DepthState, number>;

export interface FailedJobView {
  queue: string;
  id: string;
  name: string;
  code: string;
  reason: string;
  kind: string;
  system?: string;
  object?: string;
  recordId?: string;
  unifiedId?: string;
  field?: string;
  recordUrl?: string;
  /** ISO time the job failed (last attempt). */
  failedAt: string | null;
  attemptsMade: number;
  attempts: number;
  /** The job's data without `failure`. */
  payload: unknown;
}

export interface FailureGroup {
  code: string;
  /** The distinct plain-language reasons under this code, most frequent first. */
  reasons: string[];
  count: number;
  jobs: FailedJobView[];
}

export interface JobRef {
  queue: string;
  id: string;
}

/** Which failed jobs to replay: the union of explicit jobs, and those matching every filter given. */
export interface ReplaySelection {
  jobs?: JobRef[];
  code?: string;
  /** Failed at or after (ISO). */
  from?: string;
  /** Failed before (ISO). */
  to?: string;
}

export interface ReplayRecord {
  id: string;
  requestedAt: string;
  requestedBy: string;
  selection: ReplaySelection;
  jobs: JobRef[];
  /** Jobs that could not be put back (no longer failed, removed, locked), with why. */
  errors: Array<JobRef & { error: string }>;
}

export type ReplayJobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'missing' | string;

export interface ReplayStatus extends ReplayRecord {
  state: 'running' | 'done';
  progress: { total: number; completed: number; failed: number; pending: number; missing: number };
  jobStates: Array<JobRef & { state: ReplayJobState; failedReason?: string }>;
}

/** A job that completed or failed, and the system and object it was about (when its data says). */
export interface FinishedJob {
  queue: string;
  state: 'completed' | 'failed';
  /** Epoch milliseconds. */
  finishedAt: number;
  system?: string;
  object?: string;
}

export class ReplaySelectionError extends Error {
  override name = 'ReplaySelectionError';
}

export interface QueueBoardOptions {
  queues: readonly Queue[];
  /** Where replay records live (any connection to the same Redis). */
  redis: Redis;
  /** The configured Redis key prefix (`TANDEM_REDIS_PREFIX`). */
  prefix: string;
  links: RecordLinkSettings;
  now?: () => Date;
  /** At most this many failed jobs read per queue (newest first) by `failedJobs()`; default all of them. */
  failedLimit?: number;
  /** Failed jobs read from Redis per call while going through a queue's failed set (default 1000). */
  failedPageSize?: number;
}

/** One page of the Failures page: its jobs grouped by code, each group counted over every failed job. */
export interface FailurePage {
  groups: FailureGroup[];
  /** Failed jobs in all queues. */
  total: number;
  offset: number;
  limit: number;
}

const REPLAY_TTL_SECONDS = 7 * 24 * 60 * 60;

function isFailureDetail(value: unknown): value is FailureDetail {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { reason?: unknown }).reason === 'string'
  );
}

function optional<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  return typeof value === 'string' && value !== '' ? ({ [key]: value } as Record<K, string>) : {};
}

export function failedJobView(queue: string, job: Job, links: RecordLinkSettings): FailedJobView {
  const data: unknown = job.data;
  const { failure, ...payload } =
    typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : { failure: undefined };
  const detail = isFailureDetail(failure) ? failure : undefined;
  const failedAt =
    job.finishedOn !== undefined
      ? new Date(job.finishedOn).toISOString()
      : detail?.failedAt !== undefined
        ? detail.failedAt
        : null;
  const url = recordUrl(links, detail?.system, detail?.object, detail?.recordId);
  return {
    queue,
    id: job.id ?? '',
    name: job.name,
    code: detail?.code ?? 'UNCLASSIFIED',
    reason: detail?.reason ?? (job.failedReason || 'no reason recorded'),
    kind: detail?.kind ?? 'unknown',
    ...optional('system', detail?.system),
    ...optional('object', detail?.object),
    ...optional('recordId', detail?.recordId),
    ...optional('unifiedId', detail?.unifiedId),
    ...optional('field', detail?.field),
    ...optional('recordUrl', url),
    failedAt,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    payload: typeof data === 'object' && data !== null ? payload : data,
  };
}

export function groupFailures(jobs: readonly FailedJobView[]): FailureGroup[] {
  const groups = new Map<string, { jobs: FailedJobView[]; reasons: Map<string, number> }>();
  for (const job of jobs) {
    const group = groups.get(job.code) ?? { jobs: [], reasons: new Map<string, number>() };
    group.jobs.push(job);
    group.reasons.set(job.reason, (group.reasons.get(job.reason) ?? 0) + 1);
    groups.set(job.code, group);
  }
  return [...groups.entries()]
    .map(([code, g]) => ({
      code,
      count: g.jobs.length,
      reasons: [...g.reasons.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([r]) => r),
      jobs: g.jobs,
    }))
    .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
}

const FINISHED_STATES = ['completed', 'failed'] as const;
/** Bytes of each job's data read for its subject: its first keys name the system and object. */
const DATA_HEAD_BYTES = 1024;
/** Jobs read per script call, so Redis is never held long by one (a write-back batch's data can be large). */
const FINISHED_PAGE = 500;

// One page of a finished set (scored by finish time), newest first down to ARGV[1], with the head of each
// job's data and its full length: only the head leaves Redis, however large the payload.
const FINISHED_JOBS_SCRIPT = `
local found = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'WITHSCORES',
  'LIMIT', tonumber(ARGV[2]), tonumber(ARGV[3]))
local out = {}
for i = 1, #found, 2 do
  local data = redis.call('HGET', ARGV[4] .. found[i], 'data') or ''
  out[#out + 1] = found[i]
  out[#out + 1] = found[i + 1]
  out[#out + 1] = string.sub(data, 1, tonumber(ARGV[5]))
  out[#out + 1] = #data
end
return out`;

type Subject = Pick<FinishedJob, 'system' | 'object'>;

/**
 * What a job is about: a write-back batch's target, a pull's object, a reconcile's first record, else the
 * object its failure names.
 */
export function jobSubject(data: unknown): Subject {
  if (typeof data !== 'object' || data === null) return {};
  const d = data as { batch?: unknown; refs?: unknown; failure?: unknown };
  for (const source of [d.batch, d, Array.isArray(d.refs) ? d.refs[0] : undefined, d.failure]) {
    const { system, object } = (source ?? {}) as { system?: unknown; object?: unknown };
    if (typeof system === 'string' && typeof object === 'string') return { system, object };
  }
  return {};
}

// Every payload Tandem writes starts with its subject (`{"system":…,"object":…` in a pull, the batch, the
// first ref), so the head of a long payload is enough; `jobSubject` reads the whole one otherwise.
const SUBJECT_IN_HEAD = /"system":"([^"\\]+)","object":"([^"\\]+)"/;

/**
 * Jobs of these queues that finished at or after `since`, newest first, with what each was about; at most
 * `Retention.completedCount` of each state per queue (as many completed jobs as Tandem keeps).
 */
export async function readFinishedJobs(
  redis: Redis,
  queues: ReadonlyArray<Pick<Queue, 'name' | 'keys'>>,
  since: Date,
): Promise<FinishedJob[]> {
  const reads = queues.flatMap((queue) =>
    FINISHED_STATES.map(async (state) => {
      const set = queue.keys[state];
      const jobPrefix = queue.keys[''];
      const jobs: FinishedJob[] = [];
      if (set === undefined || jobPrefix === undefined) return jobs;
      for (let offset = 0; offset < Retention.completedCount; offset += FINISHED_PAGE) {
        const reply = (await redis.eval(
          FINISHED_JOBS_SCRIPT,
          1,
          set,
          since.getTime(),
          offset,
          FINISHED_PAGE,
          jobPrefix,
          DATA_HEAD_BYTES,
        )) as Array<string | number>;
        for (let i = 0; i + 3 < reply.length; i += 4) {
          const head = String(reply[i + 2]);
          let subject: Subject;
          if (Number(reply[i + 3]) <= DATA_HEAD_BYTES) subject = jobSubject(parseJson(head));
          else {
            const match = SUBJECT_IN_HEAD.exec(head);
            subject =
              match?.[1] !== undefined && match[2] !== undefined
                ? { system: match[1], object: match[2] }
                : jobSubject(parseJson((await redis.hget(`${jobPrefix}${String(reply[i])}`, 'data')) ?? ''));
          }
          jobs.push({ queue: queue.name, state, finishedAt: Number(reply[i + 1]), ...subject });
        }
        if (reply.length < FINISHED_PAGE * 4) break;
      }
      return jobs;
    }),
  );
  return (await Promise.all(reads)).flat();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class QueueBoard {
  private readonly byName: Map<string, Queue>;
  private readonly now: () => Date;

  constructor(private readonly options: QueueBoardOptions) {
    this.byName = new Map(options.queues.map((q) => [q.name, q]));
    this.now = options.now ?? (() => new Date());
  }

  get queueNames(): string[] {
    return [...this.byName.keys()];
  }

  async depths(): Promise<QueueDepth[]> {
    return Promise.all(
      [...this.byName.values()].map(async (queue) => {
        const counts = await queue.getJobCounts(...DEPTH_STATES);
        const depth = { queue: queue.name } as QueueDepth;
        for (const state of DEPTH_STATES) depth[state] = counts[state] ?? 0;
        return depth;
      }),
    );
  }

  /**
   * Every failed job of every queue (up to `failedLimit` per queue), newest first, read a page of
   * `failedPageSize` at a time. Newest first, so failures arriving meanwhile only repeat a job (callers
   * deduplicate by id), never hide an older one.
   */
  async failedJobs(): Promise<FailedJobView[]> {
    const limit = this.options.failedLimit ?? Number.POSITIVE_INFINITY;
    const pageSize = Math.max(1, this.options.failedPageSize ?? 1000);
    const perQueue = await Promise.all(
      [...this.byName.values()].map(async (queue) => {
        const seen = new Map<string, FailedJobView>();
        for (let start = 0; start < limit; start += pageSize) {
          const end = Math.min(start + pageSize, limit) - 1;
          const jobs = await queue.getFailed(start, end);
          for (const job of jobs) {
            if (job === undefined || job === null) continue;
            const view = failedJobView(queue.name, job as Job, this.options.links);
            seen.set(view.id, view);
          }
          if (jobs.length < end - start + 1) break;
        }
        return [...seen.values()];
      }),
    );
    return perQueue.flat().sort((a, b) => ((a.failedAt ?? '') < (b.failedAt ?? '') ? 1 : -1));
  }

  async failureGroups(): Promise<FailureGroup[]> {
    return groupFailures(await this.failedJobs());
  }

  /**
   * Failed jobs `offset` … `offset + limit - 1` (newest first, all queues), grouped by code; each group's
   * `count` and reasons are over every failed job of that code, so "replay all N" says what it will do.
   */
  async failurePage(offset: number, limit: number): Promise<FailurePage> {
    const all = await this.failedJobs();
    const totals = new Map(groupFailures(all).map((g) => [g.code, g]));
    const groups = groupFailures(all.slice(offset, offset + limit)).map((g) => {
      const whole = totals.get(g.code);
      return whole === undefined ? g : { ...g, count: whole.count, reasons: whole.reasons };
    });
    return { groups, total: all.length, offset, limit };
  }

  /** Puts the selected failed jobs back on their queues and keeps a replay record. */
  async replay(selection: ReplaySelection, requestedBy: string): Promise<ReplayStatus> {
    const hasFilter =
      selection.code !== undefined || selection.from !== undefined || selection.to !== undefined;
    if ((selection.jobs === undefined || selection.jobs.length === 0) && !hasFilter) {
      throw new ReplaySelectionError('choose failed jobs, an error code or a time window to replay');
    }
    const from = parseTime(selection.from, 'from');
    const to = parseTime(selection.to, 'to');
    const chosen = new Map<string, JobRef>();
    for (const ref of selection.jobs ?? []) {
      if (!this.byName.has(ref.queue)) throw new ReplaySelectionError(`there is no queue "${ref.queue}"`);
      chosen.set(`${ref.queue}\n${ref.id}`, { queue: ref.queue, id: ref.id });
    }
    if (hasFilter) {
      for (const job of await this.failedJobs()) {
        if (selection.code !== undefined && job.code !== selection.code) continue;
        const at = job.failedAt === null ? undefined : Date.parse(job.failedAt);
        if (from !== undefined && (at === undefined || at < from)) continue;
        if (to !== undefined && (at === undefined || at >= to)) continue;
        chosen.set(`${job.queue}\n${job.id}`, { queue: job.queue, id: job.id });
      }
    }
    const record: ReplayRecord = {
      id: randomUUID(),
      requestedAt: this.now().toISOString(),
      requestedBy,
      selection,
      jobs: [],
      errors: [],
    };
    for (const ref of chosen.values()) {
      const queue = this.byName.get(ref.queue);
      const job = queue === undefined ? undefined : await queue.getJob(ref.id);
      if (job === undefined || job === null) {
        record.errors.push({ ...ref, error: 'the job no longer exists' });
        continue;
      }
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        record.jobs.push(ref);
      } catch (error) {
        record.errors.push({ ...ref, error: error instanceof Error ? error.message : String(error) });
      }
    }
    await this.options.redis
      .multi()
      .set(this.replayKey(record.id), JSON.stringify(record), 'EX', REPLAY_TTL_SECONDS)
      .lpush(this.replayIndexKey(), record.id)
      .ltrim(this.replayIndexKey(), 0, 999)
      .exec();
    return this.statusOf(record);
  }

  async replayStatus(id: string): Promise<ReplayStatus | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const stored = await this.options.redis.get(this.replayKey(id));
    if (stored === null) return undefined;
    return this.statusOf(JSON.parse(stored) as ReplayRecord);
  }

  /** The most recent replays, newest first. */
  async recentReplays(limit = 10): Promise<ReplayStatus[]> {
    const ids = await this.options.redis.lrange(this.replayIndexKey(), 0, limit - 1);
    const statuses = await Promise.all(ids.map((id) => this.replayStatus(id)));
    return statuses.filter((s): s is ReplayStatus => s !== undefined);
  }

  private async statusOf(record: ReplayRecord): Promise<ReplayStatus> {
    const jobStates = await Promise.all(
      record.jobs.map(async (ref) => {
        const queue = this.byName.get(ref.queue);
        const job = queue === undefined ? undefined : await queue.getJob(ref.id);
        if (job === undefined || job === null) return { ...ref, state: 'missing' };
        const state = await job.getState();
        return state === 'failed' && job.failedReason
          ? { ...ref, state, failedReason: job.failedReason }
          : { ...ref, state: state === 'unknown' ? 'missing' : state };
      }),
    );
    const progress = { total: jobStates.length, completed: 0, failed: 0, pending: 0, missing: 0 };
    for (const { state } of jobStates) {
      if (state === 'completed') progress.completed += 1;
      else if (state === 'failed') progress.failed += 1;
      else if (state === 'missing') progress.missing += 1;
      else progress.pending += 1;
    }
    return { ...record, state: progress.pending === 0 ? 'done' : 'running', progress, jobStates };
  }

  private replayKey(id: string): string {
    return `${this.options.prefix}:{dashboard}:replay:${id}`;
  }

  private replayIndexKey(): string {
    return `${this.options.prefix}:{dashboard}:replays`;
  }
}

function parseTime(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ReplaySelectionError(`"${what}" is not a date/time: ${value}`);
  return ms;
}
