import type { HubSpotObjectType } from '../world/schema.js';
import { validationError } from './errors.js';
import { OBJECT_TYPE_INFO } from './object-types.js';
import type { HubSpotPortal } from './portal.js';
import { parseTimestamp, type PropertyDefinition } from './property-schema.js';
import type { StoredRecord } from './record-store.js';

export const SEARCH_LIMITS = {
  maxLimit: 200,
  maxResults: 10_000,
  maxFilterGroups: 5,
  maxFiltersPerGroup: 6,
  maxFilters: 18,
} as const;

export const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
export type Operator = (typeof OPERATORS)[number];

interface Filter {
  propertyName: string;
  operator: Operator;
  value?: unknown;
  highValue?: unknown;
  values?: unknown[];
}

interface Sort {
  propertyName: string;
  descending: boolean;
}

export interface SearchOutcome {
  total: number;
  records: StoredRecord[];
  nextAfter?: string;
}

type Predicate = (record: StoredRecord) => boolean;
type Kind = 'number' | 'time' | 'text';

function kindOf(definition: PropertyDefinition): Kind {
  if (definition.type === 'number') return 'number';
  if (definition.type === 'date' || definition.type === 'datetime') return 'time';
  return 'text';
}

/** A property value (or filter value) as a comparable key; undefined when empty or unparseable. */
function keyOf(kind: Kind, raw: string | undefined): number | string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (kind === 'number') {
    const n = Number(raw);
    return Number.isNaN(n) ? undefined : n;
  }
  if (kind === 'time') return parseTimestamp(raw);
  return raw.toLowerCase();
}

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}@._-]+/u)
    .filter((t) => t !== '');
}

