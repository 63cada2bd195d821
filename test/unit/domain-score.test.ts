import { describe, expect, it } from '@jest/globals';
import type { Condition } from '../../src/domain/mapping/schema.js';
import { compileMapping } from '../../src/domain/compiled.js';
import { evaluate, type ConditionFacts } from '../../src/domain/conditions.js';
import { scorePerson } from '../../src/domain/score.js';
import { at, defaultMapping } from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const compiled = compileMapping(mapping);

describe('conditions', () => {
  const facts: ConditionFacts = {
    fields: {
      email: 'ann@acme.com',
      country: 'United States',
      page_views: 12,
      lead_status: 'working',
      title: null,
      since: '2026-01-05',
    },
    changedAt: { lead_status: at(9) },
    score: { fit: 20, engagement: 35, total: 55 },
    converted: false,
    hasOpenDeal: true,
    hasWonDeal: false,
    stage: 'mql',
    now: Date.parse(at(10)),
  };

  it.each<[string, Condition, boolean]>([
    ['eq ignores case', { field: 'country', eq: 'united states' }, true],
    ['neq', { field: 'country', neq: 'Canada' }, true],
    ['in', { field: 'lead_status', in: ['new', 'working'] }, true],
    ['not_in', { field: 'lead_status', not_in: ['working'] }, false],
    ['eq numeric against a number', { field: 'page_views', eq: '12' }, true],
    ['gte', { field: 'page_views', gte: 12 }, true],
    ['gt', { field: 'page_views', gt: 12 }, false],
    ['lt on dates', { field: 'since', lt: '2026-02-01' }, true],
    ['comparisons on blanks are false', { field: 'title', gte: 0 }, false],
    ['matches is a case-insensitive regex', { field: 'email', matches: '@ACME\\.com$' }, true],
    ['business-email lookahead', { field: 'email', matches: '^[^@]+@(?!gmail\\.|yahoo\\.)' }, true],
    ['contains', { field: 'email', contains: 'ACME' }, true],
    ['is_blank true on null', { field: 'title', is_blank: true }, true],
    ['is_blank false on a missing field', { field: 'nope', is_blank: false }, false],
    ['changed within days', { field: 'lead_status', changed_within_days: 2 }, true],
    ['not changed within a shorter window', { field: 'lead_status', changed_within_days: 0.5 }, false],
    ['score', { score: { gte: 50 } }, true],
    ['fit score', { fit_score: { gt: 20 } }, false],
    ['engagement score', { engagement_score: { lte: 35, gte: 35 } }, true],
    ['converted', { converted: false }, true],
    ['has_open_deal', { has_open_deal: true }, true],
    ['has_won_deal', { has_won_deal: true }, false],
    ['stage at_least', { stage: { at_least: 'lead' } }, true],
    ['stage at_least above', { stage: { at_least: 'sql' } }, false],
    ['stage is', { stage: { is: ['mql', 'sal'] } }, true],
    ['all', { all: [{ score: { gte: 50 } }, { field: 'country', eq: 'United States' }] }, true],
    ['any', { any: [{ converted: true }, { has_open_deal: true }] }, true],
    ['not', { not: { converted: false } }, false],
    ['several operators must all hold', { field: 'page_views', gte: 10, lte: 11 }, false],
  ])('%s', (_name, condition, expected) => {
    expect(evaluate(condition, facts, compiled)).toBe(expected);
  });

  it('compiles each pattern once per mapping', () => {
    expect(compiled.regex('^a')).toBe(compiled.regex('^a'));
    expect(compileMapping(mapping)).toBe(compiled);
  });
});

describe('lead score (default mapping)', () => {
  it.each<[string, ConditionFacts['fields'], number, number, Array<[string, number]>]>([
    ['nothing known', {}, 0, 0, []],
    [
      'senior title, served country, capped engagement',
      { job_title: 'VP Marketing', country: 'US', page_views: 45, form_submissions: 1, email_clicks: 2 },
      30,
      34,
      [
        ['Senior title', 20],
        ['Served country', 10],
        ['Page views', 20],
        ['Form submissions', 10],
        ['Email clicks', 4],
      ],
    ],
    [
      'manager at a mid-market company, form submissions capped at 30',
      { job_title: 'Marketing Manager', employee_range: '500-1000', form_submissions: 5 },
      25,
      30,
      [
        ['Manager title', 10],
        ['Mid-market or larger', 15],
        ['Form submissions', 30],
      ],
    ],
    ['head of, title case-insensitive', { job_title: 'HEAD of Growth' }, 20, 0, [['Senior title', 20]]],
    ['negative counts score nothing', { page_views: -3 }, 0, 0, []],
  ])('%s', (_name, fields, fit, engagement, breakdown) => {
    const score = scorePerson(mapping.score, { fields }, compiled);
    expect(score).toEqual({
      fit,
      engagement,
      total: fit + engagement,
      breakdown: breakdown.map(([label, points]) => ({ label, points })),
    });
  });

  it('fit rules do not see a score (they define it)', () => {
    const m = { ...mapping.score, fit: [{ when: { score: { gte: 0 } }, points: 5 }], engagement: [] };
    expect(scorePerson(m, { fields: {}, score: { fit: 9, engagement: 9, total: 18 } }, compiled).total).toBe(
      0,
    );
  });

  it('rule-based engagement lines count their points', () => {
    const m = {
      ...mapping.score,
      fit: [],
      engagement: [{ when: { field: 'webinar', eq: true }, points: 15, label: 'Webinar' }],
    };
    expect(scorePerson(m, { fields: { webinar: true } }, compiled)).toEqual({
      fit: 0,
      engagement: 15,
      total: 15,
      breakdown: [{ label: 'Webinar', points: 15 }],
    });
  });
});
