/**
 * Tandem end to end between the sandboxes: the sandboxes in their own process (`tandem sandbox --json`),
 * `tandem worker` processes, Redis (a private redis-server) and the customer view (PGlite for one worker,
 * a fresh PostgreSQL database when several workers share it). Prints one JSON line last.
 *
 *   npx tsx bench/e2e.ts [--persons 100000] [--quick] [--workers 1,2,4] [--scale-persons N]
 *                        [--limited-persons N] [--phases main,scaling,limited] [--baseline-sample N]
 *                        [--db pglite|postgres]
 *
 * main     back-fill of a generated world with 1 worker (limits lifted), a settle cycle, then 1% of the
 *          persons changed (half in each CRM) with schedules at the shortest interval (1 s), measuring
 *          change → visible in the other CRM; then a per-record baseline (one read + one write call per
 *          record per system, as a Zapier/n8n flow does) on a sample, extrapolated to the world.
 * backfill the main back-fill alone (no settle, incremental or baseline), e.g. to profile a worker
 *          (BENCH_CPU_PROF_DIR); `--db postgres` runs it on PostgreSQL instead of PGlite.
 * scaling  back-fill with 1, 2 and 4 worker processes on PostgreSQL (fresh world each).
 * limited  back-fill under HubSpot Professional limits (190 / 10 s, search 5 / s) and Tandem's Salesforce
 *          daily budget: share of the allowed rate used, 429s sent, jobs failed by them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import pg from 'pg';
import { loadConfig, type TandemConfig } from '../src/config/index.js';
import { COLLECTION_SIZE, DEFAULT_BULK_PAGE_SIZE } from '../src/connectors/salesforce/connector.js';
import type { ObjectName } from '../src/domain/records.js';
import type { EntityKind, SyncPipeline } from '../src/pipeline/contract.js';
import { hubspotPullProperties, objectsOfKind } from '../src/pipeline/fields.js';
import { loadMapping } from '../src/pipeline/open.js';
import { openQueueClients, type QueueClients } from '../src/queues/cli-support.js';
import { runCycle, type CycleSummary } from '../src/queues/cycle.js';
import { ALL_QUEUES } from '../src/queues/names.js';
import { removeSchedules, upsertSchedules } from '../src/queues/scheduler.js';
import { startPrivateRedis } from '../src/runtime/redis-server.js';
import type { SandboxStatsSnapshot } from '../src/sandbox/common/stats.js';
import {
  peakRssMb,
  cpuSeconds,
  machineCpuSeconds,
  sandboxPost,
  sandboxStats,
  startSandboxProcess,
  startWorker,
  buildTandem,
  stop,
  type Child,
  type SalesforceStats,
  type SandboxProcess,
} from './e2e/procs.js';

// ---- arguments --------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const persons = Number(flag('persons') ?? (quick ? 5_000 : 100_000));
const workerCounts = (flag('workers') ?? '1,2,4').split(',').map(Number);
const scalePersons = Number(flag('scale-persons') ?? persons);
const limitedPersons = Number(flag('limited-persons') ?? (quick ? 2_000 : 20_000));
const baselineSample = Number(flag('baseline-sample') ?? (quick ? 500 : 2_000));
const phases = new Set((flag('phases') ?? 'main,scaling,limited').split(','));
const backfillDb = flag('db') === 'postgres' ? 'postgres' : 'pglite';
const POSTGRES_ADMIN = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (line: string): void => void process.stderr.write(`[e2e] ${line}\n`);

const HUBSPOT_BATCH = 100;
const SALESFORCE_QUERY_PAGE = 2_000;
// Bulk API 2.0 result pages of the size Tandem asks for (`maxRecords`; a page is held in memory whole).
const BULK_PAGE = DEFAULT_BULK_PAGE_SIZE;

// ---- shared infrastructure ------------------------------------------------------------------------

buildTandem();
const redis = await startPrivateRedis();
const mappingPath = 'mappings/default.yaml';
const { mapping } = await loadMapping(mappingPath);
const objects: SyncPipeline['objects'] = (['company', 'person', 'deal'] as const).flatMap(
  (kind: EntityKind) =>
    objectsOfKind(kind, mapping).map((object: ObjectName) => ({
      system: object === object.toLowerCase() ? ('hubspot' as const) : ('salesforce' as const),
      object,
      kind,
    })),
);
const historyObjects = new Set(
  Object.entries(hubspotPullProperties(mapping).history)
    .filter(([, props]) => props.length > 0)
    .map(([object]) => object),
);

// ---- helpers ----------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const round = (n: number, digits = 0): number => Number(n.toFixed(digits));
const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next] as T;
        next += 1;
        await work(item);
      }
    }),
  );
}

interface Database {
  env: Record<string, string>;
  kind: 'pglite' | 'postgres';
  dispose(): Promise<void>;
}

async function database(kind: 'pglite' | 'postgres'): Promise<Database> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-e2e-'));
  if (kind === 'pglite') {
    return {
      kind,
      env: { TANDEM_DATA_DIR: dataDir },
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `tandem_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN);
  url.pathname = `/${name}`;
  return {
    kind,
    env: { TANDEM_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    async dispose() {
      const again = new pg.Client({ connectionString: POSTGRES_ADMIN });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Stats {
  hubspot: SandboxStatsSnapshot;
  salesforce: SalesforceStats;
}
async function statsOf(sandbox: SandboxProcess): Promise<Stats> {
  return {
    hubspot: await sandboxStats(sandbox.credentials.hubspot.baseUrl),
    salesforce: await sandboxStats<SalesforceStats>(sandbox.credentials.salesforce.instanceUrl),
  };
}
async function resetStats(sandbox: SandboxProcess): Promise<void> {
  await sandboxPost(sandbox.credentials.hubspot.baseUrl, '/__sandbox/stats/reset');
  await sandboxPost(sandbox.credentials.salesforce.instanceUrl, '/__sandbox/stats/reset');
}

/**
 * The fewest calls the API paths Tandem uses allow for what this cycle pulled and wrote: per HubSpot
 * object ⌈pulled/page⌉ (list pages of 100, 50 when property history is asked for) + ⌈creates/100⌉ +
 * ⌈updates/100⌉; per Salesforce object one describe, then ⌈pulled/2000⌉ query pages or, at or above the bulk
 * threshold, a Bulk API 2.0 query job (first REST page, create, one status check, ⌈n/50000⌉ result pages),
 * plus ⌈creates/200⌉ + ⌈updates/200⌉ collections calls, and before each update call one `Id IN` query of
 * those records as they are now (Tandem reads Salesforce a window lag late: an update is checked first).
 */
