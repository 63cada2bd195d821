import type { HubSpotObjectType, HubSpotRecord, HubSpotWorld } from '../world/schema.js';
import { AssociationStore } from './associations.js';
import {
  conflict,
  objectNotFound,
  propertyValuesInvalid,
  validationError,
  type PropertyProblem,
} from './errors.js';
import { OBJECT_TYPE_INFO, OBJECT_TYPES } from './object-types.js';
import {
  DEFAULT_DEAL_STAGES,
  normalizePropertyWrite,
  PropertySchema,
  type WriteOptions,
} from './property-schema.js';
import { RecordStore, type HistoryEntry, type StoredRecord } from './record-store.js';

/** Who made a change, as `propertiesWithHistory` reports it. */
export interface WriteSource {
  sourceType: string;
  sourceId?: string;
}

export const API_SOURCE: WriteSource = { sourceType: 'INTEGRATION', sourceId: 'tandem-sandbox-private-app' };
const CALCULATED_SOURCE: WriteSource = { sourceType: 'CALCULATED' };

const FIRST_ID = 1001;

/** One HubSpot account: its records, property schema and associations, and the rules of writing to them. */
export class HubSpotPortal {
  readonly schema = new PropertySchema();
  readonly associations = new AssociationStore();
  readonly stores: Record<HubSpotObjectType, RecordStore>;
  private nextId = FIRST_ID;
  /** Form ids each contact has submitted (for num_unique_conversion_events); not part of a World. */
  private readonly forms = new Map<string, Set<string>>();

  constructor(private readonly now: () => number) {
    this.stores = {
      contacts: new RecordStore(() => [
        'email',
        'hs_additional_emails',
        ...this.schema.uniqueProperties('contacts'),
      ]),
      companies: new RecordStore(() => this.schema.uniqueProperties('companies')),
      deals: new RecordStore(() => this.schema.uniqueProperties('deals')),
    };
  }

  reset(): void {
    for (const type of OBJECT_TYPES) this.stores[type].clear();
    this.associations.clear();
    this.schema.reset();
    this.nextId = FIRST_ID;
    this.forms.clear();
  }

  submittedForms(contactId: string): Set<string> {
    let forms = this.forms.get(contactId);
    if (forms === undefined) {
      forms = new Set();
      this.forms.set(contactId, forms);
    }
    return forms;
  }

  /** Validates property values for a write; throws HubSpot's 400 listing every problem. */
  validate(type: HubSpotObjectType, input: unknown, options: WriteOptions = {}): Record<string, string> {
    const { values, problems } = this.check(type, input, options);
    if (problems.length > 0) throw propertyValuesInvalid(problems);
    return values;
  }

