/**
 * The records of one object type, in memory, with the indexes the API needs: id order (list paging),
 * (modified time, id) order (incremental search), and unique values (email, unique properties).
 */

export interface HistoryEntry {
  value: string;
  timestamp: string;
  sourceType: string;
  sourceId?: string;
}

export interface StoredRecord {
  id: string;
  idNum: number;
  /** Property values as HubSpot holds them: strings; a cleared property is "". */
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Newest first, per property. */
  history: Record<string, HistoryEntry[]>;
  /**
   * When the values without a history entry were set: a loaded world's records carry their values without
   * history, set when the record was last modified before loading. Later writes to other properties do not
   * move it (as in HubSpot, where each property keeps its own history).
   */
  valuesSetAt?: number;
  mergedObjectIds: string[];
}

/** A place in the (modified, id) index; stale once its record changes again (lazy deletion). */
interface ModifiedEntry {
  record: StoredRecord;
  at: number;
}

function compareEntries(a: ModifiedEntry, b: ModifiedEntry): number {
  return a.at - b.at || a.record.idNum - b.record.idNum;
}

/** First index in `sorted` whose element is not less than `probe` by `compare`. */
export function lowerBound<T>(sorted: readonly T[], compare: (element: T) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(sorted[mid] as T) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RecordStore {
  private readonly records = new Map<string, StoredRecord>();
  /** All ids (live and archived), ascending. */
  private readonly idOrder: number[] = [];
  /**
   * Live records by (updatedAt, id) ascending. A change appends a new entry (usually at the end) and
   * leaves the old one stale instead of splicing it out of the middle; stale entries are skipped and
   * compacted away once they outnumber the live ones.
   */
  private modified: ModifiedEntry[] = [];
  private readonly currentEntry = new Map<string, ModifiedEntry>();
  /** property → normalised value → record id, for live records. */
  private readonly unique = new Map<string, Map<string, string>>();
  /** Ids merged away → the id of the record that survived. */
  private readonly mergedInto = new Map<string, string>();

  constructor(private readonly uniqueProperties: () => readonly string[]) {}

  get size(): number {
    return this.records.size;
  }

  clear(): void {
    this.records.clear();
    this.idOrder.length = 0;
    this.modified = [];
    this.currentEntry.clear();
    this.unique.clear();
    this.mergedInto.clear();
  }

  get(id: string): StoredRecord | undefined {
    return this.records.get(id);
  }

  /** A live record by id, following merges to the survivor as HubSpot does. */
  getLive(id: string): StoredRecord | undefined {
    const survivor = this.mergedInto.get(id);
    const record = this.records.get(survivor ?? id);
    return record !== undefined && !record.archived ? record : undefined;
  }

  findByUnique(property: string, value: string): StoredRecord | undefined {
    const id = this.unique.get(property)?.get(normalizeUnique(property, value));
    return id === undefined ? undefined : this.getLive(id);
  }

  insert(record: StoredRecord): void {
    this.records.set(record.id, record);
    this.idOrder.splice(
      lowerBound(this.idOrder, (n) => n - record.idNum),
      0,
      record.idNum,
    );
    if (!record.archived) {
      this.indexModified(record);
      this.indexUnique(record);
    }
  }

  /** Loads many records at once (a World), sorting the indexes once instead of per record. */
  insertMany(records: readonly StoredRecord[]): void {
    for (const record of records) {
      this.records.set(record.id, record);
      this.idOrder.push(record.idNum);
      if (!record.archived) {
        const entry = { record, at: record.updatedAt };
        this.currentEntry.set(record.id, entry);
        this.modified.push(entry);
        this.indexUnique(record);
      }
    }
    this.idOrder.sort((a, b) => a - b);
    this.modified.sort(compareEntries);
  }

  /** Call before changing a live record's values or timestamps; then `afterChange`. */
  beforeChange(record: StoredRecord): void {
    if (record.archived) return;
    this.unindexModified(record);
    this.unindexUnique(record);
  }

  afterChange(record: StoredRecord): void {
    if (record.archived) return;
    this.indexModified(record);
    this.indexUnique(record);
  }

  archive(record: StoredRecord, at: number): void {
    if (record.archived) return;
    this.beforeChange(record);
    record.archived = true;
    record.archivedAt = at;
  }

  /** Removes a record for good (merge loser, GDPR delete). */
  remove(record: StoredRecord): void {
    this.beforeChange(record);
    this.records.delete(record.id);
    const at = lowerBound(this.idOrder, (n) => n - record.idNum);
    if (this.idOrder[at] === record.idNum) this.idOrder.splice(at, 1);
  }

  redirect(fromId: string, toId: string): void {
    this.mergedInto.set(fromId, toId);
    for (const [from, to] of this.mergedInto) if (to === fromId) this.mergedInto.set(from, toId);
  }

  /** Records in id order starting at id ≥ `fromId`, matching `archived`, at most `limit` + the next id. */
  page(fromId: number, limit: number, archived: boolean): { records: StoredRecord[]; nextId?: number } {
    const records: StoredRecord[] = [];
    for (let i = lowerBound(this.idOrder, (n) => n - fromId); i < this.idOrder.length; i += 1) {
      const record = this.records.get(String(this.idOrder[i]));
      if (record === undefined || record.archived !== archived) continue;
      if (records.length === limit) return { records, nextId: record.idNum };
      records.push(record);
    }
    return { records };
  }

  /** Live records in (updatedAt, id) order, starting at the first with updatedAt ≥ `fromMs`. */
  *byModified(fromMs = Number.NEGATIVE_INFINITY): IterableIterator<StoredRecord> {
    const entries = this.modified;
    for (let i = lowerBound(entries, (e) => e.at - fromMs); i < entries.length; i += 1) {
      const entry = entries[i] as ModifiedEntry;
      if (this.currentEntry.get(entry.record.id) === entry) yield entry.record;
    }
  }

  *all(): IterableIterator<StoredRecord> {
    yield* this.records.values();
  }

  private indexModified(record: StoredRecord): void {
    const entry = { record, at: record.updatedAt };
    this.currentEntry.set(record.id, entry);
    const last = this.modified[this.modified.length - 1];
    if (last === undefined || compareEntries(last, entry) <= 0) this.modified.push(entry);
    else
      this.modified.splice(
        lowerBound(this.modified, (e) => compareEntries(e, entry)),
        0,
        entry,
      );
  }

  private unindexModified(record: StoredRecord): void {
    this.currentEntry.delete(record.id);
    if (this.modified.length > 1024 && this.modified.length > 2 * this.currentEntry.size) {
      this.modified = this.modified.filter((e) => this.currentEntry.get(e.record.id) === e);
    }
  }

  private uniqueValues(record: StoredRecord): [string, string][] {
    const pairs: [string, string][] = [];
    for (const property of this.uniqueProperties()) {
      const value = record.properties[property];
      if (value === undefined || value === '') continue;
      if (property === 'hs_additional_emails') {
        for (const email of value.split(';')) if (email !== '') pairs.push(['email', email]);
      } else {
        pairs.push([property, value]);
      }
    }
    return pairs;
  }

  private indexUnique(record: StoredRecord): void {
    for (const [property, value] of this.uniqueValues(record)) {
      let index = this.unique.get(property);
      if (index === undefined) {
        index = new Map();
        this.unique.set(property, index);
      }
      index.set(normalizeUnique(property, value), record.id);
    }
  }

  private unindexUnique(record: StoredRecord): void {
    for (const [property, value] of this.uniqueValues(record)) {
      const index = this.unique.get(property);
      const key = normalizeUnique(property, value);
      if (index?.get(key) === record.id) index.delete(key);
    }
  }
}

function normalizeUnique(property: string, value: string): string {
  return property === 'email' ? value.trim().toLowerCase() : value;
}