function lowerBound(summary: CycleSummary, bulkThreshold: number): { hubspot: number; salesforce: number } {
  let hubspot = 0;
  let salesforce = 0;
  for (const o of summary.objects) {
    const updates = Math.max(0, o.written - o.created);
    if (o.system === 'hubspot') {
      const page = historyObjects.has(o.object) ? 50 : 100;
      hubspot +=
        Math.max(1, Math.ceil(o.pulled / page)) +
        Math.ceil(o.created / HUBSPOT_BATCH) +
        Math.ceil(updates / HUBSPOT_BATCH);
    } else {
      const pull =
        o.pulled >= bulkThreshold
          ? 3 + Math.ceil(o.pulled / BULK_PAGE)
          : Math.max(1, Math.ceil(o.pulled / SALESFORCE_QUERY_PAGE));
      salesforce +=
        1 + pull + Math.ceil(o.created / COLLECTION_SIZE) + 2 * Math.ceil(updates / COLLECTION_SIZE);
    }
  }
  return { hubspot, salesforce };
}

/** Busy time per queue (sum of job run times) from the completed jobs BullMQ keeps. */
async function stepTimes(
  clients: QueueClients,
): Promise<Record<string, { jobs: number; busySeconds: number }>> {
  const out: Record<string, { jobs: number; busySeconds: number }> = {};
  for (const name of ALL_QUEUES) {
    const jobs = await clients.queues[name].getJobs(['completed'], 0, 20_000);
    let busy = 0;
    for (const job of jobs) {
      if (job.processedOn !== undefined && job.finishedOn !== undefined)
        busy += job.finishedOn - job.processedOn;
    }
    out[name] = { jobs: jobs.length, busySeconds: round(busy / 1000, 1) };
  }
  return out;
}

