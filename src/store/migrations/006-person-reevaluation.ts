import { sql, type Kysely } from 'kysely';

/**
 * `persons.reevaluate_at`: when one of the mapping's `changed_within_days` windows next closes for the
 * person (src/domain/reevaluation.ts). An incremental pull hands the persons whose instant has passed on to
 * reconcile, though neither CRM changed them. Null when no window is open; the partial index keeps the
 * sweep's lookup to the persons that have one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table tandem.persons add column reevaluate_at timestamptz').execute(db);
  await sql
    .raw(
      'create index persons_reevaluate_at_idx on tandem.persons (reevaluate_at, id) where reevaluate_at is not null',
    )
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop index if exists tandem.persons_reevaluate_at_idx').execute(db);
  await sql.raw('alter table tandem.persons drop column if exists reevaluate_at').execute(db);
}
