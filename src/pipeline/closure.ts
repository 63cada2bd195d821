// Reconcile's input loaded from PostgreSQL: the identity closure of a batch of refs (snapshots reachable
// through stored links, cross-reference ids and normalised emails / domains), the stored links, and for
// persons the deals and campaign memberships that decide stage and attribution.

import type { Kysely } from 'kysely';
import { salesforceIdKey } from '../domain/identity.js';
import type { Mapping, System } from '../domain/mapping/schema.js';
import type { ObjectName, SourceRecord, StoredLink } from '../domain/records.js';
import type { CustomerView } from '../store/customer-view.js';
import type { RecordLink, SourceSnapshot } from '../store/customer-view-types.js';
import { anyOf } from '../store/batch-sql.js';
import type { CustomerViewDatabase } from '../store/schema.js';
import type { SourceSnapshots } from '../store/source-snapshots.js';
import type { EntityKind, SourceRef } from './contract.js';
import { kindOf, objectsOfKind } from './fields.js';
import { fieldsOf, identityKeys, keyOf, matchKeys, metaOf, snapshotToRecord } from './snapshots.js';
import type { RelatedRecord } from './facts.js';

export interface Closure {
  kind: EntityKind;
  /** The kind's records (persons: contacts, Leads, Contacts), deleted ones included (marked archived). */
  records: SourceRecord[];
  links: StoredLink[];
  /** Persons only: deal records and link rows found around them. */
  hubspotDeals: Array<{ record: SourceRecord; contacts: string[] }>;
  opportunities: SourceRecord[];
  contactRoles: RelatedRecord[];
  campaignMembers: RelatedRecord[];
  /** Deal record key (`hubspot:<id>` / `salesforce:<15-char>`) → unified deal id. */
  dealLinks: Map<string, string>;
  /** The stored snapshots `records` were read from (not overrides), by `system:object:id`. */
  snapshots: Map<string, SourceSnapshot>;
}

export interface ClosureOptions {
  /** Safety bound on expansion rounds (each: links, cross-references, emails); default 100. */
  maxRounds?: number;
  /** Hops through deals to their other contacts (persons; default 2). */
  dealHops?: number;
  /** Records to use instead of their stored snapshots (preview's freshly read sample). */
  overrides?: readonly SourceRecord[];
  /** The refs' snapshots, when the caller has read them already (`readRefs`). */
  read?: readonly SourceSnapshot[];
}

const snapshotKey = (s: { system: System; object: string; recordId: string }): string =>
  `${s.system}:${s.object}:${s.recordId}`;

function relatedOf(s: SourceSnapshot): RelatedRecord {
  return {
    id: s.recordId,
    fields: fieldsOf(s),
    createdAt: metaOf(s).createdAt,
    ...(s.deleted ? { archived: true } : {}),
  };
}

export function storedLinks(rows: readonly RecordLink[], kind: EntityKind): StoredLink[] {
  const byUnified = new Map<string, StoredLink>();
  for (const r of rows) {
    if (r.recordType !== kind) continue;
    const link = byUnified.get(r.unifiedId) ?? { unifiedId: r.unifiedId };
    if (r.system === 'hubspot') link.hubspotId = r.recordId;
    else if (r.object === 'Lead') link.salesforceLeadId = r.recordId;
    else if (r.object === 'Contact') link.salesforceContactId = r.recordId;
    else link.salesforceId = r.recordId;
    byUnified.set(r.unifiedId, link);
  }
  return [...byUnified.values()].sort((a, b) => (a.unifiedId < b.unifiedId ? -1 : 1));
}

export class ClosureLoader {
  constructor(
    private readonly db: Kysely<CustomerViewDatabase>,
    private readonly view: CustomerView,
    private readonly snapshots: SourceSnapshots,
    private readonly mapping: Mapping,
  ) {}