/**
 * Planned writes per target object over the completed write-back jobs (the batches reconcile queued; the
 * follow-up writes a write-back sends after reading its creates back are not in its data): how full the
 * batches were, against the ⌈writes/limit⌉ jobs that coalescing across reconcile jobs would need.
 */
async function writeJobSizes(
  clients: QueueClients,
): Promise<Record<string, { jobs: number; writes: number; perJob: number }>> {
  const out: Record<string, { jobs: number; writes: number; perJob: number }> = {};
  for (const job of await clients.queues['write-back'].getJobs(['completed'], 0, 20_000)) {
    const batch = (job.data as { batch?: { system: string; object: string; writes: unknown[] } }).batch;
    if (batch === undefined) continue;
    const row = (out[`${batch.system}/${batch.object}`] ??= { jobs: 0, writes: 0, perJob: 0 });
    row.jobs += 1;
    row.writes += batch.writes.length;
    row.perJob = round(row.writes / row.jobs, 1);
  }
  return out;
}

/** The busiest routes; `BENCH_ROUTES=1` lists every route. */
function topRoutes(
  calls: Record<string, number>,
  n = process.env['BENCH_ROUTES'] === '1' ? Infinity : 8,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(calls)
      .sort(([, a], [, b]) => b - a)
      .slice(0, n),
  );
}

// ---- one world --------------------------------------------------------------------------------------

interface World {
  sandbox: SandboxProcess;
  db: Database;
  env: Record<string, string>;
  config: TandemConfig;
  clients: QueueClients;
  workers: Child[];
}

async function startWorld(options: {
  persons: number;
  workers: number;
  db: 'pglite' | 'postgres';
  limited: boolean;
}): Promise<World> {
  log(
    `world of ${options.persons} persons, ${options.workers} worker(s), ${options.db}${options.limited ? ', limited' : ''}`,
  );
  const sandbox = await startSandboxProcess({
    seed: 'bench',
    persons: options.persons,
    tier: options.limited ? 'professional' : 'enterprise',
  });
  const c = sandbox.credentials;
  if (!options.limited) {
    await sandboxPost(c.hubspot.baseUrl, '/__sandbox/limits', {
      tenSecondly: 100_000_000,
      daily: 1_000_000_000,
      searchPerSecond: 100_000_000,
    });
  }
  const db = await database(options.db);
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    TANDEM_REDIS_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    ...db.env,
    HUBSPOT_BASE_URL: c.hubspot.baseUrl,
    HUBSPOT_ACCESS_TOKEN: c.hubspot.accessToken,
    HUBSPOT_TIER: options.limited ? 'professional' : 'enterprise',
    SALESFORCE_LOGIN_URL: c.salesforce.loginUrl,
    SALESFORCE_INSTANCE_URL: c.salesforce.instanceUrl,
    SALESFORCE_API_VERSION: c.salesforce.apiVersion,
    SALESFORCE_AUTH_FLOW: 'client_credentials',
    SALESFORCE_CLIENT_ID: c.salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: c.salesforce.clientSecret,
    TANDEM_MAPPING: mappingPath,
    TANDEM_SCHEDULE_PERSONS: '1s',
    TANDEM_SCHEDULE_COMPANIES: '1s',
    TANDEM_SCHEDULE_DEALS: '1s',
    LOG_LEVEL: 'warn',
    // The sandbox commits at once, so nothing needs to wait (60 s against a real org).
    TANDEM_SALESFORCE_WINDOW_LAG: '0s',
    TANDEM_HUBSPOT_SEARCH_LAG: '0s',
    ...(options.limited
      ? // Tandem may use the whole 10-second allowance in this run: the target is the share of it used.
        { TANDEM_HUBSPOT_TEN_SECOND_SHARE: '100' }
      : // The sandbox's limits are lifted, so Tandem's own pacing must be too.
        { HUBSPOT_RATE_LIMIT_PER_10S: '100000000', HUBSPOT_DAILY_LIMIT: '1000000000' }),
  };
  const config = loadConfig(env);
  const clients = await openQueueClients(config);
  const workers: Child[] = [];
  for (let i = 0; i < options.workers; i += 1) workers.push(await startWorker(env, i));
  return { sandbox, db, env, config, clients, workers };
}

