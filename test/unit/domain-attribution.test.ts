import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { AttributionModel } from '../../src/domain/mapping/schema.js';
import { compileMapping } from '../../src/domain/compiled.js';
import {
  collectTouchpoints,
  creditDeal,
  distributeCents,
  latestSource,
  originalSource,
  type CreditOptions,
  type Touchpoint,
} from '../../src/domain/attribution.js';
import type { CampaignMembership } from '../../src/domain/records.js';
import { at, defaultMapping, hsContact, sfContact, sfId, sfLead } from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const compiled = compileMapping(mapping);

const touch = (n: number, day: number, source = `s${n}`): Touchpoint => ({
  id: `t${n}`,
  kind: 'campaign',
  source,
  occurredAt: at(day),
  system: 'salesforce',
  recordId: 'x',
  systemValue: source,
});
const T = [touch(1, 1), touch(2, 2), touch(3, 3), touch(4, 4), touch(5, 5)];
const options = (model: AttributionModel, extra: Partial<CreditOptions> = {}): CreditOptions => ({
  model,
  halfLifeDays: 7,
  unknownSource: 'other',
  ...extra,
});
const deal = (amount: number, createdDay = 10) => ({ id: 'd1', amount, createdAt: at(createdDay) });

/** Credits as [touchpoint id, cents], for hand-computed tables. */
function credits(
  touches: Touchpoint[],
  amount: number,
  o: CreditOptions,
  createdDay = 10,
): Array<[string, number]> {
  const result = creditDeal(deal(amount, createdDay), touches, o);
  expect(result.credits.reduce((s, c) => s + c.cents, 0)).toBe(result.amountCents);
  return result.credits.map((c) => [c.touchpointId ?? c.source, c.cents]);
}

describe('deal credit by model (hand-computed, in cents)', () => {
  it.each<[string, Touchpoint[], number, CreditOptions, Array<[string, number]>]>([
    ['first touch', T.slice(0, 4), 1000, options('first_touch'), [['t1', 100000]]],
    ['last touch', T.slice(0, 4), 1000, options('last_touch'), [['t4', 100000]]],
    [
      'linear, 4 touches',
      T.slice(0, 4),
      1000,
      options('linear'),
      [
        ['t1', 25000],
        ['t2', 25000],
        ['t3', 25000],
        ['t4', 25000],
      ],
    ],
    [
      'linear, a remainder cent goes to the earliest touch',
      T.slice(0, 3),
      100,
      options('linear'),
      [
        ['t1', 3334],
        ['t2', 3333],
        ['t3', 3333],
      ],
    ],
    ['u-shaped, 1 touch → 100%', T.slice(0, 1), 1000, options('u_shaped'), [['t1', 100000]]],
    [
      'u-shaped, 2 touches → 50/50',
      T.slice(0, 2),
      1000,
      options('u_shaped'),
      [
        ['t1', 50000],
        ['t2', 50000],
      ],
    ],
    [
      'u-shaped, 4 touches → 40/10/10/40',
      T.slice(0, 4),
      1000,
      options('u_shaped'),
      [
        ['t1', 40000],
        ['t2', 10000],
        ['t3', 10000],
        ['t4', 40000],
      ],
    ],
    [
      'u-shaped, 5 touches: middle 20% in thirds, 2 leftover cents to the earliest',
      T,
      1000,
      options('u_shaped'),
      [
        ['t1', 40000],
        ['t2', 6667],
        ['t3', 6667],
        ['t4', 6666],
        ['t5', 40000],
      ],
    ],
    [
      'w-shaped, 5 touches: first, lead-creation (t2), opportunity (t5) 30% each; 5% each to the rest',
      T,
      1000,
      options('w_shaped', { leadCreatedAt: at(2, 12) }),
      [
        ['t1', 30000],
        ['t2', 30000],
        ['t3', 5000],
        ['t4', 5000],
        ['t5', 30000],
      ],
    ],
    [
      'w-shaped, lead created at the first touch: two key touches share 90%',
      T.slice(0, 4),
      1000,
      options('w_shaped'),
      [
        ['t1', 45000],
        ['t2', 5000],
        ['t3', 5000],
        ['t4', 45000],
      ],
    ],
    [
      'w-shaped, 3 touches all key: thirds',
      T.slice(0, 3),
      1000,
      options('w_shaped', { leadCreatedAt: at(2) }),
      [
        ['t1', 33334],
        ['t2', 33333],
        ['t3', 33333],
      ],
    ],
    [
      'w-shaped, 2 touches → 50/50',
      T.slice(0, 2),
      1000,
      options('w_shaped'),
      [
        ['t1', 50000],
        ['t2', 50000],
      ],
    ],
    ['w-shaped, 1 touch → 100%', T.slice(0, 1), 1000, options('w_shaped'), [['t1', 100000]]],
    [
      'time decay, half-life 7 days: ages 14, 7, 0 days weigh 1/4, 1/2, 1',
      [touch(1, 1), touch(2, 8), touch(3, 15)],
      700,
      options('time_decay'),
      [
        ['t1', 10000],
        ['t2', 20000],
        ['t3', 40000],
      ],
    ],
  ])('%s', (_name, touches, amount, o, expected) => {
    expect(credits(touches, amount, o, 15)).toEqual(expected);
  });

  it('time decay with a remainder: 1/7, 2/7, 4/7 of $100', () => {
    expect(credits([touch(1, 1), touch(2, 8), touch(3, 15)], 100, options('time_decay'), 15)).toEqual([
      ['t1', 1429],
      ['t2', 2857],
      ['t3', 5714],
    ]);
  });

  it('only touches at or before the deal’s creation count', () => {
    expect(credits(T, 90, options('linear'), 3)).toEqual([
      ['t1', 3000],
      ['t2', 3000],
      ['t3', 3000],
    ]);
  });

  it('no touches: the whole amount to the unknown source', () => {
    expect(credits([], 12.34, options('w_shaped'))).toEqual([['other', 1234]]);
  });

  it('credits always sum exactly to the amount (property)', () => {
    const models: AttributionModel[] = [
      'first_touch',
      'last_touch',
      'linear',
      'u_shaped',
      'w_shaped',
      'time_decay',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...models),
        fc.integer({ min: 0, max: 10_000_000_00 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 0, maxLength: 12 }),
        fc.integer({ min: 0, max: 60 }),
        (model, cents, days, leadDay) => {
          const touches = days.map((d, i) => touch(i, d));
          const r = creditDeal(
            deal(cents / 100, 61),
            touches,
            options(model, { leadCreatedAt: at(leadDay) }),
          );
          expect(r.amountCents).toBe(cents);
          expect(r.credits.reduce((s, c) => s + c.cents, 0)).toBe(cents);
          for (const c of r.credits) expect(Number.isInteger(c.cents) && c.cents >= 0).toBe(true);
        },
      ),
    );
  });

  it('distributeCents hands out the remainder by largest fraction', () => {
    expect(distributeCents(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(distributeCents(-10, [1, 1, 1])).toEqual([-4, -3, -3]);
    expect(distributeCents(5, [0, 0])).toEqual([0, 0]);
  });
});

