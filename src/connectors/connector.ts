// The one shape both CRM connectors have, so pull and write-back workers never care which CRM they talk to.
// Pull is resumable: every page carries the checkpoint to save; a crash re-reads at most one page.

import { z } from 'zod';
import type { LiveSchema } from '../domain/mapping/live.js';
import type { System } from '../domain/mapping/schema.js';
import type { HubSpotObjectName, SalesforceObjectName, SourceRecord } from '../domain/records.js';
import type { Classification } from './classify.js';

export type ConnectorObject<S extends System> = S extends 'hubspot'
  ? HubSpotObjectName
  : SalesforceObjectName;

// Salesforce writes offsets without a colon (`+0000`), which z.iso.datetime rejects.
const isoTimestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T/, 'expected an ISO date-time')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date-time');

/**
 * Back-fill: the first full read (HubSpot list endpoint, Salesforce SOQL without a window). `after` is the
 * vendor's opaque paging token (HubSpot `after`, Salesforce `nextRecordsUrl`), `startedAt` when the
 * back-fill began: the incremental phase starts from it (minus a safety margin) so nothing changed
 * during the back-fill is missed.
 */
export const BackfillCheckpointSchema = z.object({
  system: z.enum(['hubspot', 'salesforce']),
  object: z.string().min(1),
  phase: z.literal('backfill'),
  after: z.string().min(1).nullable(),
  startedAt: isoTimestamp,
});

/**
 * Incremental: everything with (modified, id) greater than (`since`, `lastId`) is still to be read; `lastId`
 * null means every record modified at or after `since`. `deletedSince` is the deletion cursor (HubSpot
 * `archivedAt`, Salesforce `deletedDate`).
 */
export const IncrementalCheckpointSchema = z.object({
  system: z.enum(['hubspot', 'salesforce']),
  object: z.string().min(1),
  phase: z.literal('incremental'),
  since: isoTimestamp,
  lastId: z.string().min(1).nullable(),
  deletedSince: isoTimestamp.optional(),
  /** When the last scan for deletions began (HubSpot: the archived list, read in full each scan). */
  deletionsScannedAt: isoTimestamp.optional(),
  /**
   * The exclusive upper bound of the window being read (Salesforce: `SystemModstamp < windowEnd`), fixed when
   * the window starts so a resumed pull finishes the same window; absent between windows.
   */
  windowEnd: isoTimestamp.optional(),
});

export const CheckpointSchema = z.discriminatedUnion('phase', [
  BackfillCheckpointSchema,
  IncrementalCheckpointSchema,
]);

export type BackfillCheckpoint = z.infer<typeof BackfillCheckpointSchema>;
export type IncrementalCheckpoint = z.infer<typeof IncrementalCheckpointSchema>;
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/** Parses a stored checkpoint; throws a zod error naming the bad field. */
export function parseCheckpoint(value: unknown): Checkpoint {
  return CheckpointSchema.parse(value);
}

/** A record that disappeared: deleted/archived, or merged into another record (`mergedInto`). */
export interface DeletedRecord {
  system: System;
  object: string;
  id: string;
  /** ISO time of the deletion when the CRM says; else when Tandem noticed. */
  deletedAt: string;
  mergedInto?: string;
}

export interface PullPage {
  records: SourceRecord[];
  deleted: DeletedRecord[];
  /** Save this after the page is handled; pull(object, checkpoint) resumes right after it. */
  checkpoint: Checkpoint;
}

export interface PullOptions {
  pageSize?: number;
  signal?: AbortSignal;
  /**
   * `when-due`: skip a deletion scan that is expensive and was done recently (HubSpot's archived list,
   * `deletionScanIntervalMs`), as scheduled pulls do; `always` (default): scan on every incremental pass.
   */
  deletionScan?: 'always' | 'when-due';
}

export type FieldValue = string | number | boolean | null;

export interface WriteOp {
  kind: 'create' | 'update' | 'upsert' | 'archive';
  /** The caller's correlation id; echoed in the outcome. */
  ref: string;
  /** For update and archive. */
  recordId?: string;
  /** For upsert: the unique property / external id field (HubSpot `email`, Salesforce `HubSpot_Contact_ID__c`). */
  idProperty?: string;
  idValue?: string;
  fields: Record<string, FieldValue>;
}

export type WriteOutcome =
  | { ref: string; ok: true; recordId: string; created: boolean }
  | { ref: string; ok: false; classification: Classification };

export interface CrmConnector<S extends System = System> {
  readonly system: S;
  /** Pages of records and deletions from `checkpoint` (null: start a back-fill). Save each page's checkpoint. */
  pull(
    object: ConnectorObject<S>,
    checkpoint: Checkpoint | null,
    options?: PullOptions,
  ): AsyncIterable<PullPage>;
  /**
   * One outcome per op, in the order given. Never throws for a per-record failure; throws a Tandem error
   * (classify.ts) only when the whole call cannot proceed (auth, budget exhausted).
   */
  write(object: ConnectorObject<S>, ops: readonly WriteOp[]): Promise<WriteOutcome[]>;
  /** The live schema (cached after the first call). */
  readSchema(): Promise<LiveSchema[S]>;
}
