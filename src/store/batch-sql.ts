import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Batched writes for the customer view: one statement per batch, never one per record. The whole batch
 * travels as ONE jsonb parameter (an array of rows, each an array of its values in column order) unpacked
 * by `jsonb_array_elements`, so there is no bind-parameter limit,
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

/**
 * The rows' key, one string per row: values as JSON (so `1` and `'1'`, `null` and `'null'` stay apart);
 * strings, the common case, without stringifying (the `s` tag and the length keep two keys apart).
 */
function keyOf(key: readonly string[], row: BatchRow): string {
  let out = '';
  for (const k of key) {
    const v = row[k] ?? null;
    out += typeof v === 'string' ? `s${v.length}:${v}` : `j${JSON.stringify(v)}\u0000`;
  }
  return out;
}

function lastPerKey(spec: BatchInsert, rows: readonly BatchRow[]): readonly BatchRow[] {
  if (spec.key.length === 0) return rows;
  const byKey = new Map<string, BatchRow>();
  for (const row of rows) byKey.set(keyOf(spec.key, row), row);
  return byKey.size === rows.length ? rows : [...byKey.values()];
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

/**
 * A column of the batch as read from its row, a JSON array in column order: the same value
 * `jsonb_to_recordset` gives a column of that type (a JSON null or a missing entry is NULL; a scalar goes
 * through the type's input function; an array fills an array column).
 */
function columnValue(type: string, i: number): string {
  if (type === 'jsonb') return `nullif(r->${i}, 'null'::jsonb)`;
  if (type === 'text') return `r->>${i}`;
  if (type.endsWith('[]'))
    return `case jsonb_typeof(r->${i}) when 'array' then array(select e::${type.slice(0, -2)}
      from jsonb_array_elements_text(r->${i}) with ordinality as a(e, n) order by n) else (r->>${i})::${type} end`;
  return `(r->>${i})::${type}`;
}

const statements = new WeakMap<BatchInsert, { head: RawBuilder<unknown>; tail: RawBuilder<unknown> }>();

/** The statement's text around its one parameter, built once per spec. */
function statementText(spec: BatchInsert): { head: RawBuilder<unknown>; tail: RawBuilder<unknown> } {
  const known = statements.get(spec);
  if (known !== undefined) return known;
  const columns = Object.entries(spec.columns);
  const derived = Object.entries(spec.derived ?? {});
  const names = [...columns.map(([column]) => column), ...derived.map(([column]) => column)];
  const selected = [
    ...columns.map(([column]) => `batch.${column}`),
    ...derived.map(([column, expression]) => `${expression} as ${column}`),
  ];
  const unpacked = columns.map(([column, type], i) => `${columnValue(type, i)} as ${column}`);
  const head = sql.raw(
    `insert into tandem.${spec.table} (${names.join(', ')}) select ${selected.join(', ')} from (select ${unpacked.join(', ')} from jsonb_array_elements(`,
  );
  // xmax = 0 only on a freshly inserted row version: tells inserts from updates in the same round trip.
  const tail = sql.raw(`) as rows(r)) as batch ${conflictClause(spec)} returning (xmax = 0) as inserted`);
  const text = { head, tail };
  statements.set(spec, text);
  return text;
}

/**
 * The rows travel as one JSON array of arrays, each row's values in column order (no column names repeated
 * per row: a third to a half of the bytes), in the rows' order.
 */
function statement(spec: BatchInsert, rows: readonly BatchRow[]): RawBuilder<{ inserted: boolean }> {
  const { head, tail } = statementText(spec);
  const columns = Object.keys(spec.columns);
  const values = rows.map((row) => columns.map((column) => row[column] ?? null));
  return sql`${head}${JSON.stringify(values)}::jsonb${tail}`;
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
