import type { DealOutcome, LinkedBy, RecordType, SyncRunStatus, SystemName, WriteOutcome } from './schema.js';

export type { DealOutcome, LinkedBy, RecordType, SyncRunStatus, SystemName, WriteOutcome };

/**
 * Plain rows the customer view stores and returns (camelCase; the tables are snake_case). They follow
 * the domain's vocabulary closely so a thin glue layer can map reconcile results straight into them.
 * Optional properties left out are stored as NULL: an upsert replaces the whole current record.
 */

/** Stage names as the mapping language spells them (`src/domain/mapping/schema.ts`). */
export const FUNNEL_STAGES = ['subscriber', 'lead', 'mql', 'sal', 'sql', 'opportunity', 'customer'] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];
export type StageName = FunnelStage | 'disqualified';

export type FieldMap = Record<string, unknown>;

export interface PersonRecord {
  id: string;
  /** Normalised (trimmed, lower-cased) by the domain. */
  email?: string | null;
  lifecycleStage?: StageName | null;
  leadScore?: number | null;
  originalSource?: string | null;
  latestSource?: string | null;
  companyId?: string | null;
  fields: FieldMap;
  mappingVersion?: string | null;
  /** When a `changed_within_days` window next closes for the person: reconciled again then (null: none open). */
  reevaluateAt?: Date | null;
  /** When the person first appeared in either CRM (the earliest create date); the funnel cohorts on it. */
  createdAt: Date;
  updatedAt: Date;
}

