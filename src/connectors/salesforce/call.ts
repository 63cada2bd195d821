// Every Salesforce API call Tandem makes goes through `SalesforceCaller.call`: take calls from the shared
// budget, make the call, tell the budget what `Sforce-Limit-Info` said, and on failure classify once —
// transient: retry with exponential backoff and jitter; rate-limited: wait without using up a retry (or,
// when the wait is long, throw RateLimitedError so the queue delays the job); permanent: throw at once.
import type { Connection } from 'jsforce';
import pRetry, { AbortError } from 'p-retry';
import { countApiCall } from '../../observability/api-calls.js';
import {
  classify,
  PermanentError,
  RateLimitedError,
  TransientError,
  type Classification,
} from '../classify.js';

/** What the connector needs from `ApiBudget` (src/connectors/budget.ts). */
export interface CallBudget {
  acquire(n?: number): Promise<void>;
  observeQuota(quota: { limit: number; remaining: number }): Promise<void>;
}

export interface RetryPolicy {
  /** Attempts after the first for transient errors (default 5). */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Rate-limit waits longer than this are not slept through: RateLimitedError goes to the queue. */
  maxInlineWaitMs: number;
  /** Longest total time one call spends waiting on rate limits before RateLimitedError goes to the queue. */
  maxRateLimitTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  minTimeoutMs: 250,
  maxTimeoutMs: 10_000,
  maxInlineWaitMs: 60_000,
  maxRateLimitTotalMs: 120_000,
};

export interface CallerOptions {
  budget?: CallBudget;
  retry?: Partial<RetryPolicy>;
  /** Injected in tests so a 30 s concurrency wait does not take 30 s. */
  sleep?: (ms: number) => Promise<void>;
}

export interface CallContext {
  /** For error reasons: the Salesforce object. */
  object?: string;
  /** Budget units one try takes; a function when a retry makes more requests than the first try. */
  cost?: number | (() => number);
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SalesforceCaller {
  readonly conn: Connection;
  private readonly budget: CallBudget | undefined;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Calls that reached Salesforce, retries included: what the benchmark counts. */
  calls = 0;
  private lastUsage: { used: number; limit: number } | undefined;

  constructor(conn: Connection, options: CallerOptions = {}) {
    this.conn = conn;
    this.budget = options.budget;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * Runs `fn` (one Salesforce request; a retried Bulk job step may check the job first) under the budget and
   * retry policy.
   *
   * @example
   * const page = await caller.call(() => conn.query(soql), { object: 'Lead' });
   */
  async call<T>(fn: () => PromiseLike<T>, context: CallContext = {}): Promise<T> {
    let authRetried = false;
    let rateLimitedFor = 0;
    return pRetry(
      async () => {
        for (;;) {
          const cost = typeof context.cost === 'function' ? context.cost() : (context.cost ?? 1);
          await this.budget?.acquire(cost);
          this.calls += cost;
          try {
            const result = await fn();
            countApiCall('salesforce', context.object, undefined, cost);
            await this.observe();
            return result;
          } catch (error) {
            await this.observe();
            const classification = classify(error, {
              system: 'salesforce',
              ...(context.object !== undefined ? { object: context.object } : {}),
            });
            countApiCall('salesforce', context.object, classification);
            if (classification.kind === 'rate_limited') {
              if (
                classification.waitMs > this.policy.maxInlineWaitMs ||
                rateLimitedFor + classification.waitMs > this.policy.maxRateLimitTotalMs
              ) {
                throw new AbortError(new RateLimitedError(classification, { cause: error }));
              }
              rateLimitedFor += classification.waitMs;
              await this.sleep(classification.waitMs);
              continue;
            }
            if (classification.kind === 'permanent') {
              throw new AbortError(new PermanentError(classification, { cause: error }));
            }
            // jsforce already re-authorised once on a 401; a second one is not going to get better.
            if (classification.code === 'AUTH_EXPIRED') {
              if (authRetried) throw new AbortError(authFailure(classification, error));
              authRetried = true;
            }
            throw new TransientError(classification, { cause: error });
          }
        }
      },
      {
        retries: this.policy.retries,
        minTimeout: this.policy.minTimeoutMs,
        maxTimeout: this.policy.maxTimeoutMs,
        factor: 2,
        randomize: true,
      },
    );
  }

  /**
   * jsforce keeps the last `Sforce-Limit-Info: api-usage=N/M` in a new `conn.limitInfo` object per REST
   * response (Bulk 2.0 requests bypass it); a value already reported is not reported again, or the budget
   * would take it as fresh and under-count the calls made since.
   */
  private async observe(): Promise<void> {
    const usage = this.conn.limitInfo.apiUsage;
    if (usage === this.lastUsage) return;
    this.lastUsage = usage;
    if (this.budget !== undefined && usage !== undefined) {
      await this.budget.observeQuota({
        limit: usage.limit,
        remaining: Math.max(0, usage.limit - usage.used),
      });
    }
  }
}

function authFailure(classification: Classification, cause: unknown): PermanentError {
  return new PermanentError(
    {
      code: 'AUTH_INVALID',
      reason: `Salesforce still rejects the session after re-authorising (${classification.reason}); check the connected app and the integration user`,
    },
    { cause },
  );
}
