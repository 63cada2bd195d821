import { sql, type Kysely } from 'kysely';

/**
 * Every reconcile loads its batch's closure from the source snapshots: by id (without the object: a stored
 * link or a cross-reference names only the id), by email and by cross-reference. In a 20,000-person
 * back-fill both cost more per job as the world grew:
 *
 * - by id: the primary key leads with the object after the system, so it could not serve the lookup, and
 *   each one read every snapshot of the system (2,248 sequential scans, 42 million rows);
 * - by email and cross-reference: GIN indexes by default queue new entries in a pending list that every
 *   search reads through, and the pull keeps inserting, so one lookup of 150 ids took 271 ms (11 ms once
 *   the list was merged). Without `fastupdate` an insert updates the index at once.
 */
const GIN_INDEXES = ['tandem.source_records_emails_idx', 'tandem.source_records_cross_references_idx'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw('create index source_records_record_idx on tandem.source_records (system, record_id)')
    .execute(db);
  for (const index of GIN_INDEXES) {
    await sql.raw(`alter index ${index} set (fastupdate = off)`).execute(db);
    await sql.raw(`select gin_clean_pending_list('${index}'::regclass)`).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of GIN_INDEXES) await sql.raw(`alter index ${index} reset (fastupdate)`).execute(db);
  await sql.raw('drop index if exists tandem.source_records_record_idx').execute(db);
}
