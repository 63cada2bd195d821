import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { allContacts, allRows, type Crms, type HubSpotRow, type SalesforceRow } from './crm.js';
import { normalise, type PersonField } from './mapping.js';

/**
 * The independent verifier: both CRMs read through their SDKs, the customer view read with plain SQL
 * (`pg`, or PGlite's own client for the embedded fallback), failed jobs read with BullMQ's `Queue`. None of
 * Tandem's store, connector or pipeline code is used to decide whether Tandem did its job.
 */

export type ViewSource = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

export async function queryView<T>(source: ViewSource, sql: string): Promise<T[]> {
  if (source.kind === 'postgres') {
    const client = new pg.Client({ connectionString: source.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(join(source.dataDir, 'pglite'));
  try {
    return (await db.query<T>(sql)).rows;
  } finally {
    await db.close();
  }
}

/** Writeback properties: unified column → (HubSpot property, Salesforce field). */
const WRITEBACK = [
  { column: 'lifecycle_stage', hubspot: 'tandem_lifecycle_stage', salesforce: 'Tandem_Lifecycle_Stage__c' },
  { column: 'lead_score', hubspot: 'tandem_lead_score', salesforce: 'Tandem_Lead_Score__c' },
  { column: 'original_source', hubspot: 'tandem_original_source', salesforce: 'Tandem_Original_Source__c' },
  { column: 'latest_source', hubspot: 'tandem_latest_source', salesforce: 'Tandem_Latest_Source__c' },
] as const;

export interface LinkedPerson {
  unifiedId: string;
  hubspot: HubSpotRow;
  sfObject: 'Lead' | 'Contact';
  salesforce: SalesforceRow;
  unified: {
    fields: Record<string, unknown>;
    lifecycle_stage: string | null;
    lead_score: number | null;
    original_source: string | null;
    latest_source: string | null;
  };
}

export interface WorldState {
  contacts: HubSpotRow[];
  leads: SalesforceRow[];
  sfContacts: SalesforceRow[];
  linked: LinkedPerson[];
  /** Persons with more than one candidate record in a system and no recorded survivor. */
  ambiguous: number;
}

function hubspotProperties(fields: PersonField[]): string[] {
  const props = new Set(['email', 'salesforce_lead_id', 'salesforce_contact_id', 'hs_additional_emails']);
  for (const f of fields) if (f.hubspot !== undefined) props.add(f.hubspot);
  for (const w of WRITEBACK) props.add(w.hubspot);
  return [...props];
}

function salesforceFields(fields: PersonField[], object: 'Lead' | 'Contact'): string[] {
  const names = new Set(['Id', 'Email', 'HubSpot_Contact_ID__c', 'SystemModstamp']);
  if (object === 'Lead') names.add('IsConverted');
  for (const f of fields) {
    const n = f.salesforce[object];
    if (n !== undefined) names.add(n);
  }
  for (const w of WRITEBACK) names.add(w.salesforce);
  return [...names];
}

export async function readWorldState(
  crms: Crms,
  view: ViewSource,
  fields: PersonField[],
): Promise<WorldState> {
  const contacts = await allContacts(crms, hubspotProperties(fields));
  const leads = await allRows(crms, `SELECT ${salesforceFields(fields, 'Lead').join(', ')} FROM Lead`);
  const sfContacts = await allRows(
    crms,
    `SELECT ${salesforceFields(fields, 'Contact').join(', ')} FROM Contact`,
  );
  const persons = await queryView<LinkedPerson['unified'] & { id: string }>(
    view,
    'select id, fields, lifecycle_stage, lead_score, original_source, latest_source from tandem.persons',
  );
  const links = await queryView<{ unified_id: string; system: string; object: string; record_id: string }>(
    view,
    "select unified_id, system, object, record_id from tandem.record_links where record_type = 'person'",
  );
  const duplicates = await queryView<{ survivor_record_id: string; record_ids: string[] }>(
    view,
    "select survivor_record_id, record_ids from tandem.duplicates where system = 'hubspot' or object in ('Lead', 'Contact')",
  );
  const survivors = new Set(duplicates.map((d) => d.survivor_record_id));
  const contactById = new Map(contacts.map((c) => [c.id, c]));
  const leadById = new Map(leads.filter((l) => l['IsConverted'] !== true).map((l) => [l.Id, l]));
  const sfContactById = new Map(sfContacts.map((c) => [c.Id, c]));
  const byPerson = new Map<string, { hs: string[]; leads: string[]; contacts: string[] }>();
  for (const l of links) {
    const entry = byPerson.get(l.unified_id) ?? { hs: [], leads: [], contacts: [] };
    byPerson.set(l.unified_id, entry);
    if (l.system === 'hubspot' && contactById.has(l.record_id)) entry.hs.push(l.record_id);
    if (l.object === 'Lead' && leadById.has(l.record_id)) entry.leads.push(l.record_id);
    if (l.object === 'Contact' && sfContactById.has(l.record_id)) entry.contacts.push(l.record_id);
  }
  const pick = (ids: string[]): string | undefined =>
    ids.length === 1
      ? ids[0]
      : ids.filter((id) => survivors.has(id)).length === 1
        ? ids.find((id) => survivors.has(id))
        : undefined;
  const linked: LinkedPerson[] = [];
  let ambiguous = 0;
  for (const person of persons) {
    const entry = byPerson.get(person.id);
    if (entry === undefined || entry.hs.length === 0) continue;
    const sfIds = entry.contacts.length > 0 ? entry.contacts : entry.leads;
    if (sfIds.length === 0) continue;
    const hsId = pick(entry.hs);
    const sfId = pick(sfIds);
    if (hsId === undefined || sfId === undefined) {
      ambiguous += 1;
      continue;
    }
    const sfObject = entry.contacts.length > 0 ? 'Contact' : 'Lead';
    const salesforce = (sfObject === 'Contact' ? sfContactById : leadById).get(sfId);
    const hubspot = contactById.get(hsId);
    if (salesforce === undefined || hubspot === undefined) continue;
    linked.push({ unifiedId: person.id, hubspot, sfObject, salesforce, unified: person });
  }
  return { contacts, leads, sfContacts, linked, ambiguous };
}

export interface Disagreement {
  unifiedId: string;
  field: string;
  /** Normalised for comparison; `raw` holds what each place stores. */
  hubspot: string;
  unified: string;
  salesforce: string;
  raw: { hubspot: unknown; unified: unknown; salesforce: unknown };
}

/** Every mapped field (and the stage, score and sources Tandem writes back) equal in all three places. */
export function disagreements(
  state: WorldState,
  fields: PersonField[],
  exclude: (unifiedId: string) => boolean,
): { checked: number; fieldsCompared: number; problems: Disagreement[] } {
  const problems: Disagreement[] = [];
  let checked = 0;
  let fieldsCompared = 0;
  for (const p of state.linked) {
    if (exclude(p.unifiedId)) continue;
    checked += 1;
    for (const f of fields) {
      if (f.direction === 'none' || f.hubspot === undefined) continue;
      const sfField = f.salesforce[p.sfObject];
      if (sfField === undefined) continue;
      fieldsCompared += 1;
      const hs = normalise(f, p.hubspot.properties[f.hubspot], 'hubspot');
      const sf = normalise(f, p.salesforce[sfField], 'salesforce');
      const un = normalise(f, p.unified.fields[f.name]);
      if (hs !== un || sf !== un) {
        const raw = {
          hubspot: p.hubspot.properties[f.hubspot],
          unified: p.unified.fields[f.name],
          salesforce: p.salesforce[sfField],
        };
        problems.push({
          unifiedId: p.unifiedId,
          field: f.name,
          hubspot: hs,
          unified: un,
          salesforce: sf,
          raw,
        });
      }
    }
    const plain: PersonField = { name: '', type: 'string', salesforce: {}, direction: 'both', conflict: '' };
    for (const w of WRITEBACK) {
      fieldsCompared += 1;
      const un = normalise(plain, p.unified[w.column]);
      const hs = normalise(plain, p.hubspot.properties[w.hubspot]);
      const sf = normalise(plain, p.salesforce[w.salesforce]);
      if (hs !== un || sf !== un) {
        const raw = {
          hubspot: p.hubspot.properties[w.hubspot],
          unified: p.unified[w.column],
          salesforce: p.salesforce[w.salesforce],
        };
        problems.push({
          unifiedId: p.unifiedId,
          field: w.column,
          hubspot: hs,
          unified: un,
          salesforce: sf,
          raw,
        });
      }
    }
  }
  return { checked, fieldsCompared, problems };
}

/** Active person records per normalised email, per system (HubSpot contacts; unconverted Leads + Contacts). */
export function emailCounts(state: Pick<WorldState, 'contacts' | 'leads' | 'sfContacts'>): {
  hubspot: Map<string, number>;
  salesforce: Map<string, number>;
  hubspotRecords: number;
  salesforceRecords: number;
} {
  const count = (values: unknown[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const v of values) {
      if (typeof v !== 'string' || v.trim() === '') continue;
      const key = v.trim().toLowerCase();
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    return m;
  };
  const activeSf = [...state.leads.filter((l) => l['IsConverted'] !== true), ...state.sfContacts];
  return {
    hubspot: count(state.contacts.map((c) => c.properties['email'])),
    salesforce: count(activeSf.map((r) => r['Email'])),
    hubspotRecords: state.contacts.length,
    salesforceRecords: activeSf.length,
  };
}

/** Records beyond the first per email that were not there before: duplicates the run created. */
export function newDuplicates(before: Map<string, number>, after: Map<string, number>): string[] {
  const found: string[] = [];
  for (const [email, n] of after) {
    const allowed = Math.max(1, before.get(email) ?? 0);
    if (n > allowed) found.push(`${email} ×${n} (was ${before.get(email) ?? 0})`);
  }
  return found;
}

/** Two records of one system naming the same record of the other (cross-reference ids). */
export function crossReferenceClashes(state: WorldState): string[] {
  const clashes: string[] = [];
  const seen = new Map<string, string>();
  const note = (key: string, id: string): void => {
    const other = seen.get(key);
    if (other !== undefined && other !== id) clashes.push(`${key}: ${other} and ${id}`);
    seen.set(key, id);
  };
  for (const c of state.contacts) {
    for (const p of ['salesforce_lead_id', 'salesforce_contact_id']) {
      const v = c.properties[p];
      if (v) note(`hubspot ${p}=${v}`, c.id);
    }
  }
  for (const r of [...state.leads.filter((l) => l['IsConverted'] !== true), ...state.sfContacts]) {
    const v = r['HubSpot_Contact_ID__c'];
    if (typeof v === 'string' && v !== '') note(`salesforce HubSpot_Contact_ID__c=${v}`, r.Id);
  }
  return clashes;
}

export interface FailedJob {
  queue: string;
  id: string;
  name: string;
  reason: string;
  failure?: {
    code: string;
    reason: string;
    kind: string;
    system?: string;
    object?: string;
    recordId?: string;
    unifiedId?: string;
    field?: string;
  };
}

/** Every failed job of the three queues, read with BullMQ directly. */
export async function failedJobs(redisUrl: string, redisPrefix: string): Promise<FailedJob[]> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const out: FailedJob[] = [];
  try {
    for (const name of ['pull', 'reconcile', 'write-back']) {
      const queue = new Queue(name, { connection, prefix: `{${redisPrefix}}:bull` });
      for (let start = 0; start < 100_000; start += 500) {
        const jobs = await queue.getFailed(start, start + 499);
        for (const job of jobs) {
          const data = job.data as { failure?: FailedJob['failure'] };
          const entry: FailedJob = {
            queue: name,
            id: String(job.id),
            name: job.name,
            reason: job.failedReason,
          };
          if (data.failure !== undefined) entry.failure = data.failure;
          out.push(entry);
        }
        if (jobs.length < 500) break;
      }
      await queue.close();
    }
  } finally {
    await connection.quit().catch(() => connection.disconnect());
  }
  return out;
}

/** Queue depth that still has work to do (waiting, active, delayed, prioritized), schedulers aside. */
export async function pendingJobs(redisUrl: string, redisPrefix: string): Promise<number> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  let pending = 0;
  try {
    for (const name of ['pull', 'reconcile', 'write-back']) {
      const queue = new Queue(name, { connection, prefix: `{${redisPrefix}}:bull` });
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      pending += Object.values(c).reduce((a, b) => a + b, 0);
      await queue.close();
    }
  } finally {
    await connection.quit().catch(() => connection.disconnect());
  }
  return pending;
}
