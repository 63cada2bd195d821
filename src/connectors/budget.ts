// One API budget per CRM account, shared by every Tandem worker process through Redis, so the sum of all
// workers stays under the vendor's limits and leaves the customer's other integrations their share.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimitedError, type RateLimitScope } from './classify.js';

export type BudgetSystem = 'hubspot' | 'salesforce';
export type CallKind = 'standard' | 'search';

export interface RollingWindowLimit {
  /** The vendor's maximum per window (HubSpot: 100 or 190 per 10 s). */
  max: number;
  windowMs: number;
  /** The share of `max` Tandem may use (default 80). */
  sharePercent?: number;
}

export interface DailyLimit {
  /**
   * The account's daily quota (HubSpot per day; Salesforce per rolling 24 hours) until the vendor's headers
   * say what it is (`Sforce-Limit-Info` M, `X-HubSpot-RateLimit-Daily`); from then on the observed one counts.
   */
  quota: number;
  /** Stop when the account as a whole (Tandem and other integrations) has used this share of the quota. */
  budgetPercent: number;
  /** HubSpot resets at midnight (approximated as UTC); Salesforce frees capacity gradually. */
  resets: 'utc-midnight' | 'rolling-24h';
}

export interface ApiBudgetOptions {
  redis: Redis;
  /** The configured Redis key prefix (`TANDEM_REDIS_PREFIX`). */
  prefix: string;
  system: BudgetSystem;
  /** Burst limit for ordinary calls (HubSpot's rolling 10 seconds). Omit for none. */
  window?: RollingWindowLimit;
  /** HubSpot search's own per-second limit; search is exempt from `window`. */
  search?: RollingWindowLimit;
  daily: DailyLimit;
  /** Longest `acquire` waits in the process for a window before giving up with a RateLimitedError (default 30 s). */
  maxWaitMs?: number;
  now?: () => number;
}

export interface VendorQuota {
  limit: number;
  remaining: number;
}

/** HubSpot's rolling-window headers: the account's max per interval and what is left of it right now. */
export interface VendorWindow {
  max: number;
  remaining: number;
  intervalMs: number;
}

export interface BudgetUsage {
  day: string;
  /** Calls Tandem made today (all processes). */
  ours: number;
  /** Calls the account made today as far as the vendor's last headers tell (≥ ours). */
  account: number;
  cap: number;
}

// --- pure parts -----------------------------------------------------------------------------------------

export const DEFAULT_SHARE_PERCENT = 80;
const HOUR_MS = 3_600_000;

/** How many calls of a window Tandem may use: the share of the vendor's max, at least 1. */
export function windowAllowance(limit: RollingWindowLimit): number {
  return Math.max(1, Math.floor((limit.max * (limit.sharePercent ?? DEFAULT_SHARE_PERCENT)) / 100));
}

/** The account-wide daily usage above which Tandem stops: the budget share of the observed quota, if any. */
export function dailyCap(limit: DailyLimit, observedQuota?: number): number {
  const quota = observedQuota !== undefined && observedQuota > 0 ? observedQuota : limit.quota;
  return Math.floor((quota * limit.budgetPercent) / 100);
}

/** The UTC day a call counts against. */
export function budgetDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** How long to wait once the daily budget is spent. */
export function dailyResetWaitMs(limit: DailyLimit, now: number): number {
  if (limit.resets === 'rolling-24h') return HOUR_MS;
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return Math.max(1, next.getTime() - now);
}

/**
 * Account-wide usage: Tandem's own count, or the vendor's if larger. The vendor's figure was observed when
 * Tandem's count was `oursAtObservation`; Tandem's calls since then are added on top.
 */
export function accountUsage(ours: number, vendor?: { used: number; oursAtObservation: number }): number {
  if (vendor === undefined) return ours;
  return Math.max(ours, vendor.used + Math.max(0, ours - vendor.oursAtObservation));
}

function header(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(n: string): unknown }).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === lower) {
      if (typeof value === 'string') return value;
      if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
      if (typeof value === 'number') return String(value);
    }
  }
  return undefined;
}

