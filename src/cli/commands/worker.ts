import { Option, type Command } from 'commander';
import { createLogger } from '../../logging.js';
import {
  concurrencyFrom,
  configOrUsage,
  openPipeline,
  openQueueClients,
  parseConcurrencyOption,
  parseQueueList,
  untilSignal,
} from '../../queues/cli-support.js';
import { ALL_QUEUES } from '../../queues/names.js';
import { startWorkers } from '../../queues/runtime.js';
import { parsePositiveInteger } from './sandbox.js';

interface WorkerOptions {
  concurrency?: string;
  queues?: string;
  pipelineModule?: string;
  lockDuration?: number;
  stalledInterval?: number;
}

/**
 * `tandem worker`: runs the pull, reconcile and write-back processors until SIGTERM/SIGINT, then stops
 * taking jobs, lets the ones in flight finish and exits 0. Run as many as you like against one Redis.
 */
async function workerCommand(options: WorkerOptions): Promise<void> {
  const config = configOrUsage();
  const log = createLogger(config);
  const queues = options.queues === undefined ? [...ALL_QUEUES] : parseQueueList(options.queues);
  const concurrency =
    options.concurrency === undefined
      ? concurrencyFrom(config)
      : parseConcurrencyOption(options.concurrency, concurrencyFrom(config));
  const clients = await openQueueClients(config);
  const pipeline = await openPipeline(config, { pipelineModule: options.pipelineModule, logger: log });
  const workers = await startWorkers({
    redisUrl: config.redis.url,
    redisPrefix: config.redis.prefix,
    pipeline,
    producers: clients.producers,
    log,
    queues,
    concurrency,
    reconcileBatch: config.workers.reconcileBatch,
    ...(options.lockDuration === undefined ? {} : { lockDurationMs: options.lockDuration }),
    ...(options.stalledInterval === undefined ? {} : { stalledIntervalMs: options.stalledInterval }),
  });
  process.stderr.write(
    `Tandem worker ${process.pid} running ${queues.map((q) => `${q}×${concurrency[q]}`).join(', ')}; Ctrl-C drains and stops\n`,
  );
  const signal = await untilSignal();
  process.stderr.write(`${signal}: finishing jobs in flight…\n`);
  await workers.close();
  await pipeline.close();
  await clients.close();
  process.stderr.write('Tandem worker stopped\n');
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Run the sync workers (pull, reconcile, write-back) until SIGTERM/SIGINT')
    .option(
      '--concurrency <n|list>',
      'jobs at once: a number for every queue, or pull=2,reconcile=4,write-back=2 (default TANDEM_WORKER_CONCURRENCY)',
    )
    .option('--queues <list>', `queues to work on (default ${ALL_QUEUES.join(',')})`)
    .addOption(
      new Option('--pipeline-module <file>', 'use this SyncPipeline implementation (tests)').hideHelp(),
    )
    .addOption(
      new Option('--lock-duration <ms>', 'job lock duration').argParser(parsePositiveInteger).hideHelp(),
    )
    .addOption(
      new Option('--stalled-interval <ms>', 'stalled-job check interval')
        .argParser(parsePositiveInteger)
        .hideHelp(),
    )
    .action(async (options: WorkerOptions) => workerCommand(options));
}
