import { Worker, type Job, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { pullProcessor } from '../../workers/pull.js';
import { reconcileProcessor } from '../../workers/reconcile.js';
import { writeBackProcessor } from '../../workers/write-back.js';
import type { WorkerDeps } from '../../workers/deps.js';
import type { Logger } from '../logging.js';
import { MetricsPublisher } from '../observability/metrics-publisher.js';
import { metrics as processMetrics, type TandemMetrics } from '../observability/metrics.js';
import type { SyncPipeline } from '../pipeline/contract.js';
import { LeaseLocks, RedisKeys } from '../store/redis/index.js';
import { workerConnection } from './connections.js';
import { bullPrefix, QueueName } from './names.js';
import { MemoryGuard, type MemoryGuardOptions } from './memory-guard.js';
import type { ProcessingContext } from './processing.js';
import type { Producers } from './producers.js';

/**
 * Runs the three processors as BullMQ workers. Any number of processes may run them against one Redis:
 * BullMQ hands each job to one worker, and a worker that dies mid-job (SIGKILL, crash, lost network) has
 * its lock expire; the stalled-job check of any live worker puts the job back (`maxStalledCount` times,
 * then it fails with "job stalled more than allowable limit"). `close()` stops taking jobs and waits for
 * the ones in flight (graceful drain on SIGTERM/SIGINT). Their counters go to Redis every few seconds and on
 * `close()` (`MetricsPublisher`), so the dashboard's `/metrics` shows them from any process.
 */

export interface WorkerSet {
  workers: Worker[];
  /** Stops the process taking new jobs while its live heap is near the limit (see `MemoryGuard`). */
  memory: MemoryGuard;
  /** Stops fetching, waits for in-flight jobs, closes the connection. */
  close(): Promise<void>;
}

export interface StartWorkersOptions {
  redisUrl: string;
  redisPrefix: string;
  pipeline: SyncPipeline;
  producers: Producers;
  log: Logger;
  queues?: readonly QueueName[];
  concurrency?: Partial<Record<QueueName, number>>;
  /** Refs per reconcile job a pull queues (`TANDEM_RECONCILE_BATCH`; default `DEFAULT_RECONCILE_BATCH`). */
  reconcileBatch?: number;
  /** How long a job's lock lasts without renewal (default 30 s): a dead worker's jobs recover after it. */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default 30 s). */
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** The counters published to Redis for the dashboard's `/metrics` (default: the process-wide ones). */
  metrics?: TandemMetrics;
  /** How often they are published (default 10 s; also once on `close`). */
  metricsFlushMs?: number;
  /** When to stop and resume taking jobs for memory (shares of the heap limit; see `MemoryGuard`). */
  memory?: Pick<MemoryGuardOptions, 'pauseAt' | 'resumeBelow'>;
}

export const DEFAULT_CONCURRENCY: Record<QueueName, number> = { pull: 2, reconcile: 4, 'write-back': 2 };

/**
 * BullMQ's manual rate limit (`worker.rateLimit(ms)` + `RateLimitError`) is only honoured by workers that
 * have a `limiter` (its `max` is what turns the limiter key's TTL into a pause): a generous one that
 * never limits by itself.
 */
const MANUAL_RATE_LIMIT_ENABLER = { max: 1_000_000, duration: 1_000 };

export async function startWorkers(options: StartWorkersOptions): Promise<WorkerSet> {
  const connection: Redis = workerConnection(options.redisUrl);
  connection.on('error', (error) => options.log.warn({ err: error }, 'redis connection error (workers)'));
  const keys = new RedisKeys(options.redisPrefix);
  const deps: WorkerDeps = {
    pipeline: options.pipeline,
    producers: options.producers,
    locks: new LeaseLocks(connection),
    keys,
    log: options.log,
    ...(options.reconcileBatch === undefined ? {} : { reconcileBatch: options.reconcileBatch }),
  };
  const which = options.queues ?? [QueueName.Pull, QueueName.Reconcile, QueueName.WriteBack];
  const workers: Worker[] = [];
  const memory = new MemoryGuard(workers, {
    ...options.memory,
    log: options.log,
    onPause: () => (options.metrics ?? processMetrics).memoryPauses.inc(),
  });
  for (const name of which) {
    const self: { worker?: Worker } = {};
    const ctx: ProcessingContext = {
      queueName: name,
      log: options.log,
      rateLimit: async (ms) => self.worker?.rateLimit(ms),
    };
    const processor: Processor =
      name === QueueName.Pull
        ? pullProcessor(deps, ctx)
        : name === QueueName.Reconcile
          ? reconcileProcessor(deps, ctx)
          : writeBackProcessor(deps, ctx);
    const worker = new Worker(name, memory.track(processor), {
      connection,
      prefix: bullPrefix(options.redisPrefix),
      concurrency: options.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name],
      limiter: MANUAL_RATE_LIMIT_ENABLER,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
    });
    self.worker = worker;
    worker.on('error', (error) => options.log.warn({ err: error, queue: name }, 'worker error'));
    worker.on('stalled', (jobId) => options.log.warn({ queue: name, jobId }, 'stalled job put back'));
    worker.on('failed', (job: Job | undefined, error: Error) =>
      options.log.debug({ queue: name, jobId: job?.id, reason: error.message }, 'job failed'),
    );
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  memory.start();
  const publisher = new MetricsPublisher(connection, keys, options.metrics, {
    log: options.log,
    ...(options.metricsFlushMs === undefined ? {} : { intervalMs: options.metricsFlushMs }),
  }).start();
  let closing: Promise<void> | undefined;
  return {
    workers,
    memory,
    close() {
      closing ??= (async () => {
        memory.stop();
        await Promise.all(workers.map((w) => w.close()));
        await publisher
          .stop()
          .catch((error: unknown) => options.log.warn({ err: error }, 'could not publish the last metrics'));
        await connection.quit().catch(() => connection.disconnect());
      })();
      return closing;
    },
  };
}
