/**
 * The fixed point at scale: `tandem sync --once` on a demo world of N persons (default 20,000), repeated
 * until a cycle writes nothing (at most `--cycles`), then the chaos run's independent verifier (both CRMs
 * through the official SDKs, the customer view through plain SQL, failed jobs through BullMQ) checks that
 * HubSpot, the customer view and Salesforce agree on every mapped field, stage, score and source of every
 * linked person. Persons named by a failed job (the world's planted mess) are left out and counted.
 *
 *   npx tsx bench/fixed-point.ts                       # 20,000 persons
 *   npx tsx bench/fixed-point.ts --persons 2000 --cycles 3
 *
 * Its own redis-server (AOF) on a free port, the sandbox as a child process, the customer view in PGlite
 * under a temporary directory (removed at the end unless --keep). The Salesforce window lag is 0 (the
 * sandbox commits at once), through the e2e bench's pipeline module, so a cycle sees the last one's writes.
 * Prints one JSON line last; exits 1 when the last cycle still wrote or anything disagrees.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectCrms, sandboxEnv } from './chaos/crm.js';
import { personFields } from './chaos/mapping.js';
import { ChaosRedis, runTandem, startSandboxProcess } from './chaos/services.js';
import { disagreements, failedJobs, readWorldState } from './chaos/verify.js';

const { values: args } = parseArgs({
  options: {
    persons: { type: 'string', default: '20000' },
    cycles: { type: 'string', default: '4' },
    seed: { type: 'string', default: 'demo' },
    keep: { type: 'boolean', default: false },
  },
});
const PERSONS = Number(args.persons);
const MAX_CYCLES = Number(args.cycles);
const PREFIX = 'tandem-fixed-point';
const say = (line: string): void => void process.stderr.write(`fixed-point: ${line}\n`);

interface Summary {
  objects: Array<{ pulled: number; written: number; created: number; failed: number }>;
  failures: unknown[];
  unreachable: unknown[];
}

const tmp = mkdtempSync(join(tmpdir(), 'tandem-fixed-point-'));
const cleanups: Array<() => Promise<void>> = [];

async function main(): Promise<boolean> {
  say(`${PERSONS} persons, data in ${tmp}`);
  const redis = await ChaosRedis.start(join(tmp, 'redis'));
  cleanups.push(() => redis.stop());
  const { sandbox, info } = await startSandboxProcess(
    [
      '--seed',
      args.seed,
      '--persons',
      String(PERSONS),
      '--hubspot-port',
      '0',
      '--salesforce-port',
      '0',
    ].concat(['--hubspot-tier', 'enterprise']),
    600_000,
  );
  cleanups.push(() => sandbox.stop());
  const dataDir = join(tmp, 'data');
  const env: Record<string, string> = {
    ...sandboxEnv(info),
    REDIS_URL: redis.url,
    TANDEM_REDIS_PREFIX: PREFIX,
    TANDEM_DATA_DIR: dataDir,
    TANDEM_MAPPING: resolve('mappings/default.yaml'),
    TANDEM_SALESFORCE_WINDOW_LAG: '0s',
    LOG_LEVEL: 'warn',
  };

  const cycles: Array<Record<string, number>> = [];
  for (let n = 1; n <= MAX_CYCLES; n += 1) {
    const started = performance.now();
    const run = await runTandem(['sync', '--once', '--json'], env, 3_600_000);
    const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
    if (line === undefined)
      throw new Error(`cycle ${n}: no summary (exit ${run.code}): ${run.stderr.slice(-800)}`);
    const summary = JSON.parse(line) as Summary;
    const sum = (key: 'pulled' | 'written' | 'created' | 'failed'): number =>
      summary.objects.reduce((total, o) => total + o[key], 0);
    const cycle = {
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      pulled: sum('pulled'),
      written: sum('written'),
      created: sum('created'),
      failed: sum('failed'),
      unreachable: summary.unreachable.length,
    };
    cycles.push(cycle);
    say(`cycle ${n}: ${JSON.stringify(cycle)}`);
    if (cycle.written === 0 && cycle.unreachable === 0) break;
  }

  const crms = await connectCrms(info);
  const fields = personFields('mappings/default.yaml');
  const failed = await failedJobs(redis.url, PREFIX);
  const failedIds = new Set(
    failed.flatMap((j) => [j.failure?.recordId, j.failure?.unifiedId]).filter((x) => x !== undefined),
  );
  const state = await readWorldState(crms, { kind: 'pglite', dataDir }, fields);
  const excluded = new Set(
    state.linked
      .filter(
        (p) => failedIds.has(p.unifiedId) || failedIds.has(p.hubspot.id) || failedIds.has(p.salesforce.Id),
      )
      .map((p) => p.unifiedId),
  );
  const agreement = disagreements(state, fields, (id) => excluded.has(id));
  const last = cycles.at(-1);
  const fixedPoint = last !== undefined && last.written === 0;
  for (const d of agreement.problems.slice(0, 20)) {
    say(`disagrees: ${d.unifiedId} ${d.field}: ${JSON.stringify(d.raw)}`);
  }
  const ok = fixedPoint && agreement.problems.length === 0;
  console.log(
    JSON.stringify({
      bench: 'fixed-point',
      persons: PERSONS,
      cycles,
      fixedPoint,
      linkedPersonsChecked: agreement.checked,
      fieldsCompared: agreement.fieldsCompared,
      disagreements: agreement.problems.length,
      personsLeftOutForFailedJobs: excluded.size,
      failedJobs: failed.length,
      ok,
    }),
  );
  return ok;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  say(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  if (!args.keep) rmSync(tmp, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
