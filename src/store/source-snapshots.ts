import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { anyOf, batchInsert, type BatchInsert } from './batch-sql.js';
import type { SourceSnapshot, SystemName, UpsertResult } from './customer-view-types.js';

/** A record as a reconcile read it (`contentHash`), and its reconciled hash. */
export interface ReconciledMark {
  system: SystemName;
  object: string;
  recordId: string;
  contentHash: string;
  reconciledHash: string;
}
import type { CustomerViewDatabase, SourceRecordsTable } from './schema.js';

const SNAPSHOT_SPEC: BatchInsert = {
  table: 'source_records',
  columns: {
    system: 'text',
    object: 'text',
    record_id: 'text',
    properties: 'jsonb',
    emails: 'text[]',
    cross_references: 'text[]',
    modified_at: 'timestamptz',
    content_hash: 'text',
    deleted: 'boolean',
    pulled_at: 'timestamptz',
  },
  key: ['system', 'object', 'record_id'],
  onConflict: {
    properties: 'excluded.properties',
    emails: 'excluded.emails',
    cross_references: 'excluded.cross_references',
    modified_at: 'excluded.modified_at',
    content_hash: 'excluded.content_hash',
    deleted: 'excluded.deleted',
    pulled_at: 'excluded.pulled_at',
  },
  // Which version is newer. A row read before the stored one does not replace it (a slow page must not
  // undo a fresher read whose changes the pull's checkpoint has already passed) unless it saw a later
  // modification of the record: then it is the newer, whenever its read began. Write-back stamps the
  // snapshot it changes with the time its writes were sent, over the older read's modification time; a
  // pull whose read began before that but reached the CRM after the write landed holds the write and any
  // edit made before it, and its checkpoint is past both (refused, the edit was lost for good). A
  // deletion mark is undone only by a later read.
  guard:
    'excluded.pulled_at >= source_records.pulled_at or ' +
    '(excluded.modified_at > source_records.modified_at and not source_records.deleted)',
  // A page re-pulled with nothing changed leaves its rows alone (and reports them unchanged).
  compare: ['content_hash', 'deleted', 'emails', 'cross_references', 'modified_at'],
};

