import type { Mapping } from './mapping/schema.js';
import type { CompiledField } from './values/field-codec.js';
import type { IdentityGroup } from './identity.js';
import { replacedKey, WrittenKeys, type LastWritten } from './merge.js';
import type { CampaignMembership, DealFact, RawValue, SourceRecord } from './records.js';
import type { StageState } from './reconcile.js';
import type { TargetSchemaHints } from './field-sync.js';

/**
 * Opt-in "skip unchanged entities": a fingerprint of everything one entity's reconcile reads. An entity whose
 * fingerprint equals the one stored with its last settled outcome would get the same outcome again, so the
 * batch reports it as unchanged instead of reconciling it.
 *
 * What a reconcile reads, and so what the fingerprint covers: the group (its key, the records of record, the
 * converted Leads, the ids named but missing, the duplicates), every record's fields, per-field change times
 * and previous values, creation and modification times; the `lastWritten` entries of its records for the
 * `newest` fields (the only ones the merge looks up); for persons, the deals and campaign memberships the
 * batch hands it and its previous stage; the mapping (the whole object) and the target length hints. `now`
 * is read by `changed_within_days` conditions and dates stage moves: it is covered when the mapping has such
 * a condition, and an outcome that moved the stage is never settled (see `isSettled`).
 *
 * Two 32-bit multiplicative lanes over UTF-16 code units (FNV-1a's prime on one, MurmurHash2's on the
 * other, each finished with MurmurHash3's mix): 64 bits without the carries of 64-bit FNV, which made the
 * fingerprint cost half a reconcile. Every piece is length-prefixed so no two inputs run together alike.
 */
class Fingerprint {
  private a = 0x811c9dc5;
  private b = 0x050c5d1f;

  private unit(code: number): void {
    this.a = Math.imul(this.a ^ code, 0x01000193);
    const b = Math.imul(this.b ^ code, 0x5bd1e995);
    this.b = b ^ (b >>> 15);
  }

