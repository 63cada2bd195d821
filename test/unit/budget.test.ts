import { describe, expect, it } from '@jest/globals';
import {
  accountUsage,
  budgetDay,
  dailyCap,
  dailyResetWaitMs,
  hubSpotBudgetOptions,
  hubSpotDailyQuota,
  hubSpotWindow,
  salesforceDailyQuota,
  windowAllowance,
} from '../../src/connectors/budget.js';

describe('budget math', () => {
  it.each([
    [{ max: 190, windowMs: 10_000 }, 152],
    [{ max: 100, windowMs: 10_000, sharePercent: 50 }, 50],
    [{ max: 5, windowMs: 1_000 }, 4],
    [{ max: 1, windowMs: 1_000, sharePercent: 10 }, 1],
  ])('window allowance of %j is %i', (limit, expected) => {
    expect(windowAllowance(limit)).toBe(expected);
  });

  it('caps daily usage at the budget share of the quota', () => {
    expect(dailyCap({ quota: 625_000, budgetPercent: 50, resets: 'utc-midnight' })).toBe(312_500);
    expect(dailyCap({ quota: 15_001, budgetPercent: 33, resets: 'rolling-24h' })).toBe(4950);
  });

  it('takes the daily share of the quota the vendor reports once it has reported one', () => {
    const configured = { quota: 100_000, budgetPercent: 50, resets: 'rolling-24h' } as const;
    expect(dailyCap(configured, 15_000)).toBe(7_500);
    expect(dailyCap(configured, 0)).toBe(50_000);
  });

  it('counts other integrations: the vendor figure plus our calls since it was observed', () => {
    expect(accountUsage(10)).toBe(10);
    expect(accountUsage(10, { used: 500, oursAtObservation: 4 })).toBe(506);
    // The vendor saw fewer than we made (its day started later): ours wins.
    expect(accountUsage(900, { used: 100, oursAtObservation: 850 })).toBe(900);
  });

  it('waits until the next UTC midnight for HubSpot and an hour for Salesforce', () => {
    const now = Date.parse('2024-05-01T23:59:00.000Z');
    expect(dailyResetWaitMs({ quota: 1, budgetPercent: 50, resets: 'utc-midnight' }, now)).toBe(60_000);
    expect(dailyResetWaitMs({ quota: 1, budgetPercent: 50, resets: 'rolling-24h' }, now)).toBe(3_600_000);
    expect(budgetDay(now)).toBe('2024-05-01');
  });

  it('reads the vendors’ quota headers in either header shape', () => {
    expect(
      hubSpotDailyQuota({
        'x-hubspot-ratelimit-daily': '250000',
        'x-hubspot-ratelimit-daily-remaining': '249',
      }),
    ).toEqual({ limit: 250_000, remaining: 249 });
    expect(
      hubSpotDailyQuota(
        new Headers({ 'X-HubSpot-RateLimit-Daily': '10', 'X-HubSpot-RateLimit-Daily-Remaining': '0' }),
      ),
    ).toEqual({ limit: 10, remaining: 0 });
    expect(hubSpotDailyQuota({ 'x-hubspot-ratelimit-max': '190' })).toBeUndefined();
    expect(salesforceDailyQuota({ 'Sforce-Limit-Info': 'api-usage=123/15000' })).toEqual({
      limit: 15_000,
      remaining: 14_877,
    });
    expect(salesforceDailyQuota({ 'sforce-limit-info': 'per-app-api-usage=1/2' })).toBeUndefined();
    expect(
      hubSpotWindow({
        'x-hubspot-ratelimit-max': '100',
        'x-hubspot-ratelimit-remaining': '97',
        'x-hubspot-ratelimit-interval-milliseconds': '10000',
      }),
    ).toEqual({ max: 100, remaining: 97, intervalMs: 10_000 });
    expect(hubSpotWindow({ 'x-hubspot-ratelimit-daily': '250000' })).toBeUndefined();
  });

  it('derives HubSpot limits from the config', () => {
    const options = hubSpotBudgetOptions({
      limits: { perTenSeconds: 190, perDay: 625_000 },
      dailyBudgetPercent: 50,
      tenSecondSharePercent: 50,
    });
    expect(options.window).toEqual({ max: 190, windowMs: 10_000, sharePercent: 50 });
    expect(options.daily.quota).toBe(625_000);
  });
});