function int(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** `X-HubSpot-RateLimit-Daily` / `-Daily-Remaining` (plain object or Headers). */
export function hubSpotDailyQuota(headers: unknown): VendorQuota | undefined {
  const limit = int(header(headers, 'x-hubspot-ratelimit-daily'));
  const remaining = int(header(headers, 'x-hubspot-ratelimit-daily-remaining'));
  return limit !== undefined && remaining !== undefined ? { limit, remaining } : undefined;
}

/** `X-HubSpot-RateLimit-Max` / `-Remaining` / `-Interval-Milliseconds` (ordinary calls; search has none). */
export function hubSpotWindow(headers: unknown): VendorWindow | undefined {
  const max = int(header(headers, 'x-hubspot-ratelimit-max'));
  const remaining = int(header(headers, 'x-hubspot-ratelimit-remaining'));
  const intervalMs = int(header(headers, 'x-hubspot-ratelimit-interval-milliseconds'));
  return max !== undefined && max > 0 && remaining !== undefined && intervalMs !== undefined && intervalMs > 0
    ? { max, remaining, intervalMs }
    : undefined;
}

/** Salesforce `Sforce-Limit-Info: api-usage=N/M`. */
export function salesforceDailyQuota(headers: unknown): VendorQuota | undefined {
  const raw = header(headers, 'sforce-limit-info');
  const match = raw === undefined ? null : /(?:^|[\s,;])api-usage=(\d+)\/(\d+)/.exec(raw);
  if (match === null) return undefined;
  const used = Number(match[1]);
  const limit = Number(match[2]);
  return { limit, remaining: Math.max(0, limit - used) };
}

// --- Redis ----------------------------------------------------------------------------------------------

// KEYS: window zset, daily counter, vendor hash.
// ARGV: now, n, windowMs, windowMax, quota, budgetPercent, day, token, sharePercent, vendorWindow (1: apply
// HubSpot's observed 10-second headers).
// The vendor hash holds the last observed daily usage (day, used, oursAt, limit) and 10-second window
// (wMax, wMs, wUsed, wAt). The observed daily limit replaces the configured quota; an observed window max
// below the configured one replaces it; the account's observed use of the window (other integrations
// included) plus Tandem's calls since counts against the window until that observation has rolled out.
// Returns {0, used, cap} when granted, {waitMs, used, cap} when the window is full, {-1, used, cap} when the
// day is spent.
const ACQUIRE = `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local windowMs = tonumber(ARGV[3])
local windowMax = tonumber(ARGV[4])
local quota = tonumber(ARGV[5])
local day = ARGV[7]
local v = redis.call('HMGET', KEYS[3], 'day', 'used', 'oursAt', 'limit', 'wMax', 'wMs', 'wUsed', 'wAt')
local limit = tonumber(v[4])
if limit ~= nil and limit > 0 then quota = limit end
local cap = math.floor(quota * tonumber(ARGV[6]) / 100)
local ours = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = ours
if v[1] == day then
  local est = tonumber(v[2]) + math.max(0, ours - tonumber(v[3]))
  if est > used then used = est end
end
if used + n > cap then return {-1, used, cap} end
if windowMax > 0 then
  local vendorWindow = ARGV[10] == '1' and tonumber(v[5]) ~= nil
  if vendorWindow then
    local allowed = math.max(1, math.floor(tonumber(v[5]) * tonumber(ARGV[9]) / 100))
    if allowed < windowMax then windowMax = allowed end
    local vendorMs = tonumber(v[6])
    if vendorMs > windowMs then windowMs = vendorMs end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
  local count = redis.call('ZCARD', KEYS[1])
  if count + n > windowMax then
    local idx = count + n - windowMax - 1
    local entry = redis.call('ZRANGE', KEYS[1], idx, idx, 'WITHSCORES')
    local wait = tonumber(entry[2]) + windowMs - now
    if wait < 1 then wait = 1 end
    return {wait, used, cap}
  end
  if vendorWindow then
    local at = tonumber(v[8])
    if now - at < windowMs then
      local account = tonumber(v[7]) + redis.call('ZCOUNT', KEYS[1], '(' .. at, '+inf')
      if account + n > windowMax then
        local wait = at + windowMs - now
        if wait < 1 then wait = 1 end
        return {wait, used, cap}
      end
    end
  end
  for i = 1, n do redis.call('ZADD', KEYS[1], now, ARGV[8] .. ':' .. i) end
  redis.call('PEXPIRE', KEYS[1], windowMs * 2)
end
redis.call('INCRBY', KEYS[2], n)
redis.call('PEXPIRE', KEYS[2], 172800000)
return {0, used + n, cap}
`;

// KEYS: daily counter, vendor hash. ARGV: day, used (limit - remaining), limit.
const OBSERVE = `
local ours = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('HSET', KEYS[2], 'day', ARGV[1], 'used', ARGV[2], 'oursAt', ours, 'limit', ARGV[3])
redis.call('PEXPIRE', KEYS[2], 172800000)
return ours
`;

// KEYS: vendor hash. ARGV: max, intervalMs, used (max - remaining), observed at.
const OBSERVE_WINDOW = `
redis.call('HSET', KEYS[1], 'wMax', ARGV[1], 'wMs', ARGV[2], 'wUsed', ARGV[3], 'wAt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], 172800000)
return 1
`;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The API budget of one CRM account. `acquire()` before every call; `observe(headers)` after every
 * response, so the vendor's remaining-quota headers (which include the customer's other integrations)
 * tighten the daily budget.
 *
 * @example
 * const budget = new ApiBudget({ redis, prefix: 'tandem', system: 'hubspot',
 *   window: { max: 190, windowMs: 10_000 }, search: { max: 5, windowMs: 1_000 },
 *   daily: { quota: 625_000, budgetPercent: 50, resets: 'utc-midnight' } });
 * await budget.acquire();            // waits for the 10-second window, or throws RateLimitedError
 */
