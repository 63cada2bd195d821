import { createPrng, type Prng } from './prng.js';

/**
 * Fault injection for the sandboxes: `--faults "5xx=0.05,429=0.02,timeout=0.01,latency=20-200ms"`.
 * Rates are probabilities per API request; `latency` adds a uniform delay to every request.
 * Decisions come from a seeded PRNG, so a run is repeatable under `--fault-seed`.
 */
export interface FaultSpec {
  serverError: number;
  rateLimited: number;
  timeout: number;
  latencyMs: { min: number; max: number } | null;
}

export type FaultDecision = { kind: 'none' } | { kind: '5xx' } | { kind: '429' } | { kind: 'timeout' };

export const NO_FAULTS: FaultSpec = { serverError: 0, rateLimited: 0, timeout: 0, latencyMs: null };

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

export function parseFaultSpec(spec: string | undefined): FaultSpec {
  if (spec === undefined || spec.trim() === '') return NO_FAULTS;
  const result: FaultSpec = { ...NO_FAULTS };
  const problems: string[] = [];
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key === undefined || value === undefined || value === '') {
      problems.push(`"${part}": expected key=value`);
      continue;
    }
    if (key === 'latency') {
      const match = /^(\d+)(?:-(\d+))?ms$/.exec(value);
      if (!match) {
        problems.push(`latency="${value}": expected e.g. 20-200ms or 50ms`);
        continue;
      }
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : Number(match[2]);
      if (max < min) problems.push(`latency="${value}": the upper bound is below the lower`);
      else result.latencyMs = { min, max };
      continue;
    }
    const rate = Number(value);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
      problems.push(`${key}="${value}": expected a probability between 0 and 1`);
      continue;
    }
    if (key === '5xx') result.serverError = rate;
    else if (key === '429') result.rateLimited = rate;
    else if (key === 'timeout') result.timeout = rate;
    else problems.push(`"${key}": unknown fault (known: 5xx, 429, timeout, latency)`);
  }
  if (result.serverError + result.rateLimited + result.timeout > 1) {
    problems.push('the fault probabilities add up to more than 1');
  }
  if (problems.length > 0) throw new FaultSpecError(`invalid --faults: ${problems.join('; ')}`);
  return result;
}

export class FaultInjector {
  private readonly random: Prng;

  constructor(
    public spec: FaultSpec = NO_FAULTS,
    seed: string | number = 'faults',
  ) {
    this.random = createPrng(seed);
  }

  /** What to do to the next API request. */
  next(): FaultDecision {
    const { serverError, rateLimited, timeout } = this.spec;
    if (serverError + rateLimited + timeout === 0) return { kind: 'none' };
    const roll = this.random();
    if (roll < serverError) return { kind: '5xx' };
    if (roll < serverError + rateLimited) return { kind: '429' };
    if (roll < serverError + rateLimited + timeout) return { kind: 'timeout' };
    return { kind: 'none' };
  }

  /** Extra latency for the next request, in ms (0 when none is configured). */
  latency(): number {
    const range = this.spec.latencyMs;
    if (range === null) return 0;
    return range.min + Math.floor(this.random() * (range.max - range.min + 1));
  }
}
