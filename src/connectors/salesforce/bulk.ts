// Bulk API 2.0 through jsforce: one job reads or writes tens of thousands of records in a handful of calls.
//
// Query results are paged here rather than through `conn.bulk2.query()`: jsforce 3.10 pipes every result
// page into one CSV stream that the first page already ended, so a second page crashes the process with
// ERR_STREAM_WRITE_AFTER_END (jsforce/jsforce#1546). We open and poll the job with jsforce and fetch each
// page by its `Sforce-Locator` ourselves.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Connection } from 'jsforce';
import { QueryJobV2 } from 'jsforce/lib/api/bulk2.js';
import type { FieldValue } from '../connector.js';
import { toCsvCell } from './records.js';

export interface BulkPolling {
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

export const DEFAULT_BULK_POLLING: BulkPolling = { pollIntervalMs: 1_000, pollTimeoutMs: 10 * 60_000 };

/** Calls a Bulk job costs besides its polls: create, upload, close, and the three result files. */
export const BULK_INGEST_FIXED_CALLS = 6;

interface ResultsRequester {
  locator?: string;
  createQueryRequest(request: {
    method: 'GET';
    path: string;
    headers: Record<string, string>;
    responseType: string;
  }): Promise<string>;
}

/** Opens a query job and waits until Salesforce has run it; returns the job id. */
export async function runQueryJob(
  conn: Connection,
  soql: string,
  scanAll: boolean,
  polling: BulkPolling,
): Promise<string> {
  const created = new QueryJobV2(conn, {
    bodyParams: { query: soql, operation: scanAll ? 'queryAll' : 'query' },
    pollingOptions: { pollInterval: polling.pollIntervalMs, pollTimeout: polling.pollTimeoutMs },
  });
  await created.open();
  await created.poll(polling.pollIntervalMs, polling.pollTimeoutMs);
  return created.id as string;
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
  const rows =
    typeof csv === 'string' && csv.trim() !== ''
      ? (parse(csv, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>)
      : [];
  const next = job.locator;
  return { rows, next: next === undefined || next === 'null' || next === '' ? null : next };
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

export interface BulkIngestResult {
  /** Per input row, in input order. */
  rows: Array<
    { ok: true; id: string; created: boolean } | { ok: false; error: string; unprocessed: boolean }
  >;
}

/**
 * Runs one ingest job and matches every result row back to its input row. Salesforce returns results in no
 * promised order, so each input carries its position in a column Salesforce echoes back: the external id for
 * upsert, the Id for update and delete; insert rows are matched by their whole content, in order.
 */
export async function runIngestJob(
  conn: Connection,
  options: {
    object: string;
    operation: 'insert' | 'update' | 'upsert' | 'delete';
    externalIdFieldName?: string;
    records: ReadonlyArray<Readonly<Record<string, FieldValue>>>;
    polling: BulkPolling;
  },
): Promise<BulkIngestResult> {
  const csv = toUploadCsv(options.records);
  const results = await conn.bulk2.loadAndWaitForResults({
    object: options.object,
    operation: options.operation,
    ...(options.externalIdFieldName !== undefined
      ? { externalIdFieldName: options.externalIdFieldName }
      : {}),
    lineEnding: 'LF',
    input: csv,
    pollInterval: options.polling.pollIntervalMs,
    pollTimeout: options.polling.pollTimeoutMs,
  });
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

  const rows: BulkIngestResult['rows'] = inputKeys.map(() => ({
    ok: false,
    error: 'Salesforce did not process the row',
    unprocessed: true,
  }));
  for (const row of results.successfulResults) {
    const at = take(row);
    if (at !== undefined) rows[at] = { ok: true, id: row.sf__Id, created: row.sf__Created === 'true' };
  }
  for (const row of results.failedResults) {
    const at = take(row);
    if (at !== undefined) rows[at] = { ok: false, error: row.sf__Error, unprocessed: false };
  }
  return { rows };
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
