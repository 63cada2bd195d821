import type { RateLimitPolicy } from './errors.js';

export type HubSpotTier = 'free' | 'starter' | 'professional' | 'enterprise';

/** Private-app limits per tier: requests per rolling 10 seconds, and per day. */
export const TIER_LIMITS: Record<HubSpotTier, { tenSecondly: number; daily: number }> = {
  free: { tenSecondly: 100, daily: 250_000 },
  starter: { tenSecondly: 100, daily: 250_000 },
  professional: { tenSecondly: 190, daily: 625_000 },
  enterprise: { tenSecondly: 190, daily: 1_000_000 },
};

export const TEN_SECONDS_MS = 10_000;
const SEARCH_WINDOW_MS = 1_000;
export const DEFAULT_SEARCH_PER_SECOND = 5;

export interface RateLimitOverrides {
  /** Replaces the tier's requests per rolling 10 seconds. */
  tenSecondly?: number;
  /** Replaces the tier's daily quota (tests use a tiny one). */
  daily?: number;
  /** Search requests per rolling second (HubSpot: about 5 per account). */
  searchPerSecond?: number;
}

export type RateDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; policy: RateLimitPolicy; headers: Record<string, string> };

/** Timestamps in a rolling window, oldest first. */
class RollingWindow {
  private times: number[] = [];
  private head = 0;

  constructor(private readonly windowMs: number) {}

  count(now: number): number {
    while (this.head < this.times.length && (this.times[this.head] as number) <= now - this.windowMs)
      this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(now: number): void {
    this.times.push(now);
  }

  clear(): void {
    this.times = [];
    this.head = 0;
  }
}

/**
 * HubSpot's limits for one account: a rolling 10-second window and a daily quota (UTC day here) for
 * ordinary requests; search is exempt from the 10-second window but has its own per-second one, and
 * counts against the daily quota. Rejected requests count against nothing.
 */
export class RateLimiter {
  private readonly tenSecondly = new RollingWindow(TEN_SECONDS_MS);
  private readonly searches = new RollingWindow(SEARCH_WINDOW_MS);
  private day = '';
  private usedToday = 0;

  constructor(
    private readonly now: () => number,
    private tier: HubSpotTier,
    private overrides: RateLimitOverrides = {},
  ) {}

  setTier(tier: HubSpotTier): void {
    this.tier = tier;
  }

  /** Replaces the overrides (benchmarks lift the limits; tests shrink them). */
  setOverrides(overrides: RateLimitOverrides): void {
    this.overrides = { ...overrides };
  }

  reset(): void {
    this.tenSecondly.clear();
    this.searches.clear();
    this.usedToday = 0;
  }

  get limits(): { tenSecondly: number; daily: number; searchPerSecond: number } {
    return {
      tenSecondly: this.overrides.tenSecondly ?? TIER_LIMITS[this.tier].tenSecondly,
      daily: this.overrides.daily ?? TIER_LIMITS[this.tier].daily,
      searchPerSecond: this.overrides.searchPerSecond ?? DEFAULT_SEARCH_PER_SECOND,
    };
  }

  take(kind: 'standard' | 'search'): RateDecision {
    const now = this.now();
    const limits = this.limits;
    const day = new Date(now).toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.usedToday = 0;
    }
    const windowUsed = kind === 'search' ? this.searches.count(now) : this.tenSecondly.count(now);
    const windowMax = kind === 'search' ? limits.searchPerSecond : limits.tenSecondly;
    let policy: RateLimitPolicy | undefined;
    if (this.usedToday >= limits.daily) policy = 'DAILY';
    else if (windowUsed >= windowMax) policy = kind === 'search' ? 'SECONDLY' : 'TEN_SECONDLY_ROLLING';
    if (policy === undefined) {
      this.usedToday += 1;
      if (kind === 'search') this.searches.add(now);
      else this.tenSecondly.add(now);
    }
    const headers: Record<string, string> = {
      'X-HubSpot-RateLimit-Daily': String(limits.daily),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, limits.daily - this.usedToday)),
    };
    if (kind === 'standard') {
      const used = policy === undefined ? windowUsed + 1 : windowUsed;
      headers['X-HubSpot-RateLimit-Max'] = String(limits.tenSecondly);
      headers['X-HubSpot-RateLimit-Remaining'] = String(Math.max(0, limits.tenSecondly - used));
      headers['X-HubSpot-RateLimit-Interval-Milliseconds'] = String(TEN_SECONDS_MS);
    }
    return policy === undefined ? { allowed: true, headers } : { allowed: false, policy, headers };
  }
}
