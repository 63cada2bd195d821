/**
 * `npm run chaos`: Tandem under fire. A generated world in the sandboxes, simulated people editing both
 * CRMs through the SDKs, several `tandem worker` processes and the scheduler at short intervals; workers
 * SIGKILLed and restarted every few seconds, Redis (AOF) restarted once, PostgreSQL restarted once, and
 * 5% 5xx, 2% 429 and 1% timeouts injected. Then the edits stop, faults go off, sync converges, and an
 * independent verifier (official SDKs, plain SQL, BullMQ) checks: both CRMs agree with the customer view on
 * every mapped field of every linked person, no duplicates were created, no edit was lost, and the only
 * failed jobs are the planted permanent errors (or failures the world already produced before the chaos
 * began). Prints a table; exits 1 on any violation.
 *
 *   npm run chaos                        # --persons 20000, 4 workers, 3 minutes of chaos
 *   npm run chaos -- --short             # CI size: 250 persons, 2 workers, 30 s of chaos
 *   npm run chaos -- --persons 5000 --duration 120 --workers 3 --keep
 *
 * Everything it runs is its own: redis-server and PostgreSQL on free loopback ports with data in a temp
 * directory (removed at the end unless --keep), the sandbox and tandem processes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from './chaos/random.js';
import {
  allContacts,
  allRows,
  controlBoth,
  connectCrms,
  sandboxEnv,
  latestSalesforceChange,
  updateContact,
  updateSalesforce,
  type SandboxInfo,
} from './chaos/crm.js';
import { EditLog, runEditors } from './chaos/edits.js';
import { normalise, personFields } from './chaos/mapping.js';
import {
  ChaosPostgres,
  ChaosRedis,
  runTandem,
  sleep,
  startSandboxProcess,
  TandemProcess,
} from './chaos/services.js';
import {
  crossReferenceClashes,
  disagreements,
  emailCounts,
  failedJobs,
  newDuplicates,
  pendingJobs,
  queryView,
  readWorldState,
  type FailedJob,
  type LinkedPerson,
  type ViewSource,
} from './chaos/verify.js';
import { DEFAULT_WINDOW_LAG_MS } from '../src/connectors/salesforce/window.js';
import { generateWorld } from '../src/sandbox/world/generate.js';

const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    persons: { type: 'string' },
    duration: { type: 'string' },
    workers: { type: 'string' },
    'kill-every': { type: 'string' },
    'edit-rate': { type: 'string' },
    seed: { type: 'string', default: 'chaos' },
    keep: { type: 'boolean', default: false },
  },
});

const short = args.short === true;
const PERSONS = Number(args.persons ?? (short ? 250 : 20_000));
const DURATION_S = Number(args.duration ?? (short ? 30 : 180));
/** Salesforce edits stop this share into the chaos (short runs: the window lag is waited out sooner). */
const SF_EDIT_SHARE = short ? 0.6 : 1;
const WORKERS = Number(args.workers ?? (short ? 2 : 4));
const KILL_EVERY_S = Number(args['kill-every'] ?? (short ? 8 : 5));
const EDIT_RATE = Number(args['edit-rate'] ?? (short ? 3 : 8));
const PLANTED_PER_KIND = short ? 2 : 5;
const FAULTS = '5xx=0.05,429=0.02,timeout=0.01';
/**
 * Tandem's Salesforce read lag. The sandbox commits at once, so the lag only delays; the short run uses
 * 15 s to fit CI, the full run the production default.
 */
const WINDOW_LAG_MS = short ? 15_000 : DEFAULT_WINDOW_LAG_MS;
const PREFIX = 'chaos';
/** Hard bound on the whole run. */
const DEADLINE = Date.now() + (short ? 165_000 : 90 * 60_000);
const CYCLE_TIMEOUT_MS = short ? 60_000 : 30 * 60_000;

const started = Date.now();
const phases: Array<[string, number]> = [];
let phaseStart = Date.now();
function phase(name: string): void {
  const now = Date.now();
  phases.push([name, now - phaseStart]);
  phaseStart = now;
  say(`${name} done (${((now - started) / 1000).toFixed(0)} s)`);
}
function say(line: string): void {
  process.stderr.write(`[chaos] ${line}\n`);
}
function remaining(): number {
  return DEADLINE - Date.now();
}

