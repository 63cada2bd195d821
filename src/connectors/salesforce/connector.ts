// The Salesforce side of Tandem: resumable pulls on SystemModstamp and per-record writes through sObject
// collections, both switching to Bulk API 2.0 above the configured size.
import type { Connection, QueryResult } from 'jsforce';
import type { LiveSchema } from '../../domain/mapping/live.js';
import type { SalesforceObjectName, SourceRecord } from '../../domain/records.js';
import { classify, RateLimitedError, TandemError, type Classification } from '../classify.js';
import type {
  Checkpoint,
  CrmConnector,
  DeletedRecord,
  FieldValue,
  PullOptions,
  PullPage,
  WriteOp,
  WriteOutcome,
} from '../connector.js';
import {
  BulkJobOutcomeUnknownError,
  DEFAULT_BULK_POLLING,
  parseBulkError,
  queryJobPage,
  runIngestJob,
  runQueryJob,
  type BulkIngestResult,
  type BulkPolling,
} from './bulk.js';
import { SalesforceCaller, type CallBudget, type RetryPolicy } from './call.js';
import { csvRowToSourceRecord, pullFields, toSourceRecord, type FieldTypes } from './records.js';
import { readSalesforceSchema } from './schema.js';
import {
  advance,
  bulkWindowQuery,
  cursorFrom,
  DEFAULT_WINDOW_LAG_MS,
  toCheckpoint,
  windowDoneCheckpoint,
  windowIsEmpty,
  windowQuery,
  type SalesforceCursor,
} from './window.js';

/** sObject collections take at most 200 records per call. */
export const COLLECTION_SIZE = 200;
export const DEFAULT_QUERY_LIMIT = 50_000;
export const DEFAULT_BULK_THRESHOLD = 10_000;
/**
 * Rows per Bulk API 2.0 result page we ask for (the API allows more): a page is read whole, CSV and parsed
 * rows together, so its size bounds a worker's memory (50,000 Leads exhausted a 160 MB heap).
 */
export const DEFAULT_BULK_PAGE_SIZE = 10_000;
/** Records per pull page handed on from a Bulk result page: what the pipeline stores and reconciles at once. */
export const BULK_YIELD_SIZE = 2_000;

/** The external id each object carries for its HubSpot twin: creates carrying it become idempotent upserts. */
export const HUBSPOT_EXTERNAL_ID: Readonly<Record<SalesforceObjectName, string>> = {
  Lead: 'HubSpot_Contact_ID__c',
  Contact: 'HubSpot_Contact_ID__c',
  Account: 'HubSpot_Company_ID__c',
  Opportunity: 'HubSpot_Deal_ID__c',
};

export interface SalesforceConnectorOptions {
  budget?: CallBudget;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  /** Fields the mapping reads per object; system and identity fields are always added. */
  fields?: Partial<Record<SalesforceObjectName, readonly string[]>>;
  /** Reads and writes of at least this many records go through Bulk API 2.0 (`TANDEM_BULK_THRESHOLD`). */
  bulkThreshold?: number;
  /** LIMIT of one window query; more pages of it come by `nextRecordsUrl`. */
  queryLimit?: number;
  windowLagMs?: number;
  bulkPolling?: Partial<BulkPolling>;
  bulkPageSize?: number;
  now?: () => number;
}

type CollectionResult = {
  id?: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields?: string[] }>;
  created?: boolean;
};

/**
 * @example
 * const conn = await connectSalesforce(requireSalesforce(config));
 * const salesforce = new SalesforceConnector(conn, { budget, bulkThreshold: config.salesforce.bulkThreshold });
 * for await (const page of salesforce.pull('Lead', await checkpoints.load('salesforce', 'Lead'))) {
 *   await handle(page.records, page.deleted);
 *   await checkpoints.save('salesforce', 'Lead', page.checkpoint);
 * }
 */
