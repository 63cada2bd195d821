// The sync pipeline: pull → reconcile → write-back, each callable without queues.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { RateLimitedError, TransientError, type Classification } from '../connectors/classify.js';
import {
  CheckpointSchema,
  type Checkpoint,
  type DeletedRecord,
  type FieldValue,
  type PullOptions as ConnectorPullOptions,
  type PullPage,
  type WriteOp,
  type WriteOutcome,
} from '../connectors/connector.js';
import type { HubSpotConnector } from '../connectors/hubspot/connector.js';
import type { SalesforceConnector } from '../connectors/salesforce/connector.js';
import { reconcileBatch, type BatchInput, type BatchResult } from '../domain/batch.js';
import type { IdentityGroup } from '../domain/identity.js';
import { compileMapping } from '../domain/compiled.js';
import type { TargetSchemaHints } from '../domain/field-sync.js';
import { canonicalValue, valueHash } from '../domain/hash.js';
import { parseInstant } from '../domain/values/coerce.js';
import { replacedEntry, replacedField } from '../domain/merge.js';
import type { StageEntry as DomainStageEntry } from '../domain/lifecycle.js';
import {
  LIFECYCLE_STAGES,
  type LifecycleStage,
  type Mapping,
  type System,
} from '../domain/mapping/schema.js';
import { resolveSalesforceRef } from '../domain/field-sync.js';
import type {
  HubSpotObjectName,
  ObjectName,
  RawValue,
  SalesforceObjectName,
  SourceRecord,
} from '../domain/records.js';
import type { StageState } from '../domain/reconcile.js';
import { stageRank } from '../domain/stages.js';
import type { RecordWrite } from '../domain/write-plan.js';
import { anyOf } from '../store/batch-sql.js';
import { CustomerView } from '../store/customer-view.js';
import type { SourceSnapshot, StageName, WriteAuditEntry } from '../store/customer-view-types.js';
import { CheckpointStore } from '../store/redis/checkpoints.js';
import { ParkedRecords } from '../store/redis/parked-records.js';
import { PlanVersions } from '../store/redis/plans.js';
import type { RedisKeys } from '../store/redis/keys.js';
import { LastWrittenStore, type WrittenValue } from '../store/redis/last-written.js';
import type { CustomerViewDatabase } from '../store/schema.js';
import { SourceSnapshots, type ReconciledMark } from '../store/source-snapshots.js';
import { metrics as defaultMetrics, type TandemMetrics } from '../observability/metrics.js';
import type { FailureDetail } from '../queues/failure.js';
import { batchKey, splitWrites } from './batches.js';
import { ClosureLoader, type Closure } from './closure.js';
import type {
  EntityKind,
  PulledPage,
  PullOptions,
  ReconcileOptions,
  ReconcileOutcome,
  RecordFailure,
  SourceRef,
  SyncPipeline,
  WriteBackOptions,
  WriteBackOutcome,
  WriteBatch,
} from './contract.js';
import { buildCampaignMemberships, buildDealFacts } from './facts.js';
import { hubspotPullProperties, kindOf, objectsOfKind, salesforcePullFields } from './fields.js';
import type { HttpInfoLike } from '../connectors/hubspot/client.js';
import {
  readWithHistory,
  toSourceRecord as hubspotRecord,
  type HubSpotObjectLike,
} from '../connectors/hubspot/pull.js';
import { pullFields, toSourceRecord as salesforceRecord } from '../connectors/salesforce/records.js';
import { upsertContactsByEmail, type ContactEmails } from './contact-creates.js';
import { rowsOfParts, viewFingerprints, viewRows } from './persist.js';
import { pullRelated, readDealAssociations, type RelatedObject } from './related.js';
import {
  reconcileHash,
  recordToSnapshot,
  relatedToSnapshot,
  snapshotToRecord,
  withWrittenValues,
} from './snapshots.js';
import { reconciledMarks } from './reconciled.js';

export interface SyncPipelineDeps {
  mapping: Mapping;
  /** The version stamped on unified records and write batches (`mappingVersion(mapping, text)`). */
  mappingVersion: string;
  /** The mapping's YAML as applied (recorded in `mapping_versions` on first use). */
  mappingText?: string;
  hubspot: HubSpotConnector;
  salesforce: SalesforceConnector;
  db: Kysely<CustomerViewDatabase>;
  redis: Redis;
  keys: RedisKeys;
  logger?: Logger;
  metrics?: TandemMetrics;
  now?: () => Date;
  /** Target field lengths (`hintKey(system, object, field)` → max length) for truncation. */
  targetHints?: TargetSchemaHints;
  /** Released by `close()` (what `openSyncPipeline` opened). */
  onClose?: () => Promise<void>;
}

/** The extra reconcile input preview uses: freshly read records in place of their snapshots. */
export interface PipelineReconcileOptions extends ReconcileOptions {
  overrides?: readonly SourceRecord[];
  /** Store every view row even where its fingerprint says it is stored already (a rebuild). */
  refreshView?: boolean;
}

export interface SyncPipelineImpl extends SyncPipeline {
  readonly view: CustomerView;
  readonly snapshots: SourceSnapshots;
  readonly lastWritten: LastWrittenStore;
  readonly mapping: Mapping;
  readonly connectors: { hubspot: HubSpotConnector; salesforce: SalesforceConnector };
  readonly db: Kysely<CustomerViewDatabase>;
  reconcile(
    kind: EntityKind,
    refs: readonly SourceRef[],
    options?: PipelineReconcileOptions,
  ): Promise<ReconcileOutcome>;
}

const SF_PERSON_ORDER: ObjectName[] = ['Lead', 'Contact'];

/** Read-back-and-settle rounds after a write-back creates records (each round settles the last one's creates). */
const SETTLE_ROUNDS = 5;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** One stored field value and another the same as a CRM holds them: blanks, number and instant spellings. */
function sameHeldValue(a: RawValue | undefined, b: RawValue | undefined): boolean {
  const x = canonicalValue(a);
  const y = canonicalValue(b);
  if (x === y) return true;
  if (x === '' || y === '') return false;
  if (INSTANT.test(x) && INSTANT.test(y)) {
    const ms = parseInstant(x);
    return ms !== undefined && ms === parseInstant(y);
  }
  const n = Number(x);
  return !Number.isNaN(n) && n === Number(y);
}

/**
 * A batch result cut down to the given entities (identity groups, unified records and their writes): the
 * others were planned by a reconcile that read their records later.
 */
function onlyEntities(result: BatchResult, kind: EntityKind, keep: ReadonlySet<string>): BatchResult {
  const identity = result.identity[kind];
  const groups = identity?.groups ?? [];
  if (groups.every((g) => keep.has(g.key))) return result;
  const kept = <T extends { unified: { key: string } }>(list: T[]): T[] =>
    list.filter((o) => keep.has(o.unified.key));
  return {
    ...result,
    identity: {
      ...result.identity,
      ...(identity !== undefined
        ? { [kind]: { ...identity, groups: groups.filter((g) => keep.has(g.key)) } }
        : {}),
    },
    persons: kept(result.persons),
    companies: kept(result.companies),
    deals: kept(result.deals),
    plan: { ...result.plan, writes: result.plan.writes.filter((w) => keep.has(w.entityKey)) },
  };
}

/** The records of an entity: its records of record and the Leads converted into it. */
function groupRefs(g: IdentityGroup): SourceRef[] {
  const out: SourceRef[] = [];
  for (const r of [g.hubspot, g.salesforce, ...g.convertedLeads])
    if (r !== undefined) out.push({ system: r.system, object: r.object as ObjectName, id: r.id });
  return out;
}

/** The audit row of a write Tandem planned but did not send, and why. */
function skippedWrite(w: RecordWrite, reason: string, jobId: string, at: Date): WriteAuditEntry {
  return {
    jobId,
    system: w.system,
    object: w.object,
    recordId: w.recordId ?? null,
    unifiedId: w.entityKey,
    field: null,
    outcome: 'skipped',
    reason,
    at,
  };
}

function objectsFor(mapping: Mapping): SyncPipeline['objects'] {
  const out: Array<{ system: System; object: ObjectName; kind: EntityKind }> = [];
  for (const kind of ['company', 'person', 'deal'] as const) {
    for (const object of objectsOfKind(kind, mapping)) {
      out.push({ system: object === object.toLowerCase() ? 'hubspot' : 'salesforce', object, kind });
    }
  }
  return out;
}

function parseWrittenKey(key: string): WrittenValue | undefined {
  const first = key.indexOf(':');
  const last = key.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return {
    system: key.slice(0, first),
    recordId: key.slice(first + 1, last),
    field: key.slice(last + 1),
    hash: '',
  };
}

function detail(
  c: Classification,
  write: RecordWrite,
  at: Date,
  recordId: string | undefined,
): FailureDetail {
  const field = c.kind === 'permanent' ? c.field : undefined;
  return {
    code: c.code,
    reason: c.reason,
    kind: c.kind,
    system: write.system,
    object: write.object,
    ...(recordId !== undefined ? { recordId } : {}),
    unifiedId: write.entityKey,
    ...(field !== undefined ? { field } : {}),
    failedAt: at.toISOString(),
  };
}