/** Rows in key order, the order every statement locks them in (no deadlock between two batches). */
function inKeyOrder(rows: readonly SourceSnapshot[]): SourceSnapshot[] {
  const key = (r: SourceSnapshot): string => `${r.system}\u0000${r.object}\u0000${r.recordId}`;
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function toRow(r: SourceSnapshot): Record<string, unknown> {
  return {
    system: r.system,
    object: r.object,
    record_id: r.recordId,
    properties: r.properties,
    emails: r.emails,
    cross_references: r.crossReferences,
    modified_at: r.modifiedAt,
    content_hash: r.contentHash,
    deleted: r.deleted,
    pulled_at: r.pulledAt,
  };
}

/**
 * Source snapshots (`tandem.source_records`): what pull stored of each CRM record, and the identity
 * lookups reconcile needs to load a batch's closure — by record id, by normalised email (primary or
 * secondary), and by cross-reference id. Every method is one statement for the whole batch.
 */
export class SourceSnapshots {
  constructor(private readonly db: Kysely<CustomerViewDatabase>) {}

  /**
   * Stores what was read; `pulledAt` is when the read began. An older read never replaces a newer one,
   * unless it saw a later modification of the record (`modifiedAt`) than the stored row: a snapshot
   * write-back changed (stamped when the writes were sent) loses to a read that reached the CRM after them.
   */
  async upsert(rows: readonly SourceSnapshot[]): Promise<UpsertResult> {
    return batchInsert(this.db, SNAPSHOT_SPEC, inKeyOrder(rows).map(toRow));
  }

  /**
   * Changes stored snapshots from their current rows, with those rows locked until the change is stored,
   * so a pull landing meanwhile is neither lost nor overwritten by the older base (e.g. applying the values
   * Tandem just wrote). `change` returns the rows to store; rows it leaves out stay as they are.
   */
  async update(
    query: { system: SystemName; recordIds: readonly string[] },
    change: (current: SourceSnapshot[]) => SourceSnapshot[],
  ): Promise<UpsertResult> {
    if (query.recordIds.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('source_records')
        .selectAll()
        .where('system', '=', query.system)
        .where(anyOf('record_id', query.recordIds))
        .orderBy(sql`object collate "C"`)
        .orderBy(sql`record_id collate "C"`)
        .forUpdate()
        .execute();
      return batchInsert(trx, SNAPSHOT_SPEC, inKeyOrder(change(current.map(toSnapshot))).map(toRow));
    });
  }

  /**
   * `object:recordId` → the hash stored by the last reconcile of each record (`markReconciled`), for those
   * of these records that have one.
   */
  async reconciledHashes(system: SystemName, recordIds: readonly string[]): Promise<Map<string, string>> {
    if (recordIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('source_records')
      .select(['object', 'record_id', 'reconciled_hash'])
      .where('system', '=', system)
      .where(anyOf('record_id', recordIds))
      .where('reconciled_hash', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [`${r.object}:${r.record_id}`, r.reconciled_hash as string]));
  }

  /** The content hash each record's stored snapshot has now, by `object:record_id`. */
  async contentHashes(system: SystemName, recordIds: readonly string[]): Promise<Map<string, string>> {
    if (recordIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('source_records')
      .select(['object', 'record_id', 'content_hash'])
      .where('system', '=', system)
      .where(anyOf('record_id', recordIds))
      .execute();
    return new Map(rows.map((r) => [`${r.object}:${r.record_id}`, r.content_hash]));
  }

  /**
   * Stores each record's reconciled hash, only where the record still holds what the reconcile read
   * (`contentHash`): a read that landed meanwhile is reconciled by its own job. Rows another statement
   * holds locked are left as they are (a newer read is being stored there).
   */
  async markReconciled(marks: readonly ReconciledMark[]): Promise<number> {
    if (marks.length === 0) return 0;
    const rows = marks.map((m) => ({
      system: m.system,
      object: m.object,
      record_id: m.recordId,
      content_hash: m.contentHash,
      reconciled_hash: m.reconciledHash,
    }));
    const { rows: updated } = await sql<{ record_id: string }>`
      with batch as (
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as b(system text, object text, record_id text, content_hash text, reconciled_hash text)
      ), target as (
        select s.system, s.object, s.record_id, b.reconciled_hash
        from tandem.source_records s
        join batch b on b.system = s.system and b.object = s.object and b.record_id = s.record_id
        where s.content_hash = b.content_hash
          and s.reconciled_hash is distinct from b.reconciled_hash
        order by s.system, s.object collate "C", s.record_id collate "C"
        for update of s skip locked
      )
      update tandem.source_records s set reconciled_hash = t.reconciled_hash
      from target t
      where s.system = t.system and s.object = t.object and s.record_id = t.record_id
      returning s.record_id`.execute(this.db);
    return updated.length;
  }

  async findByRecordIds(query: {
    system: SystemName;
    object?: string;
    recordIds: readonly string[];
  }): Promise<SourceSnapshot[]> {
    if (query.recordIds.length === 0) return [];
    let q = this.db
      .selectFrom('source_records')
      .selectAll()
      .where('system', '=', query.system)
      .where(anyOf('record_id', query.recordIds));
    if (query.object !== undefined) q = q.where('object', '=', query.object);
    return (await q.orderBy('object').orderBy('record_id').execute()).map(toSnapshot);
  }

  /** Records carrying any of these normalised emails, in either system (duplicates included). */
  async findByEmails(emails: readonly string[]): Promise<SourceSnapshot[]> {
    return this.findContaining('emails', emails);
  }

  /** Records naming any of these ids of the other system (e.g. HubSpot contacts holding a Lead id). */
  async findByCrossReferences(recordIds: readonly string[]): Promise<SourceSnapshot[]> {
    return this.findContaining('cross_references', recordIds);
  }

  /**
   * One GIN probe per value (`column @> array[value]`), not `column && values`: PostgreSQL has no element
   * statistics for these unique values, so it guesses that an overlap with a few hundred values matches most
   * rows and scans the table (2 s for 1,000 ids over 64,000 snapshots; 0.2 s probed).
   */
  private async findContaining(
    column: 'emails' | 'cross_references',
    values: readonly string[],
  ): Promise<SourceSnapshot[]> {
    if (values.length === 0) return [];
    const { rows } = await sql<Selectable<SourceRecordsTable>>`
      select distinct on (r.system, r.object, r.record_id) r.*
      from unnest(${[...new Set(values)]}::text[]) as v(value)
      cross join lateral (
        select * from tandem.source_records s where s.${sql.ref(column)} @> array[v.value]
      ) r
      order by r.system, r.object, r.record_id`.execute(this.db);
    return rows.map(toSnapshot);
  }
}

function toSnapshot(r: Selectable<SourceRecordsTable>): SourceSnapshot {
  return {
    system: r.system,
    object: r.object,
    recordId: r.record_id,
    properties: r.properties as Record<string, unknown>,
    emails: r.emails,
    crossReferences: r.cross_references,
    modifiedAt: r.modified_at,
    contentHash: r.content_hash,
    deleted: r.deleted,
    pulledAt: r.pulled_at,
    ...(r.reconciled_hash !== null ? { reconciledHash: r.reconciled_hash } : {}),
  };
}
