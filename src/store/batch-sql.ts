import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Multi-row `INSERT … ON CONFLICT` for the customer view: one statement per batch, never one per record.
 * A batch only splits when it would pass PostgreSQL's 65,535 bind-parameter limit.
 */

const MAX_PARAMETERS = 65_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- works on the root db and on transactions
export type Executor = Kysely<any>;

export interface BatchInsert {
  /** Table in the `tandem` schema. */
  table: string;
  columns: readonly string[];
  /** The conflict target; rows repeating a key within one batch collapse to the last one. */
  key: readonly string[];
  /** On conflict: `nothing`, or column → SQL expression (`excluded.x`, `least(t.x, excluded.x)`…). */
  onConflict: 'nothing' | Readonly<Record<string, string>>;
  /** With an update: columns whose values, when all equal, leave the stored row untouched. */
  compare?: readonly string[];
}

export interface BatchInsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function lastPerKey(spec: BatchInsert, rows: ReadonlyArray<readonly unknown[]>): Array<readonly unknown[]> {
  const keyIndexes = spec.key.map((k) => spec.columns.indexOf(k));
  const byKey = new Map<string, readonly unknown[]>();
  for (const row of rows) byKey.set(JSON.stringify(keyIndexes.map((i) => row[i])), row);
  return [...byKey.values()];
}

function statement(
  spec: BatchInsert,
  rows: ReadonlyArray<readonly unknown[]>,
): RawBuilder<{ inserted: boolean }> {
  const target = sql.raw(`tandem.${spec.table} (${spec.columns.join(', ')})`);
  const values = sql.join(rows.map((row) => sql`(${sql.join(row)})`));
  const conflict = sql.raw(`(${spec.key.join(', ')})`);
  if (spec.onConflict === 'nothing') {
    return sql`insert into ${target} values ${values} on conflict ${conflict} do nothing returning true as inserted`;
  }
  const set = Object.entries(spec.onConflict)
    .map(([column, expression]) => `${column} = ${expression}`)
    .join(', ');
  const onlyWhenChanged =
    spec.compare === undefined || spec.compare.length === 0
      ? ''
      : ` where (${spec.compare.map((c) => `${spec.table}.${c}`).join(', ')}) is distinct from (${spec.compare
          .map((c) => `excluded.${c}`)
          .join(', ')})`;
  // xmax = 0 only on a freshly inserted row version: tells inserts from updates in one round trip.
  return sql`insert into ${target} values ${values} on conflict ${conflict} do update set ${sql.raw(
    set + onlyWhenChanged,
  )} returning (xmax = 0) as inserted`;
}

export async function batchInsert(
  db: Executor,
  spec: BatchInsert,
  rows: ReadonlyArray<readonly unknown[]>,
): Promise<BatchInsertResult> {
  const unique = lastPerKey(spec, rows);
  const result: BatchInsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS / spec.columns.length));
  for (const part of chunk(unique, rowsPerStatement)) {
    const { rows: touched } = await statement(spec, part).execute(db);
    const inserted = touched.filter((r) => r.inserted).length;
    result.inserted += inserted;
    result.updated += touched.length - inserted;
    result.unchanged += part.length - touched.length;
  }
  return result;
}

/** `column = any($1)` with the whole id list as one array parameter (no parameter-count limit). */
export function anyOf(column: string, ids: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} = any(${[...ids]}::text[])`;
}

/** JSON text for a jsonb parameter; undefined and null are stored as SQL NULL. */
export const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);
