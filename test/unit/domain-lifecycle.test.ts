import { describe, expect, it } from '@jest/globals';
import type { LifecycleStage } from '../../src/domain/mapping/schema.js';
import { compileMapping } from '../../src/domain/compiled.js';
import type { ConditionFacts } from '../../src/domain/conditions.js';
import { decideStage, type StageEntry } from '../../src/domain/lifecycle.js';
import { at, defaultMapping, mappingWith } from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const compiled = compileMapping(mapping);
const NOW = at(30);

const person = (fields: ConditionFacts['fields'], extra: Partial<ConditionFacts> = {}): ConditionFacts => ({
  fields: { email: 'ann@acme.com', ...fields },
  score: { fit: 0, engagement: 0, total: 0 },
  ...extra,
});
const hot = { score: { fit: 30, engagement: 30, total: 60 } };
const entry = (stage: LifecycleStage, enteredAt: string, rule: string): unknown => ({
  stage,
  enteredAt,
  rule,
  reason: rule === 'skipped' ? expect.stringContaining('Skipped') : expect.any(String),
});

describe('lifecycle progression', () => {
  it.each<
    [string, LifecycleStage | null, ConditionFacts, LifecycleStage | null, Array<[LifecycleStage, string]>]
  >([
    ['no email: no stage', null, { fields: {} }, null, []],
    ['email only: subscriber', null, person({}), 'subscriber', [['subscriber', 'definitions.subscriber']]],
    [
      'a qualified newcomer enters every stage up to mql',
      null,
      person({ form_submissions: 2 }, hot),
      'mql',
      [
        ['subscriber', 'definitions.subscriber'],
        ['lead', 'definitions.lead'],
        ['mql', 'definitions.mql'],
      ],
    ],
    [
      'mql accepted by sales: sal',
      'mql',
      person({ lead_status: 'working' }, hot),
      'sal',
      [['sal', 'definitions.sal']],
    ],
    [
      'a converted lead skips mql and sal, each recorded',
      'lead',
      person({ lead_status: 'new' }, { converted: true }),
      'sql',
      [
        ['mql', 'skipped'],
        ['sal', 'skipped'],
        ['sql', 'definitions.sql'],
      ],
    ],
    [
      'an open deal: opportunity',
      'sql',
      person({}, { hasOpenDeal: true }),
      'opportunity',
      [['opportunity', 'definitions.opportunity']],
    ],
    [
      'a won deal: customer',
      'opportunity',
      person({}, { hasWonDeal: true }),
      'customer',
      [['customer', 'definitions.customer']],
    ],
    ['never backwards: sql stays sql when nothing holds', 'sql', person({}), 'sql', []],
    ['never backwards: customer without deals', 'customer', person({ lead_status: 'new' }), 'customer', []],
    [
      'gmail is not an mql however high the score',
      'lead',
      person({ email: 'ann@gmail.com', form_submissions: 1 }, hot),
      'lead',
      [],
    ],
  ])('%s', (_name, previous, facts, stage, entries) => {
    const d = decideStage(mapping.lifecycle, { previous, history: [], facts, now: NOW }, compiled);
    expect(d.stage).toBe(stage);
    expect(d.changed).toBe(entries.length > 0);
    expect(d.entries).toEqual(entries.map(([s, rule]) => entry(s, NOW, rule)));
  });
});

describe('recycle and disqualify', () => {
  const mqlHistory: StageEntry[] = [
    { stage: 'mql', enteredAt: at(10), reason: 'The mql definition holds', rule: 'definitions.mql' },
  ];

  it('recycles a returned mql to lead, keeping the rule’s reason', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'mql',
        history: mqlHistory,
        facts: person({ lead_status: 'unqualified', form_submissions: 3 }, hot),
        now: NOW,
      },
      compiled,
    );
    expect(d).toEqual({
      stage: 'lead',
      changed: true,
      reason: 'Sales returned the lead to nurture (Lead Status "Closed - Not Converted")',
      entries: [
        {
          stage: 'lead',
          enteredAt: NOW,
          rule: 'recycle[0]',
          reason: 'Sales returned the lead to nurture (Lead Status "Closed - Not Converted")',
        },
      ],
    });
  });

  it('a recycled lead that still meets the mql definition stays recycled (no bouncing)', () => {
    const history: StageEntry[] = [
      ...mqlHistory,
      { stage: 'lead', enteredAt: at(20), reason: 'nurture', rule: 'recycle[0]' },
    ];
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'lead',
        history,
        facts: person({ lead_status: 'unqualified', form_submissions: 3 }, hot),
        now: NOW,
      },
      compiled,
    );
    expect(d).toEqual({ stage: 'lead', changed: false, entries: [], reason: 'nurture' });
  });

  it('disqualifies a test address from any stage, with the reason', () => {
    const d = decideStage(
      mapping.lifecycle,
      { previous: 'sql', history: [], facts: person({ email: 'qa@test.com' }), now: NOW },
      compiled,
    );
    expect(d.stage).toBe('disqualified');
    expect(d.entries).toEqual([
      {
        stage: 'disqualified',
        enteredAt: NOW,
        rule: 'disqualify[0]',
        reason: 'Test or placeholder email address',
      },
    ]);
  });

  it('disqualified is terminal: a won deal does not move it', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'disqualified',
        history: [],
        facts: person({ email: 'ann@acme.com' }, { hasWonDeal: true }),
        now: NOW,
      },
      compiled,
    );
    expect(d.stage).toBe('disqualified');
    expect(d.changed).toBe(false);
  });

  it('…until a rule moves it', () => {
    const m = mappingWith((raw) => {
      raw.lifecycle.recycle = [
        {
          when: { all: [{ stage: { is: ['disqualified'] } }, { has_won_deal: true }] },
          to: 'customer',
          reason: 'Bought after all',
        },
      ];
    });
    const d = decideStage(
      m.lifecycle,
      { previous: 'disqualified', history: [], facts: person({}, { hasWonDeal: true }), now: NOW },
      compileMapping(m),
    );
    expect(d.stage).toBe('customer');
    expect(d.entries).toEqual([
      { stage: 'customer', enteredAt: NOW, rule: 'recycle[0]', reason: 'Bought after all' },
    ]);
  });
});

