import { sql, type Kysely } from 'kysely';

/**
 * Reconcile loads a batch's closure and write-back locks the snapshots it changes by system and record id,
 * without the object (a stored link or a cross-reference names only the id). The primary key leads with
 * the object after the system, so those lookups read every snapshot of the system: per job, a cost that grew
 * with the world (2,248 sequential scans reading 42 million rows in a 20,000-person back-fill).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw('create index source_records_record_idx on tandem.source_records (system, record_id)')
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop index if exists tandem.source_records_record_idx').execute(db);
}
