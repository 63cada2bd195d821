import { sql, type Kysely } from 'kysely';

/**
 * Source snapshots: the last state Tandem saw of each CRM record, stored by pull and read by reconcile to
 * load a batch's identity closure (records reachable by stored link, cross-reference id or normalised
 * email) without calling the CRMs again.
 */
const statements = [
  `create table tandem.source_records (
    system text not null check (system in ('hubspot', 'salesforce')),
    object text not null,
    record_id text not null,
    properties jsonb not null,
    emails text[] not null default '{}',
    cross_references text[] not null default '{}',
    modified_at timestamptz,
    content_hash text not null,
    deleted boolean not null default false,
    pulled_at timestamptz not null,
    primary key (system, object, record_id)
  )`,
  `create index source_records_emails_idx on tandem.source_records using gin (emails)`,
  `create index source_records_cross_references_idx on tandem.source_records using gin (cross_references)`,
  `create index source_records_modified_idx on tandem.source_records (system, object, modified_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists tandem.source_records').execute(db);
}