async function stopWorld(world: World): Promise<void> {
  for (const w of world.workers) await stop(w);
  await world.clients.close();
  await stop(world.sandbox);
  await world.db.dispose();
}

interface BackfillResult {
  persons: number;
  workers: number;
  database: string;
  wallSeconds: number;
  recordsPulled: number;
  recordsWritten: number;
  recordsPerSecond: number;
  failedJobs: number;
  failureCodes: Record<string, number>;
  apiCalls: { hubspot: number; salesforce: number };
  lowerBound: { hubspot: number; salesforce: number };
  callsOverLowerBound: { hubspot: number; salesforce: number };
  callsPerRecord: { hubspot: number; salesforce: number };
  rateLimited: { hubspot: number; salesforce: number };
  topRoutes: { hubspot: Record<string, number>; salesforce: Record<string, number> };
  objects: CycleSummary['objects'];
  steps: Record<string, { jobs: number; busySeconds: number }>;
  writeJobs: Record<string, { jobs: number; writes: number; perJob: number }>;
  cpu: CpuUse | undefined;
}

/**
 * CPU seconds each process used during the back-fill, and how busy the whole machine was (every CPU):
 * whether the worker or the machine bounds the run. `other` is the rest of the machine: the PostgreSQL
 * server (PGlite runs inside the worker), the kernel's share and anything else running.
 */
interface CpuUse {
  machineBusyShare: number;
  machineBusySeconds: number;
  workers: Array<number | undefined>;
  sandbox: number | undefined;
  redis: number | undefined;
  bench: number;
  other: number;
}

type CpuMark = {
  machine: ReturnType<typeof machineCpuSeconds>;
  processes: Array<number | undefined>;
  bench: number;
};

function cpuMark(world: World): CpuMark {
  const usage = process.cpuUsage();
  return {
    machine: machineCpuSeconds(),
    processes: [world.sandbox.process.pid, redis.pid, ...world.workers.map((w) => w.process.pid)].map(
      cpuSeconds,
    ),
    bench: (usage.user + usage.system) / 1e6,
  };
}

function cpuUse(before: CpuMark, after: CpuMark): CpuUse | undefined {
  if (before.machine === undefined || after.machine === undefined) return undefined;
  const used = after.processes.map((v, i) => {
    const b = before.processes[i];
    return v === undefined || b === undefined ? undefined : round(v - b, 1);
  });
  const busy = after.machine.busy - before.machine.busy;
  const bench = round(after.bench - before.bench, 1);
  const known = used.reduce<number>((n, v) => n + (v ?? 0), 0) + bench;
  return {
    machineBusyShare: round(busy / Math.max(1e-9, after.machine.total - before.machine.total), 2),
    machineBusySeconds: round(busy, 1),
    workers: used.slice(2),
    sandbox: used[0],
    redis: used[1],
    bench,
    other: round(busy - known, 1),
  };
}

/**
 * `work`, unless a worker process exits first: a cycle waits for jobs no one would ever finish (a worker
 * killed for memory leaves them active until another one's stalled check), so the run fails instead, with
 * the worker's last lines.
 */
function unlessAWorkerDies<T>(world: World, work: Promise<T>): Promise<T> {
  const cleanups: Array<() => void> = [];
  const died = new Promise<never>((_, reject) => {
    for (const w of world.workers) {
      const fail = (): void =>
        reject(
          new Error(
            `${w.name} exited (${w.process.signalCode ?? `code ${w.process.exitCode}`}) during the run:\n${w.tail()}`,
          ),
        );
      if (w.process.exitCode !== null || w.process.signalCode !== null) fail();
      w.process.once('exit', fail);
      cleanups.push(() => w.process.off('exit', fail));
    }
  });
  return Promise.race([work, died]).finally(() => {
    for (const c of cleanups) c();
  });
}