export interface CompanyRecord {
  id: string;
  name?: string | null;
  domain?: string | null;
  fields: FieldMap;
  mappingVersion?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DealRecord {
  id: string;
  name?: string | null;
  amount?: number | null;
  currency?: string | null;
  stage?: string | null;
  outcome: DealOutcome;
  /** `YYYY-MM-DD`. */
  closeDate?: string | null;
  companyId?: string | null;
  fields: FieldMap;
  mappingVersion?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What one batched upsert did: rows whose stored values were already identical are left untouched. */
export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** Where a unified field's current value came from and which rule chose it. */
export interface FieldProvenance {
  unifiedId: string;
  recordType: RecordType;
  field: string;
  value: unknown;
  sourceSystem?: SystemName | null;
  sourceObject?: string | null;
  sourceRecordId?: string | null;
  sourceField?: string | null;
  changedAt?: Date | null;
  /** The conflict rule (or other decision) that picked this value, e.g. `newest`, `hubspot`. */
  rule: string;
  mappingVersion?: string | null;
}

export interface RecordLink {
  system: SystemName;
  /** `contacts`, `companies`, `deals`, `Lead`, `Contact`, `Account`, `Opportunity`. */
  object: string;
  recordId: string;
  unifiedId: string;
  recordType: RecordType;
  linkedBy: LinkedBy;
  /** Defaults to now when stored; kept while the link keeps pointing at the same unified record. */
  linkedAt?: Date;
  updatedAt?: Date;
}

export interface DuplicateReport {
  system: SystemName;
  object: string;
  recordIds: readonly string[];
  survivorRecordId: string;
  unifiedId?: string | null;
  /** What the records share: `email`, `secondary_email`, `domain`… */
  matchKey: string;
  /** The survivor rule: `oldest`, `most_recently_modified`, `most_complete`. */
  rule: string;
  detectedAt: Date;
}

export interface StoredDuplicateReport extends Omit<DuplicateReport, 'detectedAt'> {
  firstDetectedAt: Date;
  lastDetectedAt: Date;
}

export interface StageEntry {
  personId: string;
  stage: StageName;
  enteredAt: Date;
  previousStage?: StageName | null;
  reason?: string | null;
  /** The lifecycle rule that moved the person (a definition, a recycle or disqualify rule). */
  rule?: string | null;
}

export interface Touchpoint {
  /** Deterministic from the domain (system, record, source, time), so credits can point at it. */
  id: string;
  personId: string;
  /** Unified source name from the mapping's attribution sources. */
  source: string;
  detail?: string | null;
  campaign?: string | null;
  occurredAt: Date;
  system: SystemName;
  object?: string | null;
  recordId?: string | null;
}

export interface AttributionCredit {
  dealId: string;
  model: string;
  touchpointId: string;
  personId: string;
  source: string;
  /** Fraction of the deal credited to this touchpoint (0..1). */
  share: number;
  /** Share × deal amount. */
  credit: number;
  computedAt: Date;
}

export interface WriteAuditEntry {
  jobId?: string | null;
  system: SystemName;
  object: string;
  recordId?: string | null;
  unifiedId?: string | null;
  field?: string | null;
  before?: unknown;
  after?: unknown;
  rule?: string | null;
  reason?: string | null;
  outcome: WriteOutcome;
  errorCode?: string | null;
  errorMessage?: string | null;
  at: Date;
}

export interface StoredWriteAuditEntry extends WriteAuditEntry {
  id: number;
}

export interface MappingVersion {
  version: string;
  contentHash: string;
  mappingText: string;
  appliedAt: Date;
}

export interface SyncRunStart {
  system: SystemName;
  object: string;
  /** e.g. `initial`, `incremental`, `backfill`, `replay`. */
  kind: string;
  startedAt: Date;
}

export interface SyncRunFinish {
  status: Exclude<SyncRunStatus, 'running'>;
  finishedAt: Date;
  recordsPulled: number;
  recordsWritten: number;
  recordsFailed: number;
  error?: string | null;
}

export interface SyncRun extends SyncRunStart {
  id: string;
  status: SyncRunStatus;
  finishedAt: Date | null;
  recordsPulled: number;
  recordsWritten: number;
  recordsFailed: number;
  error: string | null;
}

export type PersonLookup =
  { unifiedId: string } | { email: string } | { system: SystemName; recordId: string; object?: string };

/** Everything the dashboard shows about one person. */
export interface PersonView {
  person: Required<PersonRecord>;
  fields: FieldProvenance[];
  links: RecordLink[];
  stageHistory: StageEntry[];
  touchpoints: Touchpoint[];
  credits: AttributionCredit[];
  /** Newest first: one page of the audit trail (`auditOffset`, `auditLimit`). */
  audit: StoredWriteAuditEntry[];
  /** Every audit row of this person, of which `audit` is a page. */
  auditTotal: number;
  /** Where `audit` starts in the whole trail (0 = the newest write). */
  auditOffset: number;
}

export interface FunnelQuery {
  /** Cohort: persons created in [from, to). */
  from: Date;
  to: Date;
  groupBy: 'original_source' | 'month';
}

export interface FunnelStageCount {
  stage: FunnelStage;
  /** Persons who reached this stage or any later one. */
  reached: number;
  /** reached / reached at the previous stage; null for the first stage or when the previous is 0. */
  conversionFromPrevious: number | null;
}

export interface FunnelGroup {
  /** The original source (`(none)` when blank) or the cohort month `YYYY-MM` (UTC). */
  key: string;
  persons: number;
  stages: FunnelStageCount[];
}

export interface FunnelReport {
  groups: FunnelGroup[];
  overall: FunnelGroup;
}

export interface SlaQuery {
  hours: number;
  now: Date;
  /** Only MQL entries at or after this time. */
  since?: Date;
  /** Most breaches listed, oldest first (default 500); `total` counts them all. */
  limit?: number;
}

export interface SlaReport {
  total: number;
  breaches: SlaBreach[];
}

export interface SlaBreach {
  personId: string;
  email: string | null;
  mqlAt: Date;
  dueAt: Date;
  /** When sales accepted (sal or later) after the deadline; null if not yet. */
  acceptedAt: Date | null;
}

export interface SyncRunQuery {
  since?: Date;
  system?: SystemName;
  object?: string;
  limit?: number;
}

export interface MappingBackfillPage {
  recordType: RecordType;
  /** The mapping version now in force; records stamped with any other (or none) are returned. */
  currentVersion: string;
  /** Keyset paging: ids strictly after this one. */
  afterId?: string;
  limit?: number;
}

/** The last state Tandem saw of one CRM record, as pulled. */
export interface SourceSnapshot {
  system: SystemName;
  object: string;
  recordId: string;
  /** The CRM's own property / field values. */
  properties: Record<string, unknown>;
  /** Normalised emails, primary first (for identity lookups). */
  emails: readonly string[];
  /** Ids of the other system's records this one names (cross-reference fields, converted-lead ids). */
  crossReferences: readonly string[];
  modifiedAt: Date | null;
  /** Hash of `properties`: an unchanged record is not rewritten. */
  contentHash: string;
  deleted: boolean;
  pulledAt: Date;
  /** What the record holds once its last reconcile's writes land (`markReconciled`); absent until then. */
  reconciledHash?: string;
}