function fieldsOfWrite(w: RecordWrite): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const f of w.fields) out[f.field] = f.value;
  return out;
}

class Pipeline implements SyncPipelineImpl {
  readonly objects: SyncPipeline['objects'];
  readonly mappingVersion: string;
  readonly mapping: Mapping;
  readonly view: CustomerView;
  readonly snapshots: SourceSnapshots;
  readonly lastWritten: LastWrittenStore;
  readonly connectors: { hubspot: HubSpotConnector; salesforce: SalesforceConnector };
  readonly db: Kysely<CustomerViewDatabase>;
  private readonly checkpoints: CheckpointStore<Checkpoint>;
  private readonly parked: ParkedRecords;
  private readonly plans: PlanVersions;
  private readonly loader: ClosureLoader;
  /** Names the mapping (and this hash's version) in every reconciled hash: a changed mapping reconciles again. */
  private readonly reconcileSalt: string;
  private readonly metrics: TandemMetrics;
  private readonly now: () => Date;
  private versionRecorded = false;
  private closed = false;

  constructor(private readonly deps: SyncPipelineDeps) {
    this.mapping = deps.mapping;
    this.mappingVersion = deps.mappingVersion;
    this.objects = objectsFor(deps.mapping);
    this.connectors = { hubspot: deps.hubspot, salesforce: deps.salesforce };
    this.db = deps.db;
    this.view = new CustomerView(deps.db);
    this.snapshots = new SourceSnapshots(deps.db);
    this.lastWritten = new LastWrittenStore(deps.redis, deps.keys);
    this.checkpoints = new CheckpointStore(deps.redis, deps.keys, CheckpointSchema);
    this.parked = new ParkedRecords(deps.redis, deps.keys);
    this.plans = new PlanVersions(deps.redis, deps.keys);
    this.loader = new ClosureLoader(deps.db, this.view, this.snapshots, deps.mapping);
    this.reconcileSalt = `r1:${valueHash(JSON.stringify(deps.mapping))}`;
    this.metrics = deps.metrics ?? defaultMetrics;
    this.now = deps.now ?? (() => new Date());
  }

  // ---- pull ------------------------------------------------------------------------------------------

  async *pull(system: System, object: ObjectName, options: PullOptions): AsyncIterable<PulledPage> {
    const kind = kindOf(object);
    if (kind === undefined) throw new RangeError(`Tandem does not pull ${system} ${object}`);
    const stored = options.mode === 'incremental' ? await this.checkpoints.get(system, object) : undefined;
    const startedAt = this.now();
    const runId = await this.view.startSyncRun({
      system,
      object,
      kind:
        options.mode === 'incremental' ? (stored === undefined ? 'initial' : 'incremental') : options.mode,
      startedAt,
    });
    let pulled = 0;
    try {
      const pages =
        system === 'hubspot'
          ? this.deps.hubspot.pull(object as never, stored ?? null, this.pullOptions(options))
          : this.deps.salesforce.pull(object as never, stored ?? null, this.pullOptions(options));
      // When the page's read began: its snapshots are that old (see SourceSnapshots.upsert).
      let readFrom = this.now();
      // Connector pages are handed on in groups of at least `groupRefs` refs (`PullOptions.groupRefs`): the
      // group's pages are stored as they are read, and its last page's checkpoint is saved once the group
      // was handed on, so a crash re-reads the group's pages rather than losing them.
      const groupRefs = Math.max(0, options.groupRefs ?? 0);
      let group = new PageGroup(system, object, kind);
      for await (const page of pages) {
        const at = readFrom;
        let associations: Map<string, string[]> | undefined;
        if (system === 'hubspot' && object === 'deals' && page.records.length > 0) {
          associations = await readDealAssociations(
            this.deps.hubspot,
            page.records.map((r) => r.id),
            'contacts',
          );
        }
        const companies =
          system === 'hubspot' && object === 'deals' && page.records.length > 0
            ? await readDealAssociations(
                this.deps.hubspot,
                page.records.map((r) => r.id),
                'companies',
              )
            : undefined;
        const rows = page.records.map((r) =>
          recordToSnapshot(
            r,
            this.mapping,
            at,
            associations === undefined
              ? undefined
              : { contacts: associations.get(r.id) ?? [], companies: companies?.get(r.id) ?? [] },
          ),
        );
        // Read before the rows are stored (storing leaves the hashes as they are; the order does not matter).
        const inStep =
          options.mode === 'incremental' ? await this.alreadyReconciled(system, rows) : new Set();
        const changed = inStep.size === 0 ? page.records : page.records.filter((r) => !inStep.has(r.id));
        await this.snapshots.upsert(rows);
        const deleted = await this.markDeleted(system, page.deleted, at);
        pulled += page.records.length;
        if (page.records.length > 0) {
          this.metrics.recordsSynced.inc({ system, object, direction: 'pulled' }, page.records.length);
        }
        if (inStep.size > 0) {
          this.metrics.recordsSynced.inc({ system, object, direction: 'already_reconciled' }, inStep.size);
        }
        group.add(
          [...changed.map((r) => ({ system, object, id: r.id })), ...mergeSurvivors(system, page)],
          deleted,
          page.checkpoint,
          inStep.size,
        );
        // Persons whose deals changed: their stage and attribution depend on them. A deal holding what its
        // last reconcile left it holding changed nothing for them.
        const changedDeals = changed.map((r) => r.id);
        if (associations !== undefined) {
          group.addPersons(
            'hubspot',
            'contacts',
            changedDeals.flatMap((id) => associations.get(id) ?? []),
          );
        }
        if (system === 'salesforce' && object === 'Opportunity' && changedDeals.length > 0) {
          group.addPersons('salesforce', 'Contact', await this.contactsOfOpportunities(changedDeals));
        }
        readFrom = this.now();
        if (!group.ready(groupRefs, GROUP_MAX_WAIT_MS, Date.now())) continue;
        yield* group.pages();
        // Only now, when the consumer has handed the group on (queued its reconciles) and asks for the next
        // page: a crash in between re-reads the group's pages instead of leaving their changes pulled but
        // never reconciled.
        await this.checkpoints.save(system, object, group.checkpoint as Checkpoint);
        group = new PageGroup(system, object, kind);
      }
      if (group.checkpoint !== undefined) {
        yield* group.pages();
        await this.checkpoints.save(system, object, group.checkpoint);
      }
      if (system === 'salesforce') {
        const related = this.relatedFor(object);
        if (related !== undefined) yield* this.pullRelatedObject(related, options);
      }
      yield* this.releaseParked(object, kind);
      if (options.mode === 'incremental' && kind === 'person' && this.sweepsReevaluation(system, object))
        yield* this.personsDue(system, object, Math.max(1, options.groupRefs ?? DUE_PAGE));
      await this.view.finishSyncRun(runId, {
        status: 'succeeded',
        finishedAt: this.now(),
        recordsPulled: pulled,
        recordsWritten: 0,
        recordsFailed: 0,
      });
    } catch (error) {
      await this.view
        .finishSyncRun(runId, {
          status: 'failed',
          finishedAt: this.now(),
          recordsPulled: pulled,
          recordsWritten: 0,
          recordsFailed: 0,
          error: error instanceof Error ? error.message : String(error),
        })
        .catch(() => undefined);
      throw error;
    }
  }

  /**
   * Ids of the rows that hold exactly what their last reconcile left them holding (`reconcileHash`): the
   * echo of Tandem's own writes, or a record read again unchanged. Reconciling them again would plan
   * nothing; a deleted row is always handed on.
   */
  private async alreadyReconciled(system: System, rows: readonly SourceSnapshot[]): Promise<Set<string>> {
    const live = rows.filter((r) => !r.deleted);
    const out = new Set<string>();
    if (live.length === 0) return out;
    const marks = await this.snapshots.reconciledHashes(
      system,
      live.map((r) => r.recordId),
    );
    if (marks.size === 0) return out;
    for (const r of live) if (this.holdsMark(r, marks.get(`${r.object}:${r.recordId}`))) out.add(r.recordId);
    return out;
  }

  /** Whether a (live) snapshot holds exactly what `mark` says its last reconcile left it holding. */
  private holdsMark(snapshot: SourceSnapshot, mark: string | undefined): boolean {
    return !snapshot.deleted && mark !== undefined && mark === reconcileHash(snapshot, this.reconcileSalt);
  }

  private pullOptions(options: PullOptions): ConnectorPullOptions {
    return {
      ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      deletionScan: options.scheduled === true ? 'when-due' : 'always',
    };
  }

  /** Whether every object of `kind` in both systems has been read in full once (its checkpoint is incremental). */
  private async firstReadDone(kind: EntityKind): Promise<boolean> {
    const objects = this.objects.filter((o) => o.kind === kind);
    const stored = await Promise.all(objects.map((o) => this.checkpoints.get(o.system, o.object)));
    return stored.every((c) => c?.phase === 'incremental');
  }

