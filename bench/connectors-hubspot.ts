// Pull N contacts and write N contacts through the HubSpot connector against the sandbox; prints API calls
// per record against the lower bound ⌈N/page⌉ + ⌈N/batch⌉, and records/s, as one JSON line.
// Run: npx tsx bench/connectors-hubspot.ts [N]

import type { AddressInfo } from 'node:net';
import { HubSpotConnector } from '../src/connectors/hubspot/connector.js';
import { BATCH_WRITE_MAX } from '../src/connectors/hubspot/write.js';
import { LIST_PAGE_MAX } from '../src/connectors/hubspot/pull.js';
import { createHubSpotSandbox, DEFAULT_HUBSPOT_TOKEN } from '../src/sandbox/hubspot/server.js';
import { HubSpotWorldSchema } from '../src/sandbox/world/schema.js';
import type { WriteOp } from '../src/connectors/connector.js';

const n = Number(process.argv[2] ?? 5_000);
const sandbox = await createHubSpotSandbox({ limits: { tenSecondly: 100_000 } });
await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
const baseUrl = `http://127.0.0.1:${(sandbox.app.server.address() as AddressInfo).port}`;
const base = Date.parse('2024-01-01T00:00:00.000Z');
sandbox.loadWorld(
  HubSpotWorldSchema.parse({
    contacts: Array.from({ length: n }, (_, i) => ({
      id: String(1001 + i),
      properties: { email: `bench${i}@example.com`, firstname: `B${i}` },
      createdAt: new Date(base).toISOString(),
      updatedAt: new Date(base + i * 1000).toISOString(),
    })),
  }),
);
const hubspot = new HubSpotConnector({
  accessToken: DEFAULT_HUBSPOT_TOKEN,
  baseUrl,
  properties: { contacts: ['email', 'firstname', 'lifecyclestage'] },
  deletions: false,
});

sandbox.stats.reset();
let started = performance.now();
let pulled = 0;
for await (const page of hubspot.pull('contacts', null)) pulled += page.records.length;
const pullMs = performance.now() - started;
const pullCalls = sandbox.stats.snapshot().totalCalls;

const ops: WriteOp[] = Array.from({ length: n }, (_, i) => ({
  kind: 'update',
  ref: String(i),
  recordId: String(1001 + i),
  fields: { firstname: `Written ${i}` },
}));
sandbox.stats.reset();
started = performance.now();
const outcomes = await hubspot.write('contacts', ops);
const writeMs = performance.now() - started;
const writeCalls = sandbox.stats.snapshot().totalCalls;

const lowerBound = Math.ceil(n / LIST_PAGE_MAX) + Math.ceil(n / BATCH_WRITE_MAX);
console.log(
  JSON.stringify({
    bench: 'connectors-hubspot',
    records: n,
    pulled,
    written: outcomes.filter((o) => o.ok).length,
    pullCalls,
    writeCalls,
    callsPerRecord: Number(((pullCalls + writeCalls) / (2 * n)).toFixed(4)),
    lowerBoundCalls: lowerBound,
    callsOverLowerBound: Number(((pullCalls + writeCalls) / lowerBound).toFixed(3)),
    pullRecordsPerSecond: Math.round(pulled / (pullMs / 1000)),
    writeRecordsPerSecond: Math.round(n / (writeMs / 1000)),
  }),
);
await sandbox.app.close();
