import { QueueKeys, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TandemConfig } from '../config/index.js';
import { ALL_QUEUES, bullPrefix } from '../queues/names.js';
import type { CustomerView } from '../store/customer-view.js';
import type { SyncRun } from '../store/customer-view-types.js';
import { RedisKeys } from '../store/redis/keys.js';
import { readFinishedJobs, type FinishedJob } from './queues.js';

/**
 * The overview: per system and object, the last successful sync, the checkpoint, lag and records synced
 * (from the sync runs table and the checkpoint keys) and the failure rate (from the jobs BullMQ keeps: the
 * pipeline records its pulls as sync runs, but a record that fails becomes a failed job), API quota used
 * against budget (from the budget keys), and series over time for the charts. Unknown values are null
 * ("—" on the page).
 */

export type DashboardCustomerView = Pick<CustomerView, 'findPerson' | 'funnel' | 'slaBreaches' | 'syncRuns'>;

export const KNOWN_OBJECTS: ReadonlyArray<{ system: 'hubspot' | 'salesforce'; object: string }> = [
  { system: 'hubspot', object: 'contacts' },
  { system: 'hubspot', object: 'companies' },
  { system: 'hubspot', object: 'deals' },
  { system: 'salesforce', object: 'Lead' },
  { system: 'salesforce', object: 'Contact' },
  { system: 'salesforce', object: 'Account' },
  { system: 'salesforce', object: 'Opportunity' },
];

export interface SyncStatusRow {
  system: string;
  object: string;
  lastSuccessAt: string | null;
  /** The stored checkpoint as text (shortened), or null when none is stored. */
  checkpoint: string | null;
  /** The checkpoint in words, e.g. "changes since 2026-11-23 00:16:06 UTC". */
  checkpointSummary: string | null;
  /** Seconds since the last successful sync finished. */
  lagSeconds: number | null;
  /** Records pulled + written in the last 24 hours. */
  recordsSynced24h: number;
  /**
   * Jobs about this system and object (its pulls, reconciles of its records, writes to it) that finished in
   * the last 24 hours, completed and failed.
   */
  jobsCompleted24h: number;
  jobsFailed24h: number;
  /** jobsFailed24h / (jobsCompleted24h + jobsFailed24h); null when no such job finished. */
  failureRate24h: number | null;
  runs24h: number;
  lastRunStatus: string | null;
  lastError: string | null;
}

export interface QuotaRow {
  system: string;
  day: string;
  /** Calls Tandem made today. */
  used: number;
  /** Calls the whole account made today, as the vendor's headers last said (null when never seen). */
  accountUsed: number | null;
  /** The account's daily limit (configured for HubSpot, observed for Salesforce). */
  limit: number | null;
  /** The share Tandem may use: limit × budget percent. */
  budget: number | null;
  budgetPercent: number;
}

export interface OverviewSeries {
  /** Bucket start times (ISO), hourly over the last 24 hours. */
  buckets: string[];
  throughput: number[];
  /** Jobs that failed, plus failed sync runs and the records they report failed. */
  failures: number[];
  /** Minutes since the last successful sync at each bucket's end (the worst system/object). */
  lagMinutes: Array<number | null>;
}

export interface Overview {
  generatedAt: string;
  syncs: SyncStatusRow[];
  quota: QuotaRow[];
  series: OverviewSeries;
}

const HOUR = 3_600_000;

export async function buildOverview(options: {
  customerView: DashboardCustomerView;
  redis: Redis;
  config: TandemConfig;
  now: Date;
  /** The queues whose finished jobs give the failure rates; by default Tandem's under the Redis prefix. */
  queues?: ReadonlyArray<Pick<Queue, 'name' | 'keys'>>;
}): Promise<Overview> {
  const { customerView, redis, config, now } = options;
  const since = new Date(now.getTime() - 24 * HOUR);
  const runs = await customerView.syncRuns({ since: new Date(now.getTime() - 7 * 24 * HOUR), limit: 5000 });
  const keys = new RedisKeys(config.redis.prefix);
  const queueKeys = new QueueKeys(bullPrefix(config.redis.prefix));
  const queues = options.queues ?? ALL_QUEUES.map((name) => ({ name, keys: queueKeys.getKeys(name) }));
  const finished = await readFinishedJobs(redis, queues, since);

  const pairs = new Map(KNOWN_OBJECTS.map((p) => [`${p.system}\n${p.object}`, { ...p }]));
  for (const run of runs)
    pairs.set(`${run.system}\n${run.object}`, { system: run.system, object: run.object });
  const jobCounts = new Map<string, { completed: number; failed: number }>();
  for (const job of finished) {
    if (job.system === undefined || job.object === undefined) continue;
    const key = `${job.system}\n${job.object}`;
    const counts = jobCounts.get(key) ?? { completed: 0, failed: 0 };
    counts[job.state] += 1;
    jobCounts.set(key, counts);
    if (!pairs.has(key) && (job.system === 'hubspot' || job.system === 'salesforce'))
      pairs.set(key, { system: job.system, object: job.object });
  }

  const checkpoints = await redis.mget(
    ...[...pairs.values()].map((p) => keys.checkpoint(p.system, p.object)),
  );
  const syncs = [...pairs.values()].map((pair, i): SyncStatusRow => {
    const mine = runs.filter((r) => r.system === pair.system && r.object === pair.object);
    const lastSuccess = mine.find((r) => r.status === 'succeeded' && r.finishedAt !== null);
    const recent = mine.filter((r) => r.startedAt >= since);
    const jobs = jobCounts.get(`${pair.system}\n${pair.object}`) ?? { completed: 0, failed: 0 };
    const checkpoint = checkpoints[i] ?? null;
    const last = mine[0];
    return {
      system: pair.system,
      object: pair.object,
      lastSuccessAt: lastSuccess?.finishedAt?.toISOString() ?? null,
      checkpoint:
        checkpoint === null ? null : checkpoint.length > 120 ? `${checkpoint.slice(0, 117)}...` : checkpoint,
      checkpointSummary: checkpoint === null ? null : describeCheckpoint(checkpoint),
      lagSeconds:
        lastSuccess?.finishedAt == null
          ? null
          : Math.max(0, Math.round((now.getTime() - lastSuccess.finishedAt.getTime()) / 1000)),
      recordsSynced24h: recent.reduce((n, r) => n + r.recordsPulled + r.recordsWritten, 0),
      jobsCompleted24h: jobs.completed,
      jobsFailed24h: jobs.failed,
      failureRate24h:
        jobs.completed + jobs.failed === 0 ? null : jobs.failed / (jobs.completed + jobs.failed),
      runs24h: recent.length,
      lastRunStatus: last?.status ?? null,
      lastError: last?.error ?? null,
    };
  });

  return {
    generatedAt: now.toISOString(),
    syncs,
    quota: await readQuota(redis, config, now),
    series: buildSeries(runs, now, finished),
  };
}