  async load(kind: EntityKind, refs: readonly SourceRef[], options: ClosureOptions = {}): Promise<Closure> {
    const objects = new Set<string>(objectsOfKind(kind, this.mapping));
    const own = new Map<string, SourceSnapshot>();
    const related = new Map<string, SourceSnapshot>();
    const seenKeys = new Set<string>();
    const seenEmails = new Set<string>();
    const seenUnified = new Set<string>();
    const linkRows = new Map<string, RecordLink>();
    let keys = new Set<string>();
    let emails = new Set<string>();
    let fresh: SourceSnapshot[] = [];
    const linksRead = new Set<string>();

    const take = (s: SourceSnapshot): void => {
      const k = snapshotKey(s);
      if (objects.has(s.object)) {
        if (!own.has(k)) {
          own.set(k, s);
          fresh.push(s);
        }
      } else if (!related.has(k)) {
        related.set(k, s);
        if (kind === 'person') fresh.push(s);
      }
    };
    const want = (key: string): void => {
      if (!seenKeys.has(key)) keys.add(key);
    };

    for (const r of refs) want(keyOf(r.system, r.id));
    for (const s of options.read ?? (await this.readRefs(refs))) take(s);
    for (const o of options.overrides ?? []) {
      if (kindOf(o.object) !== kind) continue;
      for (const k of identityKeys(o, this.mapping)) want(k);
      for (const e of matchKeys(o, this.mapping)) emails.add(e);
    }

    // Identity keys are followed to the end (an incomplete closure could pair records wrongly, and the link
    // stored would outlive the mistake); deal keys (a person's deals and their other contacts) only for
    // `dealHops` hops.
    const dealHops = options.dealHops ?? 2;
    let hop = 0;
    let dealKeys = new Set<string>();
    const wantDeal = (key: string): void => {
      if (!seenKeys.has(key)) dealKeys.add(key);
    };
    for (let round = 0; round < (options.maxRounds ?? 100); round += 1) {
      const newOwn = fresh.filter((s) => objects.has(s.object));
      for (const s of fresh) {
        const record = snapshotToRecord(s);
        if (objects.has(s.object)) {
          for (const k of identityKeys(record, this.mapping)) want(k);
          for (const e of s.emails) if (!seenEmails.has(e)) emails.add(e);
        } else if (s.object === 'deals' || s.object === 'Opportunity') {
          for (const k of identityKeys(record, this.mapping)) wantDeal(k);
          for (const c of metaOf(s).associations?.contacts ?? []) wantDeal(c);
        } else if (s.object === 'OpportunityContactRole') {
          for (const f of ['OpportunityId', 'ContactId']) {
            const id = record.fields[f];
            if (typeof id === 'string' && id !== '') wantDeal(salesforceIdKey(id));
          }
        }
      }
      fresh = [];
      for (const s of newOwn) linksRead.add(snapshotKey(s));
      const unified = await this.linksOf(newOwn, linkRows);
      const newUnified = unified.filter((u) => !seenUnified.has(u));
      for (const u of newUnified) seenUnified.add(u);
      if (newUnified.length > 0) {
        for (const row of await this.view.findLinksByUnifiedIds(newUnified)) {
          linkRows.set(`${row.system}:${row.object}:${row.recordId}`, row);
          want(keyOf(row.system, row.recordId));
        }
      }
      if (keys.size === 0 && emails.size === 0) {
        for (const k of dealKeys) if (seenKeys.has(k)) dealKeys.delete(k);
        if (dealKeys.size === 0 || hop >= dealHops) break;
        keys = dealKeys;
        dealKeys = new Set();
        hop += 1;
      }
      const keyList = [...keys];
      const emailList = [...emails];
      for (const k of keyList) seenKeys.add(k);
      for (const e of emailList) seenEmails.add(e);
      keys = new Set();
      emails = new Set();
      if (keyList.length > 0) for (const s of await this.snapshots.findByCrossReferences(keyList)) take(s);
      if (emailList.length > 0) {
        for (const s of await this.snapshots.findByEmails(emailList)) if (objects.has(s.object)) take(s);
      }
    }

    const overrides = new Map<string, SourceRecord>();
    for (const o of options.overrides ?? []) {
      if (kindOf(o.object) === kind) overrides.set(`${o.system}:${o.object}:${o.id}`, o);
    }
    const records = [...own.values()]
      .filter((s) => !overrides.has(snapshotKey(s)))
      .map(snapshotToRecord)
      .concat([...overrides.values()]);
    // Only records the rounds left unread (the last round's finds when `maxRounds` cut the walk short).
    await this.linksOf(
      [...own.values()].filter((s) => !linksRead.has(snapshotKey(s))),
      linkRows,
    );
    const links = storedLinks([...linkRows.values()], kind);
    await this.addDuplicates(links);

    const closure: Closure = {
      kind,
      records,
      links,
      hubspotDeals: [],
      opportunities: [],
      contactRoles: [],
      campaignMembers: [],
      dealLinks: new Map(),
      snapshots: new Map([...own].filter(([k]) => !overrides.has(k))),
    };
    if (kind !== 'person') return closure;
    const relatedList = [...related.values()];
    for (const s of relatedList) {
      if (s.object === 'deals') {
        closure.hubspotDeals.push({
          record: snapshotToRecord(s),
          contacts: [...(metaOf(s).associations?.contacts ?? [])],
        });
      } else if (s.object === 'Opportunity') closure.opportunities.push(snapshotToRecord(s));
      else if (s.object === 'OpportunityContactRole') closure.contactRoles.push(relatedOf(s));
      else if (s.object === 'CampaignMember') closure.campaignMembers.push(relatedOf(s));
    }
    const dealRows = await this.dealLinkRows(closure);
    for (const row of dealRows) {
      closure.dealLinks.set(`${row.system}:${keyOf(row.system, row.recordId)}`, row.unifiedId);
    }
    return closure;
  }

