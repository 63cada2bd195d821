/**
 * Sandbox throughput through the batch endpoints, with the sandbox in its own process (one core) and the
 * official SDKs as clients: HubSpot batch create/update/upsert/read (100 per call) and Salesforce
 * collections create/update/upsert (200 per call) and query paging (2,000 per page). Target: ≥ 5,000
 * records/s each, so the sandbox is never the bottleneck of the end-to-end benchmarks; each path prints
 * pass or fail against it. Upserts are half updates (existing email / external id) and half creates.
 *
 *   npx tsx bench/sandbox.ts [records=20000]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import type { SandboxCredentials } from '../src/sandbox/index.js';

const records = Number(process.argv[2] ?? 20_000);
const inFlight = 4;

const child = spawn(
  process.execPath,
  [
    'bin/tandem.js',
    'sandbox',
    '--json',
    '--hubspot-port',
    '0',
    '--salesforce-port',
    '0',
    '--hubspot-tier',
    'enterprise',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const firstLine = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', resolve);
  child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
});
const credentials = JSON.parse(firstLine) as SandboxCredentials;

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        await work(item as T);
      }
    }),
  );
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Records per second over `count` records. */
async function timed(work: () => Promise<void>, count = records): Promise<number> {
  const started = performance.now();
  await work();
  return Math.round(count / ((performance.now() - started) / 1000));
}

const TARGET = 5_000;

// The enterprise tier allows 190 calls per 10 s; benchmarks lift that through the sandbox's own control.
const hubspot = new Client({
  basePath: credentials.hubspot.baseUrl,
  accessToken: credentials.hubspot.accessToken,
  numberOfApiCallRetries: 0,
});
await fetch(`${credentials.hubspot.baseUrl}/__sandbox/limits`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ tenSecondly: 1_000_000, daily: 100_000_000 }),
});

const people = Array.from({ length: records }, (_, i) => ({
  properties: { email: `bench.${i}@throughput.test`, firstname: 'Bench', lastname: `Person ${i}` },
}));
const ids: string[] = [];
const hubspotCreate = await timed(() =>
  inParallel(chunks(people, 100), async (inputs) => {
    const result = await hubspot.crm.contacts.batchApi.create({ inputs });
    for (const r of result.results) ids.push(r.id);
  }),
);
const hubspotUpdate = await timed(() =>
  inParallel(chunks(ids, 100), async (batch) => {
    await hubspot.crm.contacts.batchApi.update({
      inputs: batch.map((id) => ({ id, properties: { jobtitle: 'Benchmarker' } })),
    });
  }),
);
// Half the emails exist (updates), half are new (creates).
const upsertFrom = Math.floor(records / 2);
const upserted = Array.from({ length: records }, (_, i) => upsertFrom + i);
const hubspotUpsert = await timed(() =>
  inParallel(chunks(upserted, 100), async (batch) => {
    const result = await hubspot.crm.contacts.batchApi.upsert({
      inputs: batch.map((i) => ({
        id: `bench.${i}@throughput.test`,
        idProperty: 'email',
        properties: { jobtitle: 'Upserted', lastname: `Person ${i}` },
      })),
    });
    if (result.results.length !== batch.length) throw new Error('batch upsert answered short');
  }),
);
const hubspotRead = await timed(() =>
  inParallel(chunks(ids, 100), async (batch) => {
    await hubspot.crm.contacts.batchApi.read({
      inputs: batch.map((id) => ({ id })),
      properties: ['email', 'jobtitle'],
      propertiesWithHistory: [],
    });
  }),
);

const sf = credentials.salesforce;
const conn = new jsforce.Connection({
  loginUrl: sf.loginUrl,
  version: sf.apiVersion,
  oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret },
});
await conn.login(sf.username, sf.password);
const leads = Array.from({ length: records }, (_, i) => ({
  attributes: { type: 'Lead' },
  LastName: `Person ${i}`,
  Company: 'Throughput Inc',
  Email: `bench.${i}@throughput.test`,
  HubSpot_Contact_ID__c: `bench-${i}`,
}));
const leadIds: string[] = [];
const collectionsUrl = `/services/data/v${sf.apiVersion}/composite/sobjects`;
const salesforceCreate = await timed(() =>
  inParallel(chunks(leads, 200), async (batch) => {
    const results = await conn.requestPost<Array<{ id: string }>>(collectionsUrl, {
      allOrNone: false,
      records: batch,
    });
    for (const r of results) leadIds.push(r.id);
  }),
);
const salesforceUpdate = await timed(() =>
  inParallel(chunks(leadIds, 200), async (batch) => {
    await conn.requestPatch(collectionsUrl, {
      allOrNone: false,
      records: batch.map((Id) => ({ attributes: { type: 'Lead' }, Id, Title: 'Benchmarker' })),
    });
  }),
);
// jsforce's own upsert of an array: PATCH /composite/sobjects/Lead/HubSpot_Contact_ID__c.
const salesforceUpsert = await timed(() =>
  inParallel(chunks(upserted, 200), async (batch) => {
    const results = await conn.sobject('Lead').upsert(
      batch.map((i) => ({
        HubSpot_Contact_ID__c: `bench-${i}`,
        LastName: `Person ${i}`,
        Company: 'Throughput Inc',
        Title: 'Upserted',
      })),
      'HubSpot_Contact_ID__c',
      { allOrNone: false },
    );
    if (!results.every((r) => r.success)) throw new Error('collections upsert failed for some records');
  }),
);
// The upserts created `upsertFrom` leads beyond the `records` the create phase made.
const leadTotal = records + upsertFrom;
const salesforceQuery = await timed(async () => {
  const result = await conn.query('SELECT Id, Email, Title FROM Lead ORDER BY SystemModstamp, Id', {
    autoFetch: true,
    maxFetch: leadTotal * 2,
  });
  if (result.records.length < leadTotal)
    throw new Error(`query returned ${result.records.length} of ${leadTotal}`);
}, leadTotal);

child.kill('SIGINT');
const recordsPerSecond = {
  hubspotBatchCreate: hubspotCreate,
  hubspotBatchUpdate: hubspotUpdate,
  hubspotBatchUpsert: hubspotUpsert,
  hubspotBatchRead: hubspotRead,
  salesforceCollectionsCreate: salesforceCreate,
  salesforceCollectionsUpdate: salesforceUpdate,
  salesforceCollectionsUpsert: salesforceUpsert,
  salesforceQueryPaging: salesforceQuery,
};
const verdict = Object.fromEntries(
  Object.entries(recordsPerSecond).map(([path, rate]) => [path, rate >= TARGET ? 'pass' : 'fail']),
);
for (const [path, rate] of Object.entries(recordsPerSecond)) {
  console.log(
    `${path.padEnd(28)} ${String(rate).padStart(8)} records/s  target ≥ ${TARGET}  ${verdict[path]?.toUpperCase()}`,
  );
}
const failed = Object.keys(verdict).filter((path) => verdict[path] === 'fail');
console.log(
  failed.length === 0
    ? `sandbox throughput: every path meets ≥ ${TARGET} records/s`
    : `sandbox throughput: ${failed.join(', ')} below ${TARGET} records/s`,
);
console.log(
  JSON.stringify({
    bench: 'sandbox-throughput',
    records,
    inFlight,
    recordsPerSecond,
    target: TARGET,
    verdict,
    passed: failed.length === 0,
  }),
);