/** One sync cycle over every object, as `tandem sync --once` runs it, failing if a worker dies meanwhile. */
function syncOnce(world: World): Promise<CycleSummary> {
  return unlessAWorkerDies(
    world,
    runCycle({ producers: world.clients.producers, objects, mode: 'incremental', pollMs: 100 }),
  );
}

async function backfill(
  world: World,
): Promise<{ result: BackfillResult; summary: CycleSummary; stats: Stats }> {
  await resetStats(world.sandbox);
  const started = performance.now();
  const cpuBefore = cpuMark(world);
  const summary = await syncOnce(world);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = cpuUse(cpuBefore, cpuMark(world));
  const stats = await statsOf(world.sandbox);
  const pulled = summary.objects.reduce((n, o) => n + o.pulled, 0);
  const written = summary.objects.reduce((n, o) => n + o.written, 0);
  const perSystem = (system: 'hubspot' | 'salesforce') =>
    summary.objects.filter((o) => o.system === system).reduce((n, o) => n + o.pulled, 0);
  const bound = lowerBound(summary, world.config.salesforce.bulkThreshold);
  const codes: Record<string, number> = {};
  for (const f of summary.failures) codes[f.code] = (codes[f.code] ?? 0) + 1;
  const result: BackfillResult = {
    persons: world.sandbox.world.persons ?? 0,
    workers: world.workers.length,
    database: world.db.kind,
    wallSeconds: round(wallSeconds, 1),
    recordsPulled: pulled,
    recordsWritten: written,
    recordsPerSecond: Math.round(pulled / wallSeconds),
    failedJobs: summary.failures.length,
    failureCodes: codes,
    apiCalls: { hubspot: stats.hubspot.totalCalls, salesforce: stats.salesforce.totalCalls },
    lowerBound: bound,
    callsOverLowerBound: {
      hubspot: round(stats.hubspot.totalCalls / Math.max(1, bound.hubspot), 3),
      salesforce: round(stats.salesforce.totalCalls / Math.max(1, bound.salesforce), 3),
    },
    callsPerRecord: {
      hubspot: round(stats.hubspot.totalCalls / Math.max(1, perSystem('hubspot')), 4),
      salesforce: round(stats.salesforce.totalCalls / Math.max(1, perSystem('salesforce')), 4),
    },
    rateLimited: { hubspot: stats.hubspot.rateLimited, salesforce: stats.salesforce.rateLimited },
    topRoutes: { hubspot: topRoutes(stats.hubspot.calls), salesforce: topRoutes(stats.salesforce.calls) },
    objects: summary.objects,
    steps: await stepTimes(world.clients),
    writeJobs: await writeJobSizes(world.clients),
    cpu,
  };
  log(
    `back-fill: ${pulled} pulled, ${written} written in ${result.wallSeconds} s (${result.recordsPerSecond}/s), ` +
      `calls HubSpot ${result.apiCalls.hubspot} (bound ${bound.hubspot}), Salesforce ${result.apiCalls.salesforce} (bound ${bound.salesforce}), failed ${summary.failures.length}` +
      (cpu === undefined
        ? ''
        : `; CPU s: worker ${cpu.workers.join('/')}, sandbox ${cpu.sandbox}, machine ${Math.round(cpu.machineBusyShare * 100)}% busy`),
  );
  return { result, summary, stats };
}

function peaks(world: World): { workersMb: Array<number | undefined>; sandboxMb: number | undefined } {
  return {
    workersMb: world.workers.map((w) => peakRssMb(w.process.pid)),
    sandboxMb: peakRssMb(world.sandbox.process.pid),
  };
}

// ---- SDK clients ------------------------------------------------------------------------------------

async function sdks(world: World): Promise<{ hubspot: Client; salesforce: jsforce.Connection }> {
  const c = world.sandbox.credentials;
  const hubspot = new Client({
    basePath: c.hubspot.baseUrl,
    accessToken: c.hubspot.accessToken,
    numberOfApiCallRetries: 0,
  });
  const salesforce = new jsforce.Connection({
    loginUrl: c.salesforce.loginUrl,
    version: c.salesforce.apiVersion,
    oauth2: {
      loginUrl: c.salesforce.loginUrl,
      clientId: c.salesforce.clientId,
      clientSecret: c.salesforce.clientSecret,
    },
  });
  await salesforce.login(c.salesforce.username, c.salesforce.password);
  return { hubspot, salesforce };
}

