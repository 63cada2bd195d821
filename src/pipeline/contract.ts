import type { Checkpoint } from '../connectors/connector.js';
import type { System } from '../domain/mapping/schema.js';
import type { ObjectName } from '../domain/records.js';
import type { RecordWrite } from '../domain/write-plan.js';
import type { FailureDetail } from '../queues/failure.js';

/**
 * The sync pipeline as the queue layer sees it: three steps, each callable without queues (so `tandem
 * mappings preview`, `rebuild` and tests can drive them directly). The queue layer (`src/queues/`,
 * `workers/`) turns each step into jobs; this module never imports BullMQ.
 *
 *   pull(system, object)      → pages of refs, snapshots stored, checkpoint saved once a page is handed on
 *                               (pages grouped to `groupRefs` refs when asked)
 *   reconcile(kind, refs)     → unified view saved, WriteBatches planned (no API call)
 *   writeBack(batch)          → per-record outcomes; failures come back one per record, replayable
 */

export type EntityKind = 'person' | 'company' | 'deal';

/** A CRM record Tandem knows of. */
export interface SourceRef {
  system: System;
  object: ObjectName;
  id: string;
}

export type PullMode = 'incremental' | 'backfill' | 'rebuild';

/** One page of a pull: its records are stored as snapshots; `refs` go on to reconcile. */
export interface PulledPage {
  system: System;
  object: ObjectName;
  kind: EntityKind;
  refs: SourceRef[];
  deleted: SourceRef[];
  checkpoint: Checkpoint;
  /**
   * Records read (incremental pulls) that hold exactly what their last reconcile left them holding — the
   * echo of Tandem's own writes — and are therefore not among `refs`.
   */
  alreadyReconciled?: number;
  /**
   * Records of persons due for re-evaluation (a `changed_within_days` window closed), read from the store,
   * not from the CRM: reconciled whatever they hold (never skipped as already reconciled).
   */
  dueForReevaluation?: true;
}

/** Writes for one system and object, at most one API batch (HubSpot 100, Salesforce 200). */
export interface WriteBatch {
  system: System;
  object: ObjectName;
  writes: RecordWrite[];
  mappingVersion: string;
  /** Deterministic digest of the content: the queue layer's job id, so a re-planned batch is not queued twice. */
  key: string;
}

/** One record that failed alone, with what an admin needs and what a replay needs. */
export interface RecordFailure {
  detail: FailureDetail;
  /** The write to retry on replay (write-back failures). */
  write?: RecordWrite;
  /** The records to reconcile again on replay (reconcile failures, e.g. an unmapped picklist value). */
  refs?: SourceRef[];
  kind?: EntityKind;
}

export interface ReconcileOutcome {
  entities: number;
  writes: WriteBatch[];
  failures: RecordFailure[];
  dryRun: boolean;
  /** Records parked until both systems' first full read of the kind (reconciled then, by that pull). */
  parked?: number;
  /**
   * Records of entities a later read claimed while this reconcile stored their customer-view rows: those
   * rows may have landed after the later read's. Queue them for another reconcile, which leaves the view
   * with what the records hold then.
   */
  reconcileAgain?: SourceRef[];
  /** Refs left out because they hold what their last reconcile left them holding (`skipReconciled`). */
  alreadyReconciled?: number;
}

export interface WriteBackOutcome {
  written: number;
  created: number;
  failed: RecordFailure[];
  /** The daily API budget ran out part-way: these writes were not sent and must wait `waitMs`. */
  deferred?: { waitMs: number; batch: WriteBatch };
  /**
   * With `queueFollowUps`: the writes that settle what this batch created (or replanned), for the caller to
   * queue instead of the pipeline sending them.
   */
  followUps?: WriteBatch[];
  /** With `queueFollowUps`: records the settle round found claimed by a later read, to reconcile again. */
  reconcileAgain?: { kind: EntityKind; refs: SourceRef[] };
}

export interface WriteBackOptions {
  jobId: string;
  /** Read the records again and plan afresh instead of sending the stored writes (a replay). */
  replan?: boolean;
  /**
   * Hand back the settling writes (`WriteBackOutcome.followUps`) after one settle round instead of sending
   * them, so a queue can batch them with other jobs' writes. Default: sent here, round after round.
   */
  queueFollowUps?: boolean;
}

export interface PullOptions {
  mode: PullMode;
  signal?: AbortSignal;
  pageSize?: number;
  /** A scheduler's tick: expensive deletion scans run only when due (`deletionScanIntervalMs`). */
  scheduled?: boolean;
  /**
   * Hand consecutive connector pages on together until they hold at least this many refs (or the first of
   * them was read `GROUP_MAX_WAIT_MS` ago): one page of the object's refs, plus one per person object its
   * deals point at. Unset: every connector page on its own. Either way a page's checkpoint is saved only
   * once the consumer asks for the page after it (its group's refs handed on).
   */
  groupRefs?: number;
}

export interface ReconcileOptions {
  /** Plan and return, but save nothing and write nothing (preview). */
  dryRun?: boolean;
  jobId?: string;
  /**
   * Leave out refs whose record holds exactly what its last reconcile left it holding (another job of the
   * same pull reconciled its entity already, and its writes landed or none were planned).
   */
  skipReconciled?: boolean;
}

export interface SyncPipeline {
  /** The objects a full cycle pulls, in order (companies before persons before deals). */
  readonly objects: ReadonlyArray<{ system: System; object: ObjectName; kind: EntityKind }>;
  readonly mappingVersion: string;
  pull(system: System, object: ObjectName, options: PullOptions): AsyncIterable<PulledPage>;
  reconcile(
    kind: EntityKind,
    refs: readonly SourceRef[],
    options?: ReconcileOptions,
  ): Promise<ReconcileOutcome>;
  /** `replan`: read the batch's records again and write what they need now (a replay), not the stored writes. */
  writeBack(batch: WriteBatch, options: WriteBackOptions): Promise<WriteBackOutcome>;
  /** Refs of every unified record whose stored mapping version differs from the current one (back-fill). */
  refsForMappingBackfill(kind: EntityKind, options: { after?: string; limit: number }): Promise<SourceRef[]>;
  close(): Promise<void>;
}
