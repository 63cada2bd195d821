import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { anyOf, batchInsert, type BatchInsert, type Executor } from './batch-sql.js';
import {
  FUNNEL_STAGES,
  type AttributionCredit,
  type CompanyRecord,
  type DealRecord,
  type DuplicateReport,
  type FieldProvenance,
  type FunnelQuery,
  type FunnelReport,
  type MappingBackfillPage,
  type MappingVersion,
  type PersonLookup,
  type PersonRecord,
  type PersonView,
  type RecordLink,
  type SlaQuery,
  type SlaReport,
  type StageEntry,
  type StageName,
  type StoredDuplicateReport,
  type StoredWriteAuditEntry,
  type SyncRun,
  type SyncRunFinish,
  type SyncRunQuery,
  type SyncRunStart,
  type SystemName,
  type Touchpoint,
  type UpsertResult,
  type WriteAuditEntry,
} from './customer-view-types.js';
import { funnelReport, slaBreaches } from './funnel-report.js';
import type {
  AttributionCreditsTable,
  CustomerViewDatabase,
  FieldValuesTable,
  PersonsTable,
  RecordLinksTable,
  StageHistoryTable,
  TouchpointsTable,
  WriteAuditTable,
} from './schema.js';

const PERSON_OBJECTS = ['contacts', 'Lead', 'Contact'];
const SAL_POSITION = FUNNEL_STAGES.indexOf('sal') + 1;
/** A stage's position in the funnel (subscriber 0 … customer 6), `disqualified` and unknown ones after. */
const STAGE_ORDER = sql<number>`case stage ${sql.join(
  FUNNEL_STAGES.map((stage, i) => sql`when ${sql.lit(stage)} then ${sql.lit(i)}`),
  sql` `,
)} else ${sql.lit(FUNNEL_STAGES.length)} end`;

const excludedAll = (columns: readonly string[], except: readonly string[] = []): Record<string, string> =>
  Object.fromEntries(columns.filter((c) => !except.includes(c)).map((c) => [c, `excluded.${c}`]));

/** Unified records: current values replace stored ones; the earliest creation time is kept. */
function recordSpec(table: string, columns: Record<string, string>): BatchInsert {
  const names = Object.keys(columns);
  return {
    table,
    columns,
    key: ['id'],
    onConflict: {
      ...excludedAll(names, ['id', 'created_at']),
      created_at: `least(${table}.created_at, excluded.created_at)`,
    },
    compare: names.filter((c) => c !== 'id' && c !== 'updated_at'),
  };
}

const PERSON_RECORD_SPEC = recordSpec('persons', {
  id: 'text',
  email: 'text',
  lifecycle_stage: 'text',
  lead_score: 'integer',
  original_source: 'text',
  latest_source: 'text',
  company_id: 'text',
  fields: 'jsonb',
  mapping_version: 'text',
  reevaluate_at: 'timestamptz',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
});
/** Persons also carry the furthest stage reached: the current stage or any stage already in history. */
const PERSON_SPEC: BatchInsert = {
  ...PERSON_RECORD_SPEC,
  derived: {
    furthest_stage_position: `greatest(
      coalesce((select position from tandem.lifecycle_stages where stage = batch.lifecycle_stage), 0),
      coalesce((select max(s.position) from tandem.stage_history h
        join tandem.lifecycle_stages s on s.stage = h.stage where h.person_id = batch.id), 0))`,
  },
  onConflict: {
    ...(PERSON_RECORD_SPEC.onConflict as Record<string, string>),
    furthest_stage_position: 'greatest(persons.furthest_stage_position, excluded.furthest_stage_position)',
  },
  alsoUpdateWhen: 'excluded.furthest_stage_position > persons.furthest_stage_position',
};
const COMPANY_SPEC = recordSpec('companies', {
  id: 'text',
  name: 'text',
  domain: 'text',
  fields: 'jsonb',
  mapping_version: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
});
const DEAL_SPEC = recordSpec('deals', {
  id: 'text',
  name: 'text',
  amount: 'numeric',
  currency: 'text',
  stage: 'text',
  outcome: 'text',
  close_date: 'date',
  company_id: 'text',
  fields: 'jsonb',
  mapping_version: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
});

