import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { CustomerView } from '../src/store/customer-view.js';
import { openDatabase, type CustomerViewConnection } from '../src/store/database.js';
import { generatePopulation, personId, type Population } from './customer-view-population.js';

/**
 * Customer-view read times at 100,000 persons, on embedded PGlite and (when one answers) on a server in a
 * throw-away database. Prints one JSON line. Run: `npx tsx bench/customer-view.ts [persons]`.
 */
const PERSONS = Number(process.argv[2] ?? 100_000);
const BATCH = 10_000;
const ADMIN_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await fn();
  return [Math.round((performance.now() - start) * 10) / 10, result];
}

async function load(view: CustomerView, population: Population): Promise<void> {
  for (let i = 0; i < population.persons.length; i += BATCH) {
    await view.upsertPersons(population.persons.slice(i, i + BATCH));
    await view.upsertLinks(population.links.slice(i, i + BATCH));
  }
  for (let i = 0; i < population.stages.length; i += BATCH * 3) {
    await view.appendStageEntries(population.stages.slice(i, i + BATCH * 3));
  }
}

async function measure(connection: CustomerViewConnection, population: Population) {
  const view = new CustomerView(connection.db);
  const [loadMs] = await timed(() => load(view, population));
  console.error(`[bench] ${connection.kind}: loaded in ${Math.round(loadMs)} ms`);
  await sql`analyze`.execute(connection.db);
  const year = { from: new Date('2024-01-01T00:00:00Z'), to: new Date('2025-01-01T00:00:00Z') };
  const probe = personId(Math.floor(PERSONS / 2));
  const queries: Record<string, () => Promise<unknown>> = {
    funnelBySource: () => view.funnel({ ...year, groupBy: 'original_source' }),
    funnelByMonth: () => view.funnel({ ...year, groupBy: 'month' }),
    slaBreaches24h: () => view.slaBreaches({ hours: 24, now: new Date('2025-01-01T00:00:00Z') }),
    findPersonByEmail: () => view.findPerson({ email: `${probe}@example.com` }),
    findPersonByHubSpotId: () =>
      view.findPerson({ system: 'hubspot', recordId: String(1_000_000 + PERSONS / 2) }),
    personsByMappingVersion: () => view.personsByMappingVersion('v2', { limit: 1000 }),
  };
  const times: Record<string, number> = {};
  for (const [name, run] of Object.entries(queries)) {
    await run(); // warm caches and plans
    [times[name]] = await timed(run);
  }
  return { loadMs: Math.round(loadMs), queryMs: times };
}

async function serverDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch {
    await admin.end().catch(() => undefined);
    return undefined;
  }
  const name = `tandem_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const population = generatePopulation(PERSONS);
const result: Record<string, unknown> = {
  bench: 'customer-view',
  persons: PERSONS,
  stageEntries: population.stages.length,
};

const pglite = await openDatabase({ dataDir: ':memory:' });
try {
  result['pglite'] = await measure(pglite, population);
} finally {
  await pglite.close();
}

const server = await serverDatabase();
if (server === undefined) {
  result['postgres'] = `skipped: no server answered at ${ADMIN_URL}`;
} else {
  const connection = await openDatabase({ databaseUrl: server.url, dataDir: ':memory:' });
  try {
    result['postgres'] = await measure(connection, population);
  } finally {
    await connection.close();
    await server.drop();
  }
}
console.log(JSON.stringify(result));
