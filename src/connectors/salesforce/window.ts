// Where a Salesforce pull stands and the SOQL that reads on from there. Pure: no I/O.
//
// Records are read in (SystemModstamp, Id) order inside a half-open window [from, windowEnd). The window end
// is "now minus a lag": Salesforce stamps SystemModstamp when a transaction writes, but the row becomes
// visible only when it commits, so a long transaction can commit a record with a stamp earlier than rows we
// already read. Never reading closer to "now" than the lag means such records are still ahead of the cursor.
import { z } from 'zod';
import type { Checkpoint } from '../connector.js';

/** Default lag behind "now" for the window end; longer than Salesforce's usual transaction time. */
export const DEFAULT_WINDOW_LAG_MS = 60_000;
export const EPOCH = '1970-01-01T00:00:00.000Z';

const isoZ = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
    'expected an ISO date-time in UTC with milliseconds',
  );
const salesforceId = z.string().regex(/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/, 'expected a Salesforce id');

/**
 * The position of a pull. `systemModstamp` null: from the beginning of time; `lastId` null: every record at
 * `systemModstamp` is still to be read (a window's inclusive start); else the next record is after
 * (systemModstamp, lastId).
 */
export const SalesforceCursorSchema = z
  .object({
    phase: z.enum(['backfill', 'incremental']),
    systemModstamp: isoZ.nullable(),
    lastId: salesforceId.nullable(),
    windowEnd: isoZ,
  })
  .refine((c) => c.lastId === null || c.systemModstamp !== null, 'lastId needs a systemModstamp')
  .refine(
    (c) => c.systemModstamp === null || c.systemModstamp <= c.windowEnd,
    'the cursor is past its window end',
  );
export type SalesforceCursor = z.infer<typeof SalesforceCursorSchema>;

/** Normalises any ISO instant (`Z`, `+00:00`, `+0000`) to `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function toIsoZ(value: string): string {
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new RangeError(`not a date-time: ${value}`);
  return new Date(ms).toISOString();
}

/** The shared checkpoint for a cursor. Back-fill keeps the keyset in the opaque `after` token. */
export function toCheckpoint(object: string, cursor: SalesforceCursor): Checkpoint {
  const parsed = SalesforceCursorSchema.parse(cursor);
  if (parsed.phase === 'backfill') {
    return {
      system: 'salesforce',
      object,
      phase: 'backfill',
      after: parsed.systemModstamp === null ? null : `${parsed.systemModstamp}|${parsed.lastId ?? ''}`,
      startedAt: parsed.windowEnd,
    };
  }
  return {
    system: 'salesforce',
    object,
    phase: 'incremental',
    since: parsed.systemModstamp ?? EPOCH,
    lastId: parsed.lastId,
    windowEnd: parsed.windowEnd,
  };
}

/** The checkpoint saved after a window is read completely: the next window starts where this one ended. */
export function windowDoneCheckpoint(object: string, windowEnd: string): Checkpoint {
  return { system: 'salesforce', object, phase: 'incremental', since: windowEnd, lastId: null };
}

/**
 * The cursor to read from. `null` starts a back-fill of everything before now − lag. An incremental
 * checkpoint between windows opens the next window [since, now − lag); one inside a window resumes it.
 */
export function cursorFrom(checkpoint: Checkpoint | null, nowMs: number, lagMs: number): SalesforceCursor {
  const end = new Date(nowMs - lagMs).toISOString();
  if (checkpoint === null) {
    return { phase: 'backfill', systemModstamp: null, lastId: null, windowEnd: end };
  }
  if (checkpoint.system !== 'salesforce') {
    throw new RangeError(`a ${checkpoint.system} checkpoint cannot resume a Salesforce pull`);
  }
  if (checkpoint.phase === 'backfill') {
    const token = checkpoint.after;
    const [stamp, id] = token === null ? [null, null] : token.split('|');
    return SalesforceCursorSchema.parse({
      phase: 'backfill',
      systemModstamp: stamp === null || stamp === undefined ? null : toIsoZ(stamp),
      lastId: id === undefined || id === null || id === '' ? null : id,
      windowEnd: toIsoZ(checkpoint.startedAt),
    });
  }
  const since = toIsoZ(checkpoint.since);
  const windowEnd =
    checkpoint.windowEnd !== undefined ? toIsoZ(checkpoint.windowEnd) : end < since ? since : end;
  return SalesforceCursorSchema.parse({
    phase: 'incremental',
    systemModstamp: since,
    lastId: checkpoint.lastId,
    windowEnd,
  });
}

/** Record after which the cursor stands once `record` is read. */
export function advance(cursor: SalesforceCursor, systemModstamp: string, id: string): SalesforceCursor {
  return { ...cursor, systemModstamp: toIsoZ(systemModstamp), lastId: id };
}

/** SOQL `WHERE` for the rest of the cursor's window (no ORDER BY, no LIMIT: Bulk API 2.0 takes neither). */
export function windowCondition(cursor: SalesforceCursor): string {
  const before = `SystemModstamp < ${cursor.windowEnd}`;
  if (cursor.systemModstamp === null) return before;
  const ts = cursor.systemModstamp;
  if (cursor.lastId === null) return `SystemModstamp >= ${ts} AND ${before}`;
  // (stamp > ts) OR (stamp = ts AND Id > lastId), written with a plain range on the indexed SystemModstamp
  // first; SOQL rejects mixing AND and OR without parentheses.
  return `SystemModstamp >= ${ts} AND (SystemModstamp > ${ts} OR Id > '${cursor.lastId}') AND ${before}`;
}

/**
 * The REST query for the next records of the window, ordered so the cursor can advance record by record.
 *
 * @example
 * windowQuery('Lead', ['Id', 'Email'], cursor, 2000)
 * // SELECT Id, Email FROM Lead WHERE SystemModstamp >= … ORDER BY SystemModstamp, Id LIMIT 2000
 */
export function windowQuery(
  object: string,
  fields: readonly string[],
  cursor: SalesforceCursor,
  limit: number,
): string {
  return `${bulkWindowQuery(object, fields, cursor)} ORDER BY SystemModstamp, Id LIMIT ${limit}`;
}

export function bulkWindowQuery(object: string, fields: readonly string[], cursor: SalesforceCursor): string {
  return `SELECT ${fields.join(', ')} FROM ${object} WHERE ${windowCondition(cursor)}`;
}

/** Whether the cursor has nothing left to read in its window (an empty window). */
export function windowIsEmpty(cursor: SalesforceCursor): boolean {
  return (
    cursor.systemModstamp !== null && cursor.lastId === null && cursor.systemModstamp >= cursor.windowEnd
  );
}