  /**
   * Once the first full read of `kind` is done in both systems, the records parked meanwhile go to reconcile,
   * as pages of their own riding on this object's checkpoint. Checked at the end of every pull, so records
   * parked while that read was finishing wait at most until the next pull of the kind.
   */
  private async *releaseParked(object: ObjectName, kind: EntityKind): AsyncIterable<PulledPage> {
    if (!(await this.firstReadDone(kind))) return;
    const records = await this.parked.members(kind);
    if (records.length === 0) return;
    const system = this.objects.find((o) => o.object === object)?.system as System;
    const checkpoint = (await this.checkpoints.get(system, object)) as Checkpoint;
    yield* pagesByObject(
      records.map((r) => ({ system: r.system as System, object: r.object as ObjectName, id: r.id })),
      kind,
      checkpoint,
    );
    // Removed once handed on, like a checkpoint: a crash before leaves them parked for the next pull.
    await this.parked.remove(kind, records);
  }

  /**
   * Until both systems have been read in full once, a reconcile would see half of each person (a Lead
   * without the Contact it was converted to, a company without its Account) and write or create from that:
   * the records are parked instead, and the pull that completes the read hands them on. Parking, then
   * checking again, leaves no gap with a pull finishing meanwhile (it saves its checkpoint before it reads
   * the parked records).
   */
  private async parkUntilFirstRead(kind: EntityKind, refs: readonly SourceRef[]): Promise<boolean> {
    if (await this.firstReadDone(kind)) return false;
    await this.parked.add(kind, refs);
    if (!(await this.firstReadDone(kind))) return true;
    await this.parked.remove(kind, refs);
    return false;
  }

  /**
   * The first person object's incremental pull also sweeps the persons a `changed_within_days` window has
   * closed for (src/domain/reevaluation.ts); none when the mapping has no such window.
   */
  private sweepsReevaluation(system: System, object: ObjectName): boolean {
    if (compileMapping(this.mapping).personTimeWindows.length === 0) return false;
    const first = this.objects.find((o) => o.kind === 'person');
    return first !== undefined && first.system === system && first.object === object;
  }

  /**
   * Persons due for re-evaluation (`persons.reevaluate_at` passed), as pages of their linked records marked
   * `dueForReevaluation`: reconciled whatever their records hold. Each reconcile stores the person's next
   * instant (or none), so a person is swept once per closing window; one whose reconcile fails stays due.
   */
  private async *personsDue(system: System, object: ObjectName, pageSize: number): AsyncIterable<PulledPage> {
    const now = this.now();
    const checkpoint = (await this.checkpoints.get(system, object)) as Checkpoint;
    let afterId: string | undefined;
    for (;;) {
      const ids = await this.view.personsDueForReevaluation(now, {
        limit: pageSize,
        ...(afterId !== undefined ? { afterId } : {}),
      });
      if (ids.length === 0) return;
      afterId = ids.at(-1);
      const links = (await this.view.findLinksByUnifiedIds(ids)).filter((l) => l.recordType === 'person');
      this.metrics.recordsSynced.inc({ system, object, direction: 'reevaluated' }, ids.length);
      for (const page of pagesByObject(
        links.map((l) => ({ system: l.system, object: l.object as ObjectName, id: l.recordId })),
        'person',
        checkpoint,
      ))
        yield { ...page, dueForReevaluation: true };
      if (ids.length < pageSize) return;
    }
  }

  private personPage(system: System, object: ObjectName, ids: string[], checkpoint: Checkpoint): PulledPage {
    return personPage(system, object, ids, checkpoint);
  }

  /** OpportunityContactRoles ride on the Opportunity pull; CampaignMembers on the first person object's. */
  private relatedFor(object: ObjectName): RelatedObject | undefined {
    if (object === 'Opportunity') return 'OpportunityContactRole';
    const first = SF_PERSON_ORDER.find((o) =>
      this.mapping.objects.person.salesforce.objects.includes(o as never),
    );
    if (object === first && this.mapping.attribution.touchpoints.salesforce_campaign_members)
      return 'CampaignMember';
    return undefined;
  }

  private async *pullRelatedObject(object: RelatedObject, options: PullOptions): AsyncIterable<PulledPage> {
    const stored =
      options.mode === 'incremental' ? await this.checkpoints.get('salesforce', object) : undefined;
    const since = stored?.phase === 'incremental' ? stored.since : undefined;
    for await (const page of pullRelated(this.deps.salesforce, object, since)) {
      const at = this.now();
      await this.snapshots.upsert(page.rows.map((r) => relatedToSnapshot(r, at)));
      const checkpoint: Checkpoint = {
        system: 'salesforce',
        object,
        phase: 'incremental',
        since: page.since ?? '1970-01-01T00:00:00.000Z',
        lastId: null,
      };
      const leads = new Set<string>();
      const contacts = new Set<string>();
      for (const r of page.rows) {
        const lead = r.fields['LeadId'];
        const contact = r.fields['ContactId'];
        if (typeof lead === 'string' && lead !== '') leads.add(lead);
        else if (typeof contact === 'string' && contact !== '') contacts.add(contact);
      }
      if (leads.size > 0) yield this.personPage('salesforce', 'Lead', [...leads].sort(), checkpoint);
      if (contacts.size > 0) yield this.personPage('salesforce', 'Contact', [...contacts].sort(), checkpoint);
      await this.checkpoints.save('salesforce', object, checkpoint);
    }
  }

  private async contactsOfOpportunities(ids: readonly string[]): Promise<string[]> {
    const keys = ids.map((id) => id.slice(0, 15));
    const rows = await this.snapshots.findByCrossReferences(keys);
    const contacts = new Set<string>();
    for (const r of rows) {
      if (r.object !== 'OpportunityContactRole' || r.deleted) continue;
      const c = r.properties['ContactId'];
      if (typeof c === 'string' && c !== '') contacts.add(c);
    }
    return [...contacts].sort();
  }

  private async markDeleted(
    system: System,
    deleted: readonly DeletedRecord[],
    at: Date,
  ): Promise<SourceRef[]> {
    if (deleted.length === 0) return [];
    const found = await this.snapshots.findByRecordIds({ system, recordIds: deleted.map((d) => d.id) });
    await this.snapshots.upsert(found.map((s) => ({ ...s, deleted: true, pulledAt: at })));
    await this.lastWritten.deleteRecords(
      system,
      deleted.map((d) => d.id),
    );
    // A merge is not a loss: the survivor takes the merged record's link, or it would come back as a person
    // of its own while its twin's link named a record that is gone.
    await this.view.moveMergedLinks(
      deleted.flatMap((d) =>
        d.mergedInto === undefined ? [] : [{ system, object: d.object, from: d.id, to: d.mergedInto }],
      ),
      at,
    );
    return deleted.map((d) => ({ system, object: d.object as ObjectName, id: d.id }));
  }

  // ---- reconcile -------------------------------------------------------------------------------------

