import { describe, expect, it } from '@jest/globals';
import { parseCheckpoint } from '../../src/connectors/connector.js';
import { planBatches, toHubSpotProperties } from '../../src/connectors/hubspot/write.js';
import {
  afterRangePage,
  afterTiePage,
  compareIds,
  rangeRequest,
  tieRequest,
  type KeyedRecord,
  type PageStep,
  type SearchKey,
  type SearchMode,
} from '../../src/connectors/hubspot/search-window.js';

const r = (id: string, modifiedMs: number): KeyedRecord => ({ id, modifiedMs });

/**
 * A fake search index obeying only what HubSpot promises: filters, and order by the sort property — ties in
 * any order (here: reversed by id, the worst case for a naive cursor).
 */
function simulate(records: KeyedRecord[], limit: number): { seen: string[]; queries: number } {
  let key: SearchKey = { since: 0, lastId: null };
  let mode: SearchMode = { kind: 'range' };
  const seen: string[] = [];
  for (let queries = 1; queries < 10_000; queries += 1) {
    let page: KeyedRecord[];
    if (mode.kind === 'range') {
      const k = key;
      page = records
        .filter(
          (x) =>
            x.modifiedMs > k.since ||
            (x.modifiedMs === k.since && (k.lastId === null || compareIds(x.id, k.lastId) > 0)),
        )
        .sort((a, b) => a.modifiedMs - b.modifiedMs || compareIds(b.id, a.id));
    } else {
      const m = mode;
      page = records
        .filter((x) => x.modifiedMs === m.at && (m.lastId === null || compareIds(x.id, m.lastId) > 0))
        .sort((a, b) => compareIds(a.id, b.id));
    }
    page = page.slice(0, limit);
    const step: PageStep<KeyedRecord> =
      mode.kind === 'range' ? afterRangePage(key, page, limit) : afterTiePage(mode, page, limit);
    seen.push(...step.emit.map((x) => x.id));
    key = step.key;
    mode = step.mode;
    if (step.done) return { seen, queries };
  }
  throw new Error('looped');
}

describe('(timestamp, id) search paging', () => {
  it('builds the two filter groups, or one when starting at a timestamp', () => {
    expect(rangeRequest('lastmodifieddate', { since: 5, lastId: '9' }, 200)).toEqual({
      filterGroups: [
        { filters: [{ propertyName: 'lastmodifieddate', operator: 'GT', value: '5' }] },
        {
          filters: [
            { propertyName: 'lastmodifieddate', operator: 'EQ', value: '5' },
            { propertyName: 'hs_object_id', operator: 'GT', value: '9' },
          ],
        },
      ],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      limit: 200,
    });
    expect(rangeRequest('hs_lastmodifieddate', { since: 5, lastId: null }, 10).filterGroups).toEqual([
      { filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: '5' }] },
    ]);
    expect(tieRequest('lastmodifieddate', 7, null, 200).sorts).toEqual([
      { propertyName: 'hs_object_id', direction: 'ASCENDING' },
    ]);
  });

  it('compares ids as numbers', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('100', '100')).toBe(0);
  });

  it('holds back the last timestamp of a full page (its order is not trusted)', () => {
    const step = afterRangePage({ since: 0, lastId: null }, [r('5', 1), r('3', 2), r('4', 2)], 3);
    expect(step.emit.map((x) => x.id)).toEqual(['5']);
    expect(step.key).toEqual({ since: 1, lastId: '5' });
    expect(step.done).toBe(false);
  });

  it('switches to id paging when a whole page shares one timestamp', () => {
    const step = afterRangePage({ since: 2, lastId: '7' }, [r('9', 2), r('8', 2)], 2);
    expect(step.emit).toEqual([]);
    expect(step.mode).toEqual({ kind: 'tie', at: 2, lastId: '7' });
    const tie = afterTiePage({ kind: 'tie', at: 2, lastId: '7' }, [r('8', 2)], 2);
    expect(tie).toMatchObject({ emit: [r('8', 2)], key: { since: 2, lastId: '8' }, mode: { kind: 'range' } });
  });

  it('emits everything of a short page and ends', () => {
    const step = afterRangePage({ since: 0, lastId: null }, [r('2', 5), r('1', 5)], 200);
    expect(step.emit.map((x) => x.id)).toEqual(['1', '2']);
    expect(step).toMatchObject({ key: { since: 5, lastId: '2' }, done: true });
  });

  it.each([
    ['distinct timestamps', Array.from({ length: 950 }, (_, i) => r(String(i + 1), i))],
    ['pairs sharing timestamps', Array.from({ length: 950 }, (_, i) => r(String(i + 1), Math.floor(i / 2)))],
    [
      'more than 10 pages on one timestamp between others',
      [
        ...Array.from({ length: 30 }, (_, i) => r(String(50_000 + i), i)),
        ...Array.from({ length: 2_345 }, (_, i) => r(String(10_000 - i * 3), 100)),
        ...Array.from({ length: 30 }, (_, i) => r(String(60_000 + i), 200 + i)),
      ],
    ],
  ])('reads %s exactly once each with ties in arbitrary order', (_name, records) => {
    const { seen, queries } = simulate(records, 200);
    expect(seen).toHaveLength(records.length);
    expect(new Set(seen)).toEqual(new Set(records.map((x) => x.id)));
    expect(queries).toBeLessThan(records.length / 100 + 5);
  });

  it('refuses to loop when a full tie page makes no progress', () => {
    expect(() => afterTiePage({ kind: 'tie', at: 1, lastId: '5' }, [r('4', 1), r('3', 1)], 2)).toThrow(
      /without progress/,
    );
  });
});

describe('checkpoint schema', () => {
  it('accepts both phases and rejects a broken one', () => {
    expect(
      parseCheckpoint({
        system: 'hubspot',
        object: 'deals',
        phase: 'backfill',
        after: '42',
        startedAt: '2024-01-01T00:00:00Z',
      }),
    ).toMatchObject({ phase: 'backfill', after: '42' });
    expect(
      parseCheckpoint({
        system: 'hubspot',
        object: 'deals',
        phase: 'incremental',
        since: '2024-01-01T00:00:00.000Z',
        lastId: '7',
      }),
    ).toMatchObject({ phase: 'incremental', lastId: '7' });
    expect(() =>
      parseCheckpoint({
        system: 'hubspot',
        object: 'deals',
        phase: 'incremental',
        since: 'yesterday',
        lastId: null,
      }),
    ).toThrow();
    expect(() => parseCheckpoint({ system: 'hubspot', object: 'deals', phase: 'done' })).toThrow();
  });
});

describe('batch planning', () => {
  it('keeps ≤ 100 per batch and never one key twice in a batch', () => {
    const ops = Array.from({ length: 150 }, (_, i) => ({
      kind: 'update' as const,
      ref: String(i),
      recordId: String(i % 120),
      fields: {},
    }));
    const batches = planBatches('contacts', ops);
    expect(batches.map((b) => b.length)).toEqual([100, 50]);
    for (const b of batches) expect(new Set(b.map((o) => o.recordId)).size).toBe(b.length);
    const emails = planBatches('contacts', [
      { kind: 'create', ref: 'a', fields: { email: 'A@x.com' } },
      { kind: 'create', ref: 'b', fields: { email: 'a@x.com' } },
    ]);
    expect(emails).toHaveLength(2);
  });

  it('writes values as HubSpot strings, null clearing', () => {
    expect(toHubSpotProperties({ a: 1, b: true, c: null, d: 'x' })).toEqual({
      a: '1',
      b: 'true',
      c: '',
      d: 'x',
    });
  });
});
