import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Tandem's Prometheus metrics, in one registry that `/metrics` serves. Workers and connectors import the
 * counters from here and increment them; the dashboard fills the queue-depth gauge at scrape time.
 * Labels never carry record data (ids, emails): only systems, objects, queues, states and error codes.
 *
 * @example
 * import { metrics } from '../observability/metrics.js';
 * metrics.recordsSynced.inc({ system: 'hubspot', object: 'contacts', direction: 'pulled' }, page.length);
 * metrics.apiCalls.inc({ system: 'salesforce', outcome: '429' });
 */
export interface TandemMetrics {
  registry: Registry;
  /** Jobs per queue and state; set by the dashboard's collector on every scrape. */
  queueDepth: Gauge<'queue' | 'state'>;
  /** How long a job took from start to finish, per queue and outcome (`completed`/`failed`). */
  jobDuration: Histogram<'queue' | 'outcome'>;
  /** Records pulled from or written to a CRM. */
  recordsSynced: Counter<'system' | 'object' | 'direction'>;
  /** API calls per system and outcome: `ok`, `error`, `429`. */
  apiCalls: Counter<'system' | 'outcome'>;
  /** HTTP 429 responses per system (also counted in `apiCalls` with outcome `429`). */
  rateLimited: Counter<'system'>;
  /** Failures per error code (from `FailureDetail.code`) and kind. */
  failures: Counter<'code' | 'kind'>;
  /** Replays started from the dashboard or `tandem replay`, per queue. */
  replays: Counter<'queue'>;
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
      help: 'CRM API calls by system and outcome (ok, error, 429)',
      labelNames: ['system', 'outcome'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'tandem_api_rate_limited_total',
      help: 'HTTP 429 responses from a CRM',
      labelNames: ['system'],
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
  };
}

/** The process-wide metrics: what workers, connectors and the dashboard share in one process. */
export const metrics: TandemMetrics = createMetrics({ defaultMetrics: true });