interface Pair {
  leadId: string;
  contactId: string;
}

/** Linked persons: Salesforce Leads that carry their HubSpot contact's id (written by the back-fill). */
async function linkedPairs(salesforce: jsforce.Connection, limit: number): Promise<Pair[]> {
  const result = await salesforce.query<{ Id: string; HubSpot_Contact_ID__c: string | null }>(
    `SELECT Id, HubSpot_Contact_ID__c FROM Lead WHERE HubSpot_Contact_ID__c != null AND IsConverted = false LIMIT ${limit}`,
    { autoFetch: true, maxFetch: limit },
  );
  return result.records
    .filter((r) => r.HubSpot_Contact_ID__c !== null && r.HubSpot_Contact_ID__c !== '')
    .map((r) => ({ leadId: r.Id, contactId: String(r.HubSpot_Contact_ID__c) }));
}

// ---- incremental latency ----------------------------------------------------------------------------

async function incremental(world: World, changes: number): Promise<Record<string, unknown>> {
  const { hubspot, salesforce } = await sdks(world);
  const pairs = await linkedPairs(salesforce, changes);
  const half = Math.floor(pairs.length / 2);
  const inHubSpot = pairs.slice(0, half);
  const inSalesforce = pairs.slice(half);
  const tag = randomBytes(3).toString('hex');
  await upsertSchedules(world.clients.producers, objects, world.config.schedules);
  await sleep(3_000); // let the schedules tick once over the settled state
  await resetStats(world.sandbox);

  const changedAt = new Map<string, number>(); // key → ms
  const expected = new Map<string, string>();
  for (const batch of chunks(inHubSpot, HUBSPOT_BATCH)) {
    await hubspot.crm.contacts.batchApi.update({
      inputs: batch.map((p) => ({ id: p.contactId, properties: { jobtitle: `E2E ${tag} h${p.contactId}` } })),
    });
    const at = performance.now();
    for (const p of batch) {
      changedAt.set(`sf:${p.leadId}`, at);
      expected.set(`sf:${p.leadId}`, `E2E ${tag} h${p.contactId}`);
    }
  }
  const collections = `/services/data/v${world.sandbox.credentials.salesforce.apiVersion}/composite/sobjects`;
  for (const batch of chunks(inSalesforce, COLLECTION_SIZE)) {
    await salesforce.requestPatch(collections, {
      allOrNone: false,
      records: batch.map((p) => ({
        attributes: { type: 'Lead' },
        Id: p.leadId,
        Title: `E2E ${tag} s${p.leadId}`,
      })),
    });
    const at = performance.now();
    for (const p of batch) {
      changedAt.set(`hs:${p.contactId}`, at);
      expected.set(`hs:${p.contactId}`, `E2E ${tag} s${p.leadId}`);
    }
  }
  const latencies: number[] = [];
  const deadline = performance.now() + 240_000;
  let pollCalls = 0;
  while (expected.size > 0 && performance.now() < deadline) {
    const pendingHs = [...expected.keys()].filter((k) => k.startsWith('hs:')).map((k) => k.slice(3));
    const pendingSf = [...expected.keys()].filter((k) => k.startsWith('sf:')).map((k) => k.slice(3));
    for (const ids of chunks(pendingHs, HUBSPOT_BATCH)) {
      pollCalls += 1;
      const read = await hubspot.crm.contacts.batchApi.read({
        inputs: ids.map((id) => ({ id })),
        properties: ['jobtitle'],
        propertiesWithHistory: [],
      });
      const now = performance.now();
      for (const r of read.results) {
        const key = `hs:${r.id}`;
        if (expected.get(key) === r.properties['jobtitle']) {
          latencies.push(now - (changedAt.get(key) ?? now));
          expected.delete(key);
        }
      }
    }
    for (const ids of chunks(pendingSf, 200)) {
      pollCalls += 1;
      const read = await salesforce.query<{ Id: string; Title: string | null }>(
        `SELECT Id, Title FROM Lead WHERE Id IN (${ids.map((id) => `'${id}'`).join(',')})`,
      );
      const now = performance.now();
      for (const r of read.records) {
        const key = `sf:${r.Id}`;
        if (expected.get(key) === r.Title) {
          latencies.push(now - (changedAt.get(key) ?? now));
          expected.delete(key);
        }
      }
    }
    if (expected.size > 0) await sleep(200);
  }
  const stats = await statsOf(world.sandbox);
  await removeSchedules(world.clients.producers, objects);
  latencies.sort((a, b) => a - b);
  const result = {
    changed: pairs.length,
    changedInHubSpot: inHubSpot.length,
    changedInSalesforce: inSalesforce.length,
    scheduleIntervalSeconds: 1,
    written: latencies.length,
    notWrittenWithin240s: expected.size,
    latencySeconds: {
      p50: round(percentile(latencies, 50) / 1000, 2),
      p95: round(percentile(latencies, 95) / 1000, 2),
      max: round((latencies[latencies.length - 1] ?? NaN) / 1000, 2),
    },
    apiCallsDuringWindow: {
      hubspot: stats.hubspot.totalCalls,
      salesforce: stats.salesforce.totalCalls,
      ofWhichBenchPolling: pollCalls,
    },
  };
  log(`incremental: ${JSON.stringify(result)}`);
  return result;
}

