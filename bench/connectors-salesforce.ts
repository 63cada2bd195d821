// Pull and write N Leads through the Salesforce connector against the sandbox, by REST and by Bulk API 2.0,
// and print calls per record against the lower bound and records per second as one JSON line.
// Run: npx tsx bench/connectors-salesforce.ts [N]
import type { WriteOp } from '../src/connectors/connector.js';
import { connectSalesforce } from '../src/connectors/salesforce/auth.js';
import {
  COLLECTION_SIZE,
  DEFAULT_BULK_PAGE_SIZE,
  SalesforceConnector,
} from '../src/connectors/salesforce/connector.js';
import { createSalesforceSandbox } from '../src/sandbox/salesforce/server.js';

const N = Number(process.argv[2] ?? process.env['BENCH_N'] ?? 20_000);
const QUERY_PAGE = 2_000;

// Bulk jobs answer "in progress" to this many status checks before they complete, as real ones do.
const BULK_CHECKS_IN_PROGRESS = 1;
const sandbox = await createSalesforceSandbox({
  bulkChecksBeforeComplete: BULK_CHECKS_IN_PROGRESS,
  bulkQueryPageSize: 50_000,
});
await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
const { port } = sandbox.app.server.address() as { port: number };
const url = `http://127.0.0.1:${port}`;

const conn = await connectSalesforce({
  loginUrl: url,
  apiVersion: '62.0',
  auth: {
    flow: 'password',
    username: 'admin@tandem.sandbox',
    password: 'tandem-sandbox',
    clientId: 'tandem-sandbox-client',
    clientSecret: 'tandem-sandbox-secret',
  },
});
// No lag: everything written a moment ago is readable at once (the clock moves on by itself below).
const connector = (bulkThreshold: number) =>
  new SalesforceConnector(conn, {
    bulkThreshold,
    windowLagMs: 0,
    now: () => Date.now() + 1_000,
    bulkPolling: { pollIntervalMs: 20, pollTimeoutMs: 600_000 },
  });

const ops = (tag: string): WriteOp[] =>
  Array.from({ length: N }, (_, i) => ({
    kind: 'upsert',
    ref: `${tag}${i}`,
    idProperty: 'HubSpot_Contact_ID__c',
    idValue: `${tag}-${i}`,
    fields: { LastName: `Bench ${i}`, Company: 'Acme', Email: `${tag}${i}@bench.example` },
  }));

/**
 * `lowerBound` is the issue's: ⌈N/page⌉ or ⌈N/batch⌉ for REST, the fixed calls of the job for Bulk API 2.0.
 * `extras` are the calls a real sync needs besides them, by name; `callsOverExpected` must be 1.
 */
async function measure(
  name: string,
  lowerBound: number,
  extras: Record<string, number>,
  run: () => Promise<number>,
): Promise<Record<string, unknown>> {
  sandbox.stats.reset();
  const started = performance.now();
  const records = await run();
  const seconds = (performance.now() - started) / 1000;
  const calls = sandbox.stats.snapshot().totalCalls;
  if (process.env['BENCH_ROUTES'] !== undefined)
    console.error(name, JSON.stringify(sandbox.stats.snapshot().calls));
  return {
    name,
    records,
    calls,
    lowerBound,
    callsOverLowerBound: Number((calls / lowerBound).toFixed(3)),
    extras,
    callsOverExpected: Number(
      (calls / (lowerBound + Object.values(extras).reduce((a, b) => a + b, 0))).toFixed(3),
    ),
    callsPerRecord: Number((calls / Math.max(1, records)).toFixed(5)),
    recordsPerSecond: Math.round(records / seconds),
  };
}

async function pullAll(salesforce: SalesforceConnector): Promise<number> {
  let count = 0;
  for await (const page of salesforce.pull('Lead', null)) count += page.records.length;
  return count;
}

async function written(outcomes: Promise<Array<{ ok: boolean }>>): Promise<number> {
  return (await outcomes).filter((o) => o.ok).length;
}

const results = [];
results.push(
  await measure('write REST (collections)', Math.ceil(N / COLLECTION_SIZE), {}, () =>
    written(connector(Infinity).write('Lead', ops('rest'))),
  ),
);
results.push(
  // Fixed calls of an ingest job: create, upload, close, the status checks until it completes, three
  // result files (successful, failed, unprocessed: each record's outcome).
  await measure('write Bulk 2.0', 6 + BULK_CHECKS_IN_PROGRESS + 1, {}, () =>
    written(connector(1).write('Lead', ops('bulk'))),
  ),
);
const total = 2 * N;
// Both pulls also make one describe of Lead (field types; cached for the connector's life) and one
// `queryAll` of the window that opened while the back-fill ran (changes and deletions made meanwhile;
// without it they would wait for the next pull). Both are per pull, not per record.
const pullExtras = { describe: 1, catchUpQueryAll: 1 };
results.push(
  await measure('pull REST (query pages)', Math.ceil(total / QUERY_PAGE), pullExtras, () =>
    pullAll(connector(Infinity)),
  ),
);
results.push(
  // The job: create, the status checks until it completes, result pages of the size Tandem asks for
  // (`maxRecords`, 10,000: a page is held in memory whole). Before it, the first REST page, whose totalSize
  // decides for Bulk (its records are kept, not read again).
  await measure(
    'pull Bulk 2.0',
    1 + BULK_CHECKS_IN_PROGRESS + 1 + Math.ceil(total / DEFAULT_BULK_PAGE_SIZE),
    { ...pullExtras, firstRestPage: 1 },
    () => pullAll(connector(QUERY_PAGE)),
  ),
);

console.log(JSON.stringify({ bench: 'connectors-salesforce', n: N, results }));
await sandbox.app.close();