interface Summary {
  objects: Array<{ system: string; object: string; pulled: number; written: number; failed: number }>;
  unreachable: unknown[];
}

const tmp = mkdtempSync(join(tmpdir(), 'tandem-chaos-'));
const cleanups: Array<() => Promise<void> | void> = [];
let exitCode: number;

async function main(): Promise<number> {
  say(`persons ${PERSONS}, ${WORKERS} workers, ${DURATION_S} s of chaos, data in ${tmp}`);
  const redis = await ChaosRedis.start(join(tmp, 'redis'));
  cleanups.push(() => redis.stop());
  const pgStart = await ChaosPostgres.start(join(tmp, 'pg'));
  const pgServer = pgStart.pg;
  if (pgServer !== undefined) cleanups.push(() => pgServer.stop());
  else say(`no private PostgreSQL (${pgStart.reason}); falling back to PGlite with ONE worker process`);
  const workerCount = pgServer === undefined ? 1 : WORKERS;
  const dataDir = join(tmp, 'data');
  const view: ViewSource =
    pgServer === undefined ? { kind: 'pglite', dataDir } : { kind: 'postgres', url: pgServer.url };

  const worldFile = join(tmp, 'world.json');
  writeFileSync(worldFile, JSON.stringify(generateWorld({ seed: args.seed ?? 'chaos', persons: PERSONS })));
  const { sandbox, info } = await startSandboxProcess(
    [
      '--seed',
      worldFile,
      '--hubspot-port',
      '0',
      '--salesforce-port',
      '0',
      '--hubspot-tier',
      'enterprise',
      '--fault-seed',
      args.seed ?? 'chaos',
    ],
    120_000,
  );
  cleanups.push(() => sandbox.stop());
  phase('services started');

  const env: Record<string, string> = {
    ...sandboxEnv(info),
    REDIS_URL: redis.url,
    TANDEM_REDIS_PREFIX: PREFIX,
    TANDEM_DATA_DIR: dataDir,
    TANDEM_SCHEDULE_PERSONS: '3s',
    TANDEM_SCHEDULE_COMPANIES: '10s',
    TANDEM_SCHEDULE_DEALS: '10s',
    TANDEM_MAPPING: resolve('mappings/default.yaml'),
    TANDEM_SALESFORCE_WINDOW_LAG: `${WINDOW_LAG_MS}ms`,
    LOG_LEVEL: 'warn',
    ...(pgServer === undefined ? {} : { DATABASE_URL: pgServer.url }),
  };
  const crms = await connectCrms(info);
  const fields = personFields('mappings/default.yaml');
  const before = emailCounts({
    contacts: await allContacts(crms, ['email']),
    leads: await allRows(crms, 'SELECT Id, Email, IsConverted FROM Lead'),
    sfContacts: await allRows(crms, 'SELECT Id, Email FROM Contact'),
  });

  // --- workers ------------------------------------------------------------------------------------------
  const workers: TandemProcess[] = [];
  let kills = 0;
  let crashes = 0;
  let spawned = 0;
  const startWorker = async (slot: number): Promise<void> => {
    spawned += 1;
    const w = new TandemProcess(
      `worker-${slot}-${spawned}`,
      ['worker', '--lock-duration', '8000', '--stalled-interval', '4000'],
      env,
    );
    workers[slot] = w;
    await w.waitFor(/Tandem worker \d+ running/, 60_000);
  };
  cleanups.push(async () => {
    await Promise.all(workers.map((w) => w.stop(20_000)));
  });
  const reviveDead = async (): Promise<void> => {
    for (let slot = 0; slot < workerCount; slot += 1) {
      const w = workers[slot];
      if (w !== undefined && !w.alive) {
        if (w.child.signalCode !== 'SIGKILL') {
          crashes += 1;
          say(
            `${w.name} exited by itself (${w.child.exitCode ?? w.child.signalCode}): ${w.output().slice(-600)}`,
          );
        }
        await startWorker(slot).catch((e: unknown) => say(`restart failed: ${String(e)}`));
      }
    }
  };
  await Promise.all(Array.from({ length: workerCount }, (_, slot) => startWorker(slot)));

  const syncOnce = async (label: string): Promise<{ written: number; failed: number; ok: boolean }> => {
    const run = await runTandem(
      ['sync', '--once', '--json', '--workers', 'never'],
      env,
      Math.min(CYCLE_TIMEOUT_MS, Math.max(5_000, remaining())),
    );
    const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
    if (line === undefined) {
      say(`${label}: sync --once gave no summary (exit ${run.code}): ${run.stderr.slice(-800)}`);
      return { written: -1, failed: -1, ok: false };
    }
    const summary = JSON.parse(line) as Summary;
    const written = summary.objects.reduce((n, o) => n + o.written, 0);
    const failed = summary.objects.reduce((n, o) => n + o.failed, 0);
    say(`${label}: written ${written}, failed ${failed}, exit ${run.code}`);
    return { written, failed, ok: summary.unreachable.length === 0 };
  };

  // --- baseline: the world synced once, before any chaos --------------------------------------------------
  for (let cycle = 1; cycle <= (short ? 1 : 3); cycle += 1) {
    const r = await syncOnce(`baseline cycle ${cycle}`);
    if (r.ok && r.written === 0) break;
  }
  const baselineFailed = await failedJobs(redis.url, PREFIX);
  const baselineKeys = new Set(baselineFailed.map(failureKey));
  const baselineIds = new Set(baselineFailed.flatMap(idsOf));
  phase('baseline sync');

  const withWorkersStopped = async <T>(work: () => Promise<T>): Promise<T> => {
    if (pgServer !== undefined) return work();
    await Promise.all(workers.map((w) => w.stop()));
    try {
      return await work();
    } finally {
      await Promise.all(workers.map((_, slot) => startWorker(slot)));
    }
  };
  const baselineState = await withWorkersStopped(() => readWorldState(crms, view, fields));
  const baselineDisagreeing = new Set(
    disagreements(baselineState, fields, () => false).problems.map((d) => d.unifiedId),
  );
  const touchesBaseline = (p: LinkedPerson): boolean =>
    baselineDisagreeing.has(p.unifiedId) ||
    baselineIds.has(p.unifiedId) ||
    baselineIds.has(p.hubspot.id) ||
    baselineIds.has(p.salesforce.Id);
  const clean = baselineState.linked.filter((p) => !touchesBaseline(p));
  const random = mulberry32(7);
  const shuffled = [...clean].sort(() => random() - 0.5);

  // --- planted permanent errors --------------------------------------------------------------------------
  const planted: Planted[] = [];
  const tooLong = shuffled.slice(0, PLANTED_PER_KIND);
  const unmapped = shuffled
    .filter((p) => p.sfObject === 'Lead')
    .slice(PLANTED_PER_KIND, 2 * PLANTED_PER_KIND);
  for (const p of tooLong) {
    const value = `Chief ${'Chaos '.repeat(49)}`.trim(); // 300 characters; Title holds 128
    await updateContact(crms, p.hubspot.id, { jobtitle: value });
    planted.push({
      person: p,
      code: /TOO_LONG/,
      field: /Title/,
      value: value.slice(0, 40),
      what: 'over-long Title',
    });
  }
  for (const p of unmapped) {
    const value = 'Chaos - Unmapped Status';
    await updateSalesforce(crms, 'Lead', p.salesforce.Id, { Status: value });
    planted.push({
      person: p,
      code: /UNMAPPED/,
      field: /lead_status|Status/,
      value,
      what: 'unmapped Lead Status',
    });
  }
  const lastPlant = Date.now();
  const plantedIds = new Set(planted.map((x) => x.person.unifiedId));
  const targets = shuffled.filter((p) => !plantedIds.has(p.unifiedId)).slice(0, Math.max(50, PERSONS / 10));
  phase(`planted ${planted.length} bad records; ${targets.length} edit targets`);

  // --- chaos ---------------------------------------------------------------------------------------------
  await controlBoth(info, 'faults', { spec: FAULTS });
  const scheduled = await runTandem(['scheduler'], env, 60_000);
  if (scheduled.code !== 0) say(`scheduler exited ${scheduled.code}: ${scheduled.stderr}`);
  const log = new EditLog();
  const stopEdits = new AbortController();
  const salesforceUntil = Date.now() + DURATION_S * 1000 * SF_EDIT_SHARE;
  const editing = runEditors(
    { crms, targets, rate: EDIT_RATE, lanes: 6, log, random: mulberry32(11), salesforceUntil },
    stopEdits.signal,
  );
  const chaosEnd = Date.now() + DURATION_S * 1000;
  let redisRestarted = false;
  let pgRestarted = false;
  let nextKill = Date.now() + KILL_EVERY_S * 1000;
  for (let tick = 0; tick < 100_000 && Date.now() < chaosEnd && remaining() > 60_000; tick += 1) {
    const elapsed = 1 - (chaosEnd - Date.now()) / (DURATION_S * 1000);
    if (!redisRestarted && elapsed > 0.33) {
      redisRestarted = true;
      say('restarting Redis');
      await redis.restart();
    }
    if (!pgRestarted && pgServer !== undefined && elapsed > 0.66) {
      pgRestarted = true;
      say('restarting PostgreSQL');
      await pgServer.restart();
    }
    if (Date.now() >= nextKill) {
      const slot = Math.floor(random() * workerCount);
      const victim = workers[slot];
      if (victim?.alive === true) {
        victim.kill('SIGKILL');
        kills += 1;
      }
      nextKill = Date.now() + KILL_EVERY_S * 1000 * (0.5 + random());
    }
    await sleep(500);
    await reviveDead();
  }
  phase(`chaos (${kills} kills)`);

  // --- converge ------------------------------------------------------------------------------------------
  stopEdits.abort();
  await editing;
  await controlBoth(info, 'faults', { spec: '' });
  // Salesforce changes are read once older than the connector's window lag, and a write of Tandem's to a
  // record moves its stamp (and so an edit made there before) forward: the scheduler keeps syncing (faults
  // off) until the last change to any Lead or Contact, people's or Tandem's, is that old; then the final
  // cycles run.
  for (let i = 0; i < 600 && remaining() > 30_000; i += 1) {
    const latest = Math.max(
      log.lastSalesforceEdit,
      lastPlant,
      await latestSalesforceChange(crms, ['Lead', 'Contact']),
    );
    if (Date.now() >= latest + WINDOW_LAG_MS + 2_000) break;
    await sleep(1_000);
    await reviveDead();
  }
  await runTandem(['scheduler', '--remove'], env, 60_000);
  for (let i = 0; i < 600 && remaining() > 30_000; i += 1) {
    if ((await pendingJobs(redis.url, PREFIX)) === 0) break;
    await sleep(1_000);
    await reviveDead();
  }
  let converged = false;
  let cycles = 0;
  for (let cycle = 1; cycle <= 6 && remaining() > 15_000; cycle += 1) {
    cycles = cycle;
    const r = await syncOnce(`converge cycle ${cycle}`);
    if (r.ok && r.written === 0 && cycle >= 2) {
      converged = true;
      break;
    }
  }
  phase(`converged in ${cycles} cycles`);
  await Promise.all(workers.map((w) => w.stop(20_000)));

  // --- verify --------------------------------------------------------------------------------------------
  const state = await readWorldState(crms, view, fields);
  const agreement = disagreements(state, fields, (id) => plantedIds.has(id) || baselineDisagreeing.has(id));
  const after = emailCounts(state);
  const dupHubspot = newDuplicates(before.hubspot, after.hubspot);
  const dupSalesforce = newDuplicates(before.salesforce, after.salesforce);
  const clashes = crossReferenceClashes(state);

  const { expected, ambiguous } = log.expectations();
  const byId = new Map(state.linked.map((p) => [p.unifiedId, p]));
  const lost: string[] = [];
  const sfField = {
    job_title: 'Title',
    first_name: 'FirstName',
    country: { Lead: 'Country', Contact: 'MailingCountry' },
  };
  const hsProp = { job_title: 'jobtitle', first_name: 'firstname', country: 'country' };
  for (const e of expected) {
    const p = byId.get(e.unifiedId);
    const f = fields.find((x) => x.name === e.field);
    if (p === undefined || f === undefined) {
      lost.push(`${e.unifiedId} ${e.field}: person no longer linked`);
      continue;
    }
    const sfName = e.field === 'country' ? sfField.country[p.sfObject] : sfField[e.field];
    const want = normalise(f, e.value);
    const hs = normalise(f, p.hubspot.properties[hsProp[e.field]]);
    const sf = normalise(f, p.salesforce[sfName]);
    const un = normalise(f, p.unified.fields[e.field]);
    if (hs !== want || sf !== want || un !== want) {
      lost.push(
        `${e.unifiedId} ${e.field}: edited to "${want}", HubSpot "${hs}", view "${un}", Salesforce "${sf}"` +
          ` (Salesforce ${p.sfObject} ${p.salesforce.Id} SystemModstamp ${String(p.salesforce['SystemModstamp'])}, HubSpot ${p.hubspot.id} modified ${hubspotModified(p, started)}, run began ${new Date(started).toISOString()})` +
          (await fieldHistory(view, log, e, [hsProp[e.field], sfName], started)),
      );
    }
  }

  const failed = await failedJobs(redis.url, PREFIX);
  const unexpected: FailedJob[] = [];
  const plantedFound = new Set<Planted>();
  let baselineRepeats = 0;
  for (const job of failed) {
    const match = planted.find((x) => matchesPlanted(x, job));
    if (match !== undefined) {
      plantedFound.add(match);
      continue;
    }
    if (baselineKeys.has(failureKey(job))) {
      baselineRepeats += 1;
      continue;
    }
    unexpected.push(job);
  }
  const plantedMissing = planted.filter((x) => !plantedFound.has(x));
  const stats = await sandboxStats(info);

  // --- report --------------------------------------------------------------------------------------------
  const rows: Array<[string, number | string, boolean]> = [
    ['persons in world (HubSpot contacts at start)', before.hubspotRecords, true],
    ['linked persons checked', agreement.checked, agreement.checked > 0],
    ['fields compared', agreement.fieldsCompared, true],
    [
      'disagreements (HubSpot / view / Salesforce)',
      agreement.problems.length,
      agreement.problems.length === 0,
    ],
    ['persons skipped: disagreed before the chaos', baselineDisagreeing.size, true],
    ['edits made', log.edits.length, log.edits.length > 0],
    ['edits asserted (final value per field)', expected.length, true],
    ['edits not asserted: races under 1.5 s', ambiguous, true],
    ['edits not asserted: retries ran out', log.failedEdits, true],
    ['lost updates', lost.length, lost.length === 0],
    ['duplicates created in HubSpot', dupHubspot.length, dupHubspot.length === 0],
    ['duplicates created in Salesforce', dupSalesforce.length, dupSalesforce.length === 0],
    ['cross-reference clashes', clashes.length, clashes.length === 0],
    ['planted permanent errors', planted.length, true],
    ['planted errors failed with their reason', plantedFound.size, plantedMissing.length === 0],
    ['failed jobs', failed.length, true],
    ['failed jobs from before the chaos (world mess)', baselineFailed.length, true],
    ['failed jobs repeating a pre-chaos failure', baselineRepeats, true],
    ['unexpected failed jobs', unexpected.length, unexpected.length === 0],
    ['worker SIGKILLs', kills, kills > 0],
    ['worker exits not caused by a kill', crashes, crashes === 0],
    ['Redis restarts', redis.restarts, redis.restarts === 1],
    [
      'PostgreSQL restarts',
      pgServer?.restarts ?? 'n/a (PGlite)',
      pgServer === undefined || pgServer.restarts === 1,
    ],
    ['injected 5xx', stats.serverError, true],
    ['injected 429', stats.rateLimited, true],
    ['injected timeouts', stats.timeout, true],
    ['converged (a cycle wrote nothing)', converged ? 'yes' : 'no', converged],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const lines = ['', `${'check'.padEnd(width)}  ${'count'.padStart(8)}  result`];
  for (const [name, value, ok] of rows)
    lines.push(`${name.padEnd(width)}  ${String(value).padStart(8)}  ${ok ? 'ok' : 'VIOLATION'}`);
  lines.push('', `phases: ${phases.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(0)}s`).join(', ')}`);
  const details: string[] = [];
  const show = (title: string, items: string[]): void => {
    if (items.length === 0) return;
    details.push(`${title} (${items.length}):`, ...items.slice(0, 15).map((x) => `  ${x}`));
    if (items.length > 15) details.push(`  … and ${items.length - 15} more`);
  };
  const disagreementLines: string[] = [];
  for (const [i, d] of agreement.problems.entries()) {
    const p = byId.get(d.unifiedId);
    const f = fields.find((x) => x.name === d.field);
    const names = [f?.hubspot, p === undefined ? undefined : f?.salesforce[p.sfObject]].filter(
      (x): x is string => x !== undefined,
    );
    disagreementLines.push(
      `${d.unifiedId} ${d.field}: HubSpot "${d.hubspot}", view "${d.unified}", Salesforce "${d.salesforce}"` +
        ` (stored: ${JSON.stringify(d.raw.hubspot)} / ${JSON.stringify(d.raw.unified)} / ${JSON.stringify(d.raw.salesforce)})` +
        (p === undefined ? '' : ` (HubSpot ${p.hubspot.id} modified ${hubspotModified(p, started)})`) +
        (i < 15 ? await fieldHistory(view, log, d, names, started) : ''),
    );
  }
  show('Disagreements', disagreementLines);
  show('Lost updates', lost);
  show('Duplicates created in HubSpot', dupHubspot);
  show('Duplicates created in Salesforce', dupSalesforce);
  show('Cross-reference clashes', clashes);
  show(
    'Planted errors without their failed job',
    plantedMissing.map(
      (x) => `${x.what}: ${x.person.unifiedId} (${x.person.hubspot.id} / ${x.person.salesforce.Id})`,
    ),
  );
  show(
    'Planted errors and their reasons',
    [...plantedFound].map((x) => {
      const job = failed.find((j) => matchesPlanted(x, j));
      return `${x.what}: ${job?.failure?.code ?? ''} ${job?.failure?.field ?? ''}: ${job?.failure?.reason ?? job?.reason ?? ''}`;
    }),
  );
  show(
    'Unexpected failed jobs',
    unexpected.map(
      (j) =>
        `${j.queue} ${j.id}: ${j.failure?.code ?? '(no FailureDetail)'} ${j.failure?.recordId ?? ''} ${j.failure?.reason ?? j.reason}`,
    ),
  );
  show(
    'Failures from before the chaos, by code',
    Object.entries(countBy(baselineFailed.map((j) => j.failure?.code ?? j.reason))).map(
      ([c, n]) => `${c}: ${n}`,
    ),
  );
  process.stdout.write(`${[...lines, '', ...details].join('\n')}\n`);
  const violations = rows.filter((r) => !r[2]).map((r) => r[0]);
  const result = {
    violations,
    counts: Object.fromEntries(rows.map(([name, value]) => [name, value])),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  process.stdout.write(`CHAOS-RESULT ${JSON.stringify(result)}\n`);
  if (violations.length > 0)
    process.stdout.write(`\n${violations.length} violation(s): ${violations.join('; ')}\n`);
  else process.stdout.write('\nNo violations.\n');
  return violations.length === 0 ? 0 : 1;
}

/**
 * The edits made to a lost or disagreeing field, Tandem's writes of it and the last snapshots it pulled, in
 * time order (seconds since the run began).
 */
async function fieldHistory(
  view: ViewSource,
  log: EditLog,
  e: { unifiedId: string; field: string },
  fieldNames: string[],
  started: number,
): Promise<string> {
  const at = (ms: number): string => `${((ms - started) / 1000).toFixed(1)}s`;
  const lines = log.edits
    .filter((x) => x.unifiedId === e.unifiedId && x.field === e.field)
    .map((x) => ({
      t: x.startedAt,
      text: `${at(x.startedAt)}–${at(x.answeredAt)} edit ${x.system} "${x.value}"`,
    }));
  const quoted = fieldNames.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
  // No field name (a unified field this person's records do not map): the written outcomes alone.
  const fieldTest = quoted === '' ? 'false' : `field in (${quoted})`;
  const writes = await queryView<{
    system: string;
    record_id: string;
    field: string;
    before: unknown;
    after: unknown;
    outcome: string;
    job_id: string | null;
    at: Date | string;
  }>(
    view,
    `select system, record_id, field, before, after, outcome, job_id, at from tandem.write_audit where unified_id = '${e.unifiedId.replace(/'/g, "''")}' and (${fieldTest} or outcome = 'written') order by at`,
  );
  for (const w of writes) {
    const t = new Date(w.at).getTime();
    lines.push({
      t,
      text: `${at(t)} Tandem ${w.outcome} ${w.system} ${w.record_id}.${w.field} ${JSON.stringify(w.before)} → ${JSON.stringify(w.after)} (job ${w.job_id ?? '?'})`,
    });
  }
  const snapshots = await queryView<{
    system: string;
    record_id: string;
    modified_at: Date | string;
    pulled_at: Date | string;
    properties: Record<string, unknown>;
  }>(
    view,
    `select s.system, s.record_id, s.modified_at, s.pulled_at, s.properties from tandem.source_records s join tandem.record_links l on l.system = s.system and l.record_id = s.record_id where l.unified_id = '${e.unifiedId.replace(/'/g, "''")}'`,
  );
  for (const r of snapshots) {
    const t = new Date(r.pulled_at).getTime();
    const values = fieldNames
      .filter((f) => f in r.properties)
      .map((f) => `${f}=${JSON.stringify(r.properties[f])}`)
      .join(' ');
    lines.push({
      t,
      text: `${at(t)} last pulled ${r.system} ${r.record_id} (modified ${at(new Date(r.modified_at).getTime())}): ${values}`,
    });
  }
  lines.sort((a, b) => a.t - b.t);
  return lines.map((l) => `\n      ${l.text}`).join('');
}