function containsToken(value: string | undefined, token: string): boolean {
  if (value === undefined || value === '') return false;
  const needle = token.toLowerCase();
  if (needle.includes('*')) {
    const pattern = new RegExp(`^${needle.split('*').map(escapeRegExp).join('.*')}$`);
    return pattern.test(value.toLowerCase()) || tokens(value).some((t) => pattern.test(t));
  }
  return value.toLowerCase() === needle || tokens(value).includes(needle);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function asString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function compileFilter(
  portal: HubSpotPortal,
  type: HubSpotObjectType,
  filter: Filter,
  where: string,
): Predicate {
  const definition = portal.schema.get(type, filter.propertyName);
  if (definition === undefined) {
    throw validationError(`${where}: property "${filter.propertyName}" does not exist on ${type}`);
  }
  const kind = kindOf(definition);
  const name = filter.propertyName;
  const need = (raw: unknown, label: string): number | string => {
    const key = keyOf(kind, asString(raw));
    if (key === undefined) {
      throw validationError(
        `${where}: ${label} "${asString(raw) ?? ''}" is not a valid ${kind === 'time' ? 'date (epoch ms or ISO-8601)' : kind} for operator ${filter.operator}`,
      );
    }
    return key;
  };
  const modifiedProperty = OBJECT_TYPE_INFO[type].modifiedProperty;
  const current = (record: StoredRecord) => {
    // The store keeps these two as numbers already; skip re-parsing the ISO string.
    if (name === modifiedProperty) return record.updatedAt;
    if (name === 'createdate') return record.createdAt;
    return keyOf(kind, record.properties[name]);
  };
  const listKeys = () => {
    if (!Array.isArray(filter.values))
      throw validationError(`${where}: operator ${filter.operator} needs "values"`);
    return filter.values.map((v) => need(v, 'value'));
  };
  const compare = (test: (c: number) => boolean, target: number | string): Predicate => {
    return (record) => {
      const key = current(record);
      return key !== undefined && test(compareKeys(key, target));
    };
  };
  switch (filter.operator) {
    case 'EQ':
      return compare((c) => c === 0, need(filter.value, 'value'));
    case 'NEQ': {
      const eq = compare((c) => c === 0, need(filter.value, 'value'));
      return (record) => !eq(record);
    }
    case 'LT':
      return compare((c) => c < 0, need(filter.value, 'value'));
    case 'LTE':
      return compare((c) => c <= 0, need(filter.value, 'value'));
    case 'GT':
      return compare((c) => c > 0, need(filter.value, 'value'));
    case 'GTE':
      return compare((c) => c >= 0, need(filter.value, 'value'));
    case 'BETWEEN': {
      const low = need(filter.value, 'value');
      const high = need(filter.highValue, 'highValue');
      return (record) => {
        const key = current(record);
        return key !== undefined && compareKeys(key, low) >= 0 && compareKeys(key, high) <= 0;
      };
    }
    case 'IN': {
      const keys = listKeys();
      return (record) => {
        const key = current(record);
        return key !== undefined && keys.some((k) => compareKeys(key, k) === 0);
      };
    }
    case 'NOT_IN': {
      const keys = listKeys();
      return (record) => {
        const key = current(record);
        return key === undefined || !keys.some((k) => compareKeys(key, k) === 0);
      };
    }
    case 'HAS_PROPERTY':
      return (record) => (record.properties[name] ?? '') !== '';
    case 'NOT_HAS_PROPERTY':
      return (record) => (record.properties[name] ?? '') === '';
    case 'CONTAINS_TOKEN': {
      const token = String(need(filter.value, 'value'));
      return (record) => containsToken(record.properties[name], token);
    }
    case 'NOT_CONTAINS_TOKEN': {
      const token = String(need(filter.value, 'value'));
      return (record) => !containsToken(record.properties[name], token);
    }
  }
}

function parseFilters(body: Record<string, unknown>): Filter[][] {
  const groups = body['filterGroups'] ?? [];
  if (!Array.isArray(groups)) throw validationError('Invalid input JSON: "filterGroups" must be an array');
  if (groups.length > SEARCH_LIMITS.maxFilterGroups) {
    throw validationError(
      `Too many filter groups: ${groups.length}. A search may have at most ${SEARCH_LIMITS.maxFilterGroups} filterGroups.`,
    );
  }
  let total = 0;
  const parsed = groups.map((group: unknown, g) => {
    const filters = (group as { filters?: unknown } | null)?.filters;
    if (!Array.isArray(filters)) throw validationError(`filterGroups[${g}]: "filters" must be an array`);
    if (filters.length > SEARCH_LIMITS.maxFiltersPerGroup) {
      throw validationError(
        `Too many filters in filterGroups[${g}]: ${filters.length}. A filter group may have at most ${SEARCH_LIMITS.maxFiltersPerGroup} filters.`,
      );
    }
    total += filters.length;
    return filters.map((f: unknown, i) => {
      const filter = f as Partial<Filter> | null;
      if (typeof filter?.propertyName !== 'string' || filter.propertyName === '') {
        throw validationError(`filterGroups[${g}].filters[${i}]: "propertyName" is required`);
      }
      if (!OPERATORS.includes(filter.operator as Operator)) {
        throw validationError(
          `filterGroups[${g}].filters[${i}]: operator "${String(filter.operator)}" is not one of ${OPERATORS.join(', ')}`,
        );
      }
      return filter as Filter;
    });
  });
  if (total > SEARCH_LIMITS.maxFilters) {
    throw validationError(
      `Too many filters: ${total}. A search may have at most ${SEARCH_LIMITS.maxFilters} filters in all.`,
    );
  }
  return parsed;
}

function parseSort(
  portal: HubSpotPortal,
  type: HubSpotObjectType,
  body: Record<string, unknown>,
): Sort | undefined {
  const sorts = body['sorts'] ?? [];
  if (!Array.isArray(sorts)) throw validationError('Invalid input JSON: "sorts" must be an array');
  if (sorts.length > 1) throw validationError(`Only one sort is supported; got ${sorts.length}.`);
  const raw: unknown = sorts[0];
  if (raw === undefined) return undefined;
  let sort: Sort;
  if (typeof raw === 'string') {
    sort = raw.startsWith('-')
      ? { propertyName: raw.slice(1), descending: true }
      : { propertyName: raw, descending: false };
  } else {
    const object = raw as { propertyName?: unknown; direction?: unknown };
    if (typeof object.propertyName !== 'string')
      throw validationError('sorts[0]: "propertyName" is required');
    if (
      object.direction !== undefined &&
      object.direction !== 'ASCENDING' &&
      object.direction !== 'DESCENDING'
    ) {
      throw validationError(
        `sorts[0]: direction "${String(object.direction)}" is not ASCENDING or DESCENDING`,
      );
    }
    sort = { propertyName: object.propertyName, descending: object.direction === 'DESCENDING' };
  }
  if (portal.schema.get(type, sort.propertyName) === undefined) {
    throw validationError(`sorts[0]: property "${sort.propertyName}" does not exist on ${type}`);
  }
  return sort;
}

/** Reads `limit` and `after` (an offset) and enforces the 200-per-page and 10,000-result caps. */
function parsePaging(body: Record<string, unknown>): { limit: number; offset: number } {
  const rawLimit = body['limit'] ?? 10;
  const limit = Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 0 || limit > SEARCH_LIMITS.maxLimit) {
    throw validationError(
      `limit ${String(rawLimit)} is out of range: a search page holds at most ${SEARCH_LIMITS.maxLimit} results`,
    );
  }
  const rawAfter = body['after'];
  const offset = rawAfter === undefined || rawAfter === null || rawAfter === '' ? 0 : Number(rawAfter);
  if (!Number.isInteger(offset) || offset < 0) {
    throw validationError(`after "${String(rawAfter)}" is not a valid paging cursor`);
  }
  if (offset + limit > SEARCH_LIMITS.maxResults) {
    throw validationError(
      `Search results are limited to ${SEARCH_LIMITS.maxResults} results: after (${offset}) + limit (${limit}) > ${SEARCH_LIMITS.maxResults}. Narrow the filters (e.g. on the last modified date) instead of paging further.`,
    );
  }
  return { limit, offset };
}

