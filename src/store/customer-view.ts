import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { anyOf, batchInsert, json, type BatchInsert, type Executor } from './batch-sql.js';
import type {
  AttributionCredit,
  CompanyRecord,
  DealRecord,
  DuplicateReport,
  FieldProvenance,
  FunnelQuery,
  FunnelReport,
  MappingBackfillPage,
  MappingVersion,
  PersonLookup,
  PersonRecord,
  PersonView,
  RecordLink,
  SlaBreach,
  SlaQuery,
  StageEntry,
  StageName,
  StoredDuplicateReport,
  StoredWriteAuditEntry,
  SyncRun,
  SyncRunFinish,
  SyncRunQuery,
  SyncRunStart,
  SystemName,
  Touchpoint,
  UpsertResult,
  WriteAuditEntry,
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

const excludedAll = (columns: readonly string[], except: readonly string[]): Record<string, string> =>
  Object.fromEntries(columns.filter((c) => !except.includes(c)).map((c) => [c, `excluded.${c}`]));

/** Unified records: current values replace stored ones; the earliest creation time is kept. */
function recordSpec(table: string, columns: readonly string[]): BatchInsert {
  return {
    table,
    columns,
    key: ['id'],
    onConflict: {
      ...excludedAll(columns, ['id', 'created_at']),
      created_at: `least(${table}.created_at, excluded.created_at)`,
    },
    compare: [...columns.filter((c) => c !== 'id' && c !== 'updated_at')],
  };
}

const PERSON_SPEC = recordSpec('persons', [
  'id',
  'email',
  'lifecycle_stage',
  'lead_score',
  'original_source',
  'latest_source',
  'company_id',
  'fields',
  'mapping_version',
  'created_at',
  'updated_at',
]);
const COMPANY_SPEC = recordSpec('companies', [
  'id',
  'name',
  'domain',
  'fields',
  'mapping_version',
  'created_at',
  'updated_at',
]);
const DEAL_SPEC = recordSpec('deals', [
  'id',
  'name',
  'amount',
  'currency',
  'stage',
  'outcome',
  'close_date',
  'company_id',
  'fields',
  'mapping_version',
  'created_at',
  'updated_at',
]);

const FIELD_VALUE_SPEC: BatchInsert = {
  table: 'field_values',
  columns: [
    'unified_id',
    'record_type',
    'field',
    'value',
    'source_system',
    'source_object',
    'source_record_id',
    'source_field',
    'changed_at',
    'rule',
    'mapping_version',
  ],
  key: ['unified_id', 'field'],
  onConflict: 'nothing', // inserted right after the old rows are deleted
};

const LINK_COLUMNS = [
  'system',
  'object',
  'record_id',
  'unified_id',
  'record_type',
  'linked_by',
  'linked_at',
  'updated_at',
];
const LINK_SPEC: BatchInsert = {
  table: 'record_links',
  columns: LINK_COLUMNS,
  key: ['system', 'object', 'record_id'],
  onConflict: {
    unified_id: 'excluded.unified_id',
    record_type: 'excluded.record_type',
    linked_by: 'excluded.linked_by',
    // A re-link to another unified record is a new link; confirming the same one keeps its first time.
    linked_at:
      'case when record_links.unified_id = excluded.unified_id then record_links.linked_at else excluded.linked_at end',
    updated_at: 'excluded.updated_at',
  },
  compare: ['unified_id', 'record_type', 'linked_by'],
};

const DUPLICATE_COLUMNS = [
  'system',
  'object',
  'group_key',
  'record_ids',
  'survivor_record_id',
  'unified_id',
  'match_key',
  'rule',
  'first_detected_at',
  'last_detected_at',
];
const DUPLICATE_SPEC: BatchInsert = {
  table: 'duplicates',
  columns: DUPLICATE_COLUMNS,
  key: ['system', 'object', 'group_key'],
  onConflict: {
    ...excludedAll(DUPLICATE_COLUMNS, ['system', 'object', 'group_key', 'first_detected_at']),
    last_detected_at: 'greatest(duplicates.last_detected_at, excluded.last_detected_at)',
  },
};

const STAGE_SPEC: BatchInsert = {
  table: 'stage_history',
  columns: ['person_id', 'stage', 'entered_at', 'previous_stage', 'reason', 'rule'],
  key: ['person_id', 'stage', 'entered_at'],
  onConflict: 'nothing',
};

const TOUCHPOINT_SPEC: BatchInsert = {
  table: 'touchpoints',
  columns: [
    'id',
    'person_id',
    'source',
    'detail',
    'campaign',
    'occurred_at',
    'system',
    'object',
    'record_id',
  ],
  key: ['id'],
  onConflict: excludedAll(
    ['person_id', 'source', 'detail', 'campaign', 'occurred_at', 'system', 'object', 'record_id'],
    [],
  ),
};

const CREDIT_SPEC: BatchInsert = {
  table: 'attribution_credits',
  columns: ['deal_id', 'model', 'touchpoint_id', 'person_id', 'source', 'share', 'credit', 'computed_at'],
  key: ['deal_id', 'model', 'touchpoint_id'],
  onConflict: 'nothing',
};

const AUDIT_COLUMNS = [
  'job_id',
  'system',
  'object',
  'record_id',
  'unified_id',
  'field',
  'before',
  'after',
  'rule',
  'reason',
  'outcome',
  'error_code',
  'error_message',
  'at',
] as const;

export class MappingVersionConflictError extends Error {
  constructor(readonly version: string) {
    super(`mapping version ${version} is already recorded with different content`);
    this.name = 'MappingVersionConflictError';
  }
}

/**
 * The customer view in PostgreSQL: batched writes from reconcile and write-back, and the reads the
 * dashboard and RevOps need. Every write method takes a whole batch and issues one statement for it.
 *
 * @example
 * const view = new CustomerView(db);
 * await view.upsertPersons(persons);
 * const report = await view.funnel({ from, to, groupBy: 'original_source' });
 */
export class CustomerView {
  constructor(private readonly db: Kysely<CustomerViewDatabase>) {}

  async upsertPersons(rows: readonly PersonRecord[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      PERSON_SPEC,
      rows.map((p) => [
        p.id,
        p.email ?? null,
        p.lifecycleStage ?? null,
        p.leadScore ?? null,
        p.originalSource ?? null,
        p.latestSource ?? null,
        p.companyId ?? null,
        JSON.stringify(p.fields),
        p.mappingVersion ?? null,
        p.createdAt,
        p.updatedAt,
      ]),
    );
  }

  async upsertCompanies(rows: readonly CompanyRecord[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      COMPANY_SPEC,
      rows.map((c) => [
        c.id,
        c.name ?? null,
        c.domain ?? null,
        JSON.stringify(c.fields),
        c.mappingVersion ?? null,
        c.createdAt,
        c.updatedAt,
      ]),
    );
  }

  async upsertDeals(rows: readonly DealRecord[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      DEAL_SPEC,
      rows.map((d) => [
        d.id,
        d.name ?? null,
        d.amount ?? null,
        d.currency ?? null,
        d.stage ?? null,
        d.outcome,
        d.closeDate ?? null,
        d.companyId ?? null,
        JSON.stringify(d.fields),
        d.mappingVersion ?? null,
        d.createdAt,
        d.updatedAt,
      ]),
    );
  }

  /** Replaces the whole provenance of these records (fields no longer present disappear). */
  async replaceFieldValues(unifiedIds: readonly string[], rows: readonly FieldProvenance[]): Promise<number> {
    assertWithin('field value', unifiedIds, rows, (r) => r.unifiedId);
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('field_values').where(anyOf('unified_id', unifiedIds)).execute();
      const result = await batchInsert(
        trx,
        FIELD_VALUE_SPEC,
        rows.map((f) => [
          f.unifiedId,
          f.recordType,
          f.field,
          json(f.value),
          f.sourceSystem ?? null,
          f.sourceObject ?? null,
          f.sourceRecordId ?? null,
          f.sourceField ?? null,
          f.changedAt ?? null,
          f.rule,
          f.mappingVersion ?? null,
        ]),
      );
      return result.inserted;
    });
  }

  async upsertLinks(rows: readonly RecordLink[], now: Date = new Date()): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      LINK_SPEC,
      rows.map((l) => [
        l.system,
        l.object,
        l.recordId,
        l.unifiedId,
        l.recordType,
        l.linkedBy,
        l.linkedAt ?? now,
        l.updatedAt ?? now,
      ]),
    );
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

  async recordDuplicates(reports: readonly DuplicateReport[]): Promise<UpsertResult> {
    return batchInsert(
      this.db,
      DUPLICATE_SPEC,
      reports.map((d) => {
        const ids = [...new Set(d.recordIds)].sort();
        return [
          d.system,
          d.object,
          ids.join(' '),
          JSON.stringify(ids),
          d.survivorRecordId,
          d.unifiedId ?? null,
          d.matchKey,
          d.rule,
          d.detectedAt,
          d.detectedAt,
        ];
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

  /** Appends stage entries; an entry already stored (same person, stage, time) is skipped. */
  async appendStageEntries(rows: readonly StageEntry[]): Promise<number> {
    const result = await batchInsert(
      this.db,
      STAGE_SPEC,
      rows.map((s) => [
        s.personId,
        s.stage,
        s.enteredAt,
        s.previousStage ?? null,
        s.reason ?? null,
        s.rule ?? null,
      ]),
    );
    return result.inserted;
  }

  async replaceTouchpoints(personIds: readonly string[], rows: readonly Touchpoint[]): Promise<number> {
    assertWithin('touchpoint', personIds, rows, (r) => r.personId);
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('touchpoints').where(anyOf('person_id', personIds)).execute();
      const result = await batchInsert(
        trx,
        TOUCHPOINT_SPEC,
        rows.map((t) => [
          t.id,
          t.personId,
          t.source,
          t.detail ?? null,
          t.campaign ?? null,
          t.occurredAt,
          t.system,
          t.object ?? null,
          t.recordId ?? null,
        ]),
      );
      return result.inserted + result.updated;
    });
  }

  /** Replaces every model's credits for these deals. */
  async replaceCredits(dealIds: readonly string[], rows: readonly AttributionCredit[]): Promise<number> {
    assertWithin('credit', dealIds, rows, (r) => r.dealId);
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('attribution_credits').where(anyOf('deal_id', dealIds)).execute();
      const result = await batchInsert(
        trx,
        CREDIT_SPEC,
        rows.map((c) => [
          c.dealId,
          c.model,
          c.touchpointId,
          c.personId,
          c.source,
          c.share,
          c.credit,
          c.computedAt,
        ]),
      );
      return result.inserted;
    });
  }

  async appendWriteAudit(rows: readonly WriteAuditEntry[]): Promise<void> {
    if (rows.length === 0) return;
    // No conflict target: every attempt is kept, retries included.
    const rowsPerStatement = Math.floor(65_000 / AUDIT_COLUMNS.length);
    for (let i = 0; i < rows.length; i += rowsPerStatement) {
      await this.db
        .insertInto('write_audit')
        .values(
          rows.slice(i, i + rowsPerStatement).map((a) => ({
            job_id: a.jobId ?? null,
            system: a.system,
            object: a.object,
            record_id: a.recordId ?? null,
            unified_id: a.unifiedId ?? null,
            field: a.field ?? null,
            before: json(a.before),
            after: json(a.after),
            rule: a.rule ?? null,
            reason: a.reason ?? null,
            outcome: a.outcome,
            error_code: a.errorCode ?? null,
            error_message: a.errorMessage ?? null,
            at: a.at,
          })),
        )
        .execute();
    }
  }

  /**
   * Records the mapping in force. Recording the same version and content again is a no-op (returns
   * false); the same version with different content is an error, since a version must name one text.
   */
  async recordMappingVersion(mapping: MappingVersion): Promise<boolean> {
    const result = await batchInsert(
      this.db,
      {
        table: 'mapping_versions',
        columns: ['version', 'content_hash', 'applied_at', 'mapping_text'],
        key: ['version'],
        onConflict: 'nothing',
      },
      [[mapping.version, mapping.contentHash, mapping.appliedAt, mapping.mappingText]],
    );
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

  async personsByMappingVersion(
    currentVersion: string,
    page: { afterId?: string; limit?: number } = {},
  ): Promise<string[]> {
    return this.recordsByMappingVersion({ recordType: 'person', currentVersion, ...page });
  }

  /** One person with provenance, links, stage history, touchpoints, credits and the audit trail. */
  async findPerson(
    lookup: PersonLookup,
    options: { auditLimit?: number } = {},
  ): Promise<PersonView | undefined> {
    const person = await this.lookupPerson(lookup);
    if (person === undefined) return undefined;
    const id = person.id;
    const [fields, links, stages, touchpoints, credits, audit] = await Promise.all([
      this.db.selectFrom('field_values').selectAll().where('unified_id', '=', id).orderBy('field').execute(),
      this.findLinksByUnifiedIds([id]),
      this.db
        .selectFrom('stage_history')
        .selectAll()
        .where('person_id', '=', id)
        .orderBy('entered_at')
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
        .execute(),
    ]);
    return {
      person: toPerson(person),
      fields: fields.map(toFieldProvenance),
      links,
      stageHistory: stages.map(toStageEntry),
      touchpoints: touchpoints.map(toTouchpoint),
      credits: credits.map(toCredit),
      audit: audit.map(toAudit),
    };
  }

  /** Funnel by cohort (persons created in [from, to)), with "reached" semantics from stage history. */
  async funnel(query: FunnelQuery): Promise<FunnelReport> {
    return funnelReport(this.db as unknown as Executor, query);
  }

  /** MQL hand-offs that sales did not accept (sal or later) within `hours`, as of `now`. */
  async slaBreaches(query: SlaQuery): Promise<SlaBreach[]> {
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