  /** Like `validate`, but returns the problems instead of throwing. */
  check(
    type: HubSpotObjectType,
    input: unknown,
    options: WriteOptions = {},
  ): { values: Record<string, string>; problems: PropertyProblem[] } {
    if (input === undefined || input === null) return { values: {}, problems: [] };
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw validationError(
        'Invalid input JSON: "properties" must be an object of property name to string value',
      );
    }
    return normalizePropertyWrite(this.schema, type, input as Record<string, unknown>, options);
  }

  /** A live record by id, or by a unique property (`idProperty=email`). */
  find(type: HubSpotObjectType, id: string, idProperty?: string): StoredRecord | undefined {
    const store = this.stores[type];
    if (idProperty === undefined || idProperty === '' || idProperty === 'hs_object_id')
      return store.getLive(id);
    return store.findByUnique(idProperty, id);
  }

  checkIdProperty(type: HubSpotObjectType, idProperty: string | undefined): void {
    if (idProperty === undefined || idProperty === '' || idProperty === 'hs_object_id') return;
    const definition = this.schema.get(type, idProperty);
    const unique = definition?.hasUniqueValue === true || (type === 'contacts' && idProperty === 'email');
    if (!unique) {
      throw validationError(
        `Property "${idProperty}" is not a unique identifier property for ${type}; use email or a property with hasUniqueValue`,
      );
    }
  }

  create(
    type: HubSpotObjectType,
    values: Record<string, string>,
    source: WriteSource = API_SOURCE,
  ): StoredRecord {
    this.assertUnique(type, values, undefined);
    const at = this.now();
    const id = String(this.nextId);
    this.nextId += 1;
    const record: StoredRecord = {
      id,
      idNum: Number(id),
      properties: {},
      createdAt: at,
      updatedAt: at,
      archived: false,
      history: {},
      mergedObjectIds: [],
    };
    const iso = new Date(at).toISOString();
    this.set(record, 'hs_object_id', id, iso, CALCULATED_SOURCE);
    this.set(record, 'createdate', iso, iso, source);
    if (type === 'deals' && values['dealstage'] !== undefined && values['pipeline'] === undefined) {
      values = { ...values, pipeline: 'default' };
    }
    this.apply(type, record, values, source, at, true);
    this.stores[type].insert(record);
    return record;
  }

  update(
    type: HubSpotObjectType,
    record: StoredRecord,
    values: Record<string, string>,
    source: WriteSource = API_SOURCE,
  ): StoredRecord {
    this.assertUnique(type, values, record.id);
    const store = this.stores[type];
    store.beforeChange(record);
    this.apply(type, record, values, source, this.now(), false);
    store.afterChange(record);
    return record;
  }

  archive(type: HubSpotObjectType, id: string): void {
    const record = this.stores[type].getLive(id);
    if (record !== undefined) this.stores[type].archive(record, this.now());
  }

  /** `POST /merge`: the primary survives; the other's blanks-filling values, emails and associations move onto it. */
  merge(type: HubSpotObjectType, primaryId: string, mergeId: string): StoredRecord {
    const store = this.stores[type];
    const primary = store.getLive(primaryId);
    const merged = store.getLive(mergeId);
    if (primary === undefined || merged === undefined) {
      throw objectNotFound(
        `Object not found. objectId are usually numeric. (${primary ? mergeId : primaryId})`,
      );
    }
    if (primary === merged) throw validationError('Cannot merge an object with itself');
    const fill: Record<string, string> = {};
    for (const [name, value] of Object.entries(merged.properties)) {
      const definition = this.schema.get(type, name);
      if (definition === undefined || definition.modificationMetadata.readOnlyValue || value === '') continue;
      if (name === 'email' || (primary.properties[name] ?? '') !== '') continue;
      fill[name] = value;
    }
    const extraEmails = type === 'contacts' ? this.mergedEmails(primary, merged) : undefined;
    store.remove(merged);
    store.beforeChange(primary);
    const at = this.now();
    this.apply(type, primary, fill, CALCULATED_SOURCE, at, false);
    const iso = new Date(at).toISOString();
    if (extraEmails !== undefined)
      this.set(primary, 'hs_additional_emails', extraEmails, iso, CALCULATED_SOURCE);
    primary.mergedObjectIds.push(merged.id, ...merged.mergedObjectIds);
    if (this.schema.get(type, 'hs_merged_object_ids') !== undefined) {
      this.set(primary, 'hs_merged_object_ids', primary.mergedObjectIds.join(';'), iso, CALCULATED_SOURCE);
    }
    this.touch(type, primary, at);
    store.afterChange(primary);
    store.redirect(merged.id, primary.id);
    this.associations.moveRecord(type, merged.id, primary.id);
    return primary;
  }

  gdprDelete(type: HubSpotObjectType, id: string, idProperty?: string): void {
    const record = this.find(type, id, idProperty);
    if (record === undefined) throw objectNotFound();
    this.stores[type].remove(record);
    this.associations.removeRecord(type, record.id);
  }

  loadWorld(world: HubSpotWorld): void {
    this.reset();
    let maxId = FIRST_ID - 1;
    for (const type of OBJECT_TYPES) {
      for (const definition of world.customProperties[type]) {
        if (this.schema.get(type, definition.name) === undefined) this.schema.importCustom(type, definition);
      }
      const records = world[type].map((raw) => fromWorldRecord(type, raw));
      for (const record of records) maxId = Math.max(maxId, record.idNum);
      this.stores[type].insertMany(records);
    }
    for (const a of world.associations)
      this.associations.add(a.fromType, a.fromId, a.toType, a.toId, a.typeId);
    this.nextId = Math.max(world.nextId ?? FIRST_ID, maxId + 1);
  }

  exportWorld(): HubSpotWorld {
    const [contacts, companies, deals] = OBJECT_TYPES.map((type) =>
      [...this.stores[type].all()].sort((a, b) => a.idNum - b.idNum).map(toWorldRecord),
    ) as [HubSpotRecord[], HubSpotRecord[], HubSpotRecord[]];
    return {
      contacts,
      companies,
      deals,
      associations: this.associations.export(),
      customProperties: {
        contacts: this.schema.exportCustom('contacts'),
        companies: this.schema.exportCustom('companies'),
        deals: this.schema.exportCustom('deals'),
      },
      nextId: this.nextId,
    };
  }

  /** Throws HubSpot's 409 when a unique value (a contact's email, a unique property) belongs to another record. */
  assertUnique(type: HubSpotObjectType, values: Record<string, string>, selfId: string | undefined): void {
    const store = this.stores[type];
    for (const [name, value] of Object.entries(values)) {
      if (value === '') continue;
      const isUnique =
        (type === 'contacts' && name === 'email') || this.schema.get(type, name)?.hasUniqueValue;
      if (!isUnique) continue;
      const existing = store.findByUnique(name, value);
      if (existing === undefined || existing.id === selfId) continue;
      if (type === 'contacts' && name === 'email') {
        throw conflict(`Contact already exists. Existing ID: ${existing.id}`);
      }
      throw conflict(
        `A ${OBJECT_TYPE_INFO[type].singular} with the value "${value}" for unique property "${name}" already exists. Existing ID: ${existing.id}`,
      );
    }
  }

  /** Applies values with HubSpot's side rules; bumps the modified date only if something changed. */
  private apply(
    type: HubSpotObjectType,
    record: StoredRecord,
    values: Record<string, string>,
    source: WriteSource,
    at: number,
    isCreate: boolean,
  ): void {
    const iso = new Date(at).toISOString();
    let changed = false;
    for (const [name, value] of Object.entries(values)) {
      if (name === 'lifecyclestage' && this.isBackwards(type, record.properties[name] ?? '', value)) continue;
      if (!this.set(record, name, value, iso, source)) continue;
      changed = true;
      if (name === 'lifecyclestage' && value !== '') {
        const stageDate = `hs_lifecyclestage_${value}_date`;
        if (this.schema.get(type, stageDate) !== undefined && (record.properties[stageDate] ?? '') === '') {
          this.set(record, stageDate, iso, iso, CALCULATED_SOURCE);
        }
      }
      if (type === 'deals' && name === 'dealstage') this.deriveDealStage(record, value, iso);
    }
    if (changed || isCreate) this.touch(type, record, at);
  }

  private touch(type: HubSpotObjectType, record: StoredRecord, at: number): void {
    record.updatedAt = Math.max(at, record.createdAt);
    const iso = new Date(record.updatedAt).toISOString();
    this.set(record, OBJECT_TYPE_INFO[type].modifiedProperty, iso, iso, CALCULATED_SOURCE);
  }

  /** HubSpot ignores a lifecycle stage earlier than the current one; clearing first allows it. */
  private isBackwards(type: HubSpotObjectType, current: string, next: string): boolean {
    if (current === '' || next === '') return false;
    const options = this.schema.get(type, 'lifecyclestage')?.options ?? [];
    const rank = (value: string) => options.find((o) => o.value === value)?.displayOrder ?? -1;
    return rank(next) < rank(current);
  }

  private deriveDealStage(record: StoredRecord, stage: string, iso: string): void {
    const known = DEFAULT_DEAL_STAGES.find((s) => s.id === stage);
    this.set(record, 'hs_is_closed', String(known?.closed ?? false), iso, CALCULATED_SOURCE);
    this.set(record, 'hs_is_closed_won', String(stage === 'closedwon'), iso, CALCULATED_SOURCE);
    this.set(
      record,
      'hs_deal_stage_probability',
      known ? String(known.probability) : '',
      iso,
      CALCULATED_SOURCE,
    );
  }

  private mergedEmails(primary: StoredRecord, merged: StoredRecord): string {
    const emails = new Set(
      (primary.properties['hs_additional_emails'] ?? '').split(';').filter((e) => e !== ''),
    );
    for (const email of [
      merged.properties['email'] ?? '',
      ...(merged.properties['hs_additional_emails'] ?? '').split(';'),
    ]) {
      if (email !== '' && email.toLowerCase() !== (primary.properties['email'] ?? '').toLowerCase())
        emails.add(email);
    }
    return [...emails].join(';');
  }

  /** Sets one value and records its history; false when the value did not change. */
  private set(record: StoredRecord, name: string, value: string, iso: string, source: WriteSource): boolean {
    const current = record.properties[name] ?? '';
    if (current === value) return false;
    record.properties[name] = value;
    const entry: HistoryEntry = { value, timestamp: iso, sourceType: source.sourceType };
    if (source.sourceId !== undefined) entry.sourceId = source.sourceId;
    (record.history[name] ??= []).unshift(entry);
    return true;
  }
}