// ---- per-record baseline ----------------------------------------------------------------------------

/**
 * What a Zapier/n8n-style flow spends: per record and direction, one read of the changed record in the
 * source and one write of it to the target. Run on a sample of linked persons in both directions
 * (4 requests in flight, like the sandbox bench), then extrapolated to every record the back-fill pulled.
 */
async function baseline(
  world: World,
  sample: number,
  tandem: BackfillResult,
): Promise<Record<string, unknown>> {
  const { hubspot, salesforce } = await sdks(world);
  const pairs = await linkedPairs(salesforce, sample);
  await resetStats(world.sandbox);
  const started = performance.now();
  await inParallel(pairs, 4, async (p) => {
    const contact = await hubspot.crm.contacts.basicApi.getById(p.contactId, ['jobtitle', 'email']);
    await salesforce.sobject('Lead').update({ Id: p.leadId, Title: contact.properties['jobtitle'] ?? 'x' });
    const lead = (await salesforce.sobject('Lead').retrieve(p.leadId)) as { Title?: string | null };
    await hubspot.crm.contacts.basicApi.update(p.contactId, { properties: { jobtitle: lead.Title ?? 'x' } });
  });
  const seconds = (performance.now() - started) / 1000;
  const stats = await statsOf(world.sandbox);
  const sampleCalls = stats.hubspot.totalCalls + stats.salesforce.totalCalls;
  // Per record synced (each direction): 2 calls; every record pulled is a record such a flow handles.
  const records = tandem.recordsPulled;
  const perRecordSeconds = seconds / (2 * pairs.length);
  const callsFull = 2 * records;
  const secondsFull = perRecordSeconds * records;
  const tandemCalls = tandem.apiCalls.hubspot + tandem.apiCalls.salesforce;
  const result = {
    sampleRecords: 2 * pairs.length,
    sampleCalls,
    sampleSeconds: round(seconds, 1),
    extrapolatedTo: records,
    calls: callsFull,
    wallSeconds: round(secondsFull, 1),
    callsRatioVsTandem: round(callsFull / Math.max(1, tandemCalls), 1),
    wallRatioVsTandem: round(secondsFull / Math.max(0.001, tandem.wallSeconds), 1),
  };
  log(`baseline: ${JSON.stringify(result)}`);
  return result;
}

// ---- phases -----------------------------------------------------------------------------------------

