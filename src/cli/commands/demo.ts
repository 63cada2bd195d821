import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError, type TandemConfig } from '../../config/index.js';
import { connectionsFrom } from '../../dashboard/connections.js';
import { createDashboard } from '../../dashboard/server.js';
import { createLogger } from '../../logging.js';
import type { SyncPipeline } from '../../pipeline/contract.js';
import type { CustomerView } from '../../store/customer-view.js';
import {
  concurrencyFrom,
  openPipeline,
  openQueueClients,
  untilSignal,
  type QueueClients,
} from '../../queues/cli-support.js';
import { runCycle } from '../../queues/cycle.js';
import { startWorkers, type WorkerSet } from '../../queues/runtime.js';
import { upsertSchedules } from '../../queues/scheduler.js';
import { ensureRedis, RedisUnavailableError, type EnsuredRedis } from '../../runtime/ensure-redis.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { formatCycle } from './sync.js';
import { parsePort, parsePositiveInteger } from './sandbox.js';

interface DemoOptions {
  dataDir?: string;
  persons: number;
  port: number;
  interval: string;
  redisPrefix: string;
  sync: boolean;
}

/**
 * `tandem demo`: everything on one machine, from nothing — Redis (`ensureRedis`: REDIS_URL, a local one, a
 * private redis-server, or Debian's installed as root), the customer view in PGlite under the data
 * directory (or DATABASE_URL), both CRM sandboxes with a demo world, in-process workers, the schedules
 * (every 30 s), the dashboard with a one-off admin token, and a first sync with progress. Ctrl-C stops
 * what it started, in reverse order, and nothing else.
 */
