import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Batched writes for the customer view: one statement per batch, never one per record. The whole batch
 * travels as ONE jsonb parameter unpacked by `jsonb_to_recordset`, so there is no bind-parameter limit,
 * statement text stays tiny (fast to build and to plan), and both `pg` and PGlite see the same shape.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- works on the root db and on transactions
export type Executor = Kysely<any>;

export interface BatchInsert {
  /** Table in the `tandem` schema. */
  table: string;
  /** Column → SQL type, in insert order. */
  columns: Readonly<Record<string, string>>;
  /** The conflict target; rows repeating a key within one batch collapse to the last one. */
  key: readonly string[];
  /**
   * `none`: plain insert; `nothing`: skip rows whose key exists; or column → SQL expression to update
   * (`excluded.x`, `least(t.x, excluded.x)`…).
   */
  onConflict: 'none' | 'nothing' | Readonly<Record<string, string>>;
  /** With an update: columns whose values, when all equal, leave the stored row untouched. */
  compare?: readonly string[];
  /** With `compare`: an extra condition (over the table and `excluded`) that still makes it an update. */
  alsoUpdateWhen?: string;
  /**
   * With an update: a condition (over the table and `excluded`) without which the stored row is kept
   * whatever changed, e.g. "the incoming row is not older than the stored one".
   */
  guard?: string;
  /** Columns computed in SQL from the incoming row (`batch.<column>`) instead of sent. */
  derived?: Readonly<Record<string, string>>;
}

export interface BatchInsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** A row as column → value; Dates travel as ISO text, objects as nested JSON, undefined as NULL. */
export type BatchRow = Record<string, unknown>;

function lastPerKey(spec: BatchInsert, rows: readonly BatchRow[]): BatchRow[] {
  if (spec.key.length === 0) return [...rows];
  const byKey = new Map<string, BatchRow>();
  for (const row of rows) byKey.set(JSON.stringify(spec.key.map((k) => row[k] ?? null)), row);
  return [...byKey.values()];
}

function conflictClause(spec: BatchInsert): string {
  if (spec.onConflict === 'none') return '';
  const target = `on conflict (${spec.key.join(', ')})`;
  if (spec.onConflict === 'nothing') return `${target} do nothing`;
  const set = Object.entries(spec.onConflict)
    .map(([column, expression]) => `${column} = ${expression}`)
    .join(', ');
  const compare = spec.compare ?? [];
  const also = spec.alsoUpdateWhen === undefined ? '' : ` or ${spec.alsoUpdateWhen}`;
  const conditions: string[] = [];
  if (spec.guard !== undefined) conditions.push(`(${spec.guard})`);
  if (compare.length > 0)
    conditions.push(
      `((${compare.map((c) => `${spec.table}.${c}`).join(', ')}) is distinct from (${compare
        .map((c) => `excluded.${c}`)
        .join(', ')})${also})`,
    );
  const onlyWhenChanged = conditions.length === 0 ? '' : ` where ${conditions.join(' and ')}`;
  return `${target} do update set ${set}${onlyWhenChanged}`;
}

function statement(spec: BatchInsert, rows: readonly BatchRow[]): RawBuilder<{ inserted: boolean }> {
  const derived = Object.entries(spec.derived ?? {});
  const names = [...Object.keys(spec.columns), ...derived.map(([column]) => column)];
  const selected = [
    ...Object.keys(spec.columns).map((column) => `batch.${column}`),
    ...derived.map(([column, expression]) => `${expression} as ${column}`),
  ];
  const recordType = Object.entries(spec.columns)
    .map(([column, type]) => `${column} ${type}`)
    .join(', ');
  const head = sql.raw(
    `insert into tandem.${spec.table} (${names.join(', ')}) select ${selected.join(', ')} from`,
  );
  // xmax = 0 only on a freshly inserted row version: tells inserts from updates in the same round trip.
  const tail = sql.raw(`as batch(${recordType}) ${conflictClause(spec)} returning (xmax = 0) as inserted`);
  return sql`${head} jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) ${tail}`;
}

export async function batchInsert(
  db: Executor,
  spec: BatchInsert,
  rows: readonly BatchRow[],
): Promise<BatchInsertResult> {
  const unique = lastPerKey(spec, rows);
  if (unique.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const { rows: touched } = await statement(spec, unique).execute(db);
  const inserted = touched.filter((r) => r.inserted).length;
  return { inserted, updated: touched.length - inserted, unchanged: unique.length - touched.length };
}

/** `column = any($1)` with the whole id list as one array parameter (no parameter-count limit). */
export function anyOf(column: string, ids: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} = any(${[...ids]}::text[])`;
}
