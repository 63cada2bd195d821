import type { Identity, System } from './mapping/schema.js';
import { isBlank, type SourceRecord, type StoredLink } from './records.js';
import { parseInstant } from './values/coerce.js';

/**
 * Identity resolution over a batch: which HubSpot record and which Salesforce record are one person (or
 * company, or deal). Deterministic by construction: records are sorted first and every choice is made by
 * a total order on content, so the answer does not depend on the order the connectors returned them.
 *
 * 1. Inside each system, records sharing a normalised email (primary or secondary; the domain for
 *    companies) are one cluster; a converted Lead joins its `ConvertedContactId` Contact. One survivor per
 *    cluster (see `compareSurvivors`); the rest are reported as duplicates and never synced.
 * 2. Across systems, clusters are paired level by level in `match_on` order (link, cross-reference, email,
 *    secondary email, domain). At each level candidates are taken best first and a cluster already
 *    paired is never paired again; a cluster with several candidates at one level is a reported conflict.
 *    Cross-references: a mutual reference beats a one-way one; a one-way reference the two records'
 *    emails (or domains) back up beats one they do not; then a one-way reference held in Salesforce
 *    beats one held in HubSpot (HubSpot's own properties are overwritten by imports and forms).
 */
export type MatchKey = 'link' | 'cross_reference' | 'email' | 'secondary_email' | 'domain';
export type EntityKind = 'person' | 'company' | 'deal';

export interface DuplicateReport {
  kind: EntityKind;
  system: System;
  survivorId: string;
  duplicateIds: string[];
  /** The normalised keys (emails, domains) the records share. */
  sharedKeys: string[];
  rule: Identity['duplicate_survivor'];
}

export interface IdentityConflict {
  kind: EntityKind;
  level: MatchKey;
  message: string;
  records: Array<{ system: System; id: string }>;
  resolution: string;
}

export interface IdentityGroup {
  key: string;
  kind: EntityKind;
  hubspot?: SourceRecord;
  salesforce?: SourceRecord;
  /** Leads converted into this person's Contact: read for Lead-only fields, never written. */
  convertedLeads: SourceRecord[];
  duplicates: DuplicateReport[];
  conflicts: IdentityConflict[];
  matchedBy?: MatchKey;
  link?: StoredLink;
  /** Ids a link or cross-reference names that are not in the batch (a create would duplicate them). */
  unresolved: Array<{ system: System; id: string }>;
}

export interface IdentityInput {
  kind: EntityKind;
  hubspot: readonly SourceRecord[];
  salesforce: readonly SourceRecord[];
  links?: readonly StoredLink[];
}

/** Which fields hold the match keys; derived from the mapping by `identityFieldsFor`. */
export interface IdentityFields {
  hubspotKey?: string;
  salesforceKey?: string;
}

export interface IdentityResult {
  groups: IdentityGroup[];
  duplicates: DuplicateReport[];
  conflicts: IdentityConflict[];
}

export function normaliseEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return email.includes('@') ? email : undefined;
}

export function normaliseDomain(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const domain = value
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/^www\./, '')
    .replace(/[/?#:].*$/, '')
    .replace(/\.$/, '');
  return domain.includes('.') ? domain : undefined;
}

/** Salesforce ids come in 15- and 18-character forms; the first 15 characters identify the record. */
export function salesforceIdKey(id: string): string {
  const trimmed = id.trim();
  return trimmed.length === 18 ? trimmed.slice(0, 15) : trimmed;
}

function splitList(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/[;,]/) : [];
}

const byId = (a: SourceRecord, b: SourceRecord): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function completeness(record: SourceRecord): number {
  let n = 0;
  for (const v of Object.values(record.fields)) if (!isBlank(v)) n += 1;
  return n;
}