const FIELD_VALUE_SPEC: BatchInsert = {
  table: 'field_values',
  columns: {
    unified_id: 'text',
    record_type: 'text',
    field: 'text',
    value: 'jsonb',
    source_system: 'text',
    source_object: 'text',
    source_record_id: 'text',
    source_field: 'text',
    changed_at: 'timestamptz',
    rule: 'text',
    mapping_version: 'text',
  },
  key: ['unified_id', 'field'],
  onConflict: 'nothing', // inserted right after the old rows are deleted
};

const LINK_SPEC: BatchInsert = {
  table: 'record_links',
  columns: {
    system: 'text',
    object: 'text',
    record_id: 'text',
    unified_id: 'text',
    record_type: 'text',
    linked_by: 'text',
    linked_at: 'timestamptz',
    updated_at: 'timestamptz',
  },
  key: ['system', 'object', 'record_id'],
  onConflict: {
    ...excludedAll(['unified_id', 'record_type', 'linked_by', 'updated_at']),
    // A re-link to another unified record is a new link; confirming the same one keeps its first time.
    linked_at:
      'case when record_links.unified_id = excluded.unified_id then record_links.linked_at else excluded.linked_at end',
  },
  compare: ['unified_id', 'record_type', 'linked_by'],
};

const DUPLICATE_SPEC: BatchInsert = {
  table: 'duplicates',
  columns: {
    system: 'text',
    object: 'text',
    group_key: 'text',
    record_ids: 'jsonb',
    survivor_record_id: 'text',
    unified_id: 'text',
    match_key: 'text',
    rule: 'text',
    first_detected_at: 'timestamptz',
    last_detected_at: 'timestamptz',
  },
  key: ['system', 'object', 'group_key'],
  onConflict: {
    ...excludedAll(['record_ids', 'survivor_record_id', 'unified_id', 'match_key', 'rule']),
    last_detected_at: 'greatest(duplicates.last_detected_at, excluded.last_detected_at)',
  },
};

const STAGE_SPEC: BatchInsert = {
  table: 'stage_history',
  columns: {
    person_id: 'text',
    stage: 'text',
    entered_at: 'timestamptz',
    previous_stage: 'text',
    reason: 'text',
    rule: 'text',
  },
  key: ['person_id', 'stage', 'entered_at'],
  onConflict: 'nothing',
};

const TOUCHPOINT_COLUMNS = {
  id: 'text',
  person_id: 'text',
  source: 'text',
  detail: 'text',
  campaign: 'text',
  occurred_at: 'timestamptz',
  system: 'text',
  object: 'text',
  record_id: 'text',
};
const TOUCHPOINT_SPEC: BatchInsert = {
  table: 'touchpoints',
  columns: TOUCHPOINT_COLUMNS,
  key: ['id'],
  onConflict: excludedAll(Object.keys(TOUCHPOINT_COLUMNS), ['id']),
};

const CREDIT_SPEC: BatchInsert = {
  table: 'attribution_credits',
  columns: {
    deal_id: 'text',
    model: 'text',
    touchpoint_id: 'text',
    person_id: 'text',
    source: 'text',
    share: 'numeric',
    credit: 'numeric',
    computed_at: 'timestamptz',
  },
  key: ['deal_id', 'model', 'touchpoint_id'],
  onConflict: 'nothing',
};

// No conflict target: every attempt is kept, retries included.
const AUDIT_SPEC: BatchInsert = {
  table: 'write_audit',
  columns: {
    job_id: 'text',
    system: 'text',
    object: 'text',
    record_id: 'text',
    unified_id: 'text',
    field: 'text',
    before: 'jsonb',
    after: 'jsonb',
    rule: 'text',
    reason: 'text',
    outcome: 'text',
    error_code: 'text',
    error_message: 'text',
    at: 'timestamptz',
  },
  key: [],
  onConflict: 'none',
};

