// What a worker publishes to Redis: every counter and histogram sample under a stable key, and only the
// growth since its last flush, so totals summed over processes never go backwards.
import { describe, expect, it } from '@jest/globals';
import { MetricDeltas, parseSampleKey, sampleKey, samplesOf } from '../../src/observability/metric-series.js';
import { createMetrics, publishedMetrics } from '../../src/observability/metrics.js';

describe('metric samples', () => {
  it('keys samples by metric name and sorted labels, and reads the key back', () => {
    const key = sampleKey('tandem_api_calls_total', {
      system: 'hubspot',
      outcome: '429',
      object: 'contacts',
    });
    expect(key).toBe(
      sampleKey('tandem_api_calls_total', { object: 'contacts', outcome: '429', system: 'hubspot' }),
    );
    expect(parseSampleKey(key)).toEqual({
      metricName: 'tandem_api_calls_total',
      labels: { object: 'contacts', outcome: '429', system: 'hubspot' },
    });
    expect(parseSampleKey('not json')).toBeUndefined();
    expect(parseSampleKey('[1, {}]')).toBeUndefined();
  });

  it('flattens counters and histogram buckets, sums and counts; leaves gauges out', async () => {
    const m = createMetrics();
    m.apiCalls.inc({ system: 'salesforce', object: 'Lead', outcome: 'ok' }, 3);
    m.jobDuration.observe({ queue: 'pull', outcome: 'completed' }, 0.2);
    m.queueDepth.set({ queue: 'pull', state: 'waiting' }, 7);
    const samples = await samplesOf(publishedMetrics(m));
    const get = (name: string, labels: Record<string, string>) => samples.get(sampleKey(name, labels))?.value;
    expect(get('tandem_api_calls_total', { system: 'salesforce', object: 'Lead', outcome: 'ok' })).toBe(3);
    const job = { queue: 'pull', outcome: 'completed' };
    expect(get('tandem_job_duration_seconds_bucket', { ...job, le: '0.1' })).toBe(0);
    expect(get('tandem_job_duration_seconds_bucket', { ...job, le: '0.25' })).toBe(1);
    expect(get('tandem_job_duration_seconds_bucket', { ...job, le: '+Inf' })).toBe(1);
    expect(get('tandem_job_duration_seconds_sum', job)).toBeCloseTo(0.2);
    expect(get('tandem_job_duration_seconds_count', job)).toBe(1);
    expect([...samples.values()].some((s) => s.metricName === 'tandem_queue_jobs')).toBe(false);
  });
});

describe('MetricDeltas', () => {
  const at = (value: number) => new Map([['k', { metricName: 'c', labels: {}, value }]]);

  it('hands out only the growth since the last take', () => {
    const deltas = new MetricDeltas();
    expect(deltas.take(at(5))).toEqual(new Map([['k', 5]]));
    expect(deltas.take(at(5))).toEqual(new Map());
    expect(deltas.take(at(8))).toEqual(new Map([['k', 3]]));
  });

  it('hands out a new sample even at zero (empty histogram buckets)', () => {
    const deltas = new MetricDeltas();
    expect(deltas.take(at(0))).toEqual(new Map([['k', 0]]));
    expect(deltas.take(at(0))).toEqual(new Map());
  });

  it('takes a total below the last one as a reset: all of it is new', () => {
    const deltas = new MetricDeltas();
    deltas.take(at(10));
    expect(deltas.take(at(2))).toEqual(new Map([['k', 2]]));
  });

  it('hands out again what could not be published', () => {
    const deltas = new MetricDeltas();
    deltas.take(at(4));
    const lost = deltas.take(at(6));
    deltas.giveBack(lost);
    expect(deltas.take(at(7))).toEqual(new Map([['k', 3]]));
  });
});