  async reconcile(
    kind: EntityKind,
    refs: readonly SourceRef[],
    options: PipelineReconcileOptions = {},
  ): Promise<ReconcileOutcome> {
    const dryRun = options.dryRun === true;
    const now = this.now();
    // A preview shows what it can from what was read; a real run waits for both systems' first full read.
    if (!dryRun && (await this.parkUntilFirstRead(kind, refs))) {
      return { entities: 0, writes: [], failures: [], dryRun, parked: refs.length };
    }
    let skipped = 0;
    let read: SourceSnapshot[] | undefined;
    if (options.skipReconciled === true && !dryRun && options.overrides === undefined) {
      // The refs whose record holds what its last reconcile left it holding were reconciled as they are
      // now (by another job of the same pull, or one before it), and their writes were queued then.
      read = await this.loader.readRefs(refs);
      const done = new Set(
        read
          .filter((s) => this.holdsMark(s, s.reconciledHash))
          .map((s) => `${s.system}:${s.object}:${s.recordId}`),
      );
      const left = refs.filter((r) => !done.has(`${r.system}:${r.object}:${r.id}`));
      skipped = refs.length - left.length;
      if (left.length === 0)
        return { entities: 0, writes: [], failures: [], dryRun, alreadyReconciled: skipped };
      if (skipped > 0) {
        const ids = new Set(left.map((r) => `${r.system}:${r.id}`));
        read = read.filter((s) => ids.has(`${s.system}:${s.recordId}`));
      }
      refs = left;
    }
    // Taken before the records are read: a plan from an earlier read never replaces one from a later read.
    const ticket = dryRun ? 0 : await this.plans.ticket();
    const closure = await this.loader.load(kind, refs, {
      ...(options.overrides !== undefined ? { overrides: options.overrides } : {}),
      ...(read !== undefined ? { read } : {}),
    });
    const lastWritten = await this.loadLastWritten(closure.records);
    const previous = kind === 'person' ? await this.loadStages(closure) : new Map<string, StageState>();
    const set = {
      hubspot: closure.records.filter((r) => r.system === 'hubspot'),
      salesforce: closure.records.filter((r) => r.system === 'salesforce'),
    };
    const input: BatchInput =
      kind === 'person'
        ? {
            persons: set,
            links: { person: closure.links },
            dealFacts: buildDealFacts(closure, this.mapping),
            campaignMemberships: buildCampaignMemberships(closure.campaignMembers),
            previousStages: previous,
          }
        : kind === 'company'
          ? { companies: set, links: { company: closure.links } }
          : { deals: set, links: { deal: closure.links } };
    let result = reconcileBatch(input, this.mapping, {
      now: now.toISOString(),
      lastWritten,
      ...(this.deps.targetHints !== undefined ? { targetHints: this.deps.targetHints } : {}),
    });
    let failures = this.problemsToFailures(kind, result.problems, closure, now);
    const planId = randomUUID();
    let reconcileAgain: SourceRef[] = [];
    if (!dryRun) {
      await this.recordVersion();
      // An entity whose snapshots a write-back stamped while this reconcile read them is left to a reconcile
      // of its own: it may have seen a record before the write with the written values already remembered.
      const stale = options.overrides === undefined ? await this.staleGroups(kind, result, closure) : [];
      const staleKeys = new Set(stale.map((g) => g.key));
      const mine = await this.plans.claim(
        (result.identity[kind]?.groups ?? []).map((g) => g.key).filter((k) => !staleKeys.has(k)),
        planId,
        ticket,
      );
      result = onlyEntities(result, kind, mine);
      const staleRefs = stale.flatMap(groupRefs);
      if (staleRefs.length > 0) {
        const ids = new Set(staleRefs.map((r) => `${r.system}:${r.id}`));
        failures = failures.filter((f) => !(f.refs ?? []).some((r) => ids.has(`${r.system}:${r.id}`)));
      }
      await this.persistReconcile(kind, result, previous, now, lastWritten, options.refreshView === true);
      reconcileAgain = [...staleRefs, ...(await this.claimedWhileStored(kind, result, planId))];
      if (options.overrides === undefined)
        await this.snapshots.markReconciled(this.marksOf(kind, result, closure, reconcileAgain, now));
    }
    const writes = splitWrites(
      result.plan.writes.map((w) => ({ ...w, planId })),
      this.mappingVersion,
    );
    for (const f of failures) this.metrics.failures.inc({ code: f.detail.code, kind: f.detail.kind });
    return {
      entities: result.persons.length + result.companies.length + result.deals.length,
      writes,
      failures,
      dryRun,
      ...(reconcileAgain.length > 0 ? { reconcileAgain } : {}),
      ...(skipped > 0 ? { alreadyReconciled: skipped } : {}),
    };
  }

  /**
   * What each record of the stored entities will hold once this reconcile's writes land, so that its echo
   * is not reconciled again (`alreadyReconciled`). Entities a later read claimed meanwhile are left to it.
   */
  private marksOf(
    kind: EntityKind,
    result: BatchResult,
    closure: Closure,
    claimedElsewhere: readonly SourceRef[],
    now: Date,
  ): ReconciledMark[] {
    const elsewhere = new Set(claimedElsewhere.map((r) => `${r.system}:${r.id}`));
    const groups = (result.identity[kind]?.groups ?? []).filter(
      (g) =>
        !(g.hubspot !== undefined && elsewhere.has(`hubspot:${g.hubspot.id}`)) &&
        !(g.salesforce !== undefined && elsewhere.has(`salesforce:${g.salesforce.id}`)),
    );
    return reconciledMarks({
      groups,
      writes: result.plan.writes,
      problems: result.problems,
      snapshots: closure.snapshots,
      mapping: this.mapping,
      salt: this.reconcileSalt,
      at: now,
    });
  }

  /**
   * The entities with a record whose stored snapshot changed after the closure read it. A write-back stamps
   * the snapshots it changed, then stores the values it wrote and the ones it found in step (last written):
   * a reconcile that read a snapshot before the stamp and the last-written values after them would take the
   * other record's value for Tandem's own echo and plan the old one back over the write.
   */
  private async staleGroups(
    kind: EntityKind,
    result: BatchResult,
    closure: Closure,
  ): Promise<IdentityGroup[]> {
    const groups = result.identity[kind]?.groups ?? [];
    if (groups.length === 0) return [];
    const bySystem = new Map<System, SourceSnapshot[]>();
    for (const s of closure.snapshots.values()) {
      const list = bySystem.get(s.system as System) ?? [];
      list.push(s);
      bySystem.set(s.system as System, list);
    }
    const changed = new Set<string>();
    for (const [system, list] of bySystem) {
      const now = await this.snapshots.contentHashes(
        system,
        list.map((s) => s.recordId),
      );
      for (const s of list)
        if (now.get(`${s.object}:${s.recordId}`) !== s.contentHash) changed.add(`${system}:${s.recordId}`);
    }
    if (changed.size === 0) return [];
    return groups.filter((g) => groupRefs(g).some((r) => changed.has(`${r.system}:${r.id}`)));
  }

  /**
   * The records of entities a later read claimed after this reconcile did, while it stored their view rows
   * (claims never wait, so both may have been storing at once and this one's rows may have landed last).
   */
  private async claimedWhileStored(
    kind: EntityKind,
    result: BatchResult,
    planId: string,
  ): Promise<SourceRef[]> {
    const groups = result.identity[kind]?.groups ?? [];
    if (groups.length === 0) return [];
    const latest = await this.plans.latest(groups.map((g) => g.key));
    const refs: SourceRef[] = [];
    groups.forEach((g, i) => {
      if (latest[i] === planId) return;
      for (const r of [g.hubspot, g.salesforce])
        if (r !== undefined) refs.push({ system: r.system, object: r.object as ObjectName, id: r.id });
    });
    return refs;
  }

  /** The customer-view rows of a reconcile and the values it found in step (see `reconcile`). */
  private async persistReconcile(
    kind: EntityKind,
    result: BatchResult,
    previous: ReadonlyMap<string, StageState>,
    now: Date,
    lastWritten: ReadonlyMap<string, string>,
    refresh: boolean,
  ): Promise<void> {
    const stages = new Map<string, StageName | null>();
    for (const [k, v] of previous) stages.set(k, v.stage);
    const rows = viewRows(kind, result, this.mappingVersion, now, stages);
    await this.view.upsertLinks(rows.links, now);
    await this.view.recordDuplicates(rows.duplicates);
    // A person reconciled again as it is (the echo of Tandem's writes, a page of the other system, a settle
    // round) stores nothing more: only the parts whose rows changed are rewritten.
    const fingerprints = viewFingerprints(kind, rows);
    await this.view.storeParts([...fingerprints.keys()], async (view, stored) => {
      const changed = new Set<string>();
      for (const [part, fingerprint] of fingerprints)
        if (refresh || stored.get(part) !== fingerprint) changed.add(part);
      this.metrics.viewParts.inc({ outcome: 'stored' }, changed.size);
      this.metrics.viewParts.inc({ outcome: 'unchanged' }, fingerprints.size - changed.size);
      const r = rowsOfParts(kind, rows, changed);
      if (r.persons.length > 0) await view.upsertPersons(r.persons);
      if (r.companies.length > 0) await view.upsertCompanies(r.companies);
      if (r.deals.length > 0) await view.upsertDeals(r.deals);
      if (r.unifiedIds.length > 0) await view.replaceFieldValues(r.unifiedIds, r.fieldValues);
      if (r.personIds.length > 0) await view.replaceTouchpoints(r.personIds, r.touchpoints);
      if (r.dealIds.length > 0) await view.replaceCredits(r.dealIds, r.credits);
      return [...changed].map((part) => ({ part, fingerprint: fingerprints.get(part) as string }));
    });
    await this.view.appendStageEntries(rows.stageEntries);
    // What the records hold is Tandem's own (it reads back as no change) once they are in step: fields no
    // write touches are in step now; a written field's values are stored when its write succeeds
    // (`FieldWrite.heldElsewhere`), so a failed write never makes the winning side's change look like an echo.
    const planned = new Set(
      result.plan.writes.flatMap((w) => w.fields.map((f) => `${w.system}:${w.recordId ?? ''}:${f.field}`)),
    );
    const synced: WrittenValue[] = [];
    for (const o of [...result.persons, ...result.companies, ...result.deals]) {
      for (const [key, hash] of o.synced) {
        // Already stored as it is (read with the closure): rewriting it would cost Redis a field per record
        // and field on every reconcile, and could only put back a hash a later write had replaced.
        if (planned.has(key) || lastWritten.get(key) === hash) continue;
        const parsed = parseWrittenKey(key);
        if (parsed !== undefined) synced.push({ ...parsed, hash });
      }
    }
    await this.lastWritten.setMany(synced);
  }