export class ApiBudget {
  readonly system: BudgetSystem;
  private readonly redis: Redis;
  private readonly base: string;
  private readonly options: ApiBudgetOptions;
  private readonly now: () => number;
  private readonly token = randomUUID();
  private seq = 0;

  constructor(options: ApiBudgetOptions) {
    this.options = options;
    this.system = options.system;
    this.redis = options.redis;
    this.base = `${options.prefix}:{budget}:${options.system}`;
    this.now = options.now ?? Date.now;
  }

  private keys(kind: CallKind, day: string): [string, string, string] {
    const window = kind === 'search' ? 'search' : 'window';
    return [`${this.base}:${window}`, `${this.base}:daily:${day}`, `${this.base}:vendor`];
  }

  /**
   * Takes `n` calls from the budget. Waits (in this process, at most `maxWaitMs` in all) while the burst
   * window is full; throws `RateLimitedError` with `waitMs` when the daily budget is spent or the wait
   * would be longer — the queue layer then delays the job without failing it.
   */
  async acquire(n = 1, kind: CallKind = 'standard', signal?: AbortSignal): Promise<void> {
    const limit = kind === 'search' ? (this.options.search ?? this.options.window) : this.options.window;
    const windowMax = limit === undefined ? 0 : windowAllowance(limit);
    if (n < 1 || (windowMax > 0 && n > windowMax)) {
      throw new RangeError(`cannot acquire ${n} calls at once (window allows ${windowMax})`);
    }
    const maxWaitMs = this.options.maxWaitMs ?? 30_000;
    let waited = 0;
    for (;;) {
      const now = this.now();
      const day = budgetDay(now);
      this.seq += 1;
      const [wait, , cap] = (await this.redis.eval(
        ACQUIRE,
        3,
        ...this.keys(kind, day),
        now,
        n,
        limit?.windowMs ?? 0,
        windowMax,
        this.options.daily.quota,
        this.options.daily.budgetPercent,
        day,
        `${this.token}:${this.seq}`,
        limit?.sharePercent ?? DEFAULT_SHARE_PERCENT,
        kind === 'standard' ? 1 : 0,
      )) as [number, number, number];
      if (wait === 0) return;
      if (wait < 0) {
        throw new RateLimitedError({
          code: 'TANDEM_DAILY_BUDGET_SPENT',
          waitMs: dailyResetWaitMs(this.options.daily, now),
          reason: `Tandem has used its share (${this.options.daily.budgetPercent}%, ${cap} calls) of the ${this.system === 'hubspot' ? 'HubSpot' : 'Salesforce'} daily API quota, counting other integrations; waiting so they keep theirs`,
          scope: this.dailyScope(),
        });
      }
      if (waited + wait > maxWaitMs) {
        throw new RateLimitedError({
          code: 'TANDEM_WINDOW_BUDGET_FULL',
          waitMs: wait,
          reason: `Tandem's share of the ${this.system} ${kind === 'search' ? 'search per-second' : 'burst'} limit is in use by other workers; waiting`,
          scope: kind === 'search' ? 'hubspot_secondly' : 'hubspot_ten_secondly',
        });
      }
      // A little jitter so waiting workers do not all retry in the same millisecond.
      const pause = wait + Math.floor(Math.random() * 20);
      waited += pause;
      await sleep(pause, signal);
    }
  }

