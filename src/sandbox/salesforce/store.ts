import { isSalesforceId, salesforceId, toCaseSafeId } from '../world/salesforce-id.js';
import {
  SalesforceObjectNameSchema,
  SalesforceWorldSchema,
  type SalesforceObjectName,
  type SalesforceRecord,
  type SalesforceWorld,
} from '../world/schema.js';
import { RecordError } from './record-error.js';
import type { SalesforceCatalog, SalesforceObjectInfo } from './schema/catalog.js';
import { OPPORTUNITY_STAGES } from './schema/objects.js';
import type { SalesforceField } from './schema/types.js';
import type { QuerySource } from './soql/evaluator.js';
import {
  formatDate,
  formatDateTime,
  isValidDate,
  parseDateTime,
  type SalesforceRow,
  type SalesforceValue,
} from './values.js';

/** Undo steps of a batch, so an allOrNone collection can roll every record back. */
export type Journal = Array<() => void>;

export interface SalesforceStoreOptions {
  catalog: SalesforceCatalog;
  now: () => number;
  username: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Objects whose duplicate rule matches on email (a new org's standard rules for Leads and Contacts). */
const EMAIL_DUPLICATE_RULE_OBJECTS = new Set(['Lead', 'Contact']);

/**
 * The records of one Salesforce org: live and deleted rows (deleted ones flagged `IsDeleted`, as
 * queryAll sees them), write validation as the API applies it, and an index by (SystemModstamp, Id) so
 * incremental queries never sort a whole object.
 */
export class SalesforceStore implements QuerySource {
  readonly orgId = salesforceId('00D', 1);
  readonly userId = salesforceId('005', 1);
  private readonly byObject = new Map<string, Map<string, SalesforceRow>>();
  private readonly rowsById = new Map<string, SalesforceRow>();
  private readonly deletedDates = new Map<string, string>();
  private readonly modstampIndex = new Map<string, SalesforceRow[]>();
  /** `Object.Field` → lower-cased value → ids: unique fields and duplicate-rule emails. */
  private readonly valueIndex = new Map<string, Map<string, Set<string>>>();
  private nextSequence = 1;
  /** While a world loads, index rows by appending and sort once at the end. */
  private bulkLoading = false;

  constructor(private readonly options: SalesforceStoreOptions) {
    this.reset();
  }

  now(): number {
    return this.options.now();
  }

  reset(): void {
    this.byObject.clear();
    this.rowsById.clear();
    this.deletedDates.clear();
    this.modstampIndex.clear();
    this.valueIndex.clear();
    for (const info of this.options.catalog.all()) {
      this.byObject.set(info.name, new Map());
      this.modstampIndex.set(info.name, []);
    }
    this.nextSequence = 1;
    const created = formatDateTime(0);
    const [first, ...rest] = this.options.username.split('@')[0]?.split('.') ?? [];
    this.put('User', {
      Id: this.userId,
      IsDeleted: false,
      CreatedDate: created,
      CreatedById: this.userId,
      LastModifiedDate: created,
      LastModifiedById: this.userId,
      SystemModstamp: created,
      Username: this.options.username,
      FirstName: first ?? 'Integration',
      LastName: rest.join(' ') || 'User',
      Name: [first ?? 'Integration', rest.join(' ') || 'User'].join(' '),
      Email: this.options.username,
      Alias: (first ?? 'integ').slice(0, 8),
      IsActive: true,
    });
  }

  // ---- QuerySource -------------------------------------------------------------------------------

  rows(objectName: string): Iterable<SalesforceRow> {
    return this.byObject.get(objectName)?.values() ?? [];
  }

  rowsByModstamp(objectName: string): readonly SalesforceRow[] {
    return this.modstampIndex.get(objectName) ?? [];
  }

  byId(id: string): SalesforceRow | undefined {
    return this.rowsById.get(id);
  }

  // ---- World -------------------------------------------------------------------------------------

  loadWorld(input: SalesforceWorld): void {
    const world = SalesforceWorldSchema.parse(input);
    this.reset();
    let maxSequence = 0;
    const load = (objectName: SalesforceObjectName, record: SalesforceRecord, deletedDate: string | null) => {
      const info = this.info(objectName);
      const row = this.normalizeLoaded(info, record);
      if (deletedDate !== null) {
        row['IsDeleted'] = true;
        this.deletedDates.set(row['Id'] as string, formatDateTime(Date.parse(deletedDate)));
      }
      this.put(objectName, row);
      maxSequence = Math.max(maxSequence, sequenceOf(row['Id'] as string));
    };
    this.bulkLoading = true;
    try {
      for (const objectName of SalesforceObjectNameSchema.options) {
        for (const record of world.records[objectName]) load(objectName, record, null);
      }
      for (const { object, record, deletedDate } of world.deleted) load(object, record, deletedDate);
    } finally {
      this.bulkLoading = false;
      for (const sorted of this.modstampIndex.values()) sorted.sort(compareModstamp);
    }
    this.nextSequence = Math.max(world.nextSequence ?? 1, maxSequence + 1);
  }

  exportWorld(): SalesforceWorld {
    const world = SalesforceWorldSchema.parse({});
    for (const objectName of SalesforceObjectNameSchema.options) {
      for (const row of this.rows(objectName)) {
        const record = { ...row } as SalesforceRecord;
        if (row['IsDeleted'] === true) {
          const deletedDate = this.deletedDates.get(row['Id'] as string) ?? (row['SystemModstamp'] as string);
          world.deleted.push({ object: objectName, record, deletedDate: toIsoOffset(deletedDate) });
        } else {
          world.records[objectName].push(record);
        }
      }
    }
    world.nextSequence = this.nextSequence;
    return world;
  }

  private normalizeLoaded(info: SalesforceObjectInfo, record: SalesforceRecord): SalesforceRow {
    const now = formatDateTime(this.now());
    const row: SalesforceRow = this.defaults(info);
    for (const [key, value] of Object.entries(record)) {
      const field = info.field(key);
      if (field === undefined) continue;
      row[field.name] =
        field.type === 'datetime' && typeof value === 'string' ? canonicalDateTime(value) : value;
    }
    row['Id'] = toCaseSafeId(String(record.Id));
    row['CreatedDate'] ??= now;
    row['LastModifiedDate'] ??= row['CreatedDate'];
    row['SystemModstamp'] ??= row['LastModifiedDate'];
    row['CreatedById'] ??= this.userId;
    row['LastModifiedById'] ??= this.userId;
    this.derive(info, row, null);
    return row;
  }

  // ---- Reads -------------------------------------------------------------------------------------

  info(objectName: string): SalesforceObjectInfo {
    const info = this.options.catalog.object(objectName);
    if (info === undefined) {
      throw new RecordError('NOT_FOUND', `The requested resource does not exist`, [], 404);
    }
    return info;
  }

  /** A live row of `objectName` by a 15- or 18-character id, or the error the REST API gives. */
  liveRow(objectName: string, id: string): SalesforceRow {
    const row = this.rowForId(objectName, id);
    if (row['IsDeleted'] === true) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', [], 404);
    return row;
  }

  private rowForId(objectName: string, id: string): SalesforceRow {
    if (!isSalesforceId(id)) {
      throw new RecordError(
        'MALFORMED_ID',
        `${objectName} ID: id value of incorrect type: ${id}`,
        ['Id'],
        400,
      );
    }
    const row = this.rowsById.get(toCaseSafeId(id));
    if (row === undefined || this.info(objectName).schema.keyPrefix !== id.slice(0, 3)) {
      throw new RecordError('NOT_FOUND', 'The requested resource does not exist', [], 404);
    }
    return row;
  }

  /** Live rows whose (unique or duplicate-rule) field equals `value`, case-insensitively. */
  findByValue(objectName: string, fieldName: string, value: string): SalesforceRow[] {
    const ids =
      this.valueIndex.get(`${objectName}.${fieldName}`)?.get(value.toLowerCase()) ?? new Set<string>();
    const rows = [...ids]
      .map((id) => this.rowsById.get(id))
      .filter((r): r is SalesforceRow => r !== undefined);
    return rows.filter((r) => r['IsDeleted'] !== true);
  }

  deletedDate(id: string): string | undefined {
    return this.deletedDates.get(id);
  }

  // ---- Writes ------------------------------------------------------------------------------------

  create(
    objectName: string,
    input: Record<string, unknown>,
    journal?: Journal,
    options: { duplicateRules: boolean } = { duplicateRules: true },
  ): SalesforceRow {
    const info = this.writableInfo(objectName);
    const values = this.validate(info, input, 'create', null);
    const missing = info.schema.requiredOnCreate.filter(
      (name) => values[name] === undefined || values[name] === null,
    );
    if (missing.length > 0) {
      throw new RecordError(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.join(', ')}]`,
        missing,
      );
    }
    const now = formatDateTime(this.now());
    const row: SalesforceRow = {
      ...this.defaults(info),
      ...values,
      Id: salesforceId(info.schema.keyPrefix, this.nextSequence),
      CreatedDate: now,
      CreatedById: this.userId,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
    };
    this.derive(info, row, null);
    this.checkDuplicates(info, row, null, options.duplicateRules);
    this.nextSequence += 1;
    this.put(info.name, row);
    journal?.push(() => this.remove(row['Id'] as string));
    return row;
  }

  update(objectName: string, id: string, input: Record<string, unknown>, journal?: Journal): SalesforceRow {
    const info = this.writableInfo(objectName);
    const previous = this.liveRow(objectName, id);
    if (info.name === 'Lead' && previous['IsConverted'] === true) {
      throw new RecordError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', ['Id']);
    }
    const values = this.validate(info, input, 'update', previous);
    const now = formatDateTime(this.now());
    const row: SalesforceRow = {
      ...previous,
      ...values,
      LastModifiedDate: now,
      LastModifiedById: this.userId,
      SystemModstamp: now,
    };
    this.derive(info, row, previous);
    this.checkDuplicates(info, row, previous, true);
    this.put(info.name, row);
    journal?.push(() => this.put(info.name, previous));
    return row;
  }

  /** `values`: what the deletion also sets (a merge's `MasterRecordId`). */
  delete(objectName: string, id: string, journal?: Journal, values: SalesforceRow = {}): string {
    const info = this.writableInfo(objectName);
    const previous = this.liveRow(info.name, id);
    const now = formatDateTime(this.now());
    const row: SalesforceRow = { ...previous, ...values, IsDeleted: true, SystemModstamp: now };
    const rowId = row['Id'] as string;
    this.put(info.name, row);
    this.deletedDates.set(rowId, now);
    journal?.push(() => {
      this.deletedDates.delete(rowId);
      this.put(info.name, previous);
    });
    return rowId;
  }

  /** Writes fields the API may not (conversion, derived values): no validation beyond the schema. */
  systemUpdate(objectName: string, id: string, values: SalesforceRow): SalesforceRow {
    const info = this.info(objectName);
    const previous = this.liveRow(objectName, id);
    const now = formatDateTime(this.now());
    const row: SalesforceRow = { ...previous, ...values, LastModifiedDate: now, SystemModstamp: now };
    this.derive(info, row, previous);
    this.put(info.name, row);
    return row;
  }

  private writableInfo(objectName: string): SalesforceObjectInfo {
    const info = this.info(objectName);
    if (!info.schema.writable) {
      throw new RecordError(
        'INSUFFICIENT_ACCESS_OR_READONLY',
        `insufficient access rights on ${info.name}`,
        [],
        400,
      );
    }
    return info;
  }

  private defaults(info: SalesforceObjectInfo): SalesforceRow {
    const row: SalesforceRow = {};
    for (const f of info.schema.fields) row[f.name] = f.defaultValue;
    if (info.field('OwnerId') !== undefined) row['OwnerId'] = this.userId;
    return row;
  }

  /** Values the server computes: names, opportunity stage facts, campaign response. */
  private derive(info: SalesforceObjectInfo, row: SalesforceRow, previous: SalesforceRow | null): void {
    if (info.field('FirstName') !== undefined && info.field('Name')?.createable === false) {
      row['Name'] = [row['FirstName'], row['LastName']]
        .filter((p) => typeof p === 'string' && p !== '')
        .join(' ');
    }
    if (info.name === 'Opportunity') {
      const stage = OPPORTUNITY_STAGES.find((s) => s.name === row['StageName']);
      if (stage !== undefined) {
        const stageChanged = previous === null || previous['StageName'] !== row['StageName'];
        if (
          stageChanged &&
          (previous === null ? row['Probability'] === null : row['Probability'] === previous['Probability'])
        ) {
          row['Probability'] = stage.probability;
        }
        if (stageChanged) row['ForecastCategoryName'] = stage.forecastCategory;
        row['IsClosed'] = stage.closed;
        row['IsWon'] = stage.won;
      }
      const amount = row['Amount'];
      const probability = row['Probability'];
      row['ExpectedRevenue'] =
        typeof amount === 'number' && typeof probability === 'number' ? (amount * probability) / 100 : null;
    }
    if (info.name === 'CampaignMember') {
      row['HasResponded'] = row['Status'] === 'Responded';
      if (row['HasResponded'] === true && row['FirstRespondedDate'] === null) {
        row['FirstRespondedDate'] = formatDate(this.now());
      }
    }
  }

  /** Field-level checks, in the order Salesforce reports them; returns canonical stored values. */
  private validate(
    info: SalesforceObjectInfo,
    input: Record<string, unknown>,
    mode: 'create' | 'update',
    previous: SalesforceRow | null,
  ): SalesforceRow {
    const values: SalesforceRow = {};
    const notWritable: string[] = [];
    for (const [key, raw] of Object.entries(input)) {
      if (key === 'attributes') continue;
      const field = info.field(key);
      if (field === undefined) {
        throw new RecordError('INVALID_FIELD', `No such column '${key}' on sobject of type ${info.name}`, [
          key,
        ]);
      }
      // Sending the record's own Id back on update is harmless, as in Salesforce.
      if (field.name === 'Id' && mode === 'update' && previous !== null && raw === previous['Id']) continue;
      if (!(mode === 'create' ? field.createable : field.updateable)) {
        notWritable.push(field.name);
        continue;
      }
      values[field.name] = this.coerce(info, field, raw);
    }
    if (notWritable.length > 0) {
      throw new RecordError(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        notWritable,
      );
    }
    for (const [name, value] of Object.entries(values)) {
      const field = info.field(name) as SalesforceField;
      if (value === null && !field.nillable && field.type !== 'boolean') {
        throw new RecordError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${field.name}]`, [
          field.name,
        ]);
      }
    }
    return values;
  }

  private coerce(info: SalesforceObjectInfo, field: SalesforceField, raw: unknown): SalesforceValue {
    const typeError = () =>
      new RecordError(
        'JSON_PARSER_ERROR',
        `Cannot deserialize instance of ${field.type} from ${typeof raw} value ${JSON.stringify(raw)} or request may be missing a required field (field ${info.name}.${field.name})`,
        [field.name],
      );
    if (raw === null || raw === undefined || raw === '') {
      return field.type === 'boolean' ? false : null;
    }
    switch (field.type) {
      case 'boolean':
        if (typeof raw === 'boolean') return raw;
        if (raw === 'true' || raw === 'false') return raw === 'true';
        throw typeError();
      case 'double':
      case 'currency':
      case 'percent':
      case 'int': {
        const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
        if (!Number.isFinite(n) || (field.type === 'int' && !Number.isInteger(n))) throw typeError();
        const integerDigits = field.precision - field.scale;
        if (field.precision > 0 && Math.abs(Math.trunc(n)).toString().length > integerDigits) {
          throw new RecordError(
            'NUMBER_OUTSIDE_VALID_RANGE',
            `${field.label}: value outside of valid range on numeric field: ${n}`,
            [field.name],
          );
        }
        return n;
      }
      case 'date':
        if (typeof raw !== 'string' || !isValidDate(raw.slice(0, 10))) throw typeError();
        return raw.slice(0, 10);
      case 'datetime': {
        const ms = typeof raw === 'string' ? parseDateTime(raw) : null;
        if (ms === null) throw typeError();
        return formatDateTime(ms);
      }
      case 'id':
      case 'reference':
        return this.coerceReference(field, raw);
      default: {
        if (typeof raw !== 'string' && typeof raw !== 'number') throw typeError();
        const text = String(raw);
        if (text.length > field.length) {
          throw new RecordError(
            'STRING_TOO_LONG',
            `${field.label}: data value too large: ${text.length > 40 ? `${text.slice(0, 40)}...` : text} (max length=${field.length})`,
            [field.name],
          );
        }
        if (field.type === 'email' && !EMAIL.test(text)) {
          throw new RecordError('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${text}`, [
            field.name,
          ]);
        }
        if (
          field.type === 'picklist' &&
          field.restrictedPicklist &&
          !field.picklistValues.some((p) => p.active && p.value === text)
        ) {
          throw new RecordError(
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            `${field.label}: bad value for restricted picklist field: ${text}`,
            [field.name],
          );
        }
        return text;
      }
    }
  }

  private coerceReference(field: SalesforceField, raw: unknown): string {
    if (typeof raw !== 'string' || !isSalesforceId(raw)) {
      throw new RecordError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${String(raw)}`, [
        field.name,
      ]);
    }
    const id = toCaseSafeId(raw);
    const targets = field.referenceTo.map((name) => this.options.catalog.object(name)?.schema.keyPrefix);
    if (!targets.includes(id.slice(0, 3))) {
      throw new RecordError(
        'FIELD_INTEGRITY_EXCEPTION',
        `${field.label}: id value of incorrect type: ${raw}`,
        [field.name],
      );
    }
    const target = this.rowsById.get(id);
    if (target === undefined || target['IsDeleted'] === true) {
      throw new RecordError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [field.name]);
    }
    return id;
  }

  private checkDuplicates(
    info: SalesforceObjectInfo,
    row: SalesforceRow,
    previous: SalesforceRow | null,
    duplicateRules: boolean,
  ): void {
    const id = row['Id'] as string;
    for (const field of info.schema.fields) {
      if (!field.unique) continue;
      const value = row[field.name];
      if (typeof value !== 'string' || (previous !== null && previous[field.name] === value)) continue;
      const clash = this.findByValue(info.name, field.name, value).find((r) => r['Id'] !== id);
      if (clash !== undefined) {
        throw new RecordError(
          'DUPLICATE_VALUE',
          `duplicate value found: ${field.name} duplicates value on record with id: ${String(clash['Id'])}`,
          [field.name],
        );
      }
    }
    const email = row['Email'];
    if (!duplicateRules || !EMAIL_DUPLICATE_RULE_OBJECTS.has(info.name) || typeof email !== 'string') return;
    if (
      previous !== null &&
      typeof previous['Email'] === 'string' &&
      previous['Email'].toLowerCase() === email.toLowerCase()
    ) {
      return;
    }
    const duplicate = this.findByValue(info.name, 'Email', email).find(
      (r) => r['Id'] !== id && r['IsConverted'] !== true,
    );
    if (duplicate !== undefined) {
      throw new RecordError(
        'DUPLICATES_DETECTED',
        `Use one of these records? (duplicate ${info.name} ${String(duplicate['Id'])} has the email ${email})`,
        [],
      );
    }
  }

  // ---- Storage and indexes -----------------------------------------------------------------------

  private indexedFields(objectName: string): string[] {
    const info = this.info(objectName);
    const fields = info.schema.fields.filter((f) => f.unique).map((f) => f.name);
    if (EMAIL_DUPLICATE_RULE_OBJECTS.has(objectName)) fields.push('Email');
    return fields;
  }

  private put(objectName: string, row: SalesforceRow): void {
    const id = row['Id'] as string;
    const previous = this.rowsById.get(id);
    if (previous !== undefined) this.unindex(objectName, previous);
    (this.byObject.get(objectName) as Map<string, SalesforceRow>).set(id, row);
    this.rowsById.set(id, row);
    this.index(objectName, row);
  }

  private remove(id: string): void {
    const row = this.rowsById.get(id);
    if (row === undefined) return;
    const info = this.options.catalog.objectForId(id);
    if (info === undefined) return;
    this.unindex(info.name, row);
    this.byObject.get(info.name)?.delete(id);
    this.rowsById.delete(id);
  }

  private index(objectName: string, row: SalesforceRow): void {
    const sorted = this.modstampIndex.get(objectName) as SalesforceRow[];
    if (this.bulkLoading) sorted.push(row);
    else sorted.splice(modstampPosition(sorted, row), 0, row);
    for (const name of this.indexedFields(objectName)) {
      const value = row[name];
      if (typeof value !== 'string') continue;
      const key = `${objectName}.${name}`;
      let byValue = this.valueIndex.get(key);
      if (byValue === undefined) this.valueIndex.set(key, (byValue = new Map()));
      const lower = value.toLowerCase();
      let ids = byValue.get(lower);
      if (ids === undefined) byValue.set(lower, (ids = new Set()));
      ids.add(row['Id'] as string);
    }
  }

  private unindex(objectName: string, row: SalesforceRow): void {
    const sorted = this.modstampIndex.get(objectName) as SalesforceRow[];
    if (this.bulkLoading) {
      // A world with the same id twice: the later row wins; drop the earlier one from the unsorted index.
      const earlier = sorted.lastIndexOf(row);
      if (earlier >= 0) sorted.splice(earlier, 1);
    }
    const at = this.bulkLoading ? -1 : modstampPosition(sorted, row);
    if (at >= 0 && sorted[at] === row) sorted.splice(at, 1);
    else if (!this.bulkLoading) {
      const fallback = sorted.indexOf(row);
      if (fallback >= 0) sorted.splice(fallback, 1);
    }
    for (const name of this.indexedFields(objectName)) {
      const value = row[name];
      if (typeof value !== 'string') continue;
      this.valueIndex
        .get(`${objectName}.${name}`)
        ?.get(value.toLowerCase())
        ?.delete(row['Id'] as string);
    }
  }
}

function compareModstamp(a: SalesforceRow, b: SalesforceRow): number {
  const x = String(a['SystemModstamp']);
  const y = String(b['SystemModstamp']);
  if (x !== y) return x < y ? -1 : 1;
  return String(a['Id']) < String(b['Id']) ? -1 : String(a['Id']) > String(b['Id']) ? 1 : 0;
}

/** First position whose (SystemModstamp, Id) is not below the row's. */
function modstampPosition(sorted: readonly SalesforceRow[], row: SalesforceRow): number {
  const stamp = String(row['SystemModstamp']);
  const id = String(row['Id']);
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const other = sorted[mid] as SalesforceRow;
    const otherStamp = String(other['SystemModstamp']);
    const below = otherStamp < stamp || (otherStamp === stamp && String(other['Id']) < id);
    if (below) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function canonicalDateTime(value: string): string {
  const ms = parseDateTime(value);
  return ms === null ? value : formatDateTime(ms);
}

/** `…+0000` → `…+00:00`, the ISO form the World schema validates. */
function toIsoOffset(value: string): string {
  return value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

/** The base62 sequence inside an id made by `salesforceId`, or 0 for foreign ids. */
function sequenceOf(id: string): number {
  let n = 0;
  for (const ch of id.slice(3, 15)) {
    const digit = BASE62.indexOf(ch);
    if (digit < 0) return 0;
    n = n * 62 + digit;
  }
  return Number.isSafeInteger(n) ? n : 0;
}
