import { describe, expect, it } from '@jest/globals';
import { funnelGroup } from '../../src/store/funnel-report.js';

// Positions: subscriber 1, lead 2, mql 3, sal 4, sql 5, opportunity 6, customer 7; 0 = no funnel stage.
describe('funnelGroup', () => {
  it.each([
    {
      name: 'counts a person at every stage up to the furthest one reached',
      furthest: [[5, 1]],
      reached: [1, 1, 1, 1, 1, 0, 0],
      conversion: [null, 1, 1, 1, 1, 0, null],
    },
    {
      name: 'mixes stopping points into cumulative counts and rates',
      furthest: [
        [2, 4],
        [3, 3],
        [4, 2],
        [7, 1],
      ],
      reached: [10, 10, 6, 3, 1, 1, 1],
      conversion: [null, 1, 0.6, 0.5, 1 / 3, 1, 1],
    },
    {
      name: 'keeps people with no funnel stage in the total but in no stage',
      furthest: [
        [0, 2],
        [1, 2],
      ],
      reached: [2, 0, 0, 0, 0, 0, 0],
      conversion: [null, 0, null, null, null, null, null],
    },
  ])('$name', ({ furthest, reached, conversion }) => {
    const group = funnelGroup('k', new Map(furthest as Array<[number, number]>));
    expect(group.key).toBe('k');
    expect(group.persons).toBe(furthest.reduce((sum, [, n]) => sum + (n ?? 0), 0));
    expect(group.stages.map((s) => s.stage)).toEqual([
      'subscriber',
      'lead',
      'mql',
      'sal',
      'sql',
      'opportunity',
      'customer',
    ]);
    expect(group.stages.map((s) => s.reached)).toEqual(reached);
    group.stages.forEach((s, i) => {
      const expected = conversion[i];
      if (expected === null || expected === undefined) expect(s.conversionFromPrevious).toBeNull();
      else expect(s.conversionFromPrevious).toBeCloseTo(expected, 10);
    });
  });

  it('is empty for an empty cohort', () => {
    const group = funnelGroup('all', new Map());
    expect(group.persons).toBe(0);
    expect(group.stages.every((s) => s.reached === 0 && s.conversionFromPrevious === null)).toBe(true);
  });
});