function fromWorldRecord(type: HubSpotObjectType, raw: HubSpotRecord): StoredRecord {
  const createdAt = Date.parse(raw.createdAt);
  const updatedAt = Date.parse(raw.updatedAt);
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.properties)) if (value !== null) properties[name] = value;
  properties['hs_object_id'] = raw.id;
  properties['createdate'] ??= new Date(createdAt).toISOString();
  properties[OBJECT_TYPE_INFO[type].modifiedProperty] = new Date(updatedAt).toISOString();
  const history: Record<string, HistoryEntry[]> = {};
  for (const [name, entries] of Object.entries(raw.propertiesWithHistory ?? {})) {
    history[name] = entries.map((e) => {
      const entry: HistoryEntry = { value: e.value, timestamp: e.timestamp, sourceType: e.sourceType };
      if (e.sourceId !== undefined) entry.sourceId = e.sourceId;
      return entry;
    });
  }
  const record: StoredRecord = {
    id: raw.id,
    idNum: Number(raw.id),
    properties,
    createdAt,
    updatedAt,
    archived: raw.archived,
    history,
    valuesSetAt: updatedAt,
    mergedObjectIds: raw.mergedObjectIds ?? [],
  };
  if (raw.archivedAt !== undefined) record.archivedAt = Date.parse(raw.archivedAt);
  return record;
}

