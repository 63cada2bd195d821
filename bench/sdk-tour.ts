/**
 * A short tour of the sandbox with nothing but the two official SDKs (`@hubspot/api-client` and
 * `jsforce`), pointed at the URLs and credentials `tandem sandbox --json` prints on its first line:
 * HubSpot list, search and batch upsert; Salesforce query with paging (`queryMore`), upsert through
 * sObject collections and describe. It prints what it did and exits 1 if anything was not as expected,
 * so the integration tests run it (test/integration/sandbox-cli.integration.test.ts).
 *
 *   mkdir -p .tandem && npx tandem sandbox --seed demo --json > .tandem/sandbox.json &
 *   npx tsx bench/sdk-tour.ts .tandem/sandbox.json   # or the JSON line itself, or - for stdin
 */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import jsforce from 'jsforce';
import type { SandboxCredentials } from '../src/sandbox/index.js';

async function sandboxInfo(arg: string | undefined): Promise<SandboxCredentials> {
  let text: string;
  if (arg !== undefined && arg.trimStart().startsWith('{')) text = arg;
  else if (arg !== undefined && arg !== '-') {
    // The sandbox may still be starting (`tandem sandbox --json > FILE &`): wait for its first line.
    const deadline = Date.now() + 60_000;
    for (;;) {
      text = existsSync(arg) ? readFileSync(arg, 'utf8') : '';
      if (text.includes('\n')) break;
      if (Date.now() > deadline) throw new Error(`${arg}: no tandem sandbox --json line after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } else {
    text = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: process.stdin });
      lines.once('line', (line) => {
        lines.close();
        resolve(line);
      });
      lines.once('close', () => reject(new Error('stdin ended before the sandbox JSON line')));
    });
  }
  return JSON.parse(text.split('\n')[0] ?? '') as SandboxCredentials;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`unexpected: ${what}`);
}

const say = (line: string): void => console.log(line);
const info = await sandboxInfo(process.argv[2]);

// ── HubSpot ─────────────────────────────────────────────────────────────────────────────────────────
const hubspot = new Client({
  basePath: info.hubspot.baseUrl,
  accessToken: info.hubspot.accessToken,
  numberOfApiCallRetries: 0,
});

const list = await hubspot.crm.contacts.basicApi.getPage(100, undefined, ['email', 'lifecyclestage']);
check(list.results.length === 100 && list.paging?.next?.after !== undefined, 'a full first page of contacts');
const next = await hubspot.crm.contacts.basicApi.getPage(100, list.paging?.next?.after, ['email']);
check(next.results[0]?.id !== list.results[0]?.id, 'the second page to start after the first');
say(`hubspot list: 2 pages of ${list.results.length} contacts (after=${list.paging?.next?.after})`);

const search = await hubspot.crm.contacts.searchApi.doSearch({
  filterGroups: [{ filters: [{ propertyName: 'email', operator: FilterOperatorEnum.HasProperty }] }],
  sorts: ['lastmodifieddate'],
  properties: ['email', 'lifecyclestage'],
  limit: 200,
  after: '0',
});
check(search.total > 0 && search.results.length > 0, 'contacts with an email');
say(`hubspot search: ${search.total} contacts have an email; first page of ${search.results.length}`);

const existingEmail = String(list.results.find((c) => c.properties['email'])?.properties['email']);
const tourEmail = `sdk.tour.${Date.now()}@tandem-tour.test`;
const upsert = await hubspot.crm.contacts.batchApi.upsert({
  inputs: [
    { id: tourEmail, idProperty: 'email', properties: { firstname: 'Tour', lastname: 'Guide' } },
    { id: existingEmail, idProperty: 'email', properties: { jobtitle: 'Head of RevOps' } },
  ],
});
const created = upsert.results.filter((r) => r._new).length;
check(created === 1 && upsert.results.length === 2, 'one contact created and one updated by email');
say(`hubspot batch upsert by email: ${created} created, ${upsert.results.length - created} updated`);

// ── Salesforce ──────────────────────────────────────────────────────────────────────────────────────
const sf = info.salesforce;
const conn = new jsforce.Connection({
  loginUrl: sf.loginUrl,
  version: sf.apiVersion,
  oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret },
});
await conn.login(sf.username, sf.password);
say(`salesforce login: ${conn.instanceUrl} (API v${conn.version})`);

// 200 rows a page (Salesforce's smallest batch size), following nextRecordsUrl with queryMore.
const headers = { 'Sforce-Query-Options': 'batchSize=200' };
const soql = 'SELECT Id, Email, Status FROM Lead ORDER BY SystemModstamp, Id';
let page = await conn.query<{ Id: string }>(soql, { headers, autoFetch: false });
const pageSizes = [page.records.length];
let fetched = page.records.length;
while (!page.done && page.nextRecordsUrl !== undefined) {
  page = await conn.queryMore<{ Id: string }>(page.nextRecordsUrl, {
    headers,
    autoFetch: false,
    maxFetch: 10_000,
    scanAll: false,
    responseTarget: 'QueryResult',
  });
  pageSizes.push(page.records.length);
  fetched += page.records.length;
}
check(pageSizes.length > 1, 'more than one page at batchSize=200');
check(
  pageSizes.slice(0, -1).every((n) => n === 200),
  'full pages of 200 before the last',
);
check(fetched === page.totalSize, `all ${page.totalSize} leads fetched`);
say(`salesforce query: ${fetched} leads in ${pageSizes.length} pages of ≤ 200 (query, then queryMore)`);

const externalId = `tour-${Date.now()}`;
const leads = [
  {
    HubSpot_Contact_ID__c: `${externalId}-1`,
    LastName: 'Tour',
    Company: 'Tandem',
    Status: 'Open - Not Contacted',
  },
  { HubSpot_Contact_ID__c: `${externalId}-2`, LastName: 'Guide', Company: 'Tandem' },
];
const first = await conn.sobject('Lead').upsert(leads, 'HubSpot_Contact_ID__c', { allOrNone: false });
const again = await conn
  .sobject('Lead')
  .upsert([{ HubSpot_Contact_ID__c: `${externalId}-1`, Title: 'Guide' }], 'HubSpot_Contact_ID__c');
check(
  first.every((r) => r.success && r.created),
  'both leads created by external id',
);
check(
  again.every((r) => r.success && !r.created),
  'the lead updated by external id',
);
say(
  `salesforce collections upsert by HubSpot_Contact_ID__c: ${first.length} created, ${again.length} updated`,
);

const describe = await conn.sobject('Lead').describe();
const status = describe.fields.find((f) => f.name === 'Status');
const external = describe.fields.filter((f) => f.externalId).map((f) => f.name);
const statusValues = status?.picklistValues?.length ?? 0;
check(statusValues > 0, 'Lead.Status picklist values');
say(
  `salesforce describe Lead: ${describe.fields.length} fields; Status has ${statusValues} values; external ids ${external.join(', ')}`,
);
say('sdk tour: ok');
