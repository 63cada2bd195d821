import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { salesforceId } from '../world/salesforce-id.js';
import { RecordError } from './record-error.js';
import type { SalesforceCatalog, SalesforceObjectInfo } from './schema/catalog.js';
import { compileQuery, readPath, runQuery, type CompiledQuery } from './soql/evaluator.js';
import type { SalesforceStore } from './store.js';
import { formatDateTime, type SalesforceRow, type SalesforceValue } from './values.js';

/**
 * Bulk API 2.0 jobs as jsforce 3.10's `lib/api/bulk2` drives them: query jobs (create → poll → results
 * pages by `Sforce-Locator`) and ingest jobs (create → one CSV upload → UploadComplete → poll → successful,
 * failed and unprocessed results as CSV). Rows are validated by the same store as the REST API, so a bad
 * row fails alone with its `sf__Error`.
 */

export type IngestOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

/** Written in a CSV upload to set a field to null (jsforce's `nullValue`); an empty cell leaves it as is. */
export const BULK_NULL = '#N/A';

export interface Bulk2Options {
  store: SalesforceStore;
  catalog: SalesforceCatalog;
  /** Status checks that answer InProgress before a job is JobComplete (default 1), so pollers really poll. */
  checksBeforeComplete: number;
  /** Query result rows per page when the client sends no `maxRecords` (default 10,000). */
  defaultPageSize: number;
  onRecordsRead(n: number): void;
  onRecordsWritten(n: number): void;
}

interface JobBase {
  id: string;
  object: string;
  createdDate: string;
  state: JobState;
  apiVersion: number;
  checksLeft: number;
  errorMessage?: string;
}

interface QueryJob extends JobBase {
  kind: 'query';
  operation: 'query' | 'queryAll';
  compiled: CompiledQuery;
  rows: SalesforceRow[];
}

interface IngestJob extends JobBase {
  kind: 'ingest';
  operation: IngestOperation;
  externalIdFieldName?: string;
  lineEnding: 'LF' | 'CRLF';
  csv: string[];
  processed: number;
  failed: number;
  successful: Array<Record<string, string>>;
  failures: Array<Record<string, string>>;
  unprocessed: Array<Record<string, string>>;
  columns: string[];
}

type Job = QueryJob | IngestJob;

const OPERATIONS: readonly IngestOperation[] = ['insert', 'update', 'upsert', 'delete', 'hardDelete'];

export class Bulk2Jobs {
  private readonly jobs = new Map<string, Job>();
  private sequence = 1;

  constructor(private readonly options: Bulk2Options) {}

  clear(): void {
    this.jobs.clear();
  }

  // ---- query jobs --------------------------------------------------------------------------------

  createQuery(body: Record<string, unknown>, version: string): Record<string, unknown> {
    const operation = body['operation'] ?? 'query';
    if (operation !== 'query' && operation !== 'queryAll') {
      throw new RecordError('INVALIDJOB', `Invalid operation: ${String(operation)}`, ['operation']);
    }
    const soql = body['query'];
    if (typeof soql !== 'string' || soql.trim() === '') {
      throw new RecordError('INVALIDJOB', 'The query is required', ['query']);
    }
    const compiled = compileQuery(soql, this.options.catalog, () => this.options.store.now());
    const { ast } = compiled;
    if (ast.select.kind === 'count') {
      throw new RecordError('INVALIDJOB', 'Aggregate queries are not supported by Bulk API 2.0', ['query']);
    }
    if (ast.offset !== null) {
      throw new RecordError('INVALIDJOB', 'OFFSET is not supported by Bulk API 2.0', ['query']);
    }
    const rows = runQuery(compiled, this.options.store, { includeDeleted: operation === 'queryAll' });
    const job: QueryJob = {
      ...this.base(compiled.object.name, version),
      kind: 'query',
      operation,
      compiled,
      rows,
      state: 'UploadComplete',
    };
    this.jobs.set(job.id, job);
    return this.info(job);
  }