  text(value: string): this {
    this.unit(0xf200);
    this.unit(value.length & 0xffff);
    this.unit(value.length >>> 16);
    // `unit` inlined by hand, on locals: this is most of a fingerprint's time.
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < value.length; i += 1) {
      const code = value.charCodeAt(i);
      a = Math.imul(a ^ code, 0x01000193);
      b = Math.imul(b ^ code, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** A field name: names repeat on every record, so each is hashed once (its code memoised). */
  name(key: string): this {
    let code = nameCodes.get(key);
    if (code === undefined) {
      code = fmix(new Fingerprint().text(key).a);
      if (nameCodes.size >= 10_000) nameCodes.clear();
      nameCodes.set(key, code);
    }
    this.unit(code & 0xffff);
    this.unit(code >>> 16);
    return this;
  }

  /** A tag per type, so `5`, `'5'`, `true`, `null` and absent all differ. */
  value(value: RawValue | undefined): this {
    if (value === undefined) this.unit(0xf000);
    else if (value === null) this.unit(0xf001);
    else if (typeof value === 'string') {
      this.unit(0xf002);
      this.text(value);
    } else if (typeof value === 'number') {
      this.unit(0xf003);
      this.text(String(value));
    } else this.unit(value ? 0xf004 : 0xf005);
    return this;
  }

  count(n: number): this {
    this.unit(0xf100);
    this.unit(n & 0xffff);
    this.unit((n >>> 16) & 0xffff);
    return this;
  }

  record(r: SourceRecord | undefined): this {
    if (r === undefined) return this.value(undefined);
    this.text(r.system).text(r.object).text(r.id).text(r.createdAt).text(r.modifiedAt);
    this.value(r.archived === true);
    this.entries(r.fields);
    const changed = r.fieldChangedAt;
    if (changed === undefined) this.value(undefined);
    else this.entries(changed);
    const previous = r.fieldPrevious;
    if (previous === undefined) this.value(undefined);
    else {
      const keys = Object.keys(previous);
      this.count(keys.length);
      for (const k of keys) {
        const p = previous[k];
        this.name(k).value(p?.value).value(p?.at);
      }
    }
    return this;
  }

  /** Keys in the object's own order: the same record read alike hashes alike (else it is only not skipped). */
  private entries(values: Readonly<Record<string, RawValue>>): void {
    let n = 0;
    for (const k in values) {
      this.name(k).value(values[k]);
      n += 1;
    }
    this.count(n);
  }

  digest(): string {
    const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
    return hex(fmix(this.a)) + hex(fmix(this.b ^ this.a));
  }
}

/** MurmurHash3's 32-bit finaliser. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const nameCodes = new Map<string, number>();

interface MappingPrint {
  text: string;
  /** The mapping has a `changed_within_days` condition: a reconcile may then depend on `now`. */
  readsNow: boolean;
}

const mappingPrints = new WeakMap<Mapping, MappingPrint>();

function mappingPrint(mapping: Mapping): MappingPrint {
  let known = mappingPrints.get(mapping);
  if (known === undefined) {
    const json = JSON.stringify(mapping);
    known = { text: new Fingerprint().text(json).digest(), readsNow: json.includes('"changed_within_days"') };
    mappingPrints.set(mapping, known);
  }
  return known;
}

/** What one batch shares across its entities' fingerprints: computed once per batch. */
export interface FingerprintScope {
  mapping: MappingPrint;
  hints: string;
  now: string;
  lastWritten: LastWritten;
}

export function fingerprintScope(
  mapping: Mapping,
  context: { now: string; lastWritten?: LastWritten; targetHints?: TargetSchemaHints },
): FingerprintScope {
  const hints = context.targetHints;
  return {
    mapping: mappingPrint(mapping),
    hints: hints === undefined ? '' : JSON.stringify(Object.entries(hints).sort()),
    now: context.now,
    lastWritten: context.lastWritten ?? new Map(),
  };
}

/** The extra inputs of a person's reconcile. */
export interface PersonInputs {
  deals: readonly DealFact[];
  campaignMemberships: readonly CampaignMembership[];
  previousStage: StageState | undefined;
}

/** The fingerprint of one entity's reconcile inputs (`person` only for persons). */
export function entityFingerprint(
  scope: FingerprintScope,
  kind: string,
  group: IdentityGroup,
  fields: readonly CompiledField[],
  person?: PersonInputs,
): string {
  const f = new Fingerprint();
  f.text(kind).text(scope.mapping.text).text(scope.hints);
  if (scope.mapping.readsNow) f.text(scope.now);
  f.text(group.key);
  f.record(group.hubspot).record(group.salesforce);
  f.count(group.convertedLeads.length);
  for (const r of group.convertedLeads) f.record(r);
  f.count(group.unresolved.length);
  for (const u of group.unresolved) f.text(u.system).text(u.id);
  f.count(group.duplicates.length);
  for (const d of group.duplicates) for (const id of d.duplicateIds) f.text(d.system).text(id);
  if (scope.lastWritten.size > 0) {
    // The merge looks `lastWritten` up to tell echoes of two sides apart, and for HubSpot's field history.
    const twoSided = group.hubspot !== undefined && group.salesforce !== undefined;
    const keys = new WrittenKeys();
    lastWrittenOf(f, scope.lastWritten, keys, group.hubspot, fields, twoSided);
    lastWrittenOf(f, scope.lastWritten, keys, group.salesforce, fields, twoSided);
    for (const r of group.convertedLeads) lastWrittenOf(f, scope.lastWritten, keys, r, fields, twoSided);
  }
  if (person !== undefined) {
    f.count(person.deals.length);
    for (const d of person.deals) {
      f.value(d.dealUnifiedId).value(d.hubspotDealId).value(d.salesforceOpportunityId);
      f.value(d.amount).text(d.outcome).value(d.closeDate).text(d.createdAt);
      f.count(d.contactIds.hubspot?.length ?? -1);
      for (const id of d.contactIds.hubspot ?? []) f.text(id);
      f.count(d.contactIds.salesforce?.length ?? -1);
      for (const id of d.contactIds.salesforce ?? []) f.text(id);
    }
    f.count(person.campaignMemberships.length);
    for (const m of person.campaignMemberships) {
      f.text(m.campaignId).text(m.campaignName).text(m.campaignType).text(m.status);
      f.value(m.hasResponded).value(m.firstRespondedDate).text(m.createdDate).text(m.personId);
    }
    const stage = person.previousStage;
    if (stage === undefined) f.value(undefined);
    else {
      f.value(stage.stage).count(stage.history.length);
      for (const e of stage.history) f.text(e.stage).text(e.enteredAt).text(e.reason).text(e.rule);
    }
  }
  return f.digest();
}

/**
 * The `lastWritten` entries the merge may read for a record (`newest` fields only): the written hash of
 * each when the entity has both sides (the echo check), and the written and replaced hashes of a field whose
 * previous value the record carries (an overwritten edit). A superset of what it reads.
 */
function lastWrittenOf(
  f: Fingerprint,
  lastWritten: LastWritten,
  keys: WrittenKeys,
  record: SourceRecord | undefined,
  fields: readonly CompiledField[],
  twoSided: boolean,
): void {
  if (record === undefined) return;
  const previous = record.fieldPrevious;
  if (!twoSided && previous === undefined) return;
  for (const field of fields) {
    if (field.mapping.conflict !== 'newest') continue;
    const name = field.fieldIn(record.system, record.object);
    if (name === undefined) continue;
    const history = previous?.[name] !== undefined;
    if (!twoSided && !history) continue;
    f.text(name).value(lastWritten.get(keys.key(record.system, record.id, name)));
    if (history) f.value(lastWritten.get(replacedKey(record.system, record.id, name)));
  }
}