export class SalesforceConnector implements CrmConnector<'salesforce'> {
  readonly system = 'salesforce' as const;
  readonly caller: SalesforceCaller;
  private readonly conn: Connection;
  private readonly options: SalesforceConnectorOptions;
  private readonly bulkThreshold: number;
  private readonly polling: BulkPolling;
  private readonly now: () => number;
  private readonly fieldTypes = new Map<string, Promise<FieldTypes>>();
  private schema: Promise<LiveSchema['salesforce']> | undefined;

  constructor(conn: Connection, options: SalesforceConnectorOptions = {}) {
    this.conn = conn;
    this.options = options;
    this.caller = new SalesforceCaller(conn, {
      ...(options.budget !== undefined ? { budget: options.budget } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
    });
    this.bulkThreshold = options.bulkThreshold ?? DEFAULT_BULK_THRESHOLD;
    this.polling = { ...DEFAULT_BULK_POLLING, ...options.bulkPolling };
    this.now = options.now ?? Date.now;
  }

  readSchema(): Promise<LiveSchema['salesforce']> {
    this.schema ??= this.caller
      .call(() => readSalesforceSchema(this.conn), { cost: 4 })
      .catch((error: unknown) => {
        this.schema = undefined;
        throw error;
      });
    return this.schema;
  }

  // ---- pull --------------------------------------------------------------------------------------

  /**
   * Pages of changed records and deletions since `checkpoint` (null: back-fill everything, then the
   * changes made meanwhile). Every page's checkpoint resumes exactly after it on the REST path; a Bulk job's
   * pages come back in no order, so its pages carry the checkpoint from before the job until the last one
   * (a crash mid-job re-reads that job's records, never skips one).
   */
  async *pull(
    object: SalesforceObjectName,
    checkpoint: Checkpoint | null,
    options: PullOptions = {},
  ): AsyncIterable<PullPage> {
    const lag = this.options.windowLagMs ?? DEFAULT_WINDOW_LAG_MS;
    let cursor = cursorFrom(checkpoint, this.now(), lag);
    const types = await this.typesOf(object);
    const fields = pullFields(object, this.options.fields?.[object]).filter(
      (f) => types.size === 0 || types.has(f),
    );
    for (;;) {
      yield* this.readWindow(object, fields, types, cursor, options);
      if (cursor.phase !== 'backfill') return;
      // Then the changes made while the back-fill ran, deletions included.
      cursor = cursorFrom(windowDoneCheckpoint(object, cursor.windowEnd), this.now(), lag);
    }
  }

  private async *readWindow(
    object: SalesforceObjectName,
    fields: readonly string[],
    types: FieldTypes,
    start: SalesforceCursor,
    options: PullOptions,
  ): AsyncIterable<PullPage> {
    const done = windowDoneCheckpoint(object, start.windowEnd);
    if (windowIsEmpty(start)) {
      yield { records: [], deleted: [], checkpoint: done };
      return;
    }
    // Incremental windows read deleted rows too (queryAll): a deletion bumps SystemModstamp.
    const scanAll = start.phase === 'incremental';
    const limit = options.pageSize ?? this.options.queryLimit ?? DEFAULT_QUERY_LIMIT;
    let cursor = start;
    let firstQuery = true;
    for (;;) {
      const soql = windowQuery(object, fields, cursor, limit);
      let result = await this.caller.call(
        () => this.conn.query<Record<string, unknown>>(soql, { scanAll, autoFetch: false }),
        { object },
      );
      const complete = result.totalSize < limit;
      const goBulk = firstQuery && !result.done && result.totalSize >= this.bulkThreshold;
      firstQuery = false;
      for (;;) {
        options.signal?.throwIfAborted();
        const page = this.toPage(object, result.records, types);
        if (page.last !== undefined) cursor = advance(cursor, page.last.systemModstamp, page.last.id);
        const windowDone = result.done && complete;
        yield {
          records: page.records,
          deleted: page.deleted,
          checkpoint: windowDone ? done : toCheckpoint(object, cursor),
        };
        if (windowDone) return;
        if (goBulk) {
          yield* this.readWindowInBulk(object, fields, types, cursor, scanAll, options);
          return;
        }
        if (result.done) break;
        const next = result.nextRecordsUrl as string;
        result = await this.caller.call(() => this.conn.request<QueryResult<Record<string, unknown>>>(next), {
          object,
        });
      }
    }
  }

  private async *readWindowInBulk(
    object: SalesforceObjectName,
    fields: readonly string[],
    types: FieldTypes,
    cursor: SalesforceCursor,
    scanAll: boolean,
    options: PullOptions,
  ): AsyncIterable<PullPage> {
    const soql = bulkWindowQuery(object, fields, cursor);
    const jobId = await runQueryJob(this.caller, { object, soql, scanAll, polling: this.polling });
    const before = toCheckpoint(object, cursor);
    const pageSize = this.options.bulkPageSize ?? DEFAULT_BULK_PAGE_SIZE;
    let locator: string | null = null;
    do {
      options.signal?.throwIfAborted();
      const page = await this.caller.call(() => queryJobPage(this.conn, jobId, locator, pageSize), {
        object,
      });
      locator = page.next;
      // Only the result page's last piece can finish the window: a crash before re-reads the page.
      for (let start = 0; start === 0 || start < page.rows.length; start += BULK_YIELD_SIZE) {
        const records: SourceRecord[] = [];
        const deleted: DeletedRecord[] = [];
        const end = Math.min(start + BULK_YIELD_SIZE, page.rows.length);
        for (let i = start; i < end; i += 1) {
          const record = csvRowToSourceRecord(object, page.rows[i] as (typeof page.rows)[number], types);
          if (record.archived === true) deleted.push(deletion(object, record));
          else records.push(record);
        }
        yield {
          records,
          deleted,
          checkpoint:
            locator === null && end >= page.rows.length
              ? windowDoneCheckpoint(object, cursor.windowEnd)
              : before,
        };
      }
    } while (locator !== null);
  }

  private toPage(
    object: SalesforceObjectName,
    rows: ReadonlyArray<Record<string, unknown>>,
    types: FieldTypes,
  ): { records: SourceRecord[]; deleted: DeletedRecord[]; last?: { systemModstamp: string; id: string } } {
    const records: SourceRecord[] = [];
    const deleted: DeletedRecord[] = [];
    let last: { systemModstamp: string; id: string } | undefined;
    for (const row of rows) {
      const record = toSourceRecord(object, row, types);
      if (record.archived === true) deleted.push(deletion(object, record));
      else records.push(record);
      last = { systemModstamp: String(record.fields['SystemModstamp']), id: record.id };
    }
    return { records, deleted, ...(last !== undefined ? { last } : {}) };
  }

  /** The object's field types from its describe, read once per connector. */
  typesOf(object: string): Promise<FieldTypes> {
    let types = this.fieldTypes.get(object);
    if (types === undefined) {
      types = this.caller
        .call(() => this.conn.sobject(object).describe(), { object })
        .then((d) => new Map(d.fields.map((f) => [f.name, f.type as string])));
      this.fieldTypes.set(object, types);
      types.catch(() => this.fieldTypes.delete(object));
    }
    return types;
  }

  // ---- write -------------------------------------------------------------------------------------

  /**
   * One outcome per op, in order. Creates that carry the object's HubSpot external id are sent as upserts
   * on it, so replaying a batch never creates a second record. Collections run with allOrNone false: a
   * rejected record fails alone. If the daily budget runs out part-way, the ops not yet sent come back as
   * rate-limited outcomes (nothing failed; send them again later); if it is out before the first call, the
   * whole call throws RateLimitedError.
   */
  async write(object: SalesforceObjectName, ops: readonly WriteOp[]): Promise<WriteOutcome[]> {
    const outcomes: Array<WriteOutcome | undefined> = ops.map(() => undefined);
    const groups = this.group(object, ops);
    const useBulk = ops.length >= this.bulkThreshold;
    let sentAny = false;
    try {
      for (const group of groups) {
        const size = useBulk ? group.indexes.length : COLLECTION_SIZE;
        for (let at = 0; at < group.indexes.length; at += size) {
          const indexes = group.indexes.slice(at, at + size);
          const chunk = indexes.map((i) => ops[i] as WriteOp);
          const results = useBulk
            ? await this.writeBulk(object, group, chunk)
            : await this.writeCollection(object, group, chunk);
          sentAny = true;
          indexes.forEach((opIndex, k) => {
            outcomes[opIndex] = results[k];
          });
        }
      }
    } catch (error) {
      if (!(error instanceof RateLimitedError) || !sentAny) throw error;
      return ops.map(
        (op, i) => outcomes[i] ?? { ref: op.ref, ok: false, classification: error.classification },
      );
    }
    return outcomes.map((o, i) => o ?? notSent(ops[i] as WriteOp));
  }

  private group(object: SalesforceObjectName, ops: readonly WriteOp[]): WriteGroup[] {
    const groups = new Map<string, WriteGroup>();
    const external = HUBSPOT_EXTERNAL_ID[object];
    ops.forEach((op, i) => {
      let kind: WriteGroup['kind'];
      let idProperty: string | undefined;
      if (op.kind === 'upsert') {
        kind = 'upsert';
        idProperty = op.idProperty ?? external;
      } else if (
        op.kind === 'create' &&
        typeof op.fields[external] === 'string' &&
        op.fields[external] !== ''
      ) {
        kind = 'upsert';
        idProperty = external;
      } else kind = op.kind;
      const key = `${kind}:${idProperty ?? ''}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { kind, indexes: [], ...(idProperty !== undefined ? { idProperty } : {}) };
        groups.set(key, group);
      }
      group.indexes.push(i);
    });
    return [...groups.values()];
  }

  private async writeCollection(
    object: SalesforceObjectName,
    group: WriteGroup,
    ops: readonly WriteOp[],
  ): Promise<WriteOutcome[]> {
    const attributes = { type: object };
    let request: { method: 'POST' | 'PATCH' | 'DELETE'; url: string; body?: string };
    switch (group.kind) {
      case 'create':
        request = {
          method: 'POST',
          url: '/composite/sobjects',
          body: JSON.stringify({
            allOrNone: false,
            records: ops.map((op) => ({ attributes, ...op.fields })),
          }),
        };
        break;
      case 'update':
        request = {
          method: 'PATCH',
          url: '/composite/sobjects',
          body: JSON.stringify({
            allOrNone: false,
            records: ops.map((op) => ({ attributes, ...op.fields, id: op.recordId })),
          }),
        };
        break;
      case 'upsert': {
        const key = group.idProperty as string;
        request = {
          method: 'PATCH',
          url: `/composite/sobjects/${object}/${key}`,
          body: JSON.stringify({
            allOrNone: false,
            records: ops.map((op) => ({ attributes, ...op.fields, [key]: op.idValue ?? op.fields[key] })),
          }),
        };
        break;
      }
      case 'archive':
        request = {
          method: 'DELETE',
          url: `/composite/sobjects?allOrNone=false&ids=${ops.map((op) => op.recordId ?? '').join(',')}`,
        };
        break;
    }
    let results: CollectionResult[];
    try {
      results = await this.caller.call(
        () =>
          this.conn.request<CollectionResult[]>({
            ...request,
            ...(request.body !== undefined ? { headers: { 'content-type': 'application/json' } } : {}),
          }),
        { object },
      );
    } catch (error) {
      // The whole call failed for a reason other than rate limits or auth: each op of it gets that reason.
      if (error instanceof RateLimitedError || isAuthError(error)) throw error;
      const classification = classify(error, { system: 'salesforce', object });
      return ops.map((op) => ({ ref: op.ref, ok: false, classification }));
    }
    const outcomes = ops.map((op, i): WriteOutcome => {
      const result = results[i];
      if (result?.success === true && typeof result.id === 'string') {
        return {
          ref: op.ref,
          ok: true,
          recordId: result.id,
          created: group.kind === 'create' || result.created === true,
        };
      }
      const recordId = op.recordId ?? (typeof result?.id === 'string' ? result.id : undefined);
      return {
        ref: op.ref,
        ok: false,
        classification: classify(result ?? { success: false, errors: [] }, {
          system: 'salesforce',
          object,
          ...(recordId !== undefined ? { recordId } : {}),
        }),
      };
    });
    await this.pointAtExisting(object, ops, outcomes);
    return outcomes;
  }

  /**
   * Makes two rejections actionable by naming the record to write instead (`existingId`):
   * DUPLICATES_DETECTED on a create → the live record with the same email (Tandem does not merge it
   * silently: identity is the domain's decision, and the duplicate may be another person sharing an inbox);
   * CANNOT_UPDATE_CONVERTED_LEAD → the Contact the Lead was converted to. One query per collection.
   */
  private async pointAtExisting(
    object: SalesforceObjectName,
    ops: readonly WriteOp[],
    outcomes: WriteOutcome[],
  ): Promise<void> {
    const failed = (code: string) =>
      outcomes.flatMap((o, i) => (!o.ok && o.classification.code === `SALESFORCE_${code}` ? [i] : []));
    const duplicates = failed('DUPLICATES_DETECTED').filter(
      (i) => typeof ops[i]?.fields['Email'] === 'string',
    );
    const converted = object === 'Lead' ? failed('CANNOT_UPDATE_CONVERTED_LEAD') : [];
    try {
      if (duplicates.length > 0) {
        const emails = [...new Set(duplicates.map((i) => String(ops[i]?.fields['Email']).toLowerCase()))];
        const rows = await this.queryAll(
          `SELECT Id, Email FROM ${object} WHERE Email IN (${emails.map(soqlString).join(', ')}) ORDER BY CreatedDate, Id`,
          object,
        );
        const byEmail = new Map<string, string>();
        for (const row of rows) {
          const email = String(row['Email']).toLowerCase();
          if (!byEmail.has(email)) byEmail.set(email, String(row['Id']));
        }
        for (const i of duplicates) {
          const existingId = byEmail.get(String(ops[i]?.fields['Email']).toLowerCase());
          if (existingId !== undefined) outcomes[i] = withExisting(outcomes[i] as WriteOutcome, existingId);
        }
      }
      const leadIds = converted.map((i) => ops[i]?.recordId).filter((id): id is string => id !== undefined);
      if (leadIds.length > 0) {
        const rows = await this.queryAll(
          `SELECT Id, ConvertedContactId FROM Lead WHERE Id IN (${leadIds.map(soqlString).join(', ')})`,
          object,
        );
        const contactOf = new Map(rows.map((r) => [String(r['Id']).slice(0, 15), r['ConvertedContactId']]));
        for (const i of converted) {
          const contact = contactOf.get(String(ops[i]?.recordId).slice(0, 15));
          if (typeof contact === 'string') outcomes[i] = withExisting(outcomes[i] as WriteOutcome, contact);
        }
      }
    } catch (error) {
      // The outcomes stand without the pointer; only budget and auth problems stop the write.
      if (error instanceof RateLimitedError || isAuthError(error)) throw error;
    }
  }

  private async queryAll(soql: string, object: string): Promise<Array<Record<string, unknown>>> {
    const result = await this.caller.call(() => this.conn.query<Record<string, unknown>>(soql), { object });
    return result.records;
  }

  private async writeBulk(
    object: SalesforceObjectName,
    group: WriteGroup,
    ops: readonly WriteOp[],
  ): Promise<WriteOutcome[]> {
    const operation =
      group.kind === 'create'
        ? 'insert'
        : group.kind === 'archive'
          ? 'delete'
          : group.kind === 'update'
            ? 'update'
            : 'upsert';
    const key = group.idProperty;
    const records = ops.map((op): Record<string, FieldValue> => {
      switch (group.kind) {
        case 'archive':
          return { Id: op.recordId ?? '' };
        case 'update':
          return { Id: op.recordId ?? '', ...op.fields };
        case 'upsert':
          return { ...op.fields, [key as string]: op.idValue ?? op.fields[key as string] ?? '' };
        case 'create':
          return { ...op.fields };
      }
    });
    let result: BulkIngestResult;
    try {
      result = await runIngestJob(this.caller, {
        object,
        operation,
        ...(key !== undefined ? { externalIdFieldName: key } : {}),
        records,
        polling: this.polling,
      });
    } catch (error) {
      // Updates, upserts and deletes may simply be sent again; a second insert job would create them twice.
      if (!(error instanceof BulkJobOutcomeUnknownError) || operation !== 'insert') {
        throw error instanceof BulkJobOutcomeUnknownError ? error.cause : error;
      }
      const cause = classify(error.cause, { system: 'salesforce', object });
      const classification: Classification = {
        kind: 'permanent',
        code: 'SALESFORCE_BULK_OUTCOME_UNKNOWN',
        reason: `Salesforce took Bulk job ${error.jobId} creating ${ops.length} ${object} records, but Tandem could not read what it wrote (${cause.reason}); check the job in Setup → Bulk Data Load Jobs before creating them again`,
      };
      return ops.map((op) => ({ ref: op.ref, ok: false, classification }));
    }
    return ops.map((op, i): WriteOutcome => {
      const row = result.rows[i];
      if (row?.ok === true) return { ref: op.ref, ok: true, recordId: row.id, created: row.created };
      let classification: Classification;
      if (row === undefined || row.outcome === 'unprocessed') {
        classification = {
          kind: 'transient',
          code: 'SALESFORCE_BULK_UNPROCESSED',
          reason: 'Salesforce did not process the row; send it again',
        };
      } else if (row.outcome === 'job_ended') {
        classification = {
          kind: 'permanent',
          code: `SALESFORCE_BULK_JOB_${row.state === 'Aborted' ? 'ABORTED' : 'FAILED'}`,
          reason: row.reason,
          ...(op.recordId !== undefined ? { recordId: op.recordId } : {}),
        };
      } else {
        classification = classify(parseBulkError(row.error), {
          system: 'salesforce',
          object,
          ...(op.recordId !== undefined ? { recordId: op.recordId } : {}),
        });
      }
      return { ref: op.ref, ok: false, classification };
    });
  }
}

interface WriteGroup {
  kind: 'create' | 'update' | 'upsert' | 'archive';
  idProperty?: string;
  indexes: number[];
}

/** A deleted row as a deletion; one a merge deleted (MasterRecordId set) says which record it went into. */
function deletion(object: SalesforceObjectName, record: SourceRecord): DeletedRecord {
  const stamp = record.fields['SystemModstamp'];
  const master = record.fields['MasterRecordId'];
  return {
    system: 'salesforce',
    object,
    id: record.id,
    deletedAt: typeof stamp === 'string' ? stamp : record.modifiedAt,
    ...(typeof master === 'string' && master !== '' ? { mergedInto: master } : {}),
  };
}

function withExisting(outcome: WriteOutcome, existingId: string): WriteOutcome {
  if (outcome.ok || outcome.classification.kind !== 'permanent') return outcome;
  return { ...outcome, classification: { ...outcome.classification, existingId } };
}

function notSent(op: WriteOp): WriteOutcome {
  return {
    ref: op.ref,
    ok: false,
    classification: {
      kind: 'transient',
      code: 'TANDEM_NOT_SENT',
      reason: 'The write was not sent; send it again',
    },
  };
}

function isAuthError(error: unknown): boolean {
  return error instanceof TandemError && error.code.startsWith('AUTH_');
}

function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