  private problemsToFailures(
    kind: EntityKind,
    problems: ReturnType<typeof reconcileBatch>['problems'],
    closure: Closure,
    now: Date,
  ): RecordFailure[] {
    const byRecord = new Map<string, RecordFailure>();
    for (const p of problems) {
      const record =
        p.recordId === undefined
          ? undefined
          : closure.records.find(
              (r) => r.id === p.recordId && (p.system === undefined || r.system === p.system),
            );
      const key = `${p.system ?? ''}:${p.recordId ?? p.message}`;
      if (byRecord.has(key)) continue;
      const value = p.value === undefined ? '' : ` (value ${JSON.stringify(p.value)})`;
      const known =
        p.knownValues !== undefined && p.knownValues.length > 0
          ? `; known values: ${p.knownValues.join(', ')}`
          : '';
      const failure: RecordFailure = {
        detail: {
          code: `TANDEM_${p.code.toUpperCase()}`,
          reason: `${p.message}${p.message.includes(String(p.value)) ? '' : value}${known}`,
          kind: 'permanent',
          ...(p.system !== undefined ? { system: p.system } : {}),
          ...(p.object !== undefined ? { object: p.object } : {}),
          ...(p.recordId !== undefined ? { recordId: p.recordId } : {}),
          ...(p.field !== undefined ? { field: p.field } : {}),
          failedAt: now.toISOString(),
        },
        kind,
        ...(record !== undefined
          ? { refs: [{ system: record.system, object: record.object, id: record.id }] }
          : {}),
      };
      byRecord.set(key, failure);
    }
    return [...byRecord.values()];
  }

  private async loadLastWritten(records: readonly SourceRecord[]): Promise<Map<string, string>> {
    const fields = records.flatMap((r) => [
      ...Object.keys(r.fields).map((field) => ({ system: r.system, recordId: r.id, field })),
      // What Tandem's last write there was meant to replace, for fields whose history is known.
      ...Object.keys(r.fieldPrevious ?? {}).map((field) => ({
        system: r.system,
        recordId: r.id,
        field: replacedField(field),
      })),
    ]);
    const hashes = await this.lastWritten.getMany(fields);
    const out = new Map<string, string>();
    fields.forEach((f, i) => {
      const h = hashes[i];
      if (h !== undefined) out.set(`${f.system}:${f.recordId}:${f.field}`, h);
    });
    return out;
  }

  private async loadStages(closure: Closure): Promise<Map<string, StageState>> {
    const ids = closure.links.map((l) => l.unifiedId);
    const out = new Map<string, StageState>();
    // No stored stage yet (a first sync, or a rebuild): the stage Tandem last wrote back to the record, so
    // a stage reached earlier is not lost (stages never move back by accident).
    const lw = this.mapping.lifecycle.writeback;
    const valid = new Set<string>([...LIFECYCLE_STAGES, 'disqualified']);
    for (const r of closure.records) {
      const field =
        r.system === 'hubspot' ? lw.hubspot_property : resolveSalesforceRef(lw.salesforce_field, r.object);
      const value = field === undefined ? undefined : r.fields[field];
      if (typeof value === 'string' && valid.has(value)) {
        out.set(`person:${r.system}:${r.id}`, { stage: value as LifecycleStage, history: [] });
      }
    }
    if (ids.length === 0) return out;
    const [persons, history] = await Promise.all([
      this.deps.db.selectFrom('persons').select(['id', 'lifecycle_stage']).where(anyOf('id', ids)).execute(),
      this.deps.db
        .selectFrom('stage_history')
        .selectAll()
        .where(anyOf('person_id', ids))
        .orderBy('person_id')
        .orderBy('entered_at')
        .orderBy('recorded_at')
        .execute(),
    ]);
    const entries = new Map<string, DomainStageEntry[]>();
    for (const h of history) {
      const list = entries.get(h.person_id) ?? [];
      list.push({
        stage: h.stage as LifecycleStage,
        enteredAt: h.entered_at.toISOString(),
        reason: h.reason ?? '',
        rule: h.rule ?? '',
      });
      entries.set(h.person_id, list);
    }
    // Entries of one move share their time: funnel order breaks the tie, so the latest reason is the last one.
    for (const list of entries.values()) {
      list.sort(
        (a, b) =>
          Date.parse(a.enteredAt) - Date.parse(b.enteredAt) || stageRank(a.stage) - stageRank(b.stage),
      );
    }
    for (const p of persons) {
      out.set(p.id, {
        stage: (p.lifecycle_stage as LifecycleStage | null) ?? null,
        history: entries.get(p.id) ?? [],
      });
    }
    return out;
  }

  private async recordVersion(): Promise<void> {
    if (this.versionRecorded || this.deps.mappingText === undefined) return;
    await this.view.recordMappingVersion({
      version: this.mappingVersion,
      contentHash: valueHash(this.deps.mappingText),
      mappingText: this.deps.mappingText,
      appliedAt: this.now(),
    });
    this.versionRecorded = true;
  }

  // ---- write-back ------------------------------------------------------------------------------------

  async writeBack(batch: WriteBatch, options: WriteBackOptions): Promise<WriteBackOutcome> {
    const kind = kindOf(batch.object);
    const result: WriteBackOutcome = { written: 0, created: 0, failed: [] };
    let created: SourceRef[] = [];
    let replan: SourceRef[] = [];
    const send = async (b: WriteBatch): Promise<void> => {
      const more = await this.writeBatch(b, options.jobId);
      result.written += more.result.written;
      result.created += more.result.created;
      result.failed.push(...more.result.failed);
      if (more.result.deferred !== undefined && result.deferred === undefined)
        result.deferred = more.result.deferred;
      created.push(...more.created);
      replan.push(...more.replan);
    };
    if (options.replan === true && kind !== undefined) {
      // A replay: the cause may have been fixed in either CRM since the write was planned, so the records
      // are read again and the entities planned afresh; what they need now is written, not the old values.
      const refs = await this.readBack(await this.recordsOfWrites(batch.writes));
      const again = await this.reconcile(kind, refs, { jobId: options.jobId });
      result.failed.push(...again.failures);
      replan.push(...(again.reconcileAgain ?? []));
      for (const b of again.writes) await send(b);
    } else await send(batch);
    // What the CRM filled in on create (defaults, formulas) is news to the other side: read the new records
    // back and settle their entities now, so a cycle leaves nothing for the next one to discover. Settling
    // can create records too (the closure of a created record holds other persons): those are read back
    // and settled in turn, until a round creates nothing. Creates dropped as stale are planned again here.
    for (
      let round = 0;
      created.length + replan.length > 0 && kind !== undefined && round < SETTLE_ROUNDS;
      round += 1
    ) {
      const refs = [...(created.length > 0 ? await this.readBack(created) : []), ...replan];
      created = [];
      replan = [];
      if (refs.length === 0) break;
      const again = await this.reconcile(kind, refs);
      replan.push(...(again.reconcileAgain ?? []));
      if (options.queueFollowUps === true) {
        // One round here; the queued writes settle what they create in turn, in the job that sends them.
        result.followUps = again.writes;
        if (replan.length > 0) result.reconcileAgain = { kind, refs: replan };
        break;
      }
      for (const b of again.writes) await send(b);
    }
    return result;
  }

  /** The records a batch's writes concern: each target or counterpart, and every record linked to its entity. */
  private async recordsOfWrites(writes: readonly RecordWrite[]): Promise<SourceRef[]> {
    const refs = new Map<string, SourceRef>();
    const add = (r: SourceRef): void => void refs.set(`${r.system}:${r.id}`, r);
    for (const w of writes) {
      if (w.recordId !== undefined) add({ system: w.system, object: w.object, id: w.recordId });
      if (w.counterpart !== undefined) add({ ...w.counterpart, object: w.counterpart.object as ObjectName });
    }
    const links = await this.view.findLinksByUnifiedIds([...new Set(writes.map((w) => w.entityKey))]);
    for (const l of links) add({ system: l.system, object: l.object as ObjectName, id: l.recordId });
    return [...refs.values()];
  }

  /** Fresh snapshots of records Tandem just created (one read per system and object). */
  private async readBack(created: readonly SourceRef[]): Promise<SourceRef[]> {
    const at = this.now();
    const byObject = new Map<string, SourceRef[]>();
    for (const r of created)
      byObject.set(`${r.system}:${r.object}`, [...(byObject.get(`${r.system}:${r.object}`) ?? []), r]);
    const records: SourceRecord[] = [];
    const associations = new Map<string, { contacts: string[]; companies: string[] }>();
    for (const refs of byObject.values()) {
      const first = refs[0] as SourceRef;
      const ids = refs.map((r) => r.id);
      if (first.system === 'hubspot') {
        const object = first.object as HubSpotObjectName;
        const { properties, history } = hubspotPullProperties(this.mapping);
        // With the change history `newest` needs, as the pull reads them: without it every field of a
        // record just touched would look newer than the other side's.
        const found = await readWithHistory(
          this.deps.hubspot.caller,
          object,
          ids,
          properties[object],
          history[object],
          { object },
        );
        const read = [...found.values()].map((r) => hubspotRecord(object, r));
        records.push(...read);
        if (object === 'deals' && read.length > 0) {
          const dealIds = read.map((r) => r.id);
          const contacts = await readDealAssociations(this.deps.hubspot, dealIds, 'contacts');
          const companies = await readDealAssociations(this.deps.hubspot, dealIds, 'companies');
          for (const r of read)
            associations.set(r.id, {
              contacts: contacts.get(r.id) ?? [],
              companies: companies.get(r.id) ?? [],
            });
        }
      } else {
        const object = first.object as SalesforceObjectName;
        const conn = this.deps.salesforce.caller.conn;
        const types = await this.deps.salesforce.typesOf(object);
        const fields = pullFields(object, salesforcePullFields(this.mapping)[object]).filter((f) =>
          types.has(f),
        );
        for (let i = 0; i < ids.length; i += 200) {
          const list = ids
            .slice(i, i + 200)
            .map((id) => `'${id.replace(/[^A-Za-z0-9]/g, '')}'`)
            .join(', ');
          const rows = await this.deps.salesforce.caller.call(
            () =>
              conn.query<Record<string, unknown>>(
                `SELECT ${fields.join(', ')} FROM ${object} WHERE Id IN (${list})`,
              ),
            { object },
          );
          records.push(...rows.records.map((r) => salesforceRecord(object, r, types)));
        }
      }
    }
    await this.snapshots.upsert(
      records.map((r) =>
        recordToSnapshot(
          r,
          this.mapping,
          at,
          r.system === 'hubspot' && r.object === 'deals' ? associations.get(r.id) : undefined,
        ),
      ),
    );
    return records.map((r) => ({ system: r.system, object: r.object, id: r.id }));
  }

