import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Tandem's Prometheus metrics, one registry per process. Workers and connectors import the counters from
 * here and increment them; workers publish the counters and histograms (`publishedMetrics`) to Redis
 * (`metrics-publisher.ts`) and the dashboard's `/metrics` serves their sum over every process
 * (`cluster-metrics.ts`), with the queue-depth gauge it fills at scrape time.
 * Labels never carry record data (ids, emails): only systems, objects, queues, states and error codes.
 *
 * @example
 * import { metrics } from '../observability/metrics.js';
 * metrics.recordsSynced.inc({ system: 'hubspot', object: 'contacts', direction: 'pulled' }, page.length);
 */
export interface TandemMetrics {
  registry: Registry;
  /** Jobs per queue and state; set by the dashboard's collector on every scrape. */
  queueDepth: Gauge<'queue' | 'state'>;
  /** How long a job took from start to finish, per queue and outcome (`completed`/`failed`). */
  jobDuration: Histogram<'queue' | 'outcome'>;
  /** Records pulled from or written to a CRM. */
  recordsSynced: Counter<'system' | 'object' | 'direction'>;
  /** API calls per system, object (`none` for schema and auth reads) and outcome: `ok`, `error`, `429`. */
  apiCalls: Counter<'system' | 'object' | 'outcome'>;
  /** Rate-limit refusals per system and object (also counted in `apiCalls` with outcome `429`). */
  rateLimited: Counter<'system' | 'object'>;
  /** Failures per error code (from `FailureDetail.code`) and kind. */
  failures: Counter<'code' | 'kind'>;
  /** Replays started from the dashboard or `tandem replay`, per queue. */
  replays: Counter<'queue'>;
  /** Parts of the customer view a reconcile stored (`stored`) or found stored as they are (`unchanged`). */
  viewParts: Counter<'outcome'>;
  /** Times a worker process stopped taking jobs because its live heap neared the limit (`MemoryGuard`). */
  memoryPauses: Counter<never>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): TandemMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? false) collectDefaultMetrics({ register: registry, prefix: 'tandem_' });
  return {
    registry,
    queueDepth: new Gauge({
      name: 'tandem_queue_jobs',
      help: 'Jobs in each BullMQ queue by state',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'tandem_job_duration_seconds',
      help: 'Time from a job starting to finishing',
      labelNames: ['queue', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    recordsSynced: new Counter({
      name: 'tandem_records_synced_total',
      help: 'Records pulled from or written to a CRM',
      labelNames: ['system', 'object', 'direction'],
      registers: [registry],
    }),
    apiCalls: new Counter({
      name: 'tandem_api_calls_total',
      help: 'CRM API calls (attempts, retries included) by system, object and outcome (ok, error, 429)',
      labelNames: ['system', 'object', 'outcome'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'tandem_api_rate_limited_total',
      help: "Rate-limit refusals from a CRM (HubSpot's 429, Salesforce's REQUEST_LIMIT_EXCEEDED)",
      labelNames: ['system', 'object'],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'tandem_failures_total',
      help: 'Failed jobs or records by error code and kind',
      labelNames: ['code', 'kind'],
      registers: [registry],
    }),
    replays: new Counter({
      name: 'tandem_replays_total',
      help: 'Failed jobs put back on their queue by a replay',
      labelNames: ['queue'],
      registers: [registry],
    }),
    viewParts: new Counter({
      name: 'tandem_view_parts_total',
      help: "Customer-view parts (an entity's rows, a deal's credits) a reconcile stored or found unchanged",
      labelNames: ['outcome'],
      registers: [registry],
    }),
    memoryPauses: new Counter({
      name: 'tandem_worker_memory_pauses_total',
      help: 'Times a worker process stopped taking jobs because its live heap neared the limit',
      registers: [registry],
    }),
  };
}

/**
 * The counters and histograms that add up across processes: what workers publish to Redis and the
 * dashboard serves summed. Gauges (queue depths, set by the dashboard) and the process's own default
 * metrics stay per process.
 */
export function publishedMetrics(m: TandemMetrics): ReadonlyArray<Counter<string> | Histogram<string>> {
  return [
    m.jobDuration,
    m.recordsSynced,
    m.apiCalls,
    m.rateLimited,
    m.failures,
    m.replays,
    m.viewParts,
    m.memoryPauses,
  ];
}

/** The process-wide metrics: what workers, connectors and the dashboard share in one process. */
export const metrics: TandemMetrics = createMetrics({ defaultMetrics: true });