describe('touchpoints from both systems', () => {
  const L = sfId('00Q', 1);
  const C = sfId('003', 1);
  const hs = hsContact(
    '1',
    {
      hs_analytics_source: 'ORGANIC_SEARCH',
      hs_analytics_source_data_1: 'google',
      hs_latest_source: 'PAID_SEARCH',
      hs_latest_source_timestamp: String(Date.parse(at(20))),
    },
    { createdAt: at(1) },
  );
  const lead = sfLead(L, { LeadSource: 'Web' }, { createdAt: at(1, 3) });
  const membership = (over: Partial<CampaignMembership>): CampaignMembership => ({
    campaignId: '701A',
    campaignName: 'Spring webinar',
    campaignType: 'Webinar',
    status: 'Attended',
    hasResponded: true,
    firstRespondedDate: at(10),
    createdDate: at(9),
    personId: L,
    ...over,
  });

  it('collects, translates and de-duplicates', () => {
    const touches = collectTouchpoints(
      {
        hubspot: hs,
        salesforce: [lead, sfContact(C, { LeadSource: 'Phone Inquiry' }, { createdAt: at(15) })],
        campaignMemberships: [
          membership({}),
          membership({ campaignId: '701B', hasResponded: false, campaignName: 'Ignored' }),
          membership({
            campaignId: '701C',
            campaignType: 'Billboard',
            campaignName: 'Highway',
            firstRespondedDate: at(12),
          }),
        ],
      },
      compiled,
    );
    expect(touches.map((t) => [t.kind, t.source, t.occurredAt, t.detail])).toEqual([
      ['original_source', 'organic_search', at(1), 'google'],
      ['campaign', 'events', at(10), 'Spring webinar'],
      ['campaign', 'other', at(12), 'Highway'],
      ['latest_source', 'paid_search', at(20), undefined],
    ]);
    expect(originalSource(touches)?.source).toBe('organic_search');
    expect(latestSource(touches)?.source).toBe('paid_search');
    expect(latestSource(touches, at(11))?.source).toBe('events');
  });

  it('an unknown LeadSource becomes the unknown source; a lone Contact’s LeadSource counts', () => {
    const touches = collectTouchpoints(
      {
        salesforce: [sfContact(C, { LeadSource: 'Billboard' }, { createdAt: at(3) })],
        campaignMemberships: [],
      },
      compiled,
    );
    expect(touches.map((t) => [t.source, t.systemValue])).toEqual([['other', 'Billboard']]);
  });

  it('the same source a day apart is two touches', () => {
    const touches = collectTouchpoints(
      {
        hubspot: hs,
        salesforce: [sfLead(L, { LeadSource: 'Web' }, { createdAt: at(3) })],
        campaignMemberships: [],
      },
      compiled,
    );
    expect(touches.filter((t) => t.source === 'organic_search')).toHaveLength(2);
  });
});