  private async writeBatch(
    batch: WriteBatch,
    jobId: string,
  ): Promise<{ result: WriteBackOutcome; created: SourceRef[]; replan: SourceRef[] }> {
    const options = { jobId };
    const at = this.now();
    const resolved = await this.resolveCreates(await this.dropSuperseded(batch.writes, jobId, at));
    const unchanged = await this.keepUnchanged(resolved.writes, jobId, at);
    const writes = unchanged.writes;
    const replan = [...resolved.replan, ...unchanged.replan];
    // When the writes left: a snapshot read after this may hold a later edit and is kept as it is.
    const sentAt = this.now();
    const failed: RecordFailure[] = [];
    const audit: WriteAuditEntry[] = [];
    const deferred: RecordWrite[] = [];
    const transient: Array<{ write: RecordWrite; c: Classification }> = [];
    let waitMs = 0;
    const succeeded: Array<{ write: RecordWrite; recordId: string; created: boolean }> = [];

    const fail = (write: RecordWrite, c: Classification, recordId?: string): void => {
      if (c.kind === 'rate_limited') {
        deferred.push(write);
        waitMs = Math.max(waitMs, c.waitMs);
        return;
      }
      if (c.kind === 'transient') {
        transient.push({ write, c });
        return;
      }
      failed.push({ detail: detail(c, write, at, recordId ?? write.recordId), write });
      audit.push({
        jobId: options.jobId,
        system: write.system,
        object: write.object,
        recordId: recordId ?? write.recordId ?? null,
        unifiedId: write.entityKey,
        field: c.field ?? null,
        outcome: 'failed',
        errorCode: c.code,
        errorMessage: c.reason,
        reason: write.action === 'create' ? `create ${write.object}` : null,
        at,
      });
    };

    let outcomes: WriteOutcome[];
    let pending = writes;
    try {
      // HubSpot lifecyclestage moving back: clear, then set (two ordered requests).
      const clearing = pending.filter(
        (w) => w.action === 'update' && w.fields.some((f) => f.clearFirst === true),
      );
      if (clearing.length > 0) {
        const clearOps: WriteOp[] = clearing.map((w, i) => ({
          kind: 'update',
          ref: String(i),
          recordId: w.recordId ?? '',
          fields: Object.fromEntries(
            w.fields.filter((f) => f.clearFirst === true).map((f) => [f.field, null]),
          ),
        }));
        const clearOutcomes = await this.write(batch.system, batch.object, clearOps);
        const bad = new Set<RecordWrite>();
        clearOutcomes.forEach((o, i) => {
          const w = clearing[i];
          if (w !== undefined && !o.ok) {
            fail(w, o.classification);
            bad.add(w);
          }
        });
        pending = pending.filter((w) => !bad.has(w));
      }
      outcomes = await this.writeOps(batch.system, batch.object, pending);
    } catch (error) {
      if (error instanceof RateLimitedError && succeeded.length === 0) {
        const c = error.classification;
        const rest = { ...batch, writes: pending };
        return {
          created: [],
          replan,
          result: {
            written: 0,
            created: 0,
            failed,
            deferred: {
              waitMs: c.kind === 'rate_limited' ? c.waitMs : 60_000,
              batch: { ...rest, key: batchKey(rest) },
            },
          },
        };
      }
      throw error;
    }
    outcomes.forEach((o, i) => {
      const w = pending[i];
      if (w === undefined) return;
      if (o.ok)
        succeeded.push({ write: w, recordId: o.recordId, created: w.action === 'create' && o.created });
      else fail(w, o.classification);
    });

    // The counterparts of created records learn the new ids; the links remember them.
    const linkFailures = await this.linkBack(succeeded, options.jobId, at, audit);
    failed.push(...linkFailures);

    await this.recordSuccess(succeeded, options.jobId, at, audit, sentAt);
    const forget = [...failed, ...transient.map((t) => ({ write: t.write }))]
      .map((f) => f.write)
      .filter((w): w is RecordWrite => w !== undefined && w.recordId !== undefined)
      .flatMap((w) =>
        w.fields.map((f) => ({ system: w.system, recordId: w.recordId ?? '', field: f.field })),
      );
    await this.lastWritten.deleteFields(forget);
    await this.view.appendWriteAudit(audit);
    const written = succeeded.length;
    if (written > 0)
      this.metrics.recordsSynced.inc(
        { system: batch.system, object: batch.object, direction: 'written' },
        written,
      );
    for (const f of failed) this.metrics.failures.inc({ code: f.detail.code, kind: f.detail.kind });
    if (transient.length > 0) {
      const first = transient[0] as { write: RecordWrite; c: Classification };
      throw new TransientError({
        code: first.c.code,
        reason: `${transient.length} of ${batch.writes.length} writes to ${batch.system} ${batch.object} failed for a passing reason (${first.c.reason}); the batch is safe to retry`,
      });
    }
    const creates = succeeded.filter((s) => s.write.action === 'create');
    const outcome: WriteBackOutcome = { written, created: creates.length, failed };
    if (deferred.length > 0) {
      const rest = { ...batch, writes: deferred };
      outcome.deferred = { waitMs, batch: { ...rest, key: batchKey(rest) } };
    }
    return {
      result: outcome,
      created: creates.map((c) => ({ system: c.write.system, object: c.write.object, id: c.recordId })),
      replan,
    };
  }

  private write(system: System, object: ObjectName, ops: readonly WriteOp[]): Promise<WriteOutcome[]> {
    if (ops.length === 0) return Promise.resolve([]);
    return system === 'hubspot'
      ? this.deps.hubspot.write(object as never, ops)
      : this.deps.salesforce.write(object as never, ops);
  }

  /**
   * One outcome per write, in order. HubSpot contact creates by email upsert go through
   * `upsertContactsByEmail` (claim the address, then write the fields only to a contact that is the person).
   */
  private async writeOps(
    system: System,
    object: ObjectName,
    writes: readonly RecordWrite[],
  ): Promise<WriteOutcome[]> {
    const ops = writes.map((w, i) => this.toOp(w, i));
    const upserts = ops.flatMap((op, i) => (op.kind === 'upsert' ? [i] : []));
    if (upserts.length === 0) return this.write(system, object, ops);
    const rest = ops.flatMap((op, i) => (op.kind === 'upsert' ? [] : [i]));
    const out = new Array<WriteOutcome>(ops.length);
    const restOutcomes = await this.write(
      system,
      object,
      rest.map((i) => ops[i] as WriteOp),
    );
    rest.forEach((i, j) => (out[i] = restOutcomes[j] as WriteOutcome));
    const secondary = this.mapping.objects.person.identity.secondary_emails.hubspot;
    const upserted = await upsertContactsByEmail(
      {
        write: (list) => this.write(system, object, list),
        emails: (ids) => this.contactEmails(ids, secondary),
        ...(secondary !== undefined ? { secondaryProperty: secondary } : {}),
      },
      upserts.map((i) => ops[i] as WriteOp),
      upserts.map((i) => writes[i]),
    );
    upserts.forEach((i, j) => (out[i] = upserted[j] as WriteOutcome));
    return out;
  }

  /** Primary (and secondary) emails of HubSpot contacts, read by id. */
  private async contactEmails(
    ids: readonly string[],
    secondary: string | undefined,
  ): Promise<Map<string, ContactEmails>> {
    const out = new Map<string, ContactEmails>();
    const properties = secondary === undefined ? ['email'] : ['email', secondary];
    for (let i = 0; i < ids.length; i += 100) {
      const inputs = ids.slice(i, i + 100).map((id) => ({ id }));
      const answer = await this.deps.hubspot.caller.call(
        (c) =>
          c.crm.objects.batchApi.readWithHttpInfo(
            'contacts',
            { inputs, properties, propertiesWithHistory: [] },
            false,
          ) as unknown as Promise<HttpInfoLike<{ results: HubSpotObjectLike[] }>>,
        { object: 'contacts' },
      );
      for (const r of answer.results) {
        const p = (r.properties ?? {}) as Record<string, string | null | undefined>;
        out.set(String(r.id), {
          email: p['email'] ?? null,
          additional: secondary === undefined ? null : (p[secondary] ?? null),
        });
      }
    }
    return out;
  }