async function demoCommand(options: DemoOptions): Promise<void> {
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  // Only the demo asks whether REDIS_URL was given at all (the config fills in a default).
  const env = process.env;
  const dataDir = resolve(options.dataDir ?? env['TANDEM_DATA_DIR'] ?? '.tandem');
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => say(`while stopping: ${String(error)}`));
  };
  const stopped = untilSignal();
  try {
    let redis: EnsuredRedis;
    try {
      redis = await ensureRedis({ redisUrl: env['REDIS_URL'], dataDir, log: say, allowInstall: true });
    } catch (error) {
      if (error instanceof RedisUnavailableError) throw new CliError(error.message, ExitCode.Unavailable);
      throw error;
    }
    stops.push(() => redis.stop());

    say(`Starting the HubSpot and Salesforce sandboxes with a demo world of ${options.persons} persons…`);
    const sandbox: RunningSandbox = await startSandbox({
      seed: 'demo',
      persons: options.persons,
      hubspotPort: 0,
      salesforcePort: 0,
      dataDir: resolve(dataDir, 'sandbox'),
    });
    stops.push(() => sandbox.stop());
    const { hubspot, salesforce } = sandbox.credentials;
    say(`Sandboxes: HubSpot ${hubspot.baseUrl}, Salesforce ${salesforce.loginUrl}`);

    const adminToken = randomBytes(24).toString('base64url');
    let config: TandemConfig;
    try {
      config = loadConfig({
        ...env,
        REDIS_URL: redis.url,
        TANDEM_REDIS_PREFIX: options.redisPrefix,
        TANDEM_DATA_DIR: dataDir,
        HUBSPOT_BASE_URL: hubspot.baseUrl,
        HUBSPOT_ACCESS_TOKEN: hubspot.accessToken,
        HUBSPOT_TIER: hubspot.tier,
        // The sandbox's search index has no lag.
        TANDEM_HUBSPOT_SEARCH_LAG: '0s',
        SALESFORCE_LOGIN_URL: salesforce.loginUrl,
        SALESFORCE_INSTANCE_URL: salesforce.instanceUrl,
        SALESFORCE_API_VERSION: salesforce.apiVersion,
        SALESFORCE_AUTH_FLOW: 'client_credentials',
        SALESFORCE_CLIENT_ID: salesforce.clientId,
        SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
        TANDEM_SCHEDULE_PERSONS: options.interval,
        TANDEM_SCHEDULE_COMPANIES: options.interval,
        TANDEM_SCHEDULE_DEALS: options.interval,
        TANDEM_ADMIN_TOKEN: adminToken,
        TANDEM_DASHBOARD_HOST: '127.0.0.1',
        TANDEM_DASHBOARD_PORT: String(options.port === 0 ? 4280 : options.port), // 0 = any free port: listen() decides
      });
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.Usage);
      throw error;
    }
    const log = createLogger({
      ...config,
      log: { ...config.log, level: env['LOG_LEVEL'] === undefined ? 'warn' : config.log.level },
    });

    say(
      config.database.kind === 'postgres'
        ? 'Customer view: DATABASE_URL'
        : `Customer view: PGlite in ${dataDir}`,
    );
    const clients: QueueClients = await openQueueClients(config);
    stops.push(() => clients.close());
    const pipeline: SyncPipeline = await openPipeline(config, { logger: log });
    stops.push(() => pipeline.close());
    const workers: WorkerSet = await startWorkers({
      redisUrl: config.redis.url,
      redisPrefix: config.redis.prefix,
      pipeline,
      producers: clients.producers,
      log,
      concurrency: concurrencyFrom(config),
      reconcileBatch: config.workers.reconcileBatch,
    });
    stops.push(() => workers.close());
    await upsertSchedules(clients.producers, pipeline.objects, config.schedules);
    say(`Schedules: an incremental pull of every object every ${options.interval}`);

    const view = (pipeline as SyncPipeline & { view?: CustomerView }).view;
    if (view === undefined)
      throw new CliError('the pipeline has no customer view to show', ExitCode.Internal);
    const app: FastifyInstance = await createDashboard({
      config,
      redis: clients.redis,
      customerView: view,
      mapping: { text: await readFile(config.mappingPath, 'utf8'), file: config.mappingPath },
      // The same checks and live schema reads as `tandem dashboard`, against the sandboxes.
      connections: connectionsFrom(config),
      logger: log,
    });
    stops.push(() => app.close());
    const address = await app.listen({ host: '127.0.0.1', port: options.port });
    say(`Tandem dashboard: ${address}  (log in with admin token ${adminToken})`);

    if (options.sync) {
      say('First sync (later ones run on the schedule)…');
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: 'first sync {bar} {value}/{total} jobs', stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(pipeline.objects.length, 0);
      const abort = new AbortController();
      void stopped.then(() => abort.abort());
      const summary = await runCycle({
        producers: clients.producers,
        objects: pipeline.objects,
        mode: 'incremental',
        signal: abort.signal,
        onProgress: ({ finished, known }) => {
          bar?.setTotal(known);
          bar?.update(finished);
        },
      });
      bar?.stop();
      if (!abort.signal.aborted) process.stdout.write(`${formatCycle(summary)}\n`);
    }
    say(`Running. Dashboard ${address} — Ctrl-C stops everything the demo started.`);
    await stopped;
    say('Stopping…');
  } finally {
    await stopAll();
  }
  say('Demo stopped.');
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run everything locally: Redis, sandboxes with a demo world, workers, schedules, dashboard')
    .option('--data-dir <dir>', 'where the demo keeps its data (default TANDEM_DATA_DIR or .tandem)')
    .option('--persons <n>', 'persons in the demo world', parsePositiveInteger, 2_000)
    .option('--port <port>', 'dashboard port (0 = any free port)', parsePort, 4280)
    .option('--interval <duration>', 'how often each object is pulled', '30s')
    .option('--redis-prefix <prefix>', 'Redis key prefix for the demo', 'tandem-demo')
    .addOption(new Option('--no-sync', 'skip the first sync (the schedules still run)').hideHelp())
    .action(async (options: DemoOptions) => demoCommand(options));
}