describe('stage entry times', () => {
  it('uses the time of the triggering evidence', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'sql',
        history: [],
        facts: person({}, { hasOpenDeal: true }),
        now: NOW,
        evidenceAt: { opportunity: at(25) },
      },
      compiled,
    );
    expect(d.entries.map((e) => e.enteredAt)).toEqual([at(25)]);
  });

  it('dates stages without evidence by the next stage that has some', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: null,
        history: [],
        facts: person({}, { converted: true, hasWonDeal: true }),
        now: NOW,
        evidenceAt: { sql: at(24), opportunity: at(25), customer: at(28) },
      },
      compiled,
    );
    expect(d.entries.map((e) => [e.stage, e.enteredAt])).toEqual([
      ['subscriber', at(24)],
      ['lead', at(24)],
      ['mql', at(24)],
      ['sal', at(24)],
      ['sql', at(24)],
      ['opportunity', at(25)],
      ['customer', at(28)],
    ]);
  });

  it('dates a stage without evidence by the latest change of the fields its definition reads', () => {
    // MQL reads the score (so the score rules' fields) and the email; SAL reads the lead status.
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'lead',
        history: [{ stage: 'lead', enteredAt: at(2), reason: 'r', rule: 'definitions.lead' }],
        facts: person(
          { lead_status: 'working', page_views: 40 },
          { ...hot, changedAt: { email: at(3), page_views: at(9), lead_status: at(12), last_name: at(20) } },
        ),
        now: NOW,
      },
      compiled,
    );
    expect(d.entries.map((e) => [e.stage, e.rule, e.enteredAt])).toEqual([
      ['mql', 'definitions.mql', at(9)],
      ['sal', 'definitions.sal', at(12)],
    ]);
  });

  it('dates a stage skipped on the way by the next one, not by its own fields', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'lead',
        history: [],
        facts: person({ lead_status: 'qualified' }, { changedAt: { email: at(1), lead_status: at(14) } }),
        now: NOW,
      },
      compiled,
    );
    expect(d.entries.map((e) => [e.stage, e.rule, e.enteredAt])).toEqual([
      ['mql', 'skipped', at(14)],
      ['sal', 'skipped', at(14)],
      ['sql', 'definitions.sql', at(14)],
    ]);
  });

  it('dates a recycle by the change of the fields its rule reads', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'sal',
        history: [{ stage: 'sal', enteredAt: at(5), reason: 'r', rule: 'definitions.sal' }],
        facts: person({ lead_status: 'unqualified' }, { changedAt: { lead_status: at(11) } }),
        now: NOW,
      },
      compiled,
    );
    expect(d.entries.map((e) => [e.stage, e.rule, e.enteredAt])).toEqual([['lead', 'recycle[0]', at(11)]]);
  });

  it('never dates a stage by field changes before the last recorded entry', () => {
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'mql',
        history: [{ stage: 'mql', enteredAt: at(20), reason: 'r', rule: 'definitions.mql' }],
        facts: person({ lead_status: 'working' }, { ...hot, changedAt: { lead_status: at(12) } }),
        now: NOW,
      },
      compiled,
    );
    expect(d.entries.map((e) => [e.stage, e.enteredAt])).toEqual([['sal', at(20)]]);
  });

  it('never before the last recorded entry, never after now, and in order', () => {
    const history: StageEntry[] = [{ stage: 'sql', enteredAt: at(26), reason: 'r', rule: 'definitions.sql' }];
    const d = decideStage(
      mapping.lifecycle,
      {
        previous: 'sql',
        history,
        facts: person({}, { hasWonDeal: true }),
        now: NOW,
        evidenceAt: { opportunity: at(20), customer: at(40) },
      },
      compiled,
    );
    expect(d.entries.map((e) => [e.stage, e.enteredAt])).toEqual([
      ['opportunity', at(26)],
      ['customer', NOW],
    ]);
  });
});