  private toOp(w: RecordWrite, i: number): WriteOp {
    const fields = fieldsOfWrite(w);
    if (w.action === 'update') return { kind: 'update', ref: String(i), recordId: w.recordId ?? '', fields };
    const email = fields['email'];
    if (w.system === 'hubspot' && w.object === 'contacts' && typeof email === 'string' && email !== '') {
      return { kind: 'upsert', ref: String(i), idProperty: 'email', idValue: email, fields };
    }
    return { kind: 'create', ref: String(i), fields };
  }

  /**
   * Writes whose entity has been planned again since are dropped (the newer plan's own writes carry what
   * the entity needs now), each with a `skipped` audit row, so out-of-order write-back jobs never put an
   * older value over a newer one.
   */
  private async dropSuperseded(
    writes: readonly RecordWrite[],
    jobId: string,
    at: Date,
  ): Promise<RecordWrite[]> {
    const stamped = writes.filter((w) => w.planId !== undefined);
    if (stamped.length === 0) return [...writes];
    const keys = [...new Set(stamped.map((w) => w.entityKey))];
    const ids = await this.plans.latest(keys);
    const latest = new Map(keys.map((k, i) => [k, ids[i]]));
    const superseded = (w: RecordWrite): boolean => {
      const current = latest.get(w.entityKey);
      return w.planId !== undefined && current !== undefined && current !== w.planId;
    };
    const dropped = writes.filter(superseded);
    if (dropped.length === 0) return [...writes];
    await this.view.appendWriteAudit(
      dropped.map((w) =>
        skippedWrite(
          w,
          'superseded: the entity was planned again since; the newer plan writes what it needs',
          jobId,
          at,
        ),
      ),
    );
    return writes.filter((w) => !superseded(w));
  }

  /**
   * Salesforce updates are checked against the records as they are now, just before they are sent: Tandem
   * reads Salesforce changes only a window lag late, so a plan can rest on a value a user has changed since.
   * A record whose written fields no longer hold what the plan saw there (`FieldWrite.previous`) is not
   * written; its fresh snapshot is stored and its entity planned again. One query per 200 records.
   * (HubSpot needs no such read: its property history shows an overwritten edit afterwards.)
   */
  private async keepUnchanged(
    writes: readonly RecordWrite[],
    jobId: string,
    at: Date,
  ): Promise<{ writes: RecordWrite[]; replan: SourceRef[] }> {
    const checked = writes.filter(
      (w) => w.system === 'salesforce' && w.action === 'update' && w.recordId !== undefined,
    );
    if (checked.length === 0) return { writes: [...writes], replan: [] };
    const refs = checked.map((w) => ({ system: w.system, object: w.object, id: w.recordId as string }));
    await this.readBack(refs);
    const fresh = new Map(
      (await this.snapshots.findByRecordIds({ system: 'salesforce', recordIds: refs.map((r) => r.id) })).map(
        (s) => [`${s.object}:${s.recordId}`, s],
      ),
    );
    const moved = new Set<RecordWrite>();
    const changedFields = new Map<RecordWrite, string[]>();
    for (const w of checked) {
      const snapshot = fresh.get(`${w.object}:${w.recordId}`);
      if (snapshot === undefined || snapshot.deleted) continue; // the write itself reports a missing record
      const now = snapshotToRecord(snapshot).fields;
      const changed = w.fields
        .filter((f) => f.previous !== undefined && !sameHeldValue(now[f.field], f.previous))
        .map((f) => f.field);
      if (changed.length > 0) {
        moved.add(w);
        changedFields.set(w, changed);
      }
    }
    if (moved.size === 0) return { writes: [...writes], replan: [] };
    await this.view.appendWriteAudit(
      [...moved].map((w) =>
        skippedWrite(
          w,
          `changed in Salesforce since it was planned (${(changedFields.get(w) ?? []).join(', ')}): planned again from the record as it is now`,
          jobId,
          at,
        ),
      ),
    );
    return {
      writes: writes.filter((w) => !moved.has(w)),
      replan: [...moved].map((w) => ({ system: w.system, object: w.object, id: w.recordId as string })),
    };
  }

  /**
   * A create whose entity already has a record of the same object in the target (an earlier batch created
   * it) becomes an update. One whose entity meanwhile gained a record of another object there (a Lead was
   * to be created, but the person turned out to have a Contact) was planned on stale knowledge: it is not
   * sent, and its counterpart is returned to be reconciled again (a Lead's fields do not fit a Contact).
   */
  private async resolveCreates(
    writes: readonly RecordWrite[],
  ): Promise<{ writes: RecordWrite[]; replan: SourceRef[] }> {
    const creates = writes.filter((w) => w.action === 'create' && w.counterpart !== undefined);
    if (creates.length === 0) return { writes: [...writes], replan: [] };
    const groups = new Map<string, { system: System; object: string; ids: string[] }>();
    for (const w of creates) {
      const c = w.counterpart as NonNullable<RecordWrite['counterpart']>;
      const k = `${c.system}:${c.object}`;
      const g = groups.get(k) ?? { system: c.system, object: c.object, ids: [] };
      g.ids.push(c.id);
      groups.set(k, g);
    }
    const unifiedOf = new Map<string, string>();
    for (const g of groups.values()) {
      for (const l of await this.view.findLinks({ system: g.system, object: g.object, recordIds: g.ids })) {
        unifiedOf.set(`${l.system}:${l.recordId}`, l.unifiedId);
      }
    }
    const rows = await this.view.findLinksByUnifiedIds([
      ...new Set([...unifiedOf.values(), ...creates.map((w) => w.entityKey)]),
    ]);
    const replan: SourceRef[] = [];
    const resolved = writes.flatMap((w): RecordWrite[] => {
      if (w.action !== 'create' || w.counterpart === undefined) return [w];
      const unified = unifiedOf.get(`${w.counterpart.system}:${w.counterpart.id}`) ?? w.entityKey;
      const target = rows.find(
        (r) =>
          r.unifiedId === unified &&
          r.system === w.system &&
          (r.object === w.object ||
            (w.system === 'salesforce' &&
              kindOf(r.object as ObjectName) === 'person' &&
              kindOf(w.object) === 'person')),
      );
      if (target === undefined) return [w];
      if (target.object !== w.object) {
        replan.push({ system: w.counterpart.system, object: w.counterpart.object, id: w.counterpart.id });
        return [];
      }
      const { counterpart: _c, linkBack: _l, ...rest } = w;
      return [{ ...rest, action: 'update', recordId: target.recordId }];
    });
    return { writes: resolved, replan };
  }

  private async linkBack(
    created: ReadonlyArray<{ write: RecordWrite; recordId: string; created: boolean }>,
    jobId: string,
    at: Date,
    audit: WriteAuditEntry[],
  ): Promise<RecordFailure[]> {
    const failures: RecordFailure[] = [];
    const links = created
      .filter((c) => c.write.action === 'create' && c.write.counterpart !== undefined)
      .flatMap((c) => {
        const cp = c.write.counterpart as NonNullable<RecordWrite['counterpart']>;
        return [
          {
            system: c.write.system,
            object: c.write.object,
            recordId: c.recordId,
            unifiedId: c.write.entityKey,
            recordType: kindOf(c.write.object) ?? 'person',
            linkedBy: 'created' as const,
          },
          {
            system: cp.system,
            object: cp.object,
            recordId: cp.id,
            unifiedId: c.write.entityKey,
            recordType: kindOf(cp.object) ?? 'person',
            linkedBy: 'created' as const,
          },
        ];
      });
    await this.view.upsertLinks(links, at);
    const backs = created
      .filter(
        (c) =>
          c.write.action === 'create' && c.write.counterpart !== undefined && c.write.linkBack !== undefined,
      )
      .map((c): RecordWrite => {
        const cp = c.write.counterpart as NonNullable<RecordWrite['counterpart']>;
        const field = (c.write.linkBack as { field: string }).field;
        return {
          action: 'update',
          system: cp.system,
          object: cp.object,
          recordId: cp.id,
          entityKey: c.write.entityKey,
          fields: [
            {
              field,
              value: c.recordId,
              hash: valueHash(c.recordId),
              reason: `link back: id of the ${c.write.system} ${c.write.object} Tandem created`,
            },
          ],
        };
      });
    const byTarget = new Map<string, RecordWrite[]>();
    for (const b of backs) {
      const k = `${b.system}\n${b.object}`;
      byTarget.set(k, [...(byTarget.get(k) ?? []), b]);
    }
    for (const list of byTarget.values()) {
      const first = list[0] as RecordWrite;
      const outcomes = await this.write(
        first.system,
        first.object,
        list.map((w, i) => this.toOp(w, i)),
      );
      const ok: Array<{ write: RecordWrite; recordId: string; created: boolean }> = [];
      outcomes.forEach((o, i) => {
        const w = list[i];
        if (w === undefined) return;
        if (o.ok) ok.push({ write: w, recordId: o.recordId, created: false });
        else {
          failures.push({ detail: detail(o.classification, w, at, w.recordId), write: w });
          audit.push({
            jobId,
            system: w.system,
            object: w.object,
            recordId: w.recordId ?? null,
            unifiedId: w.entityKey,
            field: w.fields[0]?.field ?? null,
            after: w.fields[0]?.value ?? null,
            outcome: 'failed',
            errorCode: o.classification.code,
            errorMessage: o.classification.reason,
            at,
          });
        }
      });
      await this.recordSuccess(ok, jobId, at, audit);
    }
    return failures;
  }