  /** One page of a finished query job's results: CSV text and the locator of the next page ('null': none). */
  queryResults(
    id: string,
    locator: string | undefined,
    maxRecords: string | undefined,
  ): { csv: string; locator: string; count: number } {
    const job = this.job(id, 'query');
    if (job.state !== 'JobComplete') {
      throw new RecordError('INVALIDJOBSTATE', `Job is not complete: ${job.state}`, [], 400);
    }
    const offset = locator === undefined || locator === '' ? 0 : decodeLocator(locator);
    const size = maxRecords === undefined ? this.options.defaultPageSize : Number(maxRecords);
    if (!Number.isInteger(size) || size < 1) {
      throw new RecordError('INVALID_INPUT', `maxRecords must be a positive integer: ${maxRecords}`, [], 400);
    }
    const slice = job.rows.slice(offset, offset + size);
    const next = offset + slice.length;
    const { columns } = job.compiled;
    const header = columns.map((c) => c.names.join('.'));
    const store = this.options.store;
    const lines = slice.map((row) => columns.map((c) => csvValue(readPath(row, c, store), c.leaf.type)));
    this.options.onRecordsRead(slice.length);
    return {
      csv: stringify([header, ...lines], { record_delimiter: 'unix' }),
      locator: next >= job.rows.length ? 'null' : encodeLocator(next),
      count: slice.length,
    };
  }

  // ---- ingest jobs -------------------------------------------------------------------------------

  createIngest(body: Record<string, unknown>, version: string): Record<string, unknown> {
    const operation = body['operation'];
    if (typeof operation !== 'string' || !OPERATIONS.includes(operation as IngestOperation)) {
      throw new RecordError('INVALIDJOB', `Invalid operation: ${String(operation)}`, ['operation']);
    }
    const objectName = body['object'];
    const info = typeof objectName === 'string' ? this.options.catalog.object(objectName) : undefined;
    if (info === undefined) {
      throw new RecordError('INVALIDJOB', `Entity '${String(objectName)}' is not supported by the Bulk API`, [
        'object',
      ]);
    }
    const contentType = body['contentType'] ?? 'CSV';
    if (contentType !== 'CSV') {
      throw new RecordError('INVALIDJOB', `Invalid contentType: ${String(contentType)}`, ['contentType']);
    }
    const externalIdFieldName = body['externalIdFieldName'];
    if (operation === 'upsert') {
      const field = typeof externalIdFieldName === 'string' ? info.field(externalIdFieldName) : undefined;
      if (field === undefined || (!field.externalId && field.name !== 'Id')) {
        throw new RecordError(
          'INVALIDJOB',
          `InvalidJob : External ID was blank or invalid for ${info.name}: ${String(externalIdFieldName)}`,
          ['externalIdFieldName'],
        );
      }
    }
    const job: IngestJob = {
      ...this.base(info.name, version),
      kind: 'ingest',
      operation: operation as IngestOperation,
      ...(typeof externalIdFieldName === 'string' && operation === 'upsert'
        ? { externalIdFieldName: info.field(externalIdFieldName)?.name ?? externalIdFieldName }
        : {}),
      lineEnding: body['lineEnding'] === 'CRLF' ? 'CRLF' : 'LF',
      state: 'Open',
      csv: [],
      processed: 0,
      failed: 0,
      successful: [],
      failures: [],
      unprocessed: [],
      columns: [],
    };
    this.jobs.set(job.id, job);
    return this.info(job);
  }

  upload(id: string, csv: string): void {
    const job = this.job(id, 'ingest');
    if (job.state !== 'Open') {
      throw new RecordError('INVALIDJOBSTATE', `Job is not open for data upload: ${job.state}`, [], 409);
    }
    if (job.csv.length > 0) {
      throw new RecordError('INVALIDJOBSTATE', 'Data can be uploaded to a job only once', [], 409);
    }
    job.csv.push(csv);
  }

  /** PATCH `{state}`: UploadComplete runs the rows; Aborted stops the job. */
  setState(kind: 'query' | 'ingest', id: string, state: unknown): Record<string, unknown> {
    const job = this.job(id, kind);
    if (state === 'Aborted') {
      if (job.state === 'JobComplete' || job.state === 'Failed') {
        throw new RecordError('INVALIDJOBSTATE', `Cannot abort a job in state ${job.state}`, [], 409);
      }
      if (job.kind === 'ingest') job.unprocessed = this.rowsOf(job).rows;
      job.state = 'Aborted';
      return this.info(job);
    }
    if (state !== 'UploadComplete' || job.kind !== 'ingest' || job.state !== 'Open') {
      throw new RecordError('INVALIDJOBSTATE', `Cannot change the job to state ${String(state)}`, [], 409);
    }
    job.state = 'UploadComplete';
    this.process(job);
    return this.info(job);
  }

