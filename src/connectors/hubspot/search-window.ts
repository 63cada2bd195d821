// Incremental paging over HubSpot search by a (modified timestamp, record id) key, never by offset alone:
// search caps `after` at 10,000 results and sorts by one property only, so a mass import sharing one
// timestamp would make offset paging loop forever (airbyte #43317, #14988). Pure: no I/O.

/** Everything with (modified, id) greater than (`since`, `lastId`) is still to be read; lastId null: modified ≥ since. */
export interface SearchKey {
  since: number;
  lastId: string | null;
}

export type SearchMode = { kind: 'range' } | { kind: 'tie'; at: number; lastId: string | null };

export interface KeyedRecord {
  id: string;
  modifiedMs: number;
}

interface SearchFilter {
  propertyName: string;
  operator: 'EQ' | 'GT' | 'GTE' | 'LT';
  value: string;
}

export interface SearchRequest {
  filterGroups: { filters: SearchFilter[] }[];
  sorts: { propertyName: string; direction: 'ASCENDING' }[];
  limit: number;
}

export const OBJECT_ID_PROPERTY = 'hs_object_id';

/** Compares HubSpot record ids numerically ('9' < '10'); non-numeric ids fall back to text order. */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareKeys(a: KeyedRecord, b: KeyedRecord): number {
  return a.modifiedMs - b.modifiedMs || compareIds(a.id, b.id);
}

/** Records after `key`: `(modified > T) OR (modified = T AND id > lastId)`, sorted by modified ascending. */
export function rangeRequest(modifiedProperty: string, key: SearchKey, limit: number): SearchRequest {
  const at = String(key.since);
  const filterGroups =
    key.lastId === null
      ? [{ filters: [{ propertyName: modifiedProperty, operator: 'GTE' as const, value: at }] }]
      : [
          { filters: [{ propertyName: modifiedProperty, operator: 'GT' as const, value: at }] },
          {
            filters: [
              { propertyName: modifiedProperty, operator: 'EQ' as const, value: at },
              { propertyName: OBJECT_ID_PROPERTY, operator: 'GT' as const, value: key.lastId },
            ],
          },
        ];
  return { filterGroups, sorts: [{ propertyName: modifiedProperty, direction: 'ASCENDING' }], limit };
}

/** The request limited to records modified before `until` (every filter group): none when undefined. */
export function indexedBefore(
  request: SearchRequest,
  modifiedProperty: string,
  until?: number,
): SearchRequest {
  if (until === undefined) return request;
  const bound: SearchFilter = { propertyName: modifiedProperty, operator: 'LT', value: String(until) };
  return { ...request, filterGroups: request.filterGroups.map((g) => ({ filters: [...g.filters, bound] })) };
}

/** Records sharing one timestamp, paged by id: `modified = T AND id > lastId`, sorted by id. */
export function tieRequest(
  modifiedProperty: string,
  at: number,
  lastId: string | null,
  limit: number,
): SearchRequest {
  const filters: SearchFilter[] = [{ propertyName: modifiedProperty, operator: 'EQ', value: String(at) }];
  if (lastId !== null) filters.push({ propertyName: OBJECT_ID_PROPERTY, operator: 'GT', value: lastId });
  return {
    filterGroups: [{ filters }],
    sorts: [{ propertyName: OBJECT_ID_PROPERTY, direction: 'ASCENDING' }],
    limit,
  };
}

export interface PageStep<R extends KeyedRecord> {
  /** Records to hand on, in key order. */
  emit: R[];
  key: SearchKey;
  mode: SearchMode;
  /** No more records after `key` (for now). */
  done: boolean;
}

function lastKey(records: readonly KeyedRecord[], fallback: SearchKey): SearchKey {
  let best: KeyedRecord | undefined;
  for (const r of records) if (best === undefined || compareKeys(r, best) > 0) best = r;
  return best === undefined ? fallback : { since: best.modifiedMs, lastId: best.id };
}

/**
 * After a range page. The order among records sharing the page's last timestamp is not trusted (search
 * sorts by one property), so those are left for the next query unless the whole page shares it: then the
 * window switches to `tie` mode, which pages that timestamp by id.
 */
export function afterRangePage<R extends KeyedRecord>(
  key: SearchKey,
  page: readonly R[],
  limit: number,
): PageStep<R> {
  if (page.length < limit) {
    const emit = [...page].sort(compareKeys);
    return { emit, key: lastKey(emit, key), mode: { kind: 'range' }, done: true };
  }
  const last = Math.max(...page.map((r) => r.modifiedMs));
  const before = page.filter((r) => r.modifiedMs < last).sort(compareKeys);
  if (before.length > 0)
    return { emit: before, key: lastKey(before, key), mode: { kind: 'range' }, done: false };
  const lastId = last === key.since ? key.lastId : null;
  return { emit: [], key, mode: { kind: 'tie', at: last, lastId }, done: false };
}

/** After a tie page (records of one timestamp sorted by id). A short page ends the tie. */
export function afterTiePage<R extends KeyedRecord>(
  mode: Extract<SearchMode, { kind: 'tie' }>,
  page: readonly R[],
  limit: number,
): PageStep<R> {
  const emit = page
    .filter((r) => r.modifiedMs === mode.at && (mode.lastId === null || compareIds(r.id, mode.lastId) > 0))
    .sort(compareKeys);
  const lastId = emit.length > 0 ? (emit[emit.length - 1] as R).id : mode.lastId;
  const key = { since: mode.at, lastId };
  if (page.length >= limit && emit.length === 0) {
    // Only an API that ignored the id filter could do this; stop rather than loop.
    throw new Error(
      `HubSpot search returned a full page without progress at ${new Date(mode.at).toISOString()}`,
    );
  }
  if (page.length < limit) return { emit, key, mode: { kind: 'range' }, done: false };
  return { emit, key, mode: { kind: 'tie', at: mode.at, lastId }, done: false };
}
