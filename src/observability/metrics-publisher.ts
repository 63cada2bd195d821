import type { Redis } from 'ioredis';
import type { Logger } from '../logging.js';
import type { RedisKeys } from '../store/redis/keys.js';
import { MetricDeltas, samplesOf } from './metric-series.js';
import { metrics as sharedMetrics, publishedMetrics, type TandemMetrics } from './metrics.js';

/**
 * Publishes a process's counters and histograms to Redis so the dashboard's `/metrics` can serve them
 * from another process (`tandem worker` and `tandem dashboard` run apart in docker-compose): every flush
 * adds what each sample grew by since the last flush to `RedisKeys.metricTotals()` with `HINCRBYFLOAT`
 * (one MULTI, one key). Totals in Redis therefore only grow — a restarted worker starts from zero and adds
 * — and Prometheus sees one counter per series however many workers come and go.
 *
 * The growth already published is remembered per registry and Redis key, shared by every publisher of
 * that pair, so a worker and a dashboard in one process (`tandem demo`) never count a sample twice.
 *
 * @example
 * const publisher = new MetricsPublisher(redis, new RedisKeys(prefix)).start();
 * // … on shutdown:
 * await publisher.stop(); // one last flush
 */
export class MetricsPublisher {
  private timer: NodeJS.Timeout | undefined;
  private readonly deltas: MetricDeltas;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly metrics: TandemMetrics = sharedMetrics,
    private readonly options: { intervalMs?: number; log?: Logger } = {},
  ) {
    this.deltas = deltasFor(metrics, keys.metricTotals());
  }

  /** Flushes every `intervalMs` (default 10 s) until `stop`; the timer never keeps the process alive. */
  start(): this {
    this.timer ??= setInterval(() => {
      this.flush().catch((error: unknown) =>
        this.options.log?.warn({ err: error }, 'could not publish metrics to Redis; retrying next flush'),
      );
    }, this.options.intervalMs ?? 10_000);
    this.timer.unref();
    return this;
  }

  /** Adds the growth since the last flush to Redis. On failure the growth is kept for the next flush. */
  async flush(): Promise<void> {
    const deltas = this.deltas.take(await samplesOf(publishedMetrics(this.metrics)));
    if (deltas.size === 0) return;
    const key = this.keys.metricTotals();
    const multi = this.redis.multi();
    for (const [field, delta] of deltas) multi.hincrbyfloat(key, field, delta);
    try {
      const results = await multi.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (results === null || failed != null) throw failed ?? new Error('metrics flush was aborted');
    } catch (error) {
      this.deltas.giveBack(deltas);
      throw error;
    }
  }

  /**
   * Stops the timer and flushes what is left (call before closing the Redis connection). Gives up after
   * `timeoutMs` so an unreachable Redis cannot hold a shutdown.
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.flush(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error('metrics flush timed out')), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timeout);
    }
  }
}

const published = new WeakMap<TandemMetrics, Map<string, MetricDeltas>>();

function deltasFor(metrics: TandemMetrics, key: string): MetricDeltas {
  let byKey = published.get(metrics);
  if (byKey === undefined) published.set(metrics, (byKey = new Map()));
  let deltas = byKey.get(key);
  if (deltas === undefined) byKey.set(key, (deltas = new MetricDeltas()));
  return deltas;
}