  ingestResults(id: string, which: 'successful' | 'failed' | 'unprocessed'): string {
    const job = this.job(id, 'ingest');
    if (which !== 'unprocessed' && job.state !== 'JobComplete' && job.state !== 'Failed') {
      throw new RecordError('INVALIDJOBSTATE', `Job is not complete: ${job.state}`, [], 400);
    }
    const prefix =
      which === 'successful' ? ['sf__Id', 'sf__Created'] : which === 'failed' ? ['sf__Id', 'sf__Error'] : [];
    const rows =
      which === 'successful' ? job.successful : which === 'failed' ? job.failures : job.unprocessed;
    const header = [...prefix, ...job.columns];
    if (rows.length === 0) return `${header.join(',')}\n`;
    return stringify(rows, { header: true, columns: header, record_delimiter: 'unix' });
  }

  // ---- both --------------------------------------------------------------------------------------

  /** GET job info: each check of an unfinished job brings it one step nearer to JobComplete. */
  check(kind: 'query' | 'ingest', id: string): Record<string, unknown> {
    const job = this.job(id, kind);
    if (job.state === 'UploadComplete' || job.state === 'InProgress') {
      if (job.checksLeft > 0) {
        job.checksLeft -= 1;
        job.state = 'InProgress';
      } else {
        job.state = job.kind === 'ingest' && job.errorMessage !== undefined ? 'Failed' : 'JobComplete';
      }
    }
    return this.info(job);
  }

  /** GET `/jobs/ingest` or `/jobs/query`: every job of that kind, as one page of job infos. */
  list(kind: 'query' | 'ingest'): {
    done: true;
    records: Array<Record<string, unknown>>;
    nextRecordsUrl: null;
  } {
    const records = [...this.jobs.values()].filter((job) => job.kind === kind).map((job) => this.info(job));
    return { done: true, records, nextRecordsUrl: null };
  }

  delete(kind: 'query' | 'ingest', id: string): void {
    const job = this.job(id, kind);
    if (job.state === 'UploadComplete' || job.state === 'InProgress') {
      throw new RecordError('INVALIDJOBSTATE', `Cannot delete a job in state ${job.state}`, [], 409);
    }
    this.jobs.delete(id);
  }

  private base(object: string, version: string): JobBase {
    const id = salesforceId('750', this.sequence);
    this.sequence += 1;
    return {
      id,
      object,
      createdDate: formatDateTime(this.options.store.now()),
      state: 'Open',
      apiVersion: Number(version),
      checksLeft: this.options.checksBeforeComplete,
    };
  }

  private job<K extends Job['kind']>(id: string, kind: K): Extract<Job, { kind: K }> {
    const job = this.jobs.get(id);
    if (job === undefined || job.kind !== kind) {
      throw new RecordError('NOT_FOUND', 'The requested resource does not exist', [], 404);
    }
    return job as Extract<Job, { kind: K }>;
  }

  private info(job: Job): Record<string, unknown> {
    const common = {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: this.options.store.userId,
      createdDate: job.createdDate,
      systemModstamp: job.createdDate,
      state: job.state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: job.apiVersion,
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
    };
    if (job.kind === 'query') {
      const done = job.state === 'JobComplete';
      return {
        ...common,
        jobType: 'V2Query',
        numberRecordsProcessed: done ? job.rows.length : 0,
        retries: 0,
        totalProcessingTime: 0,
      };
    }
    const visible = job.state === 'JobComplete' || job.state === 'Failed' || job.state === 'Aborted';
    return {
      ...common,
      ...(job.externalIdFieldName !== undefined ? { externalIdFieldName: job.externalIdFieldName } : {}),
      lineEnding: job.lineEnding,
      jobType: 'V2Ingest',
      contentUrl: `services/data/v${job.apiVersion.toFixed(1)}/jobs/ingest/${job.id}/batches`,
      numberRecordsProcessed: visible ? job.processed : 0,
      numberRecordsFailed: visible ? job.failed : 0,
      retries: 0,
      totalProcessingTime: 0,
      apiActiveProcessingTime: 0,
      apexProcessingTime: 0,
      ...(job.state === 'Failed' && job.errorMessage !== undefined ? { errorMessage: job.errorMessage } : {}),
    };
  }