/** Negative when `a` should survive over `b`: by the mapping's rule, ties broken by the lowest id. */
export function compareSurvivors(
  rule: Identity['duplicate_survivor'],
  a: SourceRecord,
  b: SourceRecord,
): number {
  let d: number;
  if (rule === 'oldest') d = (parseInstant(a.createdAt) ?? 0) - (parseInstant(b.createdAt) ?? 0);
  else if (rule === 'most_recently_modified')
    d = (parseInstant(b.modifiedAt) ?? 0) - (parseInstant(a.modifiedAt) ?? 0);
  else d = completeness(b) - completeness(a);
  return d !== 0 ? d : byId(a, b);
}

interface Cluster {
  system: System;
  index: number;
  members: SourceRecord[];
  survivor: SourceRecord;
  convertedLeads: SourceRecord[];
  duplicates: SourceRecord[];
  /** Normalised keys, each once, in first-seen order (a handful: plain arrays beat sets here). */
  primaryKeys: readonly string[];
  allKeys: readonly string[];
  sharedKeys: string[];
  link?: StoredLink;
  partner?: Cluster;
  matchedBy?: MatchKey;
  conflicts: IdentityConflict[];
  unresolved: Array<{ system: System; id: string }>;
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root] ?? root;
    let cur = i;
    while (this.parent[cur] !== root) {
      const next = this.parent[cur] ?? root;
      this.parent[cur] = root;
      cur = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

interface Keys {
  primary: string[];
  secondary: string[];
  /** Primary then secondary (the primary array itself when there is no secondary key). */
  all: string[];
}

/** The fields holding secondary emails in a system (persons only). */
function secondaryFieldsOf(kind: EntityKind, system: System, identity: Identity): readonly string[] {
  if (kind !== 'person') return [];
  if (system === 'salesforce') return identity.secondary_emails.salesforce ?? [];
  return identity.secondary_emails.hubspot === undefined ? [] : [identity.secondary_emails.hubspot];
}

function keysOf(
  kind: EntityKind,
  system: System,
  record: SourceRecord,
  fields: IdentityFields,
  secondaryFields: readonly string[],
): Keys {
  const keyField = system === 'hubspot' ? fields.hubspotKey : fields.salesforceKey;
  if (kind === 'deal' || keyField === undefined) return { primary: [], secondary: [], all: [] };
  const normalise = kind === 'company' ? normaliseDomain : normaliseEmail;
  const primary = normalise(record.fields[keyField]);
  const secondary: string[] = [];
  for (const f of secondaryFields) {
    for (const part of splitList(record.fields[f])) {
      const k = normalise(part);
      if (k !== undefined && k !== primary) secondary.push(k);
    }
  }
  const primaryKeys = primary === undefined ? [] : [primary];
  return {
    primary: primaryKeys,
    secondary,
    all: secondary.length === 0 ? primaryKeys : [...primaryKeys, ...secondary],
  };
}

function isConvertedLead(record: SourceRecord): boolean {
  return (
    record.object === 'Lead' &&
    (record.fields['IsConverted'] === true || record.fields['IsConverted'] === 'true')
  );
}

function convertedContactId(record: SourceRecord): string | undefined {
  const id = record.fields['ConvertedContactId'];
  return isConvertedLead(record) && typeof id === 'string' && id !== '' ? salesforceIdKey(id) : undefined;
}

function buildClusters(
  kind: EntityKind,
  system: System,
  records: SourceRecord[],
  identity: Identity,
  fields: IdentityFields,
): Cluster[] {
  const uf = new UnionFind(records.length);
  const secondaryFields = secondaryFieldsOf(kind, system, identity);
  const keys = records.map((r) => keysOf(kind, system, r, fields, secondaryFields));
  // Read once per record (by index: records make slow map keys): the Contact a converted Lead points at.
  const convertedTo = records.map(convertedContactId);
  const owner = new Map<string, number>();
  const idIndex = new Map<string, number>();
  records.forEach((r, i) => idIndex.set(system === 'salesforce' ? salesforceIdKey(r.id) : r.id, i));
  records.forEach((_, i) => {
    const k = keys[i];
    if (!k) return;
    for (const key of k.all) {
      const first = owner.get(key);
      if (first === undefined) owner.set(key, i);
      else uf.union(first, i);
    }
  });
  if (kind === 'person' && system === 'salesforce') {
    records.forEach((_, i) => {
      const contact = convertedTo[i];
      const j = contact === undefined ? undefined : idIndex.get(contact);
      if (j !== undefined) uf.union(i, j);
    });
  }
  // Member indexes per root, the groups in order of their first member.
  const byRoot = new Array<number[] | undefined>(records.length);
  const groups: number[][] = [];
  records.forEach((_, i) => {
    const root = uf.find(i);
    const list = byRoot[root];
    if (list) list.push(i);
    else groups.push((byRoot[root] = [i]));
  });
  const clusters: Cluster[] = [];
  for (let g = 0; g < groups.length; g += 1) {
    const indexes = groups[g] as number[];
    const only = indexes.length === 1 ? indexes[0] : undefined;
    const record = only === undefined ? undefined : records[only];
    const recordKeys = only === undefined ? undefined : keys[only];
    if (only !== undefined && record && recordKeys) {
      clusters.push(singleton(system, record, recordKeys, convertedTo[only]));
      continue;
    }
    const members = indexes.map((i) => records[i]).filter((r): r is SourceRecord => r !== undefined);
    const memberIds = new Set(members.map((m) => salesforceIdKey(m.id)));
    const converted = indexes
      .filter((i) => {
        const c = convertedTo[i];
        return c !== undefined && memberIds.has(c);
      })
      .map((i) => records[i])
      .filter((r): r is SourceRecord => r !== undefined);
    const eligible = members.filter((m) => !converted.includes(m));
    let pool = eligible.filter((m) => !isConvertedLead(m));
    if (pool.length === 0) pool = eligible.length > 0 ? eligible : members;
    const preferred = pool.filter((m) => m.object === identity.prefer_salesforce_object);
    if (preferred.length > 0 && system === 'salesforce') pool = preferred;
    const survivor = [...pool].sort((a, b) => compareSurvivors(identity.duplicate_survivor, a, b))[0];
    if (!survivor) continue;
    const primaryKeys = new Set<string>();
    const allKeys = new Set<string>();
    const counts = new Map<string, number>();
    for (const i of indexes) {
      const k = keys[i];
      if (!k) continue;
      for (const key of k.primary) primaryKeys.add(key);
      for (const key of k.all) {
        allKeys.add(key);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    clusters.push({
      system,
      index: 0,
      members: [...members].sort(byId),
      survivor,
      convertedLeads: [...converted].sort(byId),
      duplicates: members.filter((m) => m !== survivor && !converted.includes(m)).sort(byId),
      primaryKeys: [...primaryKeys],
      allKeys: [...allKeys],
      sharedKeys: [...counts]
        .filter(([, n]) => n > 1)
        .map(([k]) => k)
        .sort(),
      conflicts: [],
      unresolved: [],
    });
  }
  // Decorate-sort-undecorate: the survivor rule's key is computed once per cluster, not per comparison.
  const rule = identity.duplicate_survivor;
  const sortKey = (r: SourceRecord): number =>
    rule === 'oldest'
      ? (parseInstant(r.createdAt) ?? 0)
      : rule === 'most_recently_modified'
        ? -(parseInstant(r.modifiedAt) ?? 0)
        : -completeness(r);
  const keyed = clusters.map((c) => ({ c, k: sortKey(c.survivor) }));
  keyed.sort((a, b) => a.k - b.k || byId(a.c.survivor, b.c.survivor));
  keyed.forEach(({ c }, i) => {
    c.index = i;
    clusters[i] = c;
  });
  return clusters;
}

/** A record alone in its cluster (the common case): what the general rules in `buildClusters` give. */
function singleton(
  system: System,
  record: SourceRecord,
  keys: Keys,
  convertedTo: string | undefined,
): Cluster {
  const all = keys.all;
  let sharedKeys: string[] = [];
  if (keys.secondary.length > 1) {
    const counts = new Map<string, number>();
    for (const key of all) counts.set(key, (counts.get(key) ?? 0) + 1);
    sharedKeys = [...counts]
      .filter(([, n]) => n > 1)
      .map(([k]) => k)
      .sort();
  }
  return {
    system,
    index: 0,
    members: [record],
    survivor: record,
    // A Lead converted into itself is its own converted Lead (odd data, same answer as the general rule).
    convertedLeads: convertedTo !== undefined && convertedTo === salesforceIdKey(record.id) ? [record] : [],
    duplicates: [],
    primaryKeys: keys.primary,
    allKeys: all === keys.primary ? all : [...new Set(all)],
    sharedKeys,
    conflicts: [],
    unresolved: [],
  };
}

interface Candidate {
  hs: Cluster;
  sf: Cluster;
  rank: number;
}

export interface CrossReferenceFields {
  /** HubSpot properties holding Salesforce ids. */
  hubspot: string[];
  /** Salesforce field holding the HubSpot id. */
  salesforce?: string;
}

function crossReferenceFields(kind: EntityKind, identity: Identity): CrossReferenceFields {
  const x = identity.cross_reference;
  const hubspot =
    kind === 'person'
      ? [x.hubspot_property_for_contact_id, x.hubspot_property_for_lead_id]
      : kind === 'company'
        ? [x.hubspot_property_for_account_id]
        : [x.hubspot_property_for_opportunity_id];
  return {
    hubspot: hubspot.filter((f): f is string => f !== undefined),
    ...(x.salesforce_field_for_hubspot_id !== undefined
      ? { salesforce: x.salesforce_field_for_hubspot_id }
      : {}),
  };
}

function idValue(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function sharesKey(a: readonly string[], b: readonly string[]): boolean {
  for (const k of a) if (b.includes(k)) return true;
  return false;
}

const describeCluster = (c: Cluster): string =>
  `${c.system === 'hubspot' ? 'HubSpot' : 'Salesforce'} ${c.survivor.object} ${c.survivor.id}`;

export function resolveIdentity(
  input: IdentityInput,
  identity: Identity,
  fields: IdentityFields = {},
): IdentityResult {
  const { kind } = input;
  const live = (rs: readonly SourceRecord[]): SourceRecord[] => rs.filter((r) => !r.archived).sort(byId);
  const hsClusters = buildClusters(kind, 'hubspot', live(input.hubspot), identity, fields);
  const sfClusters = buildClusters(kind, 'salesforce', live(input.salesforce), identity, fields);
  const hsById = new Map<string, Cluster>();
  // Index loops over clusters in this once-per-batch function: until it is optimised, a `for…of` step
  // allocates an iterator result, tens of thousands per batch.
  for (let i = 0; i < hsClusters.length; i += 1) {
    const c = hsClusters[i] as Cluster;
    for (const m of c.members) hsById.set(m.id, c);
  }
  const sfById = new Map<string, Cluster>();
  for (let i = 0; i < sfClusters.length; i += 1) {
    const c = sfClusters[i] as Cluster;
    for (const m of c.members) sfById.set(salesforceIdKey(m.id), c);
  }
  const conflicts: IdentityConflict[] = [];
  const conflict = (c: IdentityConflict, on: Cluster[]): void => {
    conflicts.push(c);
    for (const cluster of on) cluster.conflicts.push(c);
  };

  const accept = (candidates: Candidate[], level: MatchKey): void => {
    candidates.sort((a, b) => a.rank - b.rank || a.hs.index - b.hs.index || a.sf.index - b.sf.index);
    // Most clusters have one candidate: remember the first, and collect a list only for the rest.
    const first = new Map<Cluster, Cluster>();
    const options = new Map<Cluster, Cluster[]>();
    const note = (cluster: Cluster, other: Cluster): void => {
      const seenFirst = first.get(cluster);
      if (seenFirst === undefined) first.set(cluster, other);
      else if (seenFirst !== other) {
        const list = options.get(cluster) ?? [seenFirst];
        if (!list.includes(other)) list.push(other);
        options.set(cluster, list);
      }
    };
    for (const { hs, sf } of candidates) {
      note(hs, sf);
      note(sf, hs);
    }
    for (const { hs, sf } of candidates) {
      if (hs.partner || sf.partner) continue;
      if (hs.link && sf.link && hs.link.unifiedId !== sf.link.unifiedId) continue;
      hs.partner = sf;
      sf.partner = hs;
      hs.matchedBy = level;
      sf.matchedBy = level;
    }
    const seen = new Set<Cluster>();
    for (const [cluster, others] of options) {
      if (seen.has(cluster)) continue;
      seen.add(cluster);
      const names = [...others].sort((a, b) => a.index - b.index);
      conflict(
        {
          kind,
          level,
          message: `${describeCluster(cluster)} matches ${names.map(describeCluster).join(' and ')} by ${level}`,
          records: [cluster, ...names].map((c) => ({ system: c.system, id: c.survivor.id })),
          resolution: cluster.partner
            ? `matched to ${describeCluster(cluster.partner)} (${cluster.matchedBy ?? level})`
            : 'left unmatched',
        },
        [cluster, ...names],
      );
    }
  };

  for (const level of identity.match_on) {
    const candidates: Candidate[] = [];
    if (level === 'link') {
      const links = [...(input.links ?? [])].sort((a, b) =>
        a.unifiedId < b.unifiedId ? -1 : a.unifiedId > b.unifiedId ? 1 : 0,
      );
      const sfOf = (id: string | undefined): Cluster | undefined =>
        id === undefined ? undefined : sfById.get(salesforceIdKey(id));
      // Without temporaries for the common case (no conflict, nothing missing): one link per entity.
      for (let li = 0; li < links.length; li += 1) {
        const link = links[li] as StoredLink;
        const hs = link.hubspotId === undefined ? undefined : hsById.get(link.hubspotId);
        // The first of the Contact, Lead and other Salesforce ids the batch holds.
        const firstSfId = link.salesforceContactId ?? link.salesforceLeadId ?? link.salesforceId;
        const sf = sfOf(link.salesforceContactId) ?? sfOf(link.salesforceLeadId) ?? sfOf(link.salesforceId);
        const hsTaken = hs?.link !== undefined && hs.link.unifiedId !== link.unifiedId;
        const sfTaken = sf?.link !== undefined && sf.link.unifiedId !== link.unifiedId;
        if (hsTaken || sfTaken) {
          const touched = [hs, sf].filter((c): c is Cluster => c !== undefined);
          const taken = (hsTaken ? hs : sf) as Cluster;
          const takenBy = taken.link as StoredLink;
          conflict(
            {
              kind,
              level,
              message: `links ${takenBy.unifiedId} and ${link.unifiedId} both name ${describeCluster(taken)}`,
              records: touched.map((c) => ({ system: c.system, id: c.survivor.id })),
              resolution: `kept ${takenBy.unifiedId} (the lower unified id)`,
            },
            touched,
          );
          continue;
        }
        if (hs) hs.link = link;
        if (sf) sf.link = link;
        const hsMissing = link.hubspotId !== undefined && !hs;
        const sfMissing = firstSfId !== undefined && !sf;
        if (hsMissing || sfMissing) {
          const missing: Array<{ system: System; id: string }> = [];
          if (hsMissing) missing.push({ system: 'hubspot', id: link.hubspotId ?? '' });
          if (sfMissing) missing.push({ system: 'salesforce', id: firstSfId ?? '' });
          if (hs) hs.unresolved.push(...missing);
          if (sf) sf.unresolved.push(...missing);
        }
        if (hs && sf) candidates.push({ hs, sf, rank: 0 });
      }
    } else if (level === 'cross_reference') {
      const x = crossReferenceFields(kind, identity);
      type Pair = { hs: Cluster; sf: Cluster; fromHs: boolean; fromSf: boolean };
      const pairs = new Map<number, Pair>();
      const pairList: Pair[] = []; // the pairs in the order first noted
      const note = (hs: Cluster, sf: Cluster, side: 'fromHs' | 'fromSf'): void => {
        const key = hs.index * sfClusters.length + sf.index; // one number per pair of clusters
        let pair = pairs.get(key);
        if (pair === undefined) {
          pair = { hs, sf, fromHs: false, fromSf: false };
          pairs.set(key, pair);
          pairList.push(pair);
        }
        pair[side] = true;
      };
      for (let i = 0; i < hsClusters.length; i += 1) {
        const hs = hsClusters[i] as Cluster;
        for (const m of hs.members) {
          for (const f of x.hubspot) {
            const id = idValue(m.fields[f]);
            if (id === undefined) continue;
            const sf = sfById.get(salesforceIdKey(id));
            if (sf) note(hs, sf, 'fromHs');
            else if (m === hs.survivor) hs.unresolved.push({ system: 'salesforce', id });
          }
        }
      }
      if (x.salesforce !== undefined) {
        for (let i = 0; i < sfClusters.length; i += 1) {
          const sf = sfClusters[i] as Cluster;
          for (const m of sf.members) {
            const id = idValue(m.fields[x.salesforce]);
            if (id === undefined) continue;
            const hs = hsById.get(id);
            if (hs) note(hs, sf, 'fromSf');
            else if (m === sf.survivor) sf.unresolved.push({ system: 'hubspot', id });
          }
        }
      }
      // Mutual first; then one-way references the two records' emails (or domains) back up; then one-way
      // ones held in Salesforce, then in HubSpot. A stale id in one system's field must not pair two people
      // whose emails say otherwise when the other system's reference agrees with them.
      for (let i = 0; i < pairList.length; i += 1) {
        const p = pairList[i] as Pair;
        const backed = sharesKey(p.hs.allKeys, p.sf.allKeys);
        const rank = p.fromHs && p.fromSf ? 0 : (backed ? 1 : 3) + (p.fromSf ? 0 : 1);
        candidates.push({ hs: p.hs, sf: p.sf, rank });
      }
    } else {
      const byKey = new Map<string, Cluster>();
      const secondaryLevel = level === 'secondary_email';
      for (let i = 0; i < sfClusters.length; i += 1) {
        const sf = sfClusters[i] as Cluster;
        if (sf.partner) continue;
        for (const k of secondaryLevel ? sf.allKeys : sf.primaryKeys) if (!byKey.has(k)) byKey.set(k, sf);
      }
      const wanted = level === 'domain' ? kind === 'company' : kind === 'person';
      if (wanted) {
        for (let i = 0; i < hsClusters.length; i += 1) {
          const hs = hsClusters[i] as Cluster;
          if (hs.partner) continue;
          const seen: Cluster[] = [];
          for (const k of secondaryLevel ? hs.allKeys : hs.primaryKeys) {
            const sf = byKey.get(k);
            if (sf && !seen.includes(sf)) {
              seen.push(sf);
              candidates.push({ hs, sf, rank: 0 });
            }
          }
        }
      }
    }
    accept(candidates, level);
  }

  const xref = crossReferenceFields(kind, identity);
  for (let i = 0; i < hsClusters.length; i += 1) {
    const hs = hsClusters[i] as Cluster;
    const sf = hs.partner;
    if (!sf) continue;
    // A cross-reference naming a Salesforce record of the batch outside the partner cluster disagrees.
    let disagreeing = false;
    for (let f = 0; f < xref.hubspot.length && !disagreeing; f += 1) {
      const id = idValue(hs.survivor.fields[xref.hubspot[f] as string]);
      if (id === undefined) continue;
      const key = salesforceIdKey(id);
      const other = sfById.get(key);
      // Usually the partner itself: then no member needs its key sliced.
      if (other === undefined || other === sf) continue;
      disagreeing = !sf.members.some((m) => salesforceIdKey(m.id) === key);
    }
    const sfRef = xref.salesforce === undefined ? undefined : idValue(sf.survivor.fields[xref.salesforce]);
    if (
      disagreeing ||
      (sfRef !== undefined && hsById.get(sfRef) !== hs && !hs.members.some((m) => m.id === sfRef))
    ) {
      const already = hs.conflicts.some((c) => c.level === 'cross_reference');
      if (!already) {
        conflict(
          {
            kind,
            level: 'cross_reference',
            message: `${describeCluster(hs)} and ${describeCluster(sf)} are matched by ${hs.matchedBy ?? 'link'} but their cross-reference ids disagree`,
            records: [
              { system: 'hubspot', id: hs.survivor.id },
              { system: 'salesforce', id: sf.survivor.id },
            ],
            resolution: `kept the ${hs.matchedBy ?? 'link'} match`,
          },
          [hs, sf],
        );
      }
    }
  }

  const absorbed = new Set<Cluster>();
  const absorbInto = (target: Cluster, u: Cluster, shared: string[]): void => {
    target.duplicates = [...target.duplicates, ...u.members].sort(byId);
    target.sharedKeys = [...new Set([...target.sharedKeys, ...shared])].sort();
    absorbed.add(u);
  };
  // The first cluster per system holding each link (indexed: a scan per duplicate would be quadratic).
  const linked = { hubspot: new Map<StoredLink, Cluster>(), salesforce: new Map<StoredLink, Cluster>() };
  for (const clusters of [hsClusters, sfClusters]) {
    for (let i = 0; i < clusters.length; i += 1) {
      const c = clusters[i] as Cluster;
      if (c.link && !linked[c.system].has(c.link)) linked[c.system].set(c.link, c);
    }
  }
  for (const link of [...(input.links ?? [])].sort((a, b) => (a.unifiedId < b.unifiedId ? -1 : 1))) {
    for (const dup of link.duplicates ?? []) {
      const u = dup.system === 'hubspot' ? hsById.get(dup.id) : sfById.get(salesforceIdKey(dup.id));
      const target = linked[dup.system].get(link);
      if (!u || !target || u === target || u.partner || u.link || absorbed.has(u)) continue;
      absorbInto(target, u, []);
    }
  }

  // A record left unpaired whose keys belong to a person already paired on the other side is a duplicate
  // of that person's record in its own system (e.g. a second Lead carrying the HubSpot contact's secondary
  // email). Without this, Tandem's own write of the survivor's email would split such duplicates off.
  const absorb = (unpaired: Cluster[], others: Cluster[]): void => {
    const wanted = new Set<string>();
    for (let i = 0; i < unpaired.length; i += 1) {
      const u = unpaired[i] as Cluster;
      if (!u.partner && !u.link && !absorbed.has(u)) for (const k of u.allKeys) wanted.add(k);
    }
    if (wanted.size === 0) return;
    // The first paired cluster holding each key an unpaired cluster has (no other key is looked up).
    const owner = new Map<string, Cluster>();
    for (let i = 0; i < others.length; i += 1) {
      const o = others[i] as Cluster;
      if (o.partner) for (const k of o.allKeys) if (wanted.has(k) && !owner.has(k)) owner.set(k, o);
    }
    for (let i = 0; i < unpaired.length; i += 1) {
      const u = unpaired[i] as Cluster;
      if (u.partner || u.link || absorbed.has(u)) continue;
      let hit: Cluster | undefined;
      for (const k of u.allKeys) if ((hit = owner.get(k)) !== undefined) break;
      const target = hit?.partner;
      if (!hit || !target) continue;
      absorbInto(
        target,
        u,
        u.allKeys.filter((k) => hit.allKeys.includes(k)),
      );
    }
  };
  if (
    kind !== 'deal' &&
    identity.match_on.some((m) => m === 'email' || m === 'secondary_email' || m === 'domain')
  ) {
    absorb(sfClusters, hsClusters);
    absorb(hsClusters, sfClusters);
  }

  const duplicates: DuplicateReport[] = [];
  const report = (c: Cluster): DuplicateReport[] => {
    if (c.duplicates.length === 0) return [];
    const r: DuplicateReport = {
      kind,
      system: c.system,
      survivorId: c.survivor.id,
      duplicateIds: c.duplicates.map((d) => d.id),
      sharedKeys: c.sharedKeys,
      rule: identity.duplicate_survivor,
    };
    duplicates.push(r);
    return [r];
  };
  const groups: IdentityGroup[] = [];
  const build = (hs: Cluster | undefined, sf: Cluster | undefined): IdentityGroup => {
    const link = hs?.link ?? sf?.link;
    const key =
      link?.unifiedId ??
      (hs ? `${kind}:hubspot:${hs.survivor.id}` : `${kind}:salesforce:${sf?.survivor.id ?? ''}`);
    const hsConflicts = hs?.conflicts ?? [];
    const sfConflicts = sf?.conflicts ?? [];
    const groupConflicts =
      hsConflicts.length + sfConflicts.length === 0 ? [] : [...new Set([...hsConflicts, ...sfConflicts])];
    const hsUnresolved = hs?.unresolved ?? [];
    const sfUnresolved = sf?.unresolved ?? [];
    const unresolved =
      hsUnresolved.length + sfUnresolved.length === 0
        ? []
        : [...hsUnresolved, ...sfUnresolved].filter((u) => !(u.system === 'hubspot' ? hs : sf));
    const matchedBy = hs?.matchedBy ?? sf?.matchedBy;
    return {
      key,
      kind,
      ...(hs ? { hubspot: hs.survivor } : {}),
      ...(sf ? { salesforce: sf.survivor } : {}),
      convertedLeads: sf?.convertedLeads ?? [],
      duplicates: [...(hs ? report(hs) : []), ...(sf ? report(sf) : [])],
      conflicts: groupConflicts,
      ...(hs && sf && matchedBy ? { matchedBy } : {}),
      ...(link ? { link } : {}),
      unresolved,
    };
  };
  for (let i = 0; i < hsClusters.length; i += 1) {
    const hs = hsClusters[i] as Cluster;
    if (!absorbed.has(hs)) groups.push(build(hs, hs.partner));
  }
  for (let i = 0; i < sfClusters.length; i += 1) {
    const sf = sfClusters[i] as Cluster;
    if (!sf.partner && !absorbed.has(sf)) groups.push(build(undefined, sf));
  }
  groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  duplicates.sort((a, b) => (a.survivorId < b.survivorId ? -1 : a.survivorId > b.survivorId ? 1 : 0));
  return { groups, duplicates, conflicts };
}

/** The link to store for a group: its records, and the duplicates found for it. */
export function linkFor(group: IdentityGroup): StoredLink {
  const sf = group.salesforce;
  const duplicates = group.duplicates.flatMap((d) => d.duplicateIds.map((id) => ({ system: d.system, id })));
  const lead = sf?.object === 'Lead' ? sf : group.convertedLeads[0];
  return {
    unifiedId: group.key,
    ...(group.hubspot ? { hubspotId: group.hubspot.id } : {}),
    ...(group.kind === 'person' && lead ? { salesforceLeadId: lead.id } : {}),
    ...(group.kind === 'person' && sf?.object === 'Contact' ? { salesforceContactId: sf.id } : {}),
    ...(group.kind !== 'person' && sf ? { salesforceId: sf.id } : {}),
    ...(duplicates.length > 0 ? { duplicates } : {}),
  };
}
