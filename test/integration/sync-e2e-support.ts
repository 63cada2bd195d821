// Shared by the end-to-end sync tests (CLI and browser): the two sandboxes with a demo world, the
// environment a `tandem` child process needs to reach them, the private Redis and a temporary data directory,
// the official SDKs to read and change both CRMs, and the clean-up of every queue under the random prefix.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@hubspot/api-client';
import { Queue, type Job } from 'bullmq';
import jsforce, { type Connection } from 'jsforce';
import { Redis } from 'ioredis';
import { ALL_QUEUES, bullPrefix, type QueueName } from '../../src/queues/names.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { openDatabase } from '../../src/store/database.js';
import { runTandem } from '../support/cli.js';
import { generateWorldWithManifest } from '../../src/sandbox/world/generate.js';

export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? '';

export interface SyncWorld {
  sandbox: RunningSandbox;
  prefix: string;
  dataDir: string;
  /** The environment of a `tandem` child process: the sandboxes, the private Redis, the data directory. */
  env: Record<string, string>;
  hubspot: Client;
  salesforce: Connection;
  /** The private test Redis (Tandem's keys are under `prefix`). */
  redis: Redis;
  /** Every record id the world generator planted as mess (duplicates, unmapped values, …). */
  planted: ReadonlySet<string>;
  /** POST `/__sandbox/faults` on both sandboxes (`''` clears them). */
  faults(spec: string): Promise<void>;
  failedJobs(queue: QueueName): Promise<Job[]>;
  stop(): Promise<void>;
}

function plantedIds(mess: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') ids.add(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(mess);
  return ids;
}

export async function startSyncWorld(persons: number): Promise<SyncWorld> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-sync-e2e-'));
  const sandbox = await startSandbox({ seed: 'demo', persons, dataDir: join(dataDir, 'sandbox') });
  const { manifest } = generateWorldWithManifest({ seed: 'demo', persons });
  const c = sandbox.credentials;
  const prefix = `test-${randomUUID()}`;
  const env: Record<string, string> = {
    REDIS_URL,
    TANDEM_REDIS_PREFIX: prefix,
    TANDEM_DATA_DIR: join(dataDir, 'tandem'),
    LOG_LEVEL: 'silent',
    HUBSPOT_BASE_URL: c.hubspot.baseUrl,
    HUBSPOT_ACCESS_TOKEN: c.hubspot.accessToken,
    HUBSPOT_TIER: c.hubspot.tier,
    // The sandbox's search index has no lag unless a test gives it one.
    TANDEM_HUBSPOT_SEARCH_LAG: '0s',
    SALESFORCE_LOGIN_URL: c.salesforce.loginUrl,
    SALESFORCE_INSTANCE_URL: c.salesforce.instanceUrl,
    SALESFORCE_API_VERSION: c.salesforce.apiVersion,
    SALESFORCE_AUTH_FLOW: 'client_credentials',
    SALESFORCE_CLIENT_ID: c.salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: c.salesforce.clientSecret,
  };
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
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = ALL_QUEUES.map((name) => new Queue(name, { connection, prefix: bullPrefix(prefix) }));
  return {
    sandbox,
    prefix,
    dataDir,
    env,
    hubspot,
    salesforce,
    redis: connection,
    planted: plantedIds(manifest.mess),
    async faults(spec) {
      for (const base of [c.hubspot.baseUrl, c.salesforce.instanceUrl]) {
        const response = await fetch(`${base}/__sandbox/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ spec }),
        });
        if (!response.ok) throw new Error(`faults on ${base}: HTTP ${response.status}`);
      }
    },
    async failedJobs(name) {
      const queue = queues.find((q) => q.name === name) as Queue;
      return queue.getFailed(0, -1);
    },
    async stop() {
      for (const queue of queues) {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
      const mine = await connection.keys(`${prefix}:*`);
      if (mine.length > 0) await connection.del(...mine);
      await connection.quit();
      await sandbox.stop();
    },
  };
}

/** The emails of every live person record in both CRMs, with how often each occurs per system. */
export async function emailCounts(world: SyncWorld): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const add = (system: string, email: unknown): void => {
    if (typeof email !== 'string' || email.trim() === '') return;
    const key = `${system} ${email.trim().toLowerCase()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  for (const contact of await world.hubspot.crm.contacts.getAll(100, undefined, ['email']))
    add('hubspot', contact.properties['email']);
  for (const object of ['Lead', 'Contact']) {
    const where = object === 'Lead' ? ' WHERE IsConverted = false' : '';
    const rows = await world.salesforce.query<{ Email: unknown }>(`SELECT Email FROM ${object}${where}`, {
      autoFetch: true,
      maxFetch: 100_000,
    });
    for (const r of rows.records) add('salesforce', r.Email);
  }
  return counts;
}

/** What `tandem sync --once --json` prints. */
export interface SyncSummary {
  objects: Array<{ system: string; object: string; pulled: number; written: number; failed: number }>;
  failures: Array<{ code: string; reason: string; system?: string; object?: string; recordId?: string }>;
  unreachable: unknown[];
}

/** Runs `tandem sync --once --json` against the world as a child process. */
export async function syncOnce(
  world: SyncWorld,
  ...args: string[]
): Promise<{ code: number | null; summary: SyncSummary }> {
  const run = await runTandem(['sync', '--once', '--json', ...args], world.env);
  if (run.stdout === '') throw new Error(`tandem sync printed nothing (exit ${run.code}): ${run.stderr}`);
  return { code: run.code, summary: JSON.parse(run.stdout) as SyncSummary };
}

/** Linked persons whose Salesforce side is a live (not converted) Lead, from the customer view. */
export async function linkedLeads(world: SyncWorld): Promise<Array<{ hubspot: string; lead: string }>> {
  const db = await openDatabase({ dataDir: world.env['TANDEM_DATA_DIR'] as string });
  try {
    const links = await db.db
      .selectFrom('record_links')
      .selectAll()
      .where('record_type', '=', 'person')
      .execute();
    const byPerson = new Map<string, { hubspot?: string; leads: string[]; contacts: number }>();
    for (const l of links) {
      const p = byPerson.get(l.unified_id) ?? { leads: [], contacts: 0 };
      if (l.system === 'hubspot') p.hubspot = l.record_id;
      else if (l.object === 'Lead') p.leads.push(l.record_id);
      else p.contacts += 1;
      byPerson.set(l.unified_id, p);
    }
    return [...byPerson.values()].flatMap((p) =>
      p.hubspot !== undefined && p.leads.length === 1 && p.contacts === 0
        ? [{ hubspot: p.hubspot, lead: p.leads[0] as string }]
        : [],
    );
  } finally {
    await db.close();
  }
}