  private rowsOf(job: IngestJob): { columns: string[]; rows: Array<Record<string, string>> } {
    const text = job.csv.join('');
    if (text.trim() === '') return { columns: [], rows: [] };
    const rows = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: false }) as Array<
      Record<string, string>
    >;
    const firstLine = text.slice(0, text.search(/\r?\n/) >= 0 ? text.search(/\r?\n/) : text.length);
    const columns = (parse(firstLine) as string[][])[0] ?? [];
    return { columns, rows };
  }

  /** Runs every row through the store; a bad row fails alone. A bad header fails the whole job. */
  private process(job: IngestJob): void {
    const info = this.options.catalog.object(job.object) as SalesforceObjectInfo;
    let parsed: { columns: string[]; rows: Array<Record<string, string>> };
    try {
      parsed = this.rowsOf(job);
    } catch (error) {
      job.errorMessage = `InvalidBatch : Failed to parse CSV: ${(error as Error).message}`;
      return;
    }
    job.columns = parsed.columns;
    const unknown = parsed.columns.find((c) => info.field(c) === undefined);
    if (unknown !== undefined) {
      job.errorMessage = `InvalidBatch : Field name not found : ${unknown}`;
      job.unprocessed = parsed.rows;
      return;
    }
    const canonical = new Map(parsed.columns.map((c) => [c, info.field(c)?.name ?? c]));
    const store = this.options.store;
    for (const row of parsed.rows) {
      const values: Record<string, unknown> = {};
      for (const [column, raw] of Object.entries(row)) {
        if (raw === '') continue;
        values[canonical.get(column) ?? column] = raw === BULK_NULL ? null : raw;
      }
      job.processed += 1;
      try {
        const { id, created } = this.apply(job, info, values, store);
        job.successful.push({ sf__Id: id, sf__Created: String(created), ...row });
      } catch (error) {
        if (!(error instanceof RecordError)) throw error;
        job.failed += 1;
        const id = typeof values['Id'] === 'string' ? values['Id'] : '';
        job.failures.push({ sf__Id: id, sf__Error: bulkError(error), ...row });
      }
    }
    this.options.onRecordsWritten(job.processed - job.failed);
  }

  private apply(
    job: IngestJob,
    info: SalesforceObjectInfo,
    values: Record<string, unknown>,
    store: SalesforceStore,
  ): { id: string; created: boolean } {
    const id = values['Id'];
    const { Id: _id, ...fields } = values;
    const needId = (): string => {
      if (typeof id !== 'string') throw new RecordError('MISSING_ARGUMENT', 'Id not specified', ['Id']);
      return id;
    };
    switch (job.operation) {
      case 'insert':
        return { id: String(store.create(info.name, values)['Id']), created: true };
      case 'update':
        return { id: String(store.update(info.name, needId(), fields)['Id']), created: false };
      case 'delete':
      case 'hardDelete':
        return { id: store.delete(info.name, needId()), created: false };
      case 'upsert': {
        const key = job.externalIdFieldName as string;
        const value = values[key];
        if (typeof value !== 'string' || value === '') {
          throw new RecordError('MISSING_ARGUMENT', `${key} not specified`, [key]);
        }
        const matches =
          key === 'Id'
            ? [store.liveRow(info.name, value)]
            : store.findByValue(info.name, key, value).filter((r) => r['IsDeleted'] !== true);
        if (matches.length > 1) {
          throw new RecordError(
            'DUPLICATE_EXTERNAL_ID',
            `${key}: more than one record found for external id field: ${matches.map((r) => String(r['Id'])).join(', ')}`,
            [key],
          );
        }
        const [existing] = matches;
        if (existing !== undefined) {
          const { [key]: _key, ...rest } = fields;
          return { id: String(store.update(info.name, String(existing['Id']), rest)['Id']), created: false };
        }
        return { id: String(store.create(info.name, key === 'Id' ? fields : values)['Id']), created: true };
      }
    }
  }
}

/** `STATUS_CODE:message:Field1,Field2 --`, the shape of Bulk API 2.0 `sf__Error`. */
export function bulkError(error: RecordError): string {
  return `${error.statusCode}:${error.message}:${error.fields.join(',')} --`;
}

/** How Bulk API 2.0 writes a value in query results: nulls empty, datetimes in UTC with `Z`. */
function csvValue(value: SalesforceValue, type: string): string {
  if (value === null) return '';
  if (type === 'datetime' && typeof value === 'string') return value.replace(/\+0000$/, 'Z');
  return String(value);
}

function encodeLocator(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

function decodeLocator(locator: string): number {
  const offset = Number(Buffer.from(locator, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) {
    throw new RecordError('INVALID_LOCATOR', `invalid locator: ${locator}`, [], 400);
  }
  return offset;
}
