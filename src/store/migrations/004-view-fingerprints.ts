import { sql, type Kysely } from 'kysely';

/**
 * One fingerprint per stored part of the customer view (`person:<id>`, `company:<id>`, `deal:<id>` for an
 * entity's row and field provenance, plus touchpoints for a person; `credits:<deal id>` for a deal's
 * attribution credits): a hash of the rows last stored for it. A reconcile whose rows hash the same stores
 * nothing for that part — the echo of Tandem's own writes and every repeated reconcile of an unchanged
 * person cost no rewrite. Written in the transaction that stores the rows, so it never names rows that are
 * not there; losing it (or this table) only makes the next reconcile store everything again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `create table tandem.view_fingerprints (
        part text primary key,
        fingerprint text not null
      )`,
    )
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists tandem.view_fingerprints').execute(db);
}