const FINGERPRINT_SPEC: BatchInsert = {
  table: 'view_fingerprints',
  columns: { part: 'text', fingerprint: 'text' },
  key: ['part'],
  onConflict: { fingerprint: 'excluded.fingerprint' },
  compare: ['fingerprint'],
};

const MAPPING_VERSION_SPEC: BatchInsert = {
  table: 'mapping_versions',
  columns: { version: 'text', content_hash: 'text', applied_at: 'timestamptz', mapping_text: 'text' },
  key: ['version'],
  onConflict: 'nothing',
};

export class MappingVersionConflictError extends Error {
  constructor(readonly version: string) {
    super(`mapping version ${version} is already recorded with different content`);
    this.name = 'MappingVersionConflictError';
  }
}

/**
 * The customer view in PostgreSQL: batched writes from reconcile and write-back, and the reads the
 * dashboard and RevOps need. Every write method takes a whole batch and issues one statement for it
 * (the replace methods: one delete and one insert, in a transaction).
 *
 * @example
 * const view = new CustomerView(db);
 * await view.upsertPersons(persons);
 * const report = await view.funnel({ from, to, groupBy: 'original_source' });
 */
export class CustomerView {
  constructor(private readonly db: Kysely<CustomerViewDatabase>) {}

  /** Its own transaction, or the one this view was opened on (`storeParts`). */
  private inTransaction<T>(work: (trx: Kysely<CustomerViewDatabase>) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
  }

  /**
   * Stores parts of the view (see `view_fingerprints`) in one transaction that first takes a lock per part,
   * so two reconciles storing the same person take turns and its rows and fingerprint always come from
   * the same one. `store` gets a view on the transaction and the fingerprints stored before it, and
   * returns the fingerprints to keep.
   */
  async storeParts(
    parts: readonly string[],
    store: (
      view: CustomerView,
      stored: ReadonlyMap<string, string>,
    ) => Promise<ReadonlyArray<{ part: string; fingerprint: string }>>,
  ): Promise<void> {
    await this.inTransaction(async (trx) => {
      // In one order for every transaction (the hash the lock is keyed by), so two never wait on each other.
      // pg_advisory_xact_lock is volatile, hence evaluated after the sort.
      await sql`
        select pg_advisory_xact_lock(k) from (
          select distinct hashtextextended(part, 0) as k from unnest(${[...parts]}::text[]) as part
        ) keys order by k
      `.execute(trx);
      const stored = new Map<string, string>();
      if (parts.length > 0) {
        const rows = await trx
          .selectFrom('view_fingerprints')
          .select(['part', 'fingerprint'])
          .where(anyOf('part', parts))
          .execute();
        for (const r of rows) stored.set(r.part, r.fingerprint);
      }
      const keep = await store(new CustomerView(trx), stored);
      await batchInsert(trx, FINGERPRINT_SPEC, keep);
    });
  }

  async upsertPersons(rows: readonly PersonRecord[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      PERSON_SPEC,
      rows.map((p) => ({
        id: p.id,
        email: p.email,
        lifecycle_stage: p.lifecycleStage,
        lead_score: p.leadScore,
        original_source: p.originalSource,
        latest_source: p.latestSource,
        company_id: p.companyId,
        fields: p.fields,
        mapping_version: p.mappingVersion,
        reevaluate_at: p.reevaluateAt ?? null,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
      })),
    );
  }

  async upsertCompanies(rows: readonly CompanyRecord[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      COMPANY_SPEC,
      rows.map((c) => ({
        id: c.id,
        name: c.name,
        domain: c.domain,
        fields: c.fields,
        mapping_version: c.mappingVersion,
        created_at: c.createdAt,
        updated_at: c.updatedAt,
      })),
    );
  }

  async upsertDeals(rows: readonly DealRecord[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      DEAL_SPEC,
      rows.map((d) => ({
        id: d.id,
        name: d.name,
        amount: d.amount,
        currency: d.currency,
        stage: d.stage,
        outcome: d.outcome,
        close_date: d.closeDate,
        company_id: d.companyId,
        fields: d.fields,
        mapping_version: d.mappingVersion,
        created_at: d.createdAt,
        updated_at: d.updatedAt,
      })),
    );
  }

