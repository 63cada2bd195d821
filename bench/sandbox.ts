/**
 * Sandbox throughput through the batch endpoints, with the sandbox in its own process (one core) and the
 * official SDKs as clients: HubSpot batch create/update/read (100 per call) and Salesforce collections
 * create/update (200 per call) and query paging (2,000 per page). Target: ≥ 5,000 records/s each, so the
 * sandbox is never the bottleneck of the end-to-end benchmarks.
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

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return Math.round(records / ((performance.now() - started) / 1000));
}

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
const salesforceQuery = await timed(async () => {
  const result = await conn.query('SELECT Id, Email, Title FROM Lead ORDER BY SystemModstamp, Id', {
    autoFetch: true,
    maxFetch: records * 2,
  });
  if (result.records.length < records)
    throw new Error(`query returned ${result.records.length} of ${records}`);
});

child.kill('SIGINT');
console.log(
  JSON.stringify({
    bench: 'sandbox-throughput',
    records,
    inFlight,
    recordsPerSecond: {
      hubspotBatchCreate: hubspotCreate,
      hubspotBatchUpdate: hubspotUpdate,
      hubspotBatchRead: hubspotRead,
      salesforceCollectionsCreate: salesforceCreate,
      salesforceCollectionsUpdate: salesforceUpdate,
      salesforceQueryPaging: salesforceQuery,
    },
    target: 5_000,
  }),
);
