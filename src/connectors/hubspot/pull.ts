// Pull: a back-fill through the list endpoint, then incremental search by a (modified, id) key, then the
// archived list for deletions. Every page carries the checkpoint to save; resuming re-reads nothing twice
// except the records of a page whose checkpoint was not saved.

import type { Client } from '@hubspot/api-client';
import type { HubSpotObjectName, SourceRecord } from '../../domain/records.js';
import type {
  Checkpoint,
  DeletedRecord,
  IncrementalCheckpoint,
  PullOptions,
  PullPage,
} from '../connector.js';
import type { HubSpotCaller, HttpInfoLike } from './client.js';
import {
  afterRangePage,
  afterTiePage,
  compareIds,
  indexedBefore,
  rangeRequest,
  tieRequest,
  type KeyedRecord,
  type SearchKey,
  type SearchMode,
} from './search-window.js';

export const MODIFIED_PROPERTY: Readonly<Record<HubSpotObjectName, string>> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

export const MERGED_IDS_PROPERTY = 'hs_merged_object_ids';
export const LIST_PAGE_MAX = 100;
export const LIST_WITH_HISTORY_MAX = 50;
export const SEARCH_PAGE_MAX = 200;
export const BATCH_READ_WITH_HISTORY_MAX = 50;

export interface HubSpotPullSettings {
  /** Properties to read per object: the mapping's HubSpot fields plus identity, cross-ref and attribution ones. */
  properties: Partial<Record<HubSpotObjectName, readonly string[]>>;
  /** Properties whose change times the domain needs (`fieldChangedAt`); costs batch reads of 50 in search. */
  historyProperties?: Partial<Record<HubSpotObjectName, readonly string[]>>;
  /** Incremental starts this long before the back-fill began, for clock skew and search-index lag (default 5 min). */
  safetyMarginMs?: number;
  /**
   * Incremental search reads only records last modified this long ago or more (default 0). HubSpot's search
   * index trails writes: a record indexed late, behind records already read, would be passed by the
   * checkpoint and never read. A change is seen this much later instead.
   */
  searchLagMs?: number;
  /** Read the archived list for deletions after each incremental pass (default true). */
  deletions?: boolean;
  /**
   * With `deletionScan: 'when-due'`, the archived list is read only when the last scan began at least this
   * long ago (default 0: every pass). It has no filter, so each scan pages through every archived record.
   */
  deletionScanIntervalMs?: number;
  now?: () => number;
}

/** The fields of a HubSpot object as the SDK returns it (SimplePublicObject and friends). */
export interface HubSpotObjectLike {
  id: string;
  properties: Record<string, string | null>;
  propertiesWithHistory?: Record<string, { timestamp: Date | string }[]>;
  createdAt: Date | string;
  updatedAt: Date | string;
  archived?: boolean;
  archivedAt?: Date | string;
}

