import { sql, type Kysely } from 'kysely';

/**
 * `source_records.reconciled_hash`: per record, the hash of what it holds once the last reconcile's planned
 * writes land (`reconcileHash` in src/pipeline/snapshots.ts). A pull reading a record back holding exactly
 * that — the echo of Tandem's own writes — hands it on to no reconcile. Null (never reconciled, or this
 * column lost) only means the next read is reconciled as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table tandem.source_records add column reconciled_hash text').execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table tandem.source_records drop column if exists reconciled_hash').execute(db);
}