/** The search index trails writes unevenly: each change becomes searchable up to `lagMs` after it was made. */
export interface SearchIndexLag {
  now: number;
  lagMs: number;
}

/** Whether the record's latest change is in the index: a delay in [0, lagMs] per record and change. */
export function isIndexed(record: StoredRecord, index: SearchIndexLag): boolean {
  let h = 2166136261;
  for (const c of `${record.id}@${record.updatedAt}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  const delay = ((h >>> 0) / 4294967296) * index.lagMs;
  return record.updatedAt + delay <= index.now;
}

/**
 * `POST /crm/v3/objects/{type}/search`, over the records the index holds (`index`: its lag). Ties in the sort are broken by id ascending, records without a
 * value for the sort property come last, and no sort means id ascending.
 */
export function search(
  portal: HubSpotPortal,
  type: HubSpotObjectType,
  body: Record<string, unknown>,
  index?: SearchIndexLag,
): SearchOutcome {
  const groups = parseFilters(body);
  const predicates = groups.map((filters, g) =>
    filters.map((f, i) => compileFilter(portal, type, f, `filterGroups[${g}].filters[${i}]`)),
  );
  const sort = parseSort(portal, type, body);
  const { limit, offset } = parsePaging(body);
  const query = typeof body['query'] === 'string' ? body['query'].trim().toLowerCase() : '';
  const queryProperties = OBJECT_TYPE_INFO[type].queryProperties;

  const matches = (record: StoredRecord): boolean => {
    if (index !== undefined && !isIndexed(record, index)) return false;
    if (predicates.length > 0 && !predicates.some((group) => group.every((p) => p(record)))) return false;
    if (query === '') return true;
    return queryProperties.some((name) => (record.properties[name] ?? '').toLowerCase().includes(query));
  };

  const modifiedProperty = OBJECT_TYPE_INFO[type].modifiedProperty;
  const store = portal.stores[type];
  let ordered: StoredRecord[] = [];
  if (sort !== undefined && sort.propertyName === modifiedProperty && !sort.descending) {
    // The (modified, id) index is already in this order: start at the bound of a lone GT/GTE filter.
    for (const record of store.byModified(lowerBoundForModified(groups, modifiedProperty))) {
      if (matches(record)) ordered.push(record);
    }
  } else {
    for (const record of store.byModified()) if (matches(record)) ordered.push(record);
    if (sort === undefined) {
      ordered.sort((a, b) => a.idNum - b.idNum);
    } else {
      const definition = portal.schema.get(type, sort.propertyName) as PropertyDefinition;
      const kind = kindOf(definition);
      const keyed = ordered.map((record) => ({
        record,
        key: keyOf(kind, record.properties[sort.propertyName]),
      }));
      keyed.sort((a, b) => {
        if (a.key === undefined || b.key === undefined) {
          if (a.key !== b.key) return a.key === undefined ? 1 : -1;
        } else {
          const c = compareKeys(a.key, b.key);
          if (c !== 0) return sort.descending ? -c : c;
        }
        return a.record.idNum - b.record.idNum;
      });
      ordered = keyed.map((k) => k.record);
    }
  }
  const records = ordered.slice(offset, offset + limit);
  const outcome: SearchOutcome = { total: ordered.length, records };
  if (offset + limit < ordered.length) outcome.nextAfter = String(offset + limit);
  return outcome;
}

function lowerBoundForModified(groups: Filter[][], property: string): number {
  if (groups.length !== 1) return Number.NEGATIVE_INFINITY;
  const bound = (groups[0] ?? []).find(
    (f) =>
      f.propertyName === property &&
      (f.operator === 'GT' || f.operator === 'GTE' || f.operator === 'BETWEEN'),
  );
  const ms = bound === undefined ? undefined : parseTimestamp(asString(bound.value) ?? '');
  return ms ?? Number.NEGATIVE_INFINITY;
}
