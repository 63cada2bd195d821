import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { HubSpotPortal } from '../../src/sandbox/hubspot/portal.js';
import { RateLimiter } from '../../src/sandbox/hubspot/rate-limits.js';
import { listParam } from '../../src/sandbox/hubspot/request.js';
import { search } from '../../src/sandbox/hubspot/search.js';

describe('array query parameters', () => {
  it.each([
    ['repeated keys (the SDK)', { properties: ['email', 'firstname'] }, ['email', 'firstname']],
    ['a comma list (the docs)', { properties: 'email,firstname' }, ['email', 'firstname']],
    [
      'both at once, with blanks',
      { properties: ['email, firstname', '', 'lastname'] },
      ['email', 'firstname', 'lastname'],
    ],
    ['absent', {}, undefined],
  ])('reads %s', (_name, query, expected) => {
    expect(listParam(query, 'properties')).toEqual(expected);
  });
});

describe('incremental search on the modified date', () => {
  /** Companies written at the given clock readings (ms), in order; ids ascend with writes. */
  function portalWith(stamps: number[]): HubSpotPortal {
    let clock = 0;
    const portal = new HubSpotPortal(() => clock);
    for (const [i, stamp] of stamps.entries()) {
      clock = stamp;
      portal.create('companies', { name: `Company ${i}` });
    }
    return portal;
  }

  it('pages by (modified, id) exactly like a full filter-and-sort, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 7 }),
        (stamps, since, limit) => {
          const portal = portalWith(stamps);
          // Rewrite some records later so modified order differs from id order.
          const store = portal.stores.companies;
          for (const record of [...store.all()].filter((r) => r.idNum % 3 === 0)) {
            portal.update('companies', record, { name: `${record.properties['name'] ?? ''}!` });
          }
          const expected = [...store.all()]
            .filter((r) => r.updatedAt > since)
            .sort((a, b) => a.updatedAt - b.updatedAt || a.idNum - b.idNum)
            .map((r) => r.id);
          const seen: string[] = [];
          let after: string | undefined = '0';
          while (after !== undefined) {
            const page = search(portal, 'companies', {
              filterGroups: [
                { filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GT', value: String(since) }] },
              ],
              sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
              limit,
              after,
            });
            expect(page.total).toBe(expected.length);
            seen.push(...page.records.map((r) => r.id));
            after = page.nextAfter;
          }
          expect(seen).toEqual(expected);
        },
      ),
    );
  });

  it('leaves the modified date alone when a write changes nothing', () => {
    let clock = 1_000;
    const portal = new HubSpotPortal(() => clock);
    const record = portal.create('companies', { name: 'Same' });
    clock = 2_000;
    portal.update('companies', record, { name: 'Same' });
    expect(record.updatedAt).toBe(1_000);
    portal.update('companies', record, { name: 'Changed' });
    expect(record.properties['hs_lastmodifieddate']).toBe(new Date(2_000).toISOString());
  });
});

describe('rate limiter', () => {
  it('counts a rolling 10-second window and a daily quota, and rejected calls use neither', () => {
    let clock = Date.parse('2024-01-01T12:00:00.000Z');
    const limiter = new RateLimiter(() => clock, 'free', { tenSecondly: 2, daily: 3 });
    expect(limiter.take('standard').allowed).toBe(true);
    expect(limiter.take('standard').allowed).toBe(true);
    expect(limiter.take('standard')).toMatchObject({ allowed: false, policy: 'TEN_SECONDLY_ROLLING' });
    clock += 10_000;
    const third = limiter.take('standard');
    expect(third.allowed).toBe(true);
    expect(third.headers['X-HubSpot-RateLimit-Daily-Remaining']).toBe('0');
    clock += 10_000;
    expect(limiter.take('standard')).toMatchObject({ allowed: false, policy: 'DAILY' });
    clock = Date.parse('2024-01-02T00:00:00.000Z');
    expect(limiter.take('standard').allowed).toBe(true);
  });

  it('reports DAILY before the window once the quota is gone', () => {
    const clock = Date.parse('2024-01-01T12:00:00.000Z');
    const limiter = new RateLimiter(() => clock, 'professional', { daily: 1 });
    limiter.take('search');
    expect(limiter.take('standard')).toMatchObject({ allowed: false, policy: 'DAILY' });
  });
});
