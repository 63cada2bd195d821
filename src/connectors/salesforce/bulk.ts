// Bulk API 2.0 through jsforce: one job reads or writes tens of thousands of records in a handful of calls.
//
// Every step of a job is its own retried call (create, upload, close, each status check, each result file
// or page): jsforce's `loadAndWaitForResults` runs them all in one promise, and retrying that after a 503 on
// a status check submits the same records again in a new job.
//
// Query results are paged here rather than through `conn.bulk2.query()`: jsforce 3.10 pipes every result
// page into one CSV stream that the first page already ended, so a second page crashes the process with
// ERR_STREAM_WRITE_AFTER_END (jsforce/jsforce#1546). We open and check the job with jsforce and fetch each
// page by its `Sforce-Locator` ourselves.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from 'jsforce';
import { QueryJobV2 } from 'jsforce/lib/api/bulk2.js';
import { PermanentError, TransientError } from '../classify.js';
import type { FieldValue } from '../connector.js';
import type { SalesforceCaller } from './call.js';
import { toCsvCell } from './records.js';

export interface BulkPolling {
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

export const DEFAULT_BULK_POLLING: BulkPolling = { pollIntervalMs: 1_000, pollTimeoutMs: 10 * 60_000 };

export type BulkJobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export interface BulkJobInfo {
  id: string;
  state: BulkJobState;
  /** Why Salesforce failed the job (ingest jobs only). */
  errorMessage?: string;
}

interface BulkRequest {
  method: 'GET' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  responseType: string;
}

interface IngestRequester {
  createIngestRequest(request: BulkRequest): Promise<unknown>;
}

interface ResultsRequester {
  locator?: string;
  createQueryRequest(request: BulkRequest): Promise<string>;
}

function toJobInfo(value: unknown): BulkJobInfo {
  const info = value as { id: string; state: BulkJobState; errorMessage?: unknown };
  return {
    id: info.id,
    state: info.state,
    ...(typeof info.errorMessage === 'string' && info.errorMessage !== ''
      ? { errorMessage: info.errorMessage }
      : {}),
  };
}

async function checkJob(conn: Connection, kind: 'ingest' | 'query', jobId: string): Promise<BulkJobInfo> {
  const job =
    kind === 'ingest' ? conn.bulk2.job('ingest', { id: jobId }) : conn.bulk2.job('query', { id: jobId });
  return toJobInfo(await job.check());
}

/**
 * Checks the job until Salesforce has finished with it (JobComplete, Failed or Aborted), one retried call
 * per check. A job still running at the polling timeout is a TransientError: not lost, only unfinished.
 */
async function waitForJob(
  caller: SalesforceCaller,
  kind: 'ingest' | 'query',
  job: BulkJobInfo,
  polling: BulkPolling,
  object: string,
): Promise<BulkJobInfo> {
  const deadline = Date.now() + polling.pollTimeoutMs;
  let info = job;
  while (info.state === 'UploadComplete' || info.state === 'InProgress') {
    if (Date.now() >= deadline) {
      throw new TransientError({
        code: 'SALESFORCE_BULK_JOB_TIMEOUT',
        reason: `Salesforce's Bulk job ${info.id} on ${object} is still ${info.state} after ${Math.round(polling.pollTimeoutMs / 1000)} s`,
      });
    }
    await delay(polling.pollIntervalMs);
    info = await caller.call(() => checkJob(caller.conn, kind, job.id), { object });
  }
  return info;
}

/** Opens a query job and waits until Salesforce has run it; returns the job id. */
export async function runQueryJob(
  caller: SalesforceCaller,
  options: { object: string; soql: string; scanAll: boolean; polling: BulkPolling },
): Promise<string> {
  const { object, polling } = options;
  // Retried freely: a query job that never answered holds nothing anyone reads.
  const opened = await caller.call(
    async () =>
      toJobInfo(
        await new QueryJobV2(caller.conn, {
          bodyParams: { query: options.soql, operation: options.scanAll ? 'queryAll' : 'query' },
          pollingOptions: { pollInterval: polling.pollIntervalMs, pollTimeout: polling.pollTimeoutMs },
        }).open(),
      ),
    { object },
  );
  const done = await waitForJob(caller, 'query', opened, polling, object);
  if (done.state !== 'JobComplete') {
    throw new PermanentError({
      code: `SALESFORCE_BULK_JOB_${done.state === 'Aborted' ? 'ABORTED' : 'FAILED'}`,
      reason: jobEndedReason(done, object),
    });
  }
  return done.id;
}

/** One page of a finished query job: rows as strings, and the next locator (null: that was the last). */
export async function queryJobPage(
  conn: Connection,
  jobId: string,
  locator: string | null,
  maxRecords: number,
): Promise<{ rows: Array<Record<string, string>>; next: string | null }> {
  const job = conn.bulk2.job('query', { id: jobId }) as unknown as ResultsRequester;
  const query = new URLSearchParams({ maxRecords: String(maxRecords) });
  if (locator !== null) query.set('locator', locator);
  const csv = await job.createQueryRequest({
    method: 'GET',
    path: `/${jobId}/results?${query.toString()}`,
    headers: { Accept: 'text/csv' },
    responseType: 'text/plain',
  });
  const next = job.locator;
  return { rows: parseRows(csv), next: next === undefined || next === 'null' || next === '' ? null : next };
}

function parseRows(csv: unknown): Array<Record<string, string>> {
  return typeof csv === 'string' && csv.trim() !== ''
    ? (parse(csv, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>)
    : [];
}

/** Records as one CSV upload: every column any record has; null as `#N/A`, absent as an empty cell. */
export function toUploadCsv(records: ReadonlyArray<Readonly<Record<string, FieldValue>>>): string {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const rows = records.map((record) => columns.map((c) => toCsvCell(record[c])));
  return stringify([columns, ...rows], { record_delimiter: 'unix' });
}

export type BulkIngestRow =
  | { ok: true; id: string; created: boolean }
  /** Salesforce rejected the row: its `sf__Error`. */
  | { ok: false; outcome: 'failed'; error: string }
  /** Salesforce did not get to the row; sending it again is safe. */
  | { ok: false; outcome: 'unprocessed' }
  /** Salesforce failed or aborted the whole job before it wrote the row. */
  | { ok: false; outcome: 'job_ended'; state: 'Failed' | 'Aborted'; reason: string };

export interface BulkIngestResult {
  jobId: string;
  /** Per input row, in input order. */
  rows: BulkIngestRow[];
}

/**
 * A step failed for good after the job was closed: Salesforce runs (or ran) the rows, but Tandem does not
 * know which it wrote. Sending them again in a new job is only safe when the operation is idempotent.
 */
export class BulkJobOutcomeUnknownError extends Error {
  override name = 'BulkJobOutcomeUnknownError';

  constructor(
    readonly jobId: string,
    cause: unknown,
  ) {
    super(`Bulk job ${jobId}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Runs one ingest job and matches every result row back to its input row. Salesforce returns results in no
 * promised order, so each input carries its position in a column Salesforce echoes back: the external id for
 * upsert, the Id for update and delete; insert rows are matched by their whole content, in order.
 *
 * Failures before the job is closed throw as they are (an Open job is never run); after, they throw
 * BulkJobOutcomeUnknownError.
 */
export async function runIngestJob(
  caller: SalesforceCaller,
  options: {
    object: string;
    operation: 'insert' | 'update' | 'upsert' | 'delete';
    externalIdFieldName?: string;
    records: ReadonlyArray<Readonly<Record<string, FieldValue>>>;
    polling: BulkPolling;
  },
): Promise<BulkIngestResult> {
  const { conn } = caller;
  const { object } = options;
  const csv = toUploadCsv(options.records);
  // Retried freely: until Salesforce answers with a job id there is no job that could write a row.
  const opened = await caller.call(
    async () =>
      toJobInfo(
        await conn.bulk2
          .createJob({
            object,
            operation: options.operation,
            ...(options.externalIdFieldName !== undefined
              ? { externalIdFieldName: options.externalIdFieldName }
              : {}),
            lineEnding: 'LF',
          })
          .open(),
      ),
    { object },
  );
  const jobId = opened.id;
  const job = conn.bulk2.job('ingest', { id: jobId });
  const ingest = job as unknown as IngestRequester;
  let info = await whileOpen(caller, jobId, object, async () => {
    await ingest.createIngestRequest({
      method: 'PUT',
      path: `/${jobId}/batches`,
      headers: { 'Content-Type': 'text/csv' },
      body: csv,
      responseType: 'application/json',
    });
    return { id: jobId, state: 'Open' };
  });

  let files: { successful: ResultRow[]; failed: ResultRow[]; unprocessed: ResultRow[] };
  try {
    if (info.state === 'Open') {
      info = await whileOpen(caller, jobId, object, async () => {
        await job.close();
        return toJobInfo(job.getInfo());
      });
    }
    info = await waitForJob(caller, 'ingest', info, options.polling, object);
    files = await resultFiles(caller, jobId, info.state, object);
  } catch (error) {
    throw new BulkJobOutcomeUnknownError(jobId, error);
  }

  const [header = []] = parse(csv.slice(0, csv.indexOf('\n') + 1)) as string[][];
  const keyOf = (row: Readonly<Record<string, unknown>>) =>
    header.map((c) => String(row[c] ?? '')).join('\u0000');
  const inputKeys = (parse(csv, { columns: true }) as Array<Record<string, string>>).map(keyOf);
  const positions = new Map<string, number[]>();
  inputKeys.forEach((key, i) => {
    const list = positions.get(key);
    if (list === undefined) positions.set(key, [i]);
    else list.push(i);
  });
  const take = (row: Readonly<Record<string, unknown>>): number | undefined =>
    positions.get(keyOf(row))?.shift();

  const unwritten: BulkIngestRow =
    info.state === 'Failed' || info.state === 'Aborted'
      ? { ok: false, outcome: 'job_ended', state: info.state, reason: jobEndedReason(info, object) }
      : { ok: false, outcome: 'unprocessed' };
  const rows: BulkIngestRow[] = inputKeys.map(() => unwritten);
  for (const row of files.successful) {
    const at = take(row);
    if (at !== undefined)
      rows[at] = { ok: true, id: row['sf__Id'] ?? '', created: row['sf__Created'] === 'true' };
  }
  for (const row of files.failed) {
    const at = take(row);
    if (at !== undefined) rows[at] = { ok: false, outcome: 'failed', error: row['sf__Error'] ?? '' };
  }
  for (const row of files.unprocessed) {
    const at = take(row);
    if (at !== undefined) rows[at] = unwritten;
  }
  return { jobId, rows };
}

type ResultRow = Record<string, string>;

/**
 * Runs `step` (upload, close) against a job that must still be Open. The first try just runs it; a retry
 * first reads the job, and if the earlier try landed after all (the job moved past Open, or Salesforce ended
 * it), returns that instead of repeating the step. Returns the job as the step or the read left it.
 */
async function whileOpen(
  caller: SalesforceCaller,
  jobId: string,
  object: string,
  step: () => Promise<BulkJobInfo>,
): Promise<BulkJobInfo> {
  let tried = false;
  return caller.call(
    async () => {
      if (tried) {
        const info = await checkJob(caller.conn, 'ingest', jobId);
        if (info.state !== 'Open') return info;
      }
      tried = true;
      return step();
    },
    { object, cost: () => (tried ? 2 : 1) },
  );
}

/** A finished job's three result files, each its own retried read (an aborted job has only unprocessed). */
async function resultFiles(
  caller: SalesforceCaller,
  jobId: string,
  state: BulkJobState,
  object: string,
): Promise<{ successful: ResultRow[]; failed: ResultRow[]; unprocessed: ResultRow[] }> {
  const ingest = caller.conn.bulk2.job('ingest', { id: jobId }) as unknown as IngestRequester;
  // As text, parsed here like query pages; an error answer is ERROR_HTTP_<status> with its JSON body.
  const read = (file: string) =>
    caller.call(
      async () =>
        parseRows(
          await ingest.createIngestRequest({
            method: 'GET',
            path: `/${jobId}/${file}`,
            responseType: 'text/plain',
          }),
        ),
      { object },
    );
  const written = state === 'JobComplete' || state === 'Failed';
  const [successful, failed, unprocessed] = await Promise.all([
    written ? read('successfulResults') : [],
    written ? read('failedResults') : [],
    read('unprocessedrecords'),
  ]);
  return { successful, failed, unprocessed };
}

function jobEndedReason(info: BulkJobInfo, object: string): string {
  const what = info.state === 'Aborted' ? 'was aborted' : 'failed';
  return `Salesforce's Bulk job ${info.id} on ${object} ${what}${info.errorMessage !== undefined ? `: ${info.errorMessage}` : ''}`;
}

/** `STATUS_CODE:message:Field1,Field2 --` → its parts. */
export function parseBulkError(text: string): { statusCode: string; message: string; fields: string[] } {
  const trimmed = text.replace(/\s*--\s*$/, '');
  const first = trimmed.indexOf(':');
  const last = trimmed.lastIndexOf(':');
  if (first < 0) return { statusCode: 'UNKNOWN_EXCEPTION', message: trimmed, fields: [] };
  const statusCode = trimmed.slice(0, first);
  if (last === first) return { statusCode, message: trimmed.slice(first + 1), fields: [] };
  const fields = trimmed
    .slice(last + 1)
    .split(',')
    .map((f) => f.trim())
    .filter((f) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(f));
  return { statusCode, message: trimmed.slice(first + 1, last), fields };
}