  /** Last-written hashes, snapshots with the written values, and the audit of each written field. */
  private async recordSuccess(
    done: ReadonlyArray<{ write: RecordWrite; recordId: string; created: boolean }>,
    jobId: string,
    at: Date,
    audit: WriteAuditEntry[],
    sentAt: Date = at,
  ): Promise<void> {
    if (done.length === 0) return;
    const hashes: WrittenValue[] = [];
    for (const d of done) {
      for (const f of d.write.fields) {
        for (const [key, hash] of Object.entries(f.heldElsewhere ?? {})) {
          const parsed = parseWrittenKey(key);
          if (parsed !== undefined) hashes.push({ ...parsed, hash });
        }
        hashes.push({ system: d.write.system, recordId: d.recordId, field: f.field, hash: f.hash });
        if (d.write.system === 'hubspot' && d.write.action === 'update')
          hashes.push({
            system: 'hubspot',
            recordId: d.recordId,
            field: replacedField(f.field),
            hash: replacedEntry(f.hash, f.previous, f.provenance?.changedAt),
          });
        audit.push({
          jobId,
          system: d.write.system,
          object: d.write.object,
          recordId: d.recordId,
          unifiedId: d.write.entityKey,
          field: f.field,
          before: f.previous ?? null,
          after: f.value,
          rule: f.provenance?.rule ?? (f.unifiedField === undefined ? 'computed' : null),
          reason: f.reason,
          outcome: 'written',
          at,
        });
      }
    }
    const bySystem = new Map<System, typeof done>();
    for (const d of done) bySystem.set(d.write.system, [...(bySystem.get(d.write.system) ?? []), d]);
    // A snapshot read after the writes were sent (it may hold a later edit) is kept as it is.
    for (const [system, list] of bySystem) {
      await this.snapshots.update({ system, recordIds: list.map((d) => d.recordId) }, (existing) => {
        const byId = new Map(existing.map((s) => [`${s.object}:${s.recordId}`, s]));
        const rows: SourceSnapshot[] = [];
        for (const d of list) {
          const written: Record<string, RawValue> = {};
          for (const f of d.write.fields) written[f.field] = f.value;
          const snapshot = byId.get(`${d.write.object}:${d.recordId}`);
          if (snapshot !== undefined) rows.push(withWrittenValues(snapshot, written, this.mapping, sentAt));
          else {
            const record: SourceRecord = {
              system,
              object: d.write.object,
              id: d.recordId,
              fields: written,
              createdAt: at.toISOString(),
              modifiedAt: at.toISOString(),
            };
            rows.push(recordToSnapshot(record, this.mapping, sentAt));
          }
        }
        return rows;
      });
    }
    // Only now: a reconcile that reads these values must find the snapshots stamped (see `staleGroups`).
    await this.lastWritten.setMany(hashes);
  }

  // ---- back-fill ---------------------------------------------------------------------------------------

  async refsForMappingBackfill(
    kind: EntityKind,
    options: { after?: string; limit: number },
  ): Promise<SourceRef[]> {
    const ids = await this.view.recordsByMappingVersion({
      recordType: kind,
      currentVersion: this.mappingVersion,
      ...(options.after !== undefined ? { afterId: options.after } : {}),
      limit: options.limit,
    });
    if (ids.length === 0) return [];
    const links = await this.view.findLinksByUnifiedIds(ids);
    return links
      .filter((l) => l.recordType === kind)
      .map((l) => ({ system: l.system, object: l.object as ObjectName, id: l.recordId }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.deps.onClose?.();
  }
}

/**
 * The pipeline over ready-made dependencies (connectors, database, Redis); `openSyncPipeline` builds them
 * from the configuration.
 *
 * @example
 * const pipeline = createSyncPipeline({ mapping, mappingVersion, hubspot, salesforce, db, redis, keys });
 * for await (const page of pipeline.pull('hubspot', 'contacts', { mode: 'incremental' })) {
 *   const { writes } = await pipeline.reconcile(page.kind, page.refs);
 *   for (const batch of writes) await pipeline.writeBack(batch, { jobId: batch.key });
 * }
 */
export function createSyncPipeline(deps: SyncPipelineDeps): SyncPipelineImpl {
  return new Pipeline(deps);
}

export { snapshotToRecord };

/** Refs handed on outside a connector page (parked, due for re-evaluation): one page per system and object. */
function* pagesByObject(
  refs: readonly SourceRef[],
  kind: EntityKind,
  checkpoint: Checkpoint,
): Iterable<PulledPage> {
  const byObject = new Map<string, SourceRef[]>();
  for (const r of refs) {
    const key = `${r.system}\t${r.object}`;
    const list = byObject.get(key);
    if (list) list.push(r);
    else byObject.set(key, [r]);
  }
  for (const list of byObject.values()) {
    const first = list[0] as SourceRef;
    yield { system: first.system, object: first.object, kind, refs: list, deleted: [], checkpoint };
  }
}

function personPage(system: System, object: ObjectName, ids: string[], checkpoint: Checkpoint): PulledPage {
  return {
    system,
    object,
    kind: 'person',
    refs: ids.map((id) => ({ system, object, id })),
    deleted: [],
    checkpoint,
  };
}

/** A group is handed on early when its first page was read this long ago (a slow, rate-limited pull). */
export const GROUP_MAX_WAIT_MS = 5_000;
/** Persons per page of the re-evaluation sweep when the pull groups no refs. */
const DUE_PAGE = 500;

/**
 * Consecutive connector pages of one pull, handed on together: the object's refs and deletions as one page,
 * then the persons the pages' deals point at (HubSpot deal associations, Salesforce contact roles) as a
 * person page, each without duplicates. The last page's checkpoint covers them all.
 */
class PageGroup {
  checkpoint: Checkpoint | undefined;
  private readonly refs = new Map<string, SourceRef>();
  private readonly deleted = new Map<string, SourceRef>();
  private readonly persons = new Map<string, { system: System; object: ObjectName; ids: Set<string> }>();
  private openedAt: number | undefined;
  /** Records read that hold what their last reconcile left (not handed on). */
  private alreadyReconciled = 0;

  constructor(
    private readonly system: System,
    private readonly object: ObjectName,
    private readonly kind: EntityKind,
  ) {}

  add(refs: readonly SourceRef[], deleted: readonly SourceRef[], checkpoint: Checkpoint, inStep = 0): void {
    this.openedAt ??= Date.now();
    this.alreadyReconciled += inStep;
    for (const r of refs) this.refs.set(`${r.system}\t${r.object}\t${r.id}`, r);
    for (const r of deleted) this.deleted.set(`${r.system}\t${r.object}\t${r.id}`, r);
    this.checkpoint = checkpoint;
  }

  addPersons(system: System, object: ObjectName, ids: readonly string[]): void {
    if (ids.length === 0) return;
    const key = `${system}\t${object}`;
    const entry = this.persons.get(key) ?? { system, object, ids: new Set<string>() };
    for (const id of ids) entry.ids.add(id);
    this.persons.set(key, entry);
  }

  /** Whether to hand the group on now: enough refs of either kind, or open too long. */
  ready(minRefs: number, maxWaitMs: number, now: number): boolean {
    if (this.refs.size + this.alreadyReconciled >= minRefs) return true;
    for (const p of this.persons.values()) if (p.ids.size >= minRefs) return true;
    return this.openedAt !== undefined && now - this.openedAt >= maxWaitMs;
  }

  *pages(): Iterable<PulledPage> {
    const checkpoint = this.checkpoint as Checkpoint;
    yield {
      system: this.system,
      object: this.object,
      kind: this.kind,
      refs: [...this.refs.values()],
      deleted: [...this.deleted.values()],
      checkpoint,
      ...(this.alreadyReconciled > 0 ? { alreadyReconciled: this.alreadyReconciled } : {}),
    };
    for (const p of this.persons.values())
      yield personPage(p.system, p.object, [...p.ids].sort(), checkpoint);
  }
}

/** Records that others were merged into and that are not on the page themselves: reconciled with it. */
function mergeSurvivors(system: System, page: PullPage): SourceRef[] {
  const onPage = new Set(page.records.map((r) => r.id));
  const survivors = new Map<string, SourceRef>();
  for (const d of page.deleted) {
    if (d.mergedInto !== undefined && !onPage.has(d.mergedInto)) {
      survivors.set(d.mergedInto, { system, object: d.object as ObjectName, id: d.mergedInto });
    }
  }
  return [...survivors.values()];
}