function toWorldRecord(record: StoredRecord): HubSpotRecord {
  const out: HubSpotRecord = {
    id: record.id,
    properties: { ...record.properties },
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
  };
  if (record.archivedAt !== undefined) out.archivedAt = new Date(record.archivedAt).toISOString();
  // Values set before loading keep their time once saved: each gets the entry `historyOf` shows for it.
  const history =
    record.valuesSetAt !== undefined && record.valuesSetAt !== record.updatedAt
      ? Object.fromEntries(Object.keys(record.properties).map((name) => [name, historyOf(record, name)]))
      : record.history;
  if (Object.keys(history).length > 0) {
    out.propertiesWithHistory = Object.fromEntries(
      Object.entries(history)
        .filter(([, entries]) => entries.length > 0)
        .map(([name, entries]) => [name, entries.map((e) => ({ ...e }))]),
    );
  }
  if (record.mergedObjectIds.length > 0) out.mergedObjectIds = [...record.mergedObjectIds];
  return out;
}

/** The value history `propertiesWithHistory` shows: recorded entries, or the current value when none were kept. */
export function historyOf(record: StoredRecord, name: string): HistoryEntry[] {
  const entries = record.history[name];
  if (entries !== undefined && entries.length > 0) return entries;
  const value = record.properties[name];
  if (value === undefined || value === '') return [];
  const at = record.valuesSetAt ?? record.updatedAt;
  return [{ value, timestamp: new Date(at).toISOString(), sourceType: 'CRM_UI' }];
}