  /** The stored snapshots of these refs' records: one query per system. */
  async readRefs(refs: readonly SourceRef[]): Promise<SourceSnapshot[]> {
    const bySystem = new Map<System, string[]>();
    for (const r of refs) bySystem.set(r.system, [...(bySystem.get(r.system) ?? []), r.id]);
    const out: SourceSnapshot[] = [];
    for (const [system, ids] of bySystem)
      out.push(...(await this.snapshots.findByRecordIds({ system, recordIds: ids })));
    return out;
  }

  /** Unified ids of these records' stored links (rows collected into `into`). */
  private async linksOf(
    snapshots: readonly SourceSnapshot[],
    into: Map<string, RecordLink>,
  ): Promise<string[]> {
    const groups = new Map<string, { system: System; object: string; ids: string[] }>();
    for (const s of snapshots) {
      const k = `${s.system}:${s.object}`;
      const g = groups.get(k) ?? { system: s.system, object: s.object, ids: [] };
      g.ids.push(s.recordId);
      groups.set(k, g);
    }
    const unified = new Set<string>();
    for (const g of groups.values()) {
      for (const row of await this.view.findLinks({ system: g.system, object: g.object, recordIds: g.ids })) {
        into.set(`${row.system}:${row.object}:${row.recordId}`, row);
        unified.add(row.unifiedId);
      }
    }
    return [...unified];
  }

  private async dealLinkRows(closure: Closure): Promise<RecordLink[]> {
    const rows: RecordLink[] = [];
    const hs = closure.hubspotDeals.map((d) => d.record.id);
    const sf = closure.opportunities.map((o) => o.id);
    rows.push(...(await this.view.findLinks({ system: 'hubspot', object: 'deals', recordIds: hs })));
    rows.push(...(await this.view.findLinks({ system: 'salesforce', object: 'Opportunity', recordIds: sf })));
    return rows.filter((r) => r.recordType === 'deal');
  }

  /** Duplicates found earlier stay with their entity (the domain keeps them out of sync). */
  private async addDuplicates(links: StoredLink[]): Promise<void> {
    if (links.length === 0) return;
    const rows = await this.db
      .selectFrom('duplicates')
      .select(['unified_id', 'system', 'record_ids', 'survivor_record_id'])
      .where(
        anyOf(
          'unified_id',
          links.map((l) => l.unifiedId),
        ),
      )
      .execute();
    const byUnified = new Map(links.map((l) => [l.unifiedId, l]));
    for (const r of rows) {
      const link = r.unified_id === null ? undefined : byUnified.get(r.unified_id);
      if (!link) continue;
      const ids = (r.record_ids as string[]).filter((id) => id !== r.survivor_record_id);
      link.duplicates = [...(link.duplicates ?? []), ...ids.map((id) => ({ system: r.system, id }))];
    }
  }
}

export type { ObjectName };
