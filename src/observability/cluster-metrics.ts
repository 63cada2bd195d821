import type { Redis } from 'ioredis';
import { Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { RedisKeys } from '../store/redis/keys.js';
import { parseSampleKey, type Sample } from './metric-series.js';
import { MetricsPublisher } from './metrics-publisher.js';
import { publishedMetrics, type TandemMetrics } from './metrics.js';

/**
 * What the dashboard's `/metrics` serves: the counters and histograms summed over every process that
 * publishes to this Redis prefix (workers, and this process itself: its growth is flushed first), plus this
 * process's own gauges and default metrics. Counters are sums of what each process added, histograms the
 * sums bucket by bucket, so series only grow however many workers restart.
 *
 * @example
 * const cluster = new ClusterMetrics(metrics, redis, new RedisKeys(config.redis.prefix));
 * reply.type(cluster.contentType).send(await cluster.text());
 */
export class ClusterMetrics {
  private readonly own: MetricsPublisher;

  constructor(
    private readonly metrics: TandemMetrics,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.own = new MetricsPublisher(redis, keys, metrics);
  }

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  async text(): Promise<string> {
    await this.own.flush();
    const totals = await this.redis.hgetall(this.keys.metricTotals());
    const shared = new Set(
      publishedMetrics(this.metrics).map((m) => (m as unknown as { name: string }).name),
    );
    const out = new Registry();
    for (const metric of await this.metrics.registry.getMetricsAsJSON()) {
      const served = shared.has(metric.name) ? { ...metric, values: valuesFrom(totals, metric) } : metric;
      out.registerMetric({ ...served, get: () => served } as never);
    }
    return out.metrics();
  }
}

const SUFFIX_ORDER: Record<string, number> = { _bucket: 0, _sum: 1, _count: 2 };

/** The samples of one family in the Redis totals, in exposition order (histograms: per series, `le` up). */
function valuesFrom(
  totals: Record<string, string>,
  metric: MetricObjectWithValues<MetricValue<string>>,
): Array<MetricValue<string> & { metricName: string }> {
  const names =
    String(metric.type) === 'histogram'
      ? ['_bucket', '_sum', '_count'].map((suffix) => metric.name + suffix)
      : [metric.name];
  const samples: Sample[] = [];
  for (const [field, raw] of Object.entries(totals)) {
    const key = parseSampleKey(field);
    const value = Number(raw);
    if (key === undefined || !names.includes(key.metricName) || !Number.isFinite(value)) continue;
    samples.push({ ...key, value });
  }
  const series = (s: Sample) => {
    const { le: _le, ...rest } = s.labels;
    return JSON.stringify(Object.entries(rest).sort());
  };
  const le = (s: Sample) => (s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le'] ?? 0));
  const suffix = (s: Sample) => SUFFIX_ORDER[s.metricName.slice(metric.name.length)] ?? 0;
  samples.sort((a, b) => series(a).localeCompare(series(b)) || suffix(a) - suffix(b) || le(a) - le(b));
  return samples.map((s) => ({ metricName: s.metricName, labels: s.labels, value: s.value }));
}