  /** Replaces the whole provenance of these records (fields no longer present disappear). */
  async replaceFieldValues(unifiedIds: readonly string[], rows: readonly FieldProvenance[]): Promise<number> {
    assertWithin('field value', unifiedIds, rows, (r) => r.unifiedId);
    return this.inTransaction(async (trx) => {
      await trx.deleteFrom('field_values').where(anyOf('unified_id', unifiedIds)).execute();
      const result = await batchInsert(
        trx,
        FIELD_VALUE_SPEC,
        rows.map((f) => ({
          unified_id: f.unifiedId,
          record_type: f.recordType,
          field: f.field,
          value: f.value,
          source_system: f.sourceSystem,
          source_object: f.sourceObject,
          source_record_id: f.sourceRecordId,
          source_field: f.sourceField,
          changed_at: f.changedAt,
          rule: f.rule,
          mapping_version: f.mappingVersion,
        })),
      );
      return result.inserted;
    });
  }

  async upsertLinks(rows: readonly RecordLink[], now: Date = new Date()): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      LINK_SPEC,
      rows.map((l) => ({
        system: l.system,
        object: l.object,
        record_id: l.recordId,
        unified_id: l.unifiedId,
        record_type: l.recordType,
        linked_by: l.linkedBy,
        linked_at: l.linkedAt ?? now,
        updated_at: l.updatedAt ?? now,
      })),
    );
  }

  /**
   * A record merged into another (`from` → `to`, same system and object) hands its link to the survivor, so
   * the survivor continues the same unified record. A survivor with a link of its own keeps it; the merged
   * record's link then stays as it was. Returns how many links moved.
   */
  async moveMergedLinks(
    merges: ReadonlyArray<{ system: SystemName; object: string; from: string; to: string }>,
    now: Date = new Date(),
  ): Promise<number> {
    let moved = 0;
    for (const m of merges) {
      const result = await this.db
        .updateTable('record_links')
        .set({ record_id: m.to, updated_at: now })
        .where('system', '=', m.system)
        .where('object', '=', m.object)
        .where('record_id', '=', m.from)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('record_links as survivor')
                .select('survivor.record_id')
                .where('survivor.system', '=', m.system)
                .where('survivor.object', '=', m.object)
                .where('survivor.record_id', '=', m.to),
            ),
          ),
        )
        .executeTakeFirst();
      moved += Number(result.numUpdatedRows);
    }
    return moved;
  }

  async findLinks(query: {
    system: SystemName;
    object: string;
    recordIds: readonly string[];
  }): Promise<RecordLink[]> {
    if (query.recordIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('record_links')
      .selectAll()
      .where('system', '=', query.system)
      .where('object', '=', query.object)
      .where(anyOf('record_id', query.recordIds))
      .orderBy('record_id')
      .execute();
    return rows.map(toLink);
  }

  async findLinksByUnifiedIds(unifiedIds: readonly string[]): Promise<RecordLink[]> {
    if (unifiedIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('record_links')
      .selectAll()
      .where(anyOf('unified_id', unifiedIds))
      .orderBy('unified_id')
      .orderBy('system')
      .orderBy('object')
      .orderBy('record_id')
      .execute();
    return rows.map(toLink);
  }

  /** A duplicate group is one row however often it is detected (keyed by its sorted record ids). */
  async recordDuplicates(reports: readonly DuplicateReport[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      DUPLICATE_SPEC,
      reports.map((d) => {
        const ids = [...new Set(d.recordIds)].sort();
        return {
          system: d.system,
          object: d.object,
          group_key: ids.join(' '),
          record_ids: ids,
          survivor_record_id: d.survivorRecordId,
          unified_id: d.unifiedId,
          match_key: d.matchKey,
          rule: d.rule,
          first_detected_at: d.detectedAt,
          last_detected_at: d.detectedAt,
        };
      }),
    );
  }

  async duplicates(query: { system?: SystemName; limit?: number } = {}): Promise<StoredDuplicateReport[]> {
    let q = this.db.selectFrom('duplicates').selectAll();
    if (query.system !== undefined) q = q.where('system', '=', query.system);
    const rows = await q
      .orderBy('last_detected_at', 'desc')
      .orderBy('group_key')
      .limit(query.limit ?? 500)
      .execute();
    return rows.map((d) => ({
      system: d.system,
      object: d.object,
      recordIds: d.record_ids as string[],
      survivorRecordId: d.survivor_record_id,
      unifiedId: d.unified_id,
      matchKey: d.match_key,
      rule: d.rule,
      firstDetectedAt: d.first_detected_at,
      lastDetectedAt: d.last_detected_at,
    }));
  }

  /**
   * Appends stage entries; an entry already stored (same person, stage, time) is skipped. In the same
   * transaction it keeps the funnel's derived state current for the persons touched: their furthest
   * stage, and on each MQL entry the time sales accepted it (first sal-or-later entry at or after it).
   */
  async appendStageEntries(rows: readonly StageEntry[]): Promise<number> {
    if (rows.length === 0) return 0;
    const personIds = [...new Set(rows.map((r) => r.personId))];
    return this.inTransaction(async (trx) => {
      const { inserted } = await batchInsert(
        trx,
        STAGE_SPEC,
        rows.map((s) => ({
          person_id: s.personId,
          stage: s.stage,
          entered_at: s.enteredAt,
          previous_stage: s.previousStage,
          reason: s.reason,
          rule: s.rule,
        })),
      );
      if (inserted === 0) return 0;
      await sql`
        update tandem.persons p set furthest_stage_position = reached.position
        from (
          select h.person_id, max(s.position) as position
          from tandem.stage_history h join tandem.lifecycle_stages s on s.stage = h.stage
          where h.person_id = any(${personIds}::text[])
          group by h.person_id
        ) reached
        where p.id = reached.person_id and reached.position > p.furthest_stage_position
      `.execute(trx);
      await sql`
        update tandem.stage_history m set accepted_at = handoff.accepted_at
        from (
          select mql.person_id, mql.entered_at, (
            select min(h.entered_at)
            from tandem.stage_history h join tandem.lifecycle_stages s on s.stage = h.stage
            where h.person_id = mql.person_id and s.position >= ${SAL_POSITION} and h.entered_at >= mql.entered_at
          ) as accepted_at
          from tandem.stage_history mql
          where mql.stage = 'mql' and mql.person_id = any(${personIds}::text[])
        ) handoff
        where m.stage = 'mql' and m.person_id = handoff.person_id and m.entered_at = handoff.entered_at
          and m.accepted_at is distinct from handoff.accepted_at
      `.execute(trx);
      return inserted;
    });
  }

  async replaceTouchpoints(personIds: readonly string[], rows: readonly Touchpoint[]): Promise<number> {
    assertWithin('touchpoint', personIds, rows, (r) => r.personId);
    return this.inTransaction(async (trx) => {
      await trx.deleteFrom('touchpoints').where(anyOf('person_id', personIds)).execute();
      const result = await batchInsert(
        trx,
        TOUCHPOINT_SPEC,
        rows.map((t) => ({
          id: t.id,
          person_id: t.personId,
          source: t.source,
          detail: t.detail,
          campaign: t.campaign,
          occurred_at: t.occurredAt,
          system: t.system,
          object: t.object,
          record_id: t.recordId,
        })),
      );
      return result.inserted + result.updated;
    });
  }

  /** Replaces every model's credits for these deals. */
  async replaceCredits(dealIds: readonly string[], rows: readonly AttributionCredit[]): Promise<number> {
    assertWithin('credit', dealIds, rows, (r) => r.dealId);
    return this.inTransaction(async (trx) => {
      await trx.deleteFrom('attribution_credits').where(anyOf('deal_id', dealIds)).execute();
      const result = await batchInsert(
        trx,
        CREDIT_SPEC,
        rows.map((c) => ({
          deal_id: c.dealId,
          model: c.model,
          touchpoint_id: c.touchpointId,
          person_id: c.personId,
          source: c.source,
          share: c.share,
          credit: c.credit,
          computed_at: c.computedAt,
        })),
      );
      return result.inserted;
    });
  }

  async appendWriteAudit(rows: readonly WriteAuditEntry[]): Promise<number> {
    const result = await batchInsert(
      this.db,
      AUDIT_SPEC,
      rows.map((a) => ({
        job_id: a.jobId,
        system: a.system,
        object: a.object,
        record_id: a.recordId,
        unified_id: a.unifiedId,
        field: a.field,
        before: a.before,
        after: a.after,
        rule: a.rule,
        reason: a.reason,
        outcome: a.outcome,
        error_code: a.errorCode,
        error_message: a.errorMessage,
        at: a.at,
      })),
    );
    return result.inserted;
  }

  /**
   * Records the mapping in force. Recording the same version and content again is a no-op (returns
   * false); the same version with different content is an error, since a version must name one text.
   */
  async recordMappingVersion(mapping: MappingVersion): Promise<boolean> {
    const result = await batchInsert(this.db, MAPPING_VERSION_SPEC, [
      {
        version: mapping.version,
        content_hash: mapping.contentHash,
        applied_at: mapping.appliedAt,
        mapping_text: mapping.mappingText,
      },
    ]);
    if (result.inserted === 1) return true;
    const stored = await this.db
      .selectFrom('mapping_versions')
      .select('content_hash')
      .where('version', '=', mapping.version)
      .executeTakeFirstOrThrow();
    if (stored.content_hash !== mapping.contentHash) throw new MappingVersionConflictError(mapping.version);
    return false;
  }

  async mappingVersions(): Promise<MappingVersion[]> {
    const rows = await this.db
      .selectFrom('mapping_versions')
      .selectAll()
      .orderBy('applied_at', 'desc')
      .execute();
    return rows.map((m) => ({
      version: m.version,
      contentHash: m.content_hash,
      mappingText: m.mapping_text,
      appliedAt: m.applied_at,
    }));
  }

  async startSyncRun(run: SyncRunStart): Promise<string> {
    const id = randomUUID();
    await this.db
      .insertInto('sync_runs')
      .values({
        id,
        system: run.system,
        object: run.object,
        kind: run.kind,
        status: 'running',
        started_at: run.startedAt,
        finished_at: null,
        error: null,
      })
      .execute();
    return id;
  }

  async finishSyncRun(id: string, finish: SyncRunFinish): Promise<void> {
    const result = await this.db
      .updateTable('sync_runs')
      .set({
        status: finish.status,
        finished_at: finish.finishedAt,
        records_pulled: finish.recordsPulled,
        records_written: finish.recordsWritten,
        records_failed: finish.recordsFailed,
        error: finish.error ?? null,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new Error(`no sync run ${id} to finish`);
  }

  /** Newest first, for the dashboard's overview charts. */
  async syncRuns(query: SyncRunQuery = {}): Promise<SyncRun[]> {
    let q = this.db.selectFrom('sync_runs').selectAll();
    if (query.since !== undefined) q = q.where('started_at', '>=', query.since);
    if (query.system !== undefined) q = q.where('system', '=', query.system);
    if (query.object !== undefined) q = q.where('object', '=', query.object);
    const rows = await q
      .orderBy('started_at', 'desc')
      .orderBy('id')
      .limit(query.limit ?? 500)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      system: r.system,
      object: r.object,
      kind: r.kind,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      recordsPulled: r.records_pulled,
      recordsWritten: r.records_written,
      recordsFailed: r.records_failed,
      error: r.error,
    }));
  }

  /**
   * Ids of records built under another mapping version (or none), for back-fill after a mapping change.
   * Page with `afterId` = the last id returned.
   */
  async recordsByMappingVersion(page: MappingBackfillPage): Promise<string[]> {
    const table = ({ person: 'persons', company: 'companies', deal: 'deals' } as const)[page.recordType];
    let q = (this.db as Kysely<CustomerViewDatabase>)
      .selectFrom(table)
      .select('id')
      .where(sql<boolean>`mapping_version is distinct from ${page.currentVersion}`);
    if (page.afterId !== undefined) q = q.where('id', '>', page.afterId);
    const rows = await q
      .orderBy('id')
      .limit(page.limit ?? 1000)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Ids of persons whose next re-evaluation (`reevaluate_at`, a closing `changed_within_days` window) is at
   * or before `now`, by id. Page with `afterId` = the last id returned.
   */
  async personsDueForReevaluation(
    now: Date,
    page: { afterId?: string; limit?: number } = {},
  ): Promise<string[]> {
    let q = this.db
      .selectFrom('persons')
      .select('id')
      .where('reevaluate_at', 'is not', null)
      .where('reevaluate_at', '<=', now);
    if (page.afterId !== undefined) q = q.where('id', '>', page.afterId);
    const rows = await q
      .orderBy('id')
      .limit(page.limit ?? 1000)
      .execute();
    return rows.map((r) => r.id);
  }

  async personsByMappingVersion(
    currentVersion: string,
    page: { afterId?: string; limit?: number } = {},
  ): Promise<string[]> {
    return this.recordsByMappingVersion({ recordType: 'person', currentVersion, ...page });
  }

  /** One person with provenance, links, stage history, touchpoints, credits and the audit trail. */
  async findPerson(
    lookup: PersonLookup,
    options: { auditLimit?: number; auditOffset?: number } = {},
  ): Promise<PersonView | undefined> {
    const person = await this.lookupPerson(lookup);
    if (person === undefined) return undefined;
    const id = person.id;
    const auditOffset = Math.max(0, Math.floor(options.auditOffset ?? 0));
    const [fields, links, stages, touchpoints, credits, audit, auditCount] = await Promise.all([
      this.db.selectFrom('field_values').selectAll().where('unified_id', '=', id).orderBy('field').execute(),
      this.findLinksByUnifiedIds([id]),
      this.db
        .selectFrom('stage_history')
        .selectAll()
        .where('person_id', '=', id)
        .orderBy('entered_at')
        // Stages entered at the same moment (one sync can move a person several steps) in funnel order.
        .orderBy(STAGE_ORDER)
        .orderBy('stage')
        .execute(),
      this.db
        .selectFrom('touchpoints')
        .selectAll()
        .where('person_id', '=', id)
        .orderBy('occurred_at')
        .orderBy('id')
        .execute(),
      this.db
        .selectFrom('attribution_credits')
        .selectAll()
        .where('person_id', '=', id)
        .orderBy('deal_id')
        .orderBy('model')
        .orderBy('touchpoint_id')
        .execute(),
      this.db
        .selectFrom('write_audit')
        .selectAll()
        .where('unified_id', '=', id)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(options.auditLimit ?? 200)
        .offset(auditOffset)
        .execute(),
      this.db
        .selectFrom('write_audit')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('unified_id', '=', id)
        .executeTakeFirst(),
    ]);
    return {
      person: toPerson(person),
      fields: fields.map(toFieldProvenance),
      links,
      stageHistory: stages.map(toStageEntry),
      touchpoints: touchpoints.map(toTouchpoint),
      credits: credits.map(toCredit),
      audit: audit.map(toAudit),
      auditTotal: Number(auditCount?.n ?? 0),
      auditOffset,
    };
  }

  /** Funnel by cohort (persons created in [from, to)), with "reached" semantics from stage history. */
  async funnel(query: FunnelQuery): Promise<FunnelReport> {
    return funnelReport(this.db as unknown as Executor, query);
  }

  /** MQL hand-offs that sales did not accept (sal or later) within `hours`, as of `now`. */
  async slaBreaches(query: SlaQuery): Promise<SlaReport> {
    return slaBreaches(this.db as unknown as Executor, query);
  }

  private async lookupPerson(lookup: PersonLookup): Promise<Selectable<PersonsTable> | undefined> {
    let q = this.db.selectFrom('persons').selectAll('persons');
    if ('unifiedId' in lookup) {
      q = q.where('persons.id', '=', lookup.unifiedId);
    } else if ('email' in lookup) {
      q = q.where('persons.email', '=', lookup.email.trim().toLowerCase());
    } else {
      q = q
        .innerJoin('record_links as l', 'l.unified_id', 'persons.id')
        .where('l.system', '=', lookup.system)
        .where('l.record_id', '=', lookup.recordId)
        .where('l.object', 'in', lookup.object !== undefined ? [lookup.object] : PERSON_OBJECTS);
    }
    // Deterministic when an email is shared: the oldest person, then the lowest id.
    return q.orderBy('persons.created_at').orderBy('persons.id').limit(1).executeTakeFirst();
  }
}

function assertWithin<T>(
  what: string,
  ids: readonly string[],
  rows: readonly T[],
  idOf: (row: T) => string,
): void {
  const allowed = new Set(ids);
  const stray = rows.find((r) => !allowed.has(idOf(r)));
  if (stray !== undefined) {
    throw new Error(`${what} for ${idOf(stray)} is outside the ids being replaced`);
  }
}

function toPerson(p: Selectable<PersonsTable>): Required<PersonRecord> {
  return {
    id: p.id,
    email: p.email,
    lifecycleStage: p.lifecycle_stage as StageName | null,
    leadScore: p.lead_score,
    originalSource: p.original_source,
    latestSource: p.latest_source,
    companyId: p.company_id,
    fields: p.fields as Record<string, unknown>,
    mappingVersion: p.mapping_version,
    reevaluateAt: p.reevaluate_at,
    createdAt: p.created_at,
    updatedAt: p.updated_at,
  };
}

function toFieldProvenance(f: Selectable<FieldValuesTable>): FieldProvenance {
  return {
    unifiedId: f.unified_id,
    recordType: f.record_type,
    field: f.field,
    value: f.value,
    sourceSystem: f.source_system,
    sourceObject: f.source_object,
    sourceRecordId: f.source_record_id,
    sourceField: f.source_field,
    changedAt: f.changed_at,
    rule: f.rule,
    mappingVersion: f.mapping_version,
  };
}

function toLink(l: Selectable<RecordLinksTable>): RecordLink {
  return {
    system: l.system,
    object: l.object,
    recordId: l.record_id,
    unifiedId: l.unified_id,
    recordType: l.record_type,
    linkedBy: l.linked_by,
    linkedAt: l.linked_at,
    updatedAt: l.updated_at,
  };
}

function toStageEntry(s: Selectable<StageHistoryTable>): StageEntry {
  return {
    personId: s.person_id,
    stage: s.stage as StageName,
    enteredAt: s.entered_at,
    previousStage: s.previous_stage as StageName | null,
    reason: s.reason,
    rule: s.rule,
  };
}

function toTouchpoint(t: Selectable<TouchpointsTable>): Touchpoint {
  return {
    id: t.id,
    personId: t.person_id,
    source: t.source,
    detail: t.detail,
    campaign: t.campaign,
    occurredAt: t.occurred_at,
    system: t.system,
    object: t.object,
    recordId: t.record_id,
  };
}

function toCredit(c: Selectable<AttributionCreditsTable>): AttributionCredit {
  return {
    dealId: c.deal_id,
    model: c.model,
    touchpointId: c.touchpoint_id,
    personId: c.person_id,
    source: c.source,
    share: c.share,
    credit: c.credit,
    computedAt: c.computed_at,
  };
}

function toAudit(a: Selectable<WriteAuditTable>): StoredWriteAuditEntry {
  return {
    id: a.id,
    jobId: a.job_id,
    system: a.system,
    object: a.object,
    recordId: a.record_id,
    unifiedId: a.unified_id,
    field: a.field,
    before: a.before,
    after: a.after,
    rule: a.rule,
    reason: a.reason,
    outcome: a.outcome,
    errorCode: a.error_code,
    errorMessage: a.error_message,
    at: a.at,
  };
}