async function readQuota(redis: Redis, config: TandemConfig, now: Date): Promise<QuotaRow[]> {
  const day = now.toISOString().slice(0, 10);
  const systems = [
    {
      system: 'hubspot',
      configuredLimit: config.hubspot.limits.perDay as number | undefined,
      budgetPercent: config.hubspot.dailyBudgetPercent,
    },
    { system: 'salesforce', configuredLimit: undefined, budgetPercent: config.salesforce.dailyBudgetPercent },
  ];
  return Promise.all(
    systems.map(async ({ system, configuredLimit, budgetPercent }): Promise<QuotaRow> => {
      const base = `${config.redis.prefix}:{budget}:${system}`;
      const [ours, vendor] = await Promise.all([
        redis.get(`${base}:daily:${day}`),
        redis.hgetall(`${base}:vendor`),
      ]);
      const observed = vendor['day'] === day;
      const vendorLimit = Number(vendor['limit']);
      const limit = Number.isFinite(vendorLimit) && vendorLimit > 0 ? vendorLimit : (configuredLimit ?? null);
      const used = Number(ours ?? 0);
      const accountUsed = observed
        ? Math.max(used, Number(vendor['used']) + (used - Number(vendor['oursAt'] ?? 0)))
        : null;
      return {
        system,
        day,
        used,
        accountUsed: accountUsed !== null && Number.isFinite(accountUsed) ? accountUsed : null,
        limit,
        budget: limit === null ? null : Math.floor((limit * budgetPercent) / 100),
        budgetPercent,
      };
    }),
  );
}

export function buildSeries(
  runs: readonly SyncRun[],
  now: Date,
  finished: readonly FinishedJob[] = [],
): OverviewSeries {
  const end = Math.floor(now.getTime() / HOUR) * HOUR + HOUR;
  const starts = Array.from({ length: 24 }, (_, i) => end - (24 - i) * HOUR);
  const throughput = starts.map(() => 0);
  const failures = starts.map(() => 0);
  const bucketOf = (at: number): number | undefined => {
    const index = Math.floor((at - (starts[0] ?? 0)) / HOUR);
    return index < 0 || index >= starts.length ? undefined : index;
  };
  for (const run of runs) {
    const index = bucketOf((run.finishedAt ?? run.startedAt).getTime());
    if (index === undefined) continue;
    throughput[index] = (throughput[index] ?? 0) + run.recordsPulled + run.recordsWritten;
    failures[index] = (failures[index] ?? 0) + run.recordsFailed + (run.status === 'failed' ? 1 : 0);
  }
  for (const job of finished) {
    const index = job.state === 'failed' ? bucketOf(job.finishedAt) : undefined;
    if (index !== undefined) failures[index] = (failures[index] ?? 0) + 1;
  }
  const successes = runs
    .filter((r) => r.status === 'succeeded' && r.finishedAt !== null)
    .map((r) => ({ key: `${r.system}\n${r.object}`, at: (r.finishedAt as Date).getTime() }));
  const lagMinutes = starts.map((start) => {
    const bucketEnd = Math.min(start + HOUR, now.getTime());
    // The bucket that ends now also takes a success stamped later than now by a clock ahead of ours.
    const until = bucketEnd === now.getTime() ? Infinity : bucketEnd;
    const latest = new Map<string, number>();
    for (const s of successes) {
      if (s.at <= until && s.at > (latest.get(s.key) ?? -Infinity)) latest.set(s.key, s.at);
    }
    if (latest.size === 0) return null;
    return Math.max(0, Math.round((bucketEnd - Math.min(...latest.values())) / 60_000));
  });
  return { buckets: starts.map((s) => new Date(s).toISOString()), throughput, failures, lagMinutes };
}

/** A stored checkpoint in words for the overview; the raw value stays in the JSON API. */
export function describeCheckpoint(stored: string): string {
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return 'unreadable checkpoint';
  }
  if (typeof value !== 'object' || value === null) return 'unreadable checkpoint';
  const { phase, since, startedAt } = value as { phase?: unknown; since?: unknown; startedAt?: unknown };
  const at = (iso: unknown): string =>
    typeof iso === 'string' && !Number.isNaN(Date.parse(iso))
      ? `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`
      : 'an unknown time';
  if (phase === 'incremental') return `changes since ${at(since)}`;
  if (phase === 'backfill') return `back-fill in progress, started ${at(startedAt)}`;
  return 'unreadable checkpoint';
}