  /**
   * Records the vendor's view of today's usage and, for HubSpot, of the 10-second window (from response
   * headers); ignores headers without them.
   */
  async observe(headers: unknown): Promise<void> {
    const quota = this.system === 'hubspot' ? hubSpotDailyQuota(headers) : salesforceDailyQuota(headers);
    if (quota !== undefined) await this.observeQuota(quota);
    const window = this.system === 'hubspot' ? hubSpotWindow(headers) : undefined;
    if (window !== undefined) await this.observeWindow(window);
  }

  async observeWindow(window: VendorWindow): Promise<void> {
    const [, , vendor] = this.keys('standard', budgetDay(this.now()));
    const used = Math.max(0, window.max - window.remaining);
    await this.redis.eval(OBSERVE_WINDOW, 1, vendor, window.max, window.intervalMs, used, this.now());
  }

  async observeQuota(quota: VendorQuota): Promise<void> {
    const day = budgetDay(this.now());
    const [, daily, vendor] = this.keys('standard', day);
    await this.redis.eval(OBSERVE, 2, daily, vendor, day, quota.limit - quota.remaining, quota.limit);
  }

  async usage(): Promise<BudgetUsage> {
    const day = budgetDay(this.now());
    const [, daily, vendor] = this.keys('standard', day);
    const [ours, fields] = await Promise.all([this.redis.get(daily), this.redis.hgetall(vendor)]);
    const mine = Number(ours ?? 0);
    const observed =
      fields['day'] === day
        ? { used: Number(fields['used']), oursAtObservation: Number(fields['oursAt']) }
        : undefined;
    const limit = fields['limit'] === undefined ? undefined : Number(fields['limit']);
    return {
      day,
      ours: mine,
      account: accountUsage(mine, observed),
      cap: dailyCap(this.options.daily, limit),
    };
  }

  private dailyScope(): RateLimitScope {
    return this.system === 'hubspot' ? 'hubspot_daily' : 'salesforce_daily';
  }
}

/** HubSpot's limits for a tier with Tandem's configured shares. */
export function hubSpotBudgetOptions(config: {
  limits: { perTenSeconds: number; perDay: number };
  dailyBudgetPercent: number;
  tenSecondSharePercent: number;
}): Pick<ApiBudgetOptions, 'window' | 'search' | 'daily'> {
  return {
    window: {
      max: config.limits.perTenSeconds,
      windowMs: 10_000,
      sharePercent: config.tenSecondSharePercent,
    },
    search: { max: 5, windowMs: 1_000, sharePercent: DEFAULT_SHARE_PERCENT },
    daily: { quota: config.limits.perDay, budgetPercent: config.dailyBudgetPercent, resets: 'utc-midnight' },
  };
}
