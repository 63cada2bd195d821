import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import { sleep } from './services.js';

/**
 * Independent access to both sandboxes through the official SDKs only (`@hubspot/api-client`, `jsforce`):
 * the chaos run's people edit through these, and the verifier reads through them. No Tandem connector code.
 */

export interface SandboxInfo {
  hubspot: { baseUrl: string; accessToken: string };
  salesforce: {
    loginUrl: string;
    instanceUrl: string;
    clientId: string;
    clientSecret: string;
    username: string;
    password: string;
  };
}

/** What a `tandem` process needs to reach both sandboxes (the HubSpot tier lifted to enterprise). */
export function sandboxEnv(info: SandboxInfo): Record<string, string> {
  return {
    HUBSPOT_BASE_URL: info.hubspot.baseUrl,
    HUBSPOT_ACCESS_TOKEN: info.hubspot.accessToken,
    HUBSPOT_TIER: 'enterprise',
    // The sandbox's search index has no lag (30 s by default against real HubSpot).
    TANDEM_HUBSPOT_SEARCH_LAG: '0s',
    SALESFORCE_LOGIN_URL: info.salesforce.loginUrl,
    SALESFORCE_INSTANCE_URL: info.salesforce.instanceUrl,
    SALESFORCE_AUTH_FLOW: 'client_credentials',
    SALESFORCE_CLIENT_ID: info.salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: info.salesforce.clientSecret,
  };
}

export interface Crms {
  hubspot: Client;
  salesforce: Connection;
  info: SandboxInfo;
}

export async function connectCrms(info: SandboxInfo): Promise<Crms> {
  const hubspot = new Client({ basePath: info.hubspot.baseUrl, accessToken: info.hubspot.accessToken });
  const salesforce = new jsforce.Connection({
    loginUrl: info.salesforce.loginUrl,
    version: '62.0',
    oauth2: {
      loginUrl: info.salesforce.loginUrl,
      clientId: info.salesforce.clientId,
      clientSecret: info.salesforce.clientSecret,
    },
  });
  await withRetry('salesforce login', () =>
    salesforce.login(info.salesforce.username, info.salesforce.password),
  );
  return { hubspot, salesforce, info };
}

/** POST a sandbox control (`/__sandbox/…`, never faulted) on both servers. */
export async function controlBoth(info: SandboxInfo, path: string, body: unknown): Promise<void> {
  for (const base of [info.hubspot.baseUrl, info.salesforce.loginUrl]) {
    const response = await fetch(`${base}/__sandbox/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new Error(`${base}/__sandbox/${path}: ${response.status} ${await response.text()}`);
  }
}

/** Retries any error (faults are on while people edit): bounded attempts, each bounded in time. */
export async function withRetry<T>(label: string, work: () => Promise<T>, attempts = 8): Promise<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${label}: no answer in 40 s`)), 40_000);
        }),
      ]);
    } catch (error) {
      last = error;
      await sleep(Math.min(4_000, 150 * 2 ** attempt) + Math.floor(Math.random() * 100));
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
  const message = last instanceof Error ? last.message.slice(0, 300) : String(last);
  throw new Error(`${label} failed ${attempts} times: ${message}`);
}

export interface HubSpotRow {
  id: string;
  properties: Record<string, string | null>;
}

/** Every HubSpot contact (not archived) with these properties, paging the list endpoint. */
export async function allContacts(crms: Crms, properties: string[]): Promise<HubSpotRow[]> {
  const rows: HubSpotRow[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const result = await withRetry('hubspot contacts page', () =>
      crms.hubspot.crm.contacts.basicApi.getPage(100, after, properties),
    );
    for (const r of result.results) rows.push({ id: r.id, properties: { ...r.properties } });
    after = result.paging?.next?.after;
    if (after === undefined) return rows;
  }
  throw new Error('hubspot contacts: more than 10,000 pages');
}

export type SalesforceRow = Record<string, unknown> & { Id: string };

/** Every row of a SOQL query, following nextRecordsUrl (bounded). */
export async function allRows(crms: Crms, soql: string): Promise<SalesforceRow[]> {
  const rows: SalesforceRow[] = [];
  type Page = { records: SalesforceRow[]; done: boolean; nextRecordsUrl?: string };
  const first = async (): Promise<Page> => (await crms.salesforce.query<SalesforceRow>(soql)) as Page;
  let result = await withRetry('salesforce query', first);
  rows.push(...result.records);
  for (let page = 0; !result.done && page < 10_000; page += 1) {
    const locator = result.nextRecordsUrl;
    if (locator === undefined) break;
    const more = async (): Promise<Page> => (await crms.salesforce.queryMore<SalesforceRow>(locator)) as Page;
    result = await withRetry('salesforce queryMore', more);
    rows.push(...result.records);
  }
  return rows;
}

export async function updateContact(
  crms: Crms,
  id: string,
  properties: Record<string, string>,
): Promise<void> {
  await withRetry(`hubspot update ${id}`, () =>
    crms.hubspot.crm.contacts.basicApi.update(id, { properties }),
  );
}

export async function updateSalesforce(
  crms: Crms,
  object: string,
  id: string,
  fields: Record<string, string>,
): Promise<void> {
  await withRetry(`salesforce update ${object} ${id}`, async () => {
    const result = await crms.salesforce.sobject(object).update({ Id: id, ...fields });
    if (!result.success) throw new Error(JSON.stringify(result.errors));
  });
}

/** The latest `SystemModstamp` of these Salesforce objects (ms since epoch; 0 when they are empty). */
export async function latestSalesforceChange(crms: Crms, objects: readonly string[]): Promise<number> {
  let latest = 0;
  for (const object of objects) {
    const soql = `SELECT Id, SystemModstamp FROM ${object} ORDER BY SystemModstamp DESC LIMIT 1`;
    type Page = { records: SalesforceRow[] };
    const result = await withRetry(
      'salesforce latest change',
      async () => (await crms.salesforce.query<SalesforceRow>(soql)) as Page,
    );
    const stamp = result.records[0]?.['SystemModstamp'];
    if (typeof stamp === 'string') latest = Math.max(latest, Date.parse(stamp.replace(/\+0000$/, 'Z')));
  }
  return latest;
}
