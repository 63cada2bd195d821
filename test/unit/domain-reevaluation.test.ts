import { describe, expect, it } from '@jest/globals';
import type { MappingInput } from '../../src/domain/mapping/schema.js';
import { nextReevaluation, personTimeWindows } from '../../src/domain/reevaluation.js';
import { reconcilePerson } from '../../src/domain/reconcile.js';
import { heldSince } from '../../src/domain/conditions.js';
import { at, defaultMapping, hsContact, mappingWith } from '../support/domain-fixtures.js';

const DAY = 86_400_000;
const ms = (iso: string): number => Date.parse(iso);

/** The default mapping plus "an MQL or SAL with no form submission for 30 days goes back to lead". */
const withRecycle = (days = 30) =>
  mappingWith((raw: MappingInput) => {
    const lifecycle = raw.lifecycle as { recycle?: unknown[] };
    lifecycle.recycle = [
      {
        when: {
          all: [
            { stage: { is: ['mql', 'sal'] } },
            { not: { field: 'form_submissions', changed_within_days: days } },
          ],
        },
        to: 'lead',
        reason: 'No form submission lately',
      },
      ...(lifecycle.recycle ?? []),
    ];
  });

describe('personTimeWindows', () => {
  it('finds none in the default mapping', () => {
    expect(personTimeWindows(defaultMapping())).toEqual([]);
  });

  it('finds every changed_within_days a person reconcile reads, each once', () => {
    const mapping = mappingWith((raw: MappingInput) => {
      const lifecycle = raw.lifecycle as { definitions: Record<string, unknown>; recycle?: unknown[] };
      lifecycle.definitions['sal'] = {
        all: [
          { field: 'lead_status', in: ['working'] },
          { field: 'lead_status', changed_within_days: 14 },
        ],
      };
      lifecycle.recycle = [
        { when: { not: { field: 'form_submissions', changed_within_days: 30 } }, to: 'lead', reason: 'r' },
        { when: { any: [{ field: 'lead_status', changed_within_days: 14 }] }, to: 'lead', reason: 'r2' },
      ];
      const score = raw.score as { engagement: unknown[] };
      score.engagement.push({ when: { field: 'page_views', changed_within_days: 7 }, points: 5 });
      (raw.objects as { person: { create: Record<string, unknown> } }).person.create['only_when'] = {
        field: 'email_clicks',
        changed_within_days: 2,
      };
    });
    expect(personTimeWindows(mapping).sort((a, b) => a.windowMs - b.windowMs)).toEqual([
      { field: 'email_clicks', windowMs: 2 * DAY },
      { field: 'page_views', windowMs: 7 * DAY },
      { field: 'lead_status', windowMs: 14 * DAY },
      { field: 'form_submissions', windowMs: 30 * DAY },
    ]);
  });
});

describe('nextReevaluation', () => {
  const windows = [
    { field: 'form_submissions', windowMs: 30 * DAY },
    { field: 'page_views', windowMs: 7 * DAY },
  ];

  it.each<[string, Record<string, string | undefined>, string, string | undefined]>([
    ['no window open: nothing', { form_submissions: at(0), page_views: at(0) }, at(40), undefined],
    ['no change time: nothing', {}, at(1), undefined],
    [
      'the first window to close',
      { form_submissions: at(0), page_views: at(10) },
      at(12),
      new Date(ms(at(17)) + 1).toISOString(),
    ],
    [
      'a closed window is passed over',
      { form_submissions: at(0), page_views: at(1) },
      at(12),
      new Date(ms(at(30)) + 1).toISOString(),
    ],
    [
      'still open at its last instant',
      { form_submissions: at(0) },
      at(30),
      new Date(ms(at(30)) + 1).toISOString(),
    ],
  ])('%s', (_name, changedAt, now, expected) => {
    expect(nextReevaluation(windows, changedAt, ms(now))).toBe(expected);
  });

  it('is nothing without windows or without a clock', () => {
    expect(nextReevaluation([], { form_submissions: at(0) }, ms(at(1)))).toBeUndefined();
    expect(nextReevaluation(windows, { form_submissions: at(0) }, undefined)).toBeUndefined();
  });
});

describe('a person under a time-window rule', () => {
  const mapping = withRecycle(30);
  // An MQL: score ≥ 50 from page views and a form submission, a business email.
  const contact = hsContact(
    '1',
    {
      email: 'ann@acme.com',
      num_conversion_events: '3',
      hs_analytics_num_page_views: '400',
      jobtitle: 'VP Sales',
      hs_email_click: '5',
    },
    { modifiedAt: at(1), changedAt: { num_conversion_events: at(1) } },
  );
  const records = { key: 'p1', hubspot: contact, convertedLeads: [] };

  it('carries the instant its window closes, and is recycled from that instant on', () => {
    const first = reconcilePerson(records, mapping, { now: at(2) });
    expect(first.unified.stage).toBe('mql');
    expect(first.unified.reevaluateAt).toBe(new Date(ms(at(31)) + 1).toISOString());

    const previousStage = { stage: first.unified.stage, history: first.unified.stageEntries };
    const before = reconcilePerson(records, mapping, { now: at(31), previousStage });
    expect(before.unified.stage).toBe('mql');
    expect(before.unified.stageEntries).toEqual([]);

    const after = reconcilePerson(records, mapping, {
      now: new Date(ms(at(31)) + 1).toISOString(),
      previousStage,
    });
    expect(after.unified.stage).toBe('lead');
    expect(after.unified.reevaluateAt).toBeUndefined();
    // Dated when the window closed, not when the field last changed (which would be before the MQL entry).
    expect(after.unified.stageEntries).toEqual([
      expect.objectContaining({
        stage: 'lead',
        rule: 'recycle[0]',
        enteredAt: new Date(ms(at(31)) + 1).toISOString(),
      }),
    ]);
  });

  it('has no instant under the default mapping', () => {
    expect(reconcilePerson(records, defaultMapping(), { now: at(2) }).unified.reevaluateAt).toBeUndefined();
  });
});

describe('heldSince with a window', () => {
  const condition = { not: { field: 'form_submissions', changed_within_days: 30 } };
  const facts = (now: string) => ({
    fields: { form_submissions: 1 },
    changedAt: { form_submissions: at(1) },
    now: ms(now),
  });

  it('dates a closed window by its closing, an open one by the change', () => {
    expect(heldSince(condition, facts(at(40)), [])).toBe(ms(at(31)) + 1);
    expect(heldSince({ field: 'form_submissions', changed_within_days: 30 }, facts(at(5)), [])).toBe(
      ms(at(1)),
    );
  });
});
