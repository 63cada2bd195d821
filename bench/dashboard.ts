import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/index.js';
import { createDashboard } from '../src/dashboard/server.js';
import { createMetrics } from '../src/observability/metrics.js';
import { startPrivateRedis } from '../src/runtime/redis-server.js';
import { CustomerView } from '../src/store/customer-view.js';
import { openDatabase } from '../src/store/database.js';
import { generatePopulation, personId } from './customer-view-population.js';

/**
 * The dashboard's funnel, SLA and customer-lookup API calls at 100,000 persons on embedded PGlite, through
 * the real Fastify app (auth, routing, serialisation included). Prints one JSON line; no assertions.
 * Run: `npx tsx bench/dashboard.ts [persons]`.
 */
const PERSONS = Number(process.argv[2] ?? 100_000);
const BATCH = 10_000;
const RUNS = 5;
const TOKEN = 'bench-admin-token-0123456789';

const redisServer = await startPrivateRedis();
const redis = new Redis(redisServer.url);
const connection = await openDatabase({ dataDir: ':memory:' });
const view = new CustomerView(connection.db);
const population = generatePopulation(PERSONS);

const loadStart = performance.now();
for (let i = 0; i < population.persons.length; i += BATCH) {
  await view.upsertPersons(population.persons.slice(i, i + BATCH));
  await view.upsertLinks(population.links.slice(i, i + BATCH));
}
for (let i = 0; i < population.stages.length; i += BATCH * 3) {
  await view.appendStageEntries(population.stages.slice(i, i + BATCH * 3));
}
await sql`analyze`.execute(connection.db);
const loadMs = Math.round(performance.now() - loadStart);
console.error(`[bench] loaded ${PERSONS} persons in ${loadMs} ms`);

const config = loadConfig(
  {
    REDIS_URL: redisServer.url,
    TANDEM_ADMIN_TOKEN: TOKEN,
    TANDEM_REDIS_PREFIX: 'bench',
    LOG_LEVEL: 'silent',
  },
  { cwd: process.cwd() },
);
const { readFile } = await import('node:fs/promises');
const app = await createDashboard({
  config,
  redis,
  customerView: view,
  mapping: { text: await readFile('mappings/default.yaml', 'utf8'), file: 'mappings/default.yaml' },
  now: () => new Date('2025-01-01T00:00:00Z'),
  metrics: createMetrics(),
});

const probe = Math.floor(PERSONS / 2);
const calls: Record<string, string> = {
  funnelBySource: '/api/funnel?from=2024-01-01&to=2025-01-01&groupBy=original_source',
  funnelByMonth: '/api/funnel?from=2024-01-01&to=2025-01-01&groupBy=month',
  sla24h: '/api/sla?hours=24&limit=500',
  customerByEmail: `/api/customer?q=${personId(probe)}@example.com`,
  customerByHubSpotId: `/api/customer?q=${1_000_000 + probe}`,
  customerByTandemId: `/api/customer?q=${personId(probe)}`,
};

const results: Record<string, { status: number; medianMs: number; maxMs: number; bytes: number }> = {};
for (const [name, url] of Object.entries(calls)) {
  const times: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i <= RUNS; i += 1) {
    const start = performance.now();
    const res = await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
    const ms = performance.now() - start;
    if (i > 0) times.push(ms); // the first run warms caches and plans
    status = res.statusCode;
    bytes = res.body.length;
  }
  times.sort((a, b) => a - b);
  results[name] = {
    status,
    medianMs: Math.round((times[Math.floor(times.length / 2)] ?? 0) * 10) / 10,
    maxMs: Math.round((times[times.length - 1] ?? 0) * 10) / 10,
    bytes,
  };
}

console.log(
  JSON.stringify({
    bench: 'dashboard',
    persons: PERSONS,
    database: 'pglite',
    loadMs,
    runs: RUNS,
    api: results,
  }),
);
await app.close();
await redis.quit();
await connection.close();
await redisServer.stop();
