// Every HubSpot API call goes through `HubSpotCaller.call`: budget, call, vendor headers, classify, retry.
// The SDK's own retry is off (it ignores Retry-After and retries 429s blindly); Tandem owns retry.

import { Client } from '@hubspot/api-client';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { countApiCall } from '../../observability/api-calls.js';
import type { ApiBudget, CallKind } from '../budget.js';
import {
  PermanentError,
  RateLimitedError,
  TandemError,
  TransientError,
  classify,
  type Classification,
} from '../classify.js';

export function createHubSpotClient(options: { accessToken: string; baseUrl: string }): Client {
  return new Client({
    accessToken: options.accessToken,
    basePath: options.baseUrl.replace(/\/+$/, ''),
    numberOfApiCallRetries: 0,
  });
}

/** What the SDK's `*WithHttpInfo` methods resolve to. */
export interface HttpInfoLike<T> {
  httpStatusCode: number;
  headers: Record<string, string>;
  data: T;
}

export interface RetryPolicy {
  /** Retries of transient errors (rate-limit waits do not count). */
  transientRetries: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Longest single wait on a vendor 429 (HubSpot's windows roll within 10 s). */
  maxRateLimitWaitMs: number;
  /** Longest total time spent waiting on vendor 429s for one call before handing it to the queue layer. */
  maxRateLimitTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  transientRetries: 4,
  minBackoffMs: 200,
  maxBackoffMs: 10_000,
  maxRateLimitWaitMs: 11_000,
  maxRateLimitTotalMs: 120_000,
};

export interface CallStats {
  calls: number;
  transientRetries: number;
  rateLimitWaits: number;
}

function headersOf(error: unknown): unknown {
  return error !== null && typeof error === 'object' ? (error as { headers?: unknown }).headers : undefined;
}

function retryAfterMs(headers: unknown): number | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const raw = Object.entries(headers as Record<string, unknown>).find(
    ([k]) => k.toLowerCase() === 'retry-after',
  )?.[1];
  if (typeof raw !== 'string') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** A failed attempt, carrying its classification through p-retry. */
class AttemptFailed extends Error {
  constructor(
    readonly classification: Classification,
    readonly original: unknown,
  ) {
    super(classification.reason);
  }
}

export interface CallOptions {
  kind?: CallKind;
  /** For error messages: `contacts`, `deals`… */
  object?: string;
  signal?: AbortSignal;
}

/**
 * Runs SDK calls under the shared budget with Tandem's retry rules: transient → exponential backoff with
 * jitter (honouring Retry-After); vendor 429 → wait and retry without counting an attempt; permanent →
 * `PermanentError` at once. A call that cannot proceed ends in a Tandem error (`RateLimitedError` when
 * the daily budget is spent, so the queue delays instead of failing).
 */
export class HubSpotCaller {
  readonly stats: CallStats = { calls: 0, transientRetries: 0, rateLimitWaits: 0 };
  private readonly policy: RetryPolicy;

  constructor(
    readonly client: Client,
    private readonly budget: ApiBudget | undefined,
    policy: Partial<RetryPolicy> = {},
    private readonly logger?: Logger,
  ) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...policy };
  }

  /**
   * @example
   * const page = await caller.call((c) => c.crm.objects.basicApi.getPageWithHttpInfo('contacts', 100));
   */
  async call<T>(fn: (client: Client) => Promise<HttpInfoLike<T>>, options: CallOptions = {}): Promise<T> {
    const { kind = 'standard', object, signal } = options;
    let rateLimitedFor = 0;
    try {
      return await pRetry(
        async () => {
          await this.budget?.acquire(1, kind, signal);
          this.stats.calls += 1;
          let info: HttpInfoLike<T>;
          try {
            info = await fn(this.client);
          } catch (error) {
            await this.observe(headersOf(error));
            const classification = classify(error, {
              system: 'hubspot',
              ...(object !== undefined ? { object } : {}),
            });
            countApiCall('hubspot', object, classification);
            throw new AttemptFailed(classification, error);
          }
          countApiCall('hubspot', object);
          await this.observe(info.headers);
          return info.data;
        },
        {
          retries: this.policy.transientRetries,
          minTimeout: this.policy.minBackoffMs,
          maxTimeout: this.policy.maxBackoffMs,
          factor: 2,
          randomize: true,
          ...(signal !== undefined ? { signal } : {}),
          shouldConsumeRetry: ({ error }) =>
            !(error instanceof AttemptFailed && error.classification.kind === 'rate_limited'),
          shouldRetry: ({ error }) => {
            if (!(error instanceof AttemptFailed)) return false;
            const c = error.classification;
            if (c.kind === 'permanent') return false;
            if (c.kind === 'transient') return true;
            if (c.scope === 'hubspot_daily') return false;
            return rateLimitedFor < this.policy.maxRateLimitTotalMs;
          },
          onFailedAttempt: async ({ error }) => {
            if (!(error instanceof AttemptFailed)) return;
            const c = error.classification;
            if (c.kind === 'transient') {
              this.stats.transientRetries += 1;
              const after = retryAfterMs(headersOf(error.original));
              if (after !== undefined) await sleep(Math.min(after, this.policy.maxBackoffMs), signal);
            } else if (c.kind === 'rate_limited' && c.scope !== 'hubspot_daily') {
              this.stats.rateLimitWaits += 1;
              const wait =
                Math.min(c.waitMs, this.policy.maxRateLimitWaitMs) + Math.floor(Math.random() * 100);
              rateLimitedFor += wait;
              this.logger?.debug({ code: c.code, waitMs: wait }, 'HubSpot rate limit: waiting');
              await sleep(wait, signal);
            }
          },
        },
      );
    } catch (error) {
      throw toTandem(error);
    }
  }

  private async observe(headers: unknown): Promise<void> {
    if (this.budget === undefined || headers === undefined) return;
    try {
      await this.budget.observe(headers);
    } catch (error) {
      // The budget is advisory here: a failed bookkeeping write must not fail the API call.
      this.logger?.warn({ err: error }, 'could not record HubSpot quota headers');
    }
  }
}

function toTandem(error: unknown): unknown {
  if (error instanceof TandemError) return error;
  if (!(error instanceof AttemptFailed)) return error;
  const { kind, ...rest } = error.classification;
  const options = { cause: error.original };
  switch (kind) {
    case 'permanent':
      return new PermanentError(rest as ConstructorParameters<typeof PermanentError>[0], options);
    case 'transient':
      return new TransientError(rest, options);
    case 'rate_limited':
      return new RateLimitedError(rest as ConstructorParameters<typeof RateLimitedError>[0], options);
  }
}

/** The HTTP status of a failed SDK call, when it got that far. */
export function httpStatusOf(error: unknown): number | undefined {
  const cause = error instanceof TandemError ? error.cause : error;
  const code = cause !== null && typeof cause === 'object' ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}