/** The HubSpot record's modification time as the verifier read it, in seconds since the run began. */
function hubspotModified(p: LinkedPerson, started: number): string {
  const raw = p.hubspot.properties['lastmodifieddate'];
  const ms = raw === undefined || raw === null ? NaN : /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isNaN(ms) ? 'unknown' : `${((ms - started) / 1000).toFixed(1)}s`;
}

interface Planted {
  person: LinkedPerson;
  code: RegExp;
  field: RegExp;
  value: string;
  what: string;
}

function idsOf(job: FailedJob): string[] {
  const f = job.failure;
  return [f?.recordId, f?.unifiedId].filter((x): x is string => x !== undefined);
}

function failureKey(job: FailedJob): string {
  const f = job.failure;
  if (f === undefined) return `no-detail|${job.queue}|${job.reason}`;
  return `${f.code}|${f.system ?? ''}|${f.object ?? ''}|${f.recordId ?? f.unifiedId ?? ''}`;
}

function matchesPlanted(x: Planted, job: FailedJob): boolean {
  const f = job.failure;
  if (f === undefined || f.kind !== 'permanent' || !x.code.test(f.code)) return false;
  const ids = new Set([x.person.unifiedId, x.person.hubspot.id, x.person.salesforce.Id]);
  const mine = idsOf(job).some((id) => ids.has(id));
  const names = x.field.test(f.field ?? '') || x.field.test(f.reason);
  return mine && names && f.reason.length > 0;
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

async function sandboxStats(
  info: SandboxInfo,
): Promise<{ serverError: number; rateLimited: number; timeout: number }> {
  const total = { serverError: 0, rateLimited: 0, timeout: 0 };
  for (const base of [info.hubspot.baseUrl, info.salesforce.loginUrl]) {
    try {
      const r = await fetch(`${base}/__sandbox/stats`, { signal: AbortSignal.timeout(10_000) });
      const s = (await r.json()) as { faults?: Record<string, number> };
      total.serverError += s.faults?.['5xx'] ?? 0;
      total.rateLimited += s.faults?.['429'] ?? 0;
      total.timeout += s.faults?.['timeout'] ?? 0;
    } catch {
      // stats are informative only
    }
  }
  return total;
}

const hardStop = setTimeout(
  () => {
    say('hard deadline reached; stopping');
    void shutdown(1);
  },
  Math.max(10_000, DEADLINE - Date.now() + 20_000),
);
hardStop.unref();

async function shutdown(code: number): Promise<never> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      say(`cleanup: ${String(error)}`);
    }
  }
  if (args.keep !== true) rmSync(tmp, { recursive: true, force: true });
  else say(`kept ${tmp}`);
  process.exit(code);
}

try {
  exitCode = await main();
} catch (error) {
  say(`aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
}
await shutdown(exitCode);