function toMs(value: Date | string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (value instanceof Date) return value.getTime();
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function modifiedMsOf(object: HubSpotObjectName, record: HubSpotObjectLike): number {
  return toMs(record.properties[MODIFIED_PROPERTY[object]]) ?? toMs(record.updatedAt) ?? 0;
}

export function toSourceRecord(object: HubSpotObjectName, record: HubSpotObjectLike): SourceRecord {
  const source: SourceRecord = {
    system: 'hubspot',
    object,
    id: record.id,
    fields: { ...record.properties },
    createdAt: iso(toMs(record.createdAt) ?? 0),
    modifiedAt: iso(modifiedMsOf(object, record)),
  };
  if (record.archived === true) source.archived = true;
  if (record.propertiesWithHistory !== undefined) {
    const changed: Record<string, string> = {};
    const previous: Record<string, { value: string | null; at: string }> = {};
    for (const [name, entries] of Object.entries(record.propertiesWithHistory)) {
      const dated = entries
        .map((e) => ({ value: (e as { value?: string | null }).value ?? null, at: toMs(e.timestamp) ?? 0 }))
        .sort((a, b) => b.at - a.at);
      const [latest, before] = dated;
      if (latest !== undefined && latest.at > 0) changed[name] = iso(latest.at);
      if (before !== undefined && before.at > 0) previous[name] = { value: before.value, at: iso(before.at) };
    }
    source.fieldChangedAt = changed;
    if (Object.keys(previous).length > 0) source.fieldPrevious = previous;
  }
  return source;
}

/** Records merged into a surviving record (`hs_merged_object_ids` "12;34") are gone: report them. */
export function mergedAway(object: HubSpotObjectName, record: SourceRecord): DeletedRecord[] {
  const raw = record.fields[MERGED_IDS_PROPERTY];
  if (typeof raw !== 'string' || raw.trim() === '') return [];
  return raw
    .split(';')
    .map((id) => id.trim())
    .filter((id) => id !== '' && id !== record.id)
    .map((id) => ({ system: 'hubspot', object, id, deletedAt: record.modifiedAt, mergedInto: record.id }));
}

type SearchBody = Parameters<Client['crm']['objects']['searchApi']['doSearchWithHttpInfo']>[1];

interface ListPage {
  results: HubSpotObjectLike[];
  paging?: { next?: { after: string } };
}

/** Runs one pull of `object` from `checkpoint` (null: a new back-fill) to now. */
export async function* pullHubSpot(
  caller: HubSpotCaller,
  object: HubSpotObjectName,
  checkpoint: Checkpoint | null,
  settings: HubSpotPullSettings,
  options: PullOptions = {},
): AsyncGenerator<PullPage> {
  const now = settings.now ?? Date.now;
  const margin = settings.safetyMarginMs ?? 300_000;
  const properties = [...new Set([...(settings.properties[object] ?? []), MERGED_IDS_PROPERTY])];
  const history = [...(settings.historyProperties?.[object] ?? [])];
  const { signal } = options;
  const callOptions = { object, ...(signal !== undefined ? { signal } : {}) };

  if (checkpoint !== null && (checkpoint.system !== 'hubspot' || checkpoint.object !== object)) {
    throw new Error(`checkpoint is for ${checkpoint.system} ${checkpoint.object}, not hubspot ${object}`);
  }
  let cp: Checkpoint = checkpoint ?? {
    system: 'hubspot',
    object,
    phase: 'backfill',
    after: null,
    startedAt: iso(now()),
  };

  // Records the back-fill read that the incremental pass's safety margin would read again, unchanged.
  const seenInBackfill = new Map<string, number>();
  const listLimit = Math.min(
    options.pageSize ?? LIST_PAGE_MAX,
    history.length > 0 ? LIST_WITH_HISTORY_MAX : LIST_PAGE_MAX,
  );
  while (cp.phase === 'backfill') {
    const after = cp.after;
    const page = await caller.call(
      (c) =>
        c.crm.objects.basicApi.getPageWithHttpInfo(
          object,
          listLimit,
          after ?? undefined,
          properties,
          history.length > 0 ? history : undefined,
          undefined,
          false,
        ) as Promise<HttpInfoLike<ListPage>>,
      callOptions,
    );
    const records = page.results.map((r) => toSourceRecord(object, r));
    for (const r of page.results) {
      const modified = modifiedMsOf(object, r);
      if (modified >= Date.parse(cp.startedAt) - margin) seenInBackfill.set(r.id, modified);
    }
    const next = page.paging?.next?.after;
    if (next !== undefined && next !== '') {
      cp = { ...cp, after: next };
    } else {
      const since = iso(Date.parse(cp.startedAt) - margin);
      cp = { system: 'hubspot', object, phase: 'incremental', since, lastId: null, deletedSince: since };
    }
    yield { records, deleted: records.flatMap((r) => mergedAway(object, r)), checkpoint: cp };
  }

  let inc: IncrementalCheckpoint = cp;
  const searchLimit = Math.min(options.pageSize ?? SEARCH_PAGE_MAX, SEARCH_PAGE_MAX);
  const modifiedProperty = MODIFIED_PROPERTY[object];
  let key: SearchKey = { since: Date.parse(inc.since), lastId: inc.lastId };
  let mode: SearchMode = { kind: 'range' };
  const searchLag = settings.searchLagMs ?? 0;
  const until = searchLag > 0 ? now() - searchLag : undefined;
  for (;;) {
    if (until !== undefined && key.since >= until) break;
    const request = indexedBefore(
      mode.kind === 'range'
        ? rangeRequest(modifiedProperty, key, searchLimit)
        : tieRequest(modifiedProperty, mode.at, mode.lastId, searchLimit),
      modifiedProperty,
      until,
    );
    // The SDK types `sorts` as strings; HubSpot takes `{propertyName, direction}` objects, sent as given.
    const body = { ...request, properties } as unknown as SearchBody;
    const page = await caller.call(
      (c) => c.crm.objects.searchApi.doSearchWithHttpInfo(object, body) as Promise<HttpInfoLike<ListPage>>,
      { ...callOptions, kind: 'search' },
    );
    // A record modified again since the search matched it can come back with its newer time: leave it to
    // the pass that reads that time.
    const keyed = page.results
      .map((r) => Object.assign(r, { modifiedMs: modifiedMsOf(object, r) }))
      .filter((r) => until === undefined || r.modifiedMs < until);
    const step: {
      emit: (HubSpotObjectLike & KeyedRecord)[];
      key: SearchKey;
      mode: SearchMode;
      done: boolean;
    } =
      mode.kind === 'range'
        ? afterRangePage(key, keyed, searchLimit)
        : afterTiePage(mode, keyed, searchLimit);
    key = step.key;
    mode = step.mode;
    const fresh = step.emit.filter((r) => seenInBackfill.get(r.id) !== r.modifiedMs);
    let fetched: HubSpotObjectLike[] = fresh;
    if (history.length > 0) {
      const byId = await readWithHistory(
        caller,
        object,
        fresh.map((r) => r.id),
        properties,
        history,
        callOptions,
      );
      // A record deleted between search and read keeps its search version (without history).
      fetched = fresh.map((r) => byId.get(r.id) ?? r);
    }
    const records = fetched.map((r) => toSourceRecord(object, r));
    const changed = iso(key.since) !== inc.since || key.lastId !== inc.lastId;
    inc = { ...inc, since: iso(key.since), lastId: key.lastId };
    if (records.length > 0 || changed) {
      yield { records, deleted: records.flatMap((r) => mergedAway(object, r)), checkpoint: inc };
    }
    if (step.done) break;
  }

  if (settings.deletions === false) return;
  const scanStartedAt = now();
  if (options.deletionScan === 'when-due' && inc.deletionsScannedAt !== undefined) {
    const interval = settings.deletionScanIntervalMs ?? 0;
    if (scanStartedAt - Date.parse(inc.deletionsScannedAt) < interval) return;
  }
  const deletedSince = Date.parse(inc.deletedSince ?? inc.since);
  const deleted: DeletedRecord[] = [];
  let latest = deletedSince;
  let after: string | undefined;
  do {
    const cursor = after;
    const page = await caller.call(
      (c) =>
        c.crm.objects.basicApi.getPageWithHttpInfo(
          object,
          LIST_PAGE_MAX,
          cursor,
          [modifiedProperty],
          undefined,
          undefined,
          true,
        ) as Promise<HttpInfoLike<ListPage>>,
      callOptions,
    );
    for (const r of page.results) {
      const at = toMs(r.archivedAt) ?? toMs(r.updatedAt) ?? 0;
      if (at <= deletedSince) continue;
      deleted.push({ system: 'hubspot', object, id: r.id, deletedAt: iso(at) });
      latest = Math.max(latest, at);
    }
    after = page.paging?.next?.after;
  } while (after !== undefined && after !== '');
  deleted.sort((a, b) => a.deletedAt.localeCompare(b.deletedAt) || compareIds(a.id, b.id));
  yield {
    records: [],
    deleted,
    checkpoint: { ...inc, deletedSince: iso(latest), deletionsScannedAt: iso(scanStartedAt) },
  };
}

/**
 * Records by id with their properties' change history (the batch read; search cannot give history). A
 * record deleted meanwhile is missing from the answer.
 */
export async function readWithHistory(
  caller: HubSpotCaller,
  object: HubSpotObjectName,
  ids: readonly string[],
  properties: string[],
  history: string[],
  callOptions: { object: string; signal?: AbortSignal },
): Promise<Map<string, HubSpotObjectLike>> {
  const byId = new Map<string, HubSpotObjectLike>();
  for (let i = 0; i < ids.length; i += BATCH_READ_WITH_HISTORY_MAX) {
    const inputs = ids.slice(i, i + BATCH_READ_WITH_HISTORY_MAX).map((id) => ({ id }));
    const answer = await caller.call(
      (c) =>
        c.crm.objects.batchApi.readWithHttpInfo(
          object,
          { inputs, properties, propertiesWithHistory: history },
          false,
        ) as Promise<HttpInfoLike<{ results: HubSpotObjectLike[] }>>,
      callOptions,
    );
    for (const r of answer.results) byId.set(r.id, r);
  }
  return byId;
}