const output: Record<string, unknown> = { bench: 'e2e', quick, persons };
try {
  if (phases.has('backfill')) {
    // The back-fill alone (e.g. with BENCH_CPU_PROF_DIR set, to profile the worker).
    const world = await startWorld({ persons, workers: 1, db: backfillDb, limited: false });
    try {
      const { result } = await backfill(world);
      output['backfill'] = { ...result, peakRssMb: peaks(world) };
    } finally {
      await stopWorld(world);
    }
  }
  if (phases.has('main')) {
    const world = await startWorld({ persons, workers: 1, db: 'pglite', limited: false });
    try {
      const { result } = await backfill(world);
      // The back-fill's own writes come back once as changes (echo) and are recognised: a settle cycle.
      await resetStats(world.sandbox);
      const settleStarted = performance.now();
      const settle = await syncOnce(world);
      const settleStats = await statsOf(world.sandbox);
      const settled = {
        wallSeconds: round((performance.now() - settleStarted) / 1000, 1),
        pulled: settle.objects.reduce((n, o) => n + o.pulled, 0),
        // Echoes holding what their reconcile planned are not reconciled again (docs/CUSTOMER-VIEW.md).
        reconciled: settle.objects.reduce((n, o) => n + o.reconciled, 0),
        written: settle.objects.reduce((n, o) => n + o.written, 0),
        apiCalls: { hubspot: settleStats.hubspot.totalCalls, salesforce: settleStats.salesforce.totalCalls },
      };
      log(`settle cycle: ${JSON.stringify(settled)}`);
      const inc = await incremental(world, Math.max(10, Math.round(persons / 100)));
      const rss = peaks(world);
      for (const w of world.workers) await stop(w);
      world.workers = [];
      const base = await baseline(world, Math.min(baselineSample, persons), result);
      output['backfill'] = { ...result, peakRssMb: rss };
      output['settleCycle'] = settled;
      output['incremental'] = inc;
      output['baseline'] = base;
    } finally {
      await stopWorld(world);
    }
  }
  if (phases.has('scaling')) {
    const rows: Array<Record<string, unknown>> = [];
    for (const count of workerCounts) {
      const world = await startWorld({
        persons: scalePersons,
        workers: count,
        db: 'postgres',
        limited: false,
      });
      try {
        const { result } = await backfill(world);
        rows.push({
          workers: count,
          database: 'postgres',
          wallSeconds: result.wallSeconds,
          recordsPerSecond: result.recordsPerSecond,
          failedJobs: result.failedJobs,
          callsOverLowerBound: result.callsOverLowerBound,
          peakRssMb: peaks(world),
          steps: result.steps,
        });
      } finally {
        await stopWorld(world);
      }
    }
    output['scaling'] = { persons: scalePersons, runs: rows };
  }
  if (phases.has('limited')) {
    const world = await startWorld({ persons: limitedPersons, workers: 1, db: 'pglite', limited: true });
    try {
      const { result, stats } = await backfill(world);
      const searchCalls = Object.entries(stats.hubspot.calls)
        .filter(([route]) => route.includes('/search'))
        .reduce((n, [, v]) => n + v, 0);
      const windowed = stats.hubspot.totalCalls - searchCalls;
      const allowed = (world.config.hubspot.limits.perTenSeconds * result.wallSeconds) / 10;
      const rateFailures = Object.entries(result.failureCodes)
        .filter(([code]) => /RATE|LIMIT|429/.test(code))
        .reduce((n, [, v]) => n + v, 0);
      output['limited'] = {
        persons: limitedPersons,
        hubspotTier: 'professional',
        hubspotLimitPer10s: world.config.hubspot.limits.perTenSeconds,
        wallSeconds: result.wallSeconds,
        recordsPerSecond: result.recordsPerSecond,
        hubspotCallsInTenSecondWindow: windowed,
        hubspotSearchCalls: searchCalls,
        shareOfAllowedRateUsed: round(windowed / allowed, 3),
        hubspot429sSent: stats.hubspot.rateLimited,
        salesforceCalls: stats.salesforce.totalCalls,
        salesforceDailyBudget: Math.round((100_000 * world.config.salesforce.dailyBudgetPercent) / 100),
        salesforceApiUsage: stats.salesforce.apiUsage,
        failedJobs: result.failedJobs,
        failedJobsFrom429: rateFailures,
        callsOverLowerBound: result.callsOverLowerBound,
        peakRssMb: peaks(world),
      };
      log(`limited: ${JSON.stringify(output['limited'])}`);
    } finally {
      await stopWorld(world);
    }
  }
} finally {
  await redis.stop();
}
console.log(JSON.stringify(output));
