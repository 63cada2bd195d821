import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely's view of the `tandem` schema (see migrations/ and docs/CUSTOMER-VIEW.md). jsonb columns are
 * written as JSON text (so `pg` never mistakes an array for a PostgreSQL array) and read back parsed.
 */
type Json = ColumnType<unknown, string, string>;
type JsonOrNull = ColumnType<unknown, string | null, string | null>;
type Timestamp = ColumnType<Date, Date, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null, Date | null>;
type Numeric = ColumnType<number, number, number>;

export type RecordType = 'person' | 'company' | 'deal';
export type SystemName = 'hubspot' | 'salesforce';
export type LinkedBy = 'link' | 'cross_reference' | 'email' | 'secondary_email' | 'domain' | 'created';
export type DealOutcome = 'open' | 'won' | 'lost';
export type WriteOutcome = 'written' | 'failed' | 'skipped';
export type SyncRunStatus = 'running' | 'succeeded' | 'failed';

export interface LifecycleStagesTable {
  stage: string;
  position: number;
  in_funnel: boolean;
}

export interface PersonsTable {
  id: string;
  email: string | null;
  lifecycle_stage: string | null;
  lead_score: number | null;
  original_source: string | null;
  latest_source: string | null;
  company_id: string | null;
  fields: Json;
  /** Furthest funnel stage ever reached (lifecycle_stages.position; 0 = none), maintained on write. */
  furthest_stage_position: Generated<number>;
  mapping_version: string | null;
  /** When a `changed_within_days` window next closes for the person (migration 006). */
  reevaluate_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CompaniesTable {
  id: string;
  name: string | null;
  domain: string | null;
  fields: Json;
  mapping_version: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DealsTable {
  id: string;
  name: string | null;
  amount: ColumnType<number | null, number | null, number | null>;
  currency: string | null;
  stage: string | null;
  outcome: DealOutcome;
  /** `YYYY-MM-DD`. */
  close_date: string | null;
  company_id: string | null;
  fields: Json;
  mapping_version: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FieldValuesTable {
  unified_id: string;
  record_type: RecordType;
  field: string;
  value: JsonOrNull;
  source_system: SystemName | null;
  source_object: string | null;
  source_record_id: string | null;
  source_field: string | null;
  changed_at: NullableTimestamp;
  rule: string;
  mapping_version: string | null;
}

export interface RecordLinksTable {
  system: SystemName;
  object: string;
  record_id: string;
  unified_id: string;
  record_type: RecordType;
  linked_by: LinkedBy;
  linked_at: Timestamp;
  updated_at: Timestamp;
}

export interface DuplicatesTable {
  system: SystemName;
  object: string;
  group_key: string;
  record_ids: Json;
  survivor_record_id: string;
  unified_id: string | null;
  match_key: string;
  rule: string;
  first_detected_at: Timestamp;
  last_detected_at: Timestamp;
}

export interface StageHistoryTable {
  person_id: string;
  stage: string;
  entered_at: Timestamp;
  previous_stage: string | null;
  reason: string | null;
  rule: string | null;
  /** On mql entries: the first sal-or-later entry at or after it (maintained on append). */
  accepted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  recorded_at: ColumnType<Date, Date | undefined, Date>;
}

export interface TouchpointsTable {
  id: string;
  person_id: string;
  source: string;
  detail: string | null;
  campaign: string | null;
  occurred_at: Timestamp;
  system: SystemName;
  object: string | null;
  record_id: string | null;
}

export interface AttributionCreditsTable {
  deal_id: string;
  model: string;
  touchpoint_id: string;
  person_id: string;
  source: string;
  share: Numeric;
  credit: Numeric;
  computed_at: Timestamp;
}

export interface WriteAuditTable {
  id: Generated<number>;
  job_id: string | null;
  system: SystemName;
  object: string;
  record_id: string | null;
  unified_id: string | null;
  field: string | null;
  before: JsonOrNull;
  after: JsonOrNull;
  rule: string | null;
  reason: string | null;
  outcome: WriteOutcome;
  error_code: string | null;
  error_message: string | null;
  at: Timestamp;
}

export interface MappingVersionsTable {
  version: string;
  content_hash: string;
  applied_at: Timestamp;
  mapping_text: string;
}

export interface SyncRunsTable {
  id: string;
  system: SystemName;
  object: string;
  kind: string;
  status: SyncRunStatus;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  records_pulled: Generated<number>;
  records_written: Generated<number>;
  records_failed: Generated<number>;
  error: string | null;
}

export interface SourceRecordsTable {
  system: SystemName;
  object: string;
  record_id: string;
  properties: Json;
  emails: string[];
  cross_references: string[];
  modified_at: NullableTimestamp;
  content_hash: string;
  deleted: boolean;
  pulled_at: Timestamp;
  /** What the record holds once the last reconcile's writes land (see migration 005). */
  reconciled_hash: string | null;
}

export interface ViewFingerprintsTable {
  part: string;
  fingerprint: string;
}

/** Table names as Kysely sees them once scoped with `withSchema('tandem')`. */
export interface CustomerViewDatabase {
  lifecycle_stages: LifecycleStagesTable;
  persons: PersonsTable;
  companies: CompaniesTable;
  deals: DealsTable;
  field_values: FieldValuesTable;
  record_links: RecordLinksTable;
  duplicates: DuplicatesTable;
  stage_history: StageHistoryTable;
  touchpoints: TouchpointsTable;
  attribution_credits: AttributionCreditsTable;
  write_audit: WriteAuditTable;
  mapping_versions: MappingVersionsTable;
  sync_runs: SyncRunsTable;
  source_records: SourceRecordsTable;
  view_fingerprints: ViewFingerprintsTable;
}
