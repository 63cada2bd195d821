import { sql, type Kysely } from 'kysely';

/**
 * The customer view's first schema: everything lives in the `tandem` PostgreSQL schema so a BI tool can
 * be pointed at one namespace. There are no foreign keys on purpose: the view is rebuilt from the CRMs in
 * whatever order pages arrive (a link may land before its person), so relationships are documented and
 * indexed instead of enforced. Every table and column is described in docs/CUSTOMER-VIEW.md.
 */
const statements = [
  // Reference table: the funnel order, so SQL can ask "reached at least sal" with a join.
  `create table tandem.lifecycle_stages (
    stage text primary key,
    position integer not null,
    in_funnel boolean not null
  )`,
  `insert into tandem.lifecycle_stages (stage, position, in_funnel) values
    ('subscriber', 1, true), ('lead', 2, true), ('mql', 3, true), ('sal', 4, true), ('sql', 5, true),
    ('opportunity', 6, true), ('customer', 7, true), ('disqualified', 0, false)`,

  `create table tandem.persons (
    id text primary key,
    email text,
    lifecycle_stage text references tandem.lifecycle_stages (stage),
    lead_score integer,
    original_source text,
    latest_source text,
    company_id text,
    fields jsonb not null default '{}'::jsonb,
    furthest_stage_position smallint not null default 0,
    mapping_version text,
    created_at timestamptz not null,
    updated_at timestamptz not null
  )`,
  `create index persons_email_idx on tandem.persons (email)`,
  // The funnel cohorts on created_at and reads only these columns.
  `create index persons_cohort_idx on tandem.persons (created_at, furthest_stage_position, original_source)`,
  `create index persons_mapping_version_idx on tandem.persons (mapping_version, id)`,
  `create index persons_company_idx on tandem.persons (company_id)`,
  `create index persons_lifecycle_stage_idx on tandem.persons (lifecycle_stage)`,

  `create table tandem.companies (
    id text primary key,
    name text,
    domain text,
    fields jsonb not null default '{}'::jsonb,
    mapping_version text,
    created_at timestamptz not null,
    updated_at timestamptz not null
  )`,
  `create index companies_domain_idx on tandem.companies (domain)`,

  `create table tandem.deals (
    id text primary key,
    name text,
    amount numeric(18, 2),
    currency text,
    stage text,
    outcome text not null default 'open' check (outcome in ('open', 'won', 'lost')),
    close_date date,
    company_id text,
    fields jsonb not null default '{}'::jsonb,
    mapping_version text,
    created_at timestamptz not null,
    updated_at timestamptz not null
  )`,
  `create index deals_company_idx on tandem.deals (company_id)`,
  `create index deals_close_date_idx on tandem.deals (close_date)`,

  `create table tandem.field_values (
    unified_id text not null,
    record_type text not null check (record_type in ('person', 'company', 'deal')),
    field text not null,
    value jsonb,
    source_system text check (source_system in ('hubspot', 'salesforce')),
    source_object text,
    source_record_id text,
    source_field text,
    changed_at timestamptz,
    rule text not null,
    mapping_version text,
    primary key (unified_id, field)
  )`,

  `create table tandem.record_links (
    system text not null check (system in ('hubspot', 'salesforce')),
    object text not null,
    record_id text not null,
    unified_id text not null,
    record_type text not null check (record_type in ('person', 'company', 'deal')),
    linked_by text not null
      check (linked_by in ('link', 'cross_reference', 'email', 'secondary_email', 'domain', 'created')),
    linked_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (system, object, record_id)
  )`,
  `create index record_links_unified_idx on tandem.record_links (unified_id)`,

  `create table tandem.duplicates (
    system text not null check (system in ('hubspot', 'salesforce')),
    object text not null,
    group_key text not null,
    record_ids jsonb not null,
    survivor_record_id text not null,
    unified_id text,
    match_key text not null,
    rule text not null,
    first_detected_at timestamptz not null,
    last_detected_at timestamptz not null,
    primary key (system, object, group_key)
  )`,

  `create table tandem.stage_history (
    person_id text not null,
    stage text not null references tandem.lifecycle_stages (stage),
    entered_at timestamptz not null,
    previous_stage text references tandem.lifecycle_stages (stage),
    reason text,
    rule text,
    accepted_at timestamptz,
    recorded_at timestamptz not null default now(),
    primary key (person_id, stage, entered_at)
  )`,
  `create index stage_history_stage_entered_idx on tandem.stage_history (stage, entered_at, person_id)`,
  // The hand-off SLA reads MQL entries by time, with their acceptance time alongside.
  `create index stage_history_mql_idx on tandem.stage_history (entered_at, person_id, accepted_at)
    where stage = 'mql'`,

  `create table tandem.touchpoints (
    id text primary key,
    person_id text not null,
    source text not null,
    detail text,
    campaign text,
    occurred_at timestamptz not null,
    system text not null check (system in ('hubspot', 'salesforce')),
    object text,
    record_id text
  )`,
  `create index touchpoints_person_idx on tandem.touchpoints (person_id, occurred_at)`,
  `create index touchpoints_source_idx on tandem.touchpoints (source, occurred_at)`,

  `create table tandem.attribution_credits (
    deal_id text not null,
    model text not null
      check (model in ('first_touch', 'last_touch', 'linear', 'u_shaped', 'w_shaped', 'time_decay')),
    touchpoint_id text not null,
    person_id text not null,
    source text not null,
    share numeric(9, 6) not null,
    credit numeric(18, 2) not null,
    computed_at timestamptz not null,
    primary key (deal_id, model, touchpoint_id)
  )`,
  `create index attribution_credits_person_idx on tandem.attribution_credits (person_id)`,
  `create index attribution_credits_source_idx on tandem.attribution_credits (model, source)`,

  `create table tandem.write_audit (
    id bigint generated always as identity primary key,
    job_id text,
    system text not null check (system in ('hubspot', 'salesforce')),
    object text not null,
    record_id text,
    unified_id text,
    field text,
    before jsonb,
    after jsonb,
    rule text,
    reason text,
    outcome text not null check (outcome in ('written', 'failed', 'skipped')),
    error_code text,
    error_message text,
    at timestamptz not null
  )`,
  `create index write_audit_unified_idx on tandem.write_audit (unified_id, at)`,
  `create index write_audit_at_idx on tandem.write_audit (at)`,
  `create index write_audit_record_idx on tandem.write_audit (system, record_id)`,

  `create table tandem.mapping_versions (
    version text primary key,
    content_hash text not null,
    applied_at timestamptz not null,
    mapping_text text not null
  )`,

  `create table tandem.sync_runs (
    id text primary key,
    system text not null check (system in ('hubspot', 'salesforce')),
    object text not null,
    kind text not null,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    started_at timestamptz not null,
    finished_at timestamptz,
    records_pulled integer not null default 0,
    records_written integer not null default 0,
    records_failed integer not null default 0,
    error text
  )`,
  `create index sync_runs_started_idx on tandem.sync_runs (started_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single statement at a time.
  for (const statement of statements) await sql.raw(statement).execute(db);
}

const tables = [
  'sync_runs',
  'mapping_versions',
  'write_audit',
  'attribution_credits',
  'touchpoints',
  'stage_history',
  'duplicates',
  'record_links',
  'field_values',
  'deals',
  'companies',
  'persons',
  'lifecycle_stages',
];

export async function down(db: Kysely<unknown>): Promise<void> {
  // The schema itself stays: Kysely's own migration tables live in it.
  for (const table of tables) await sql.raw(`drop table if exists tandem.${table}`).execute(db);
}
