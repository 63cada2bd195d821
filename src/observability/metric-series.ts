import type { Counter, Histogram } from 'prom-client';

/**
 * One sample of a counter or histogram, flattened: `metricName` is the family name for a counter and
 * `<name>_bucket` / `_sum` / `_count` for a histogram (buckets keep their `le` label). Histogram buckets are
 * cumulative, so per-bucket sums over processes are the buckets of the sum.
 */
export interface Sample {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

/** The hash field a sample is kept under in Redis: its metric name and labels, sorted, as JSON. */
export function sampleKey(metricName: string, labels: Readonly<Record<string, string | number>>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k): [string, string] => [k, String(labels[k])]);
  return JSON.stringify([metricName, Object.fromEntries(sorted)]);
}

/** The other way round; `undefined` for a field Tandem did not write. */
export function parseSampleKey(
  key: string,
): { metricName: string; labels: Record<string, string> } | undefined {
  try {
    const parsed: unknown = JSON.parse(key);
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') return undefined;
    const labels: unknown = parsed[1];
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return undefined;
    return { metricName: parsed[0], labels: labels as Record<string, string> };
  } catch {
    return undefined;
  }
}

/** Every sample of the given counters and histograms, keyed by `sampleKey`. */
export async function samplesOf(
  families: ReadonlyArray<Counter<string> | Histogram<string>>,
): Promise<Map<string, Sample>> {
  const out = new Map<string, Sample>();
  for (const family of families) {
    const { name, values } = await family.get();
    for (const v of values) {
      const metricName = (v as { metricName?: string }).metricName ?? name;
      const labels = Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)]));
      out.set(sampleKey(metricName, labels), { metricName, labels, value: v.value });
    }
  }
  return out;
}

/**
 * What a process's counters grew by since it last published them. The process keeps its own running
 * totals; each `take` hands out the growth since the previous one and remembers the new totals, so adding
 * every delta into Redis gives the sum over all processes, and a restarted process (back at zero) only ever
 * adds. A total below the one remembered means the registry was reset: its whole value is new growth. A
 * sample's first take includes it even at 0, so every bucket of a histogram series exists in Redis.
 * `giveBack` returns deltas that could not be published, so the next `take` includes them again.
 */
export class MetricDeltas {
  private readonly published = new Map<string, number>();

  take(samples: ReadonlyMap<string, Sample>): Map<string, number> {
    const deltas = new Map<string, number>();
    for (const [key, { value }] of samples) {
      const before = this.published.get(key);
      const delta = before === undefined || value < before ? value : value - before;
      this.published.set(key, value);
      // A sample seen for the first time goes out even at 0: a histogram's empty buckets must exist too.
      if (delta !== 0 || before === undefined) deltas.set(key, delta);
    }
    return deltas;
  }

  giveBack(deltas: ReadonlyMap<string, number>): void {
    for (const [key, delta] of deltas) {
      const left = (this.published.get(key) ?? 0) - delta;
      // Nothing of it ever reached Redis: new again, so the next take sends it even at 0.
      if (left === 0) this.published.delete(key);
      else this.published.set(key, left);
    }
  }
}
