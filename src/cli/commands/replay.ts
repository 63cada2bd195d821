import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { QueueBoard, ReplaySelectionError, type ReplaySelection } from '../../dashboard/queues.js';
import { MetricsPublisher } from '../../observability/metrics-publisher.js';
import { metrics } from '../../observability/metrics.js';
import { configOrUsage, openQueueClients } from '../../queues/cli-support.js';
import { ALL_QUEUES } from '../../queues/names.js';
import { RedisKeys } from '../../store/redis/keys.js';
import { CliError, ExitCode } from '../exit-codes.js';

interface ReplayOptions {
  queue?: string;
  code?: string;
  since?: string;
  until?: string;
  all?: boolean;
  json?: boolean;
  wait: boolean;
}

/**
 * `tandem replay`: puts failed jobs back on their queues (the same `job.retry()` the dashboard uses), waits
 * for them to finish unless `--no-wait`, and reports replayed / succeeded / failed. Exit 0 when every
 * replayed job succeeded, 1 when some failed again or could not be replayed, 2 when nothing was selected.
 */
async function replayCommand(options: ReplayOptions): Promise<void> {
  if (
    options.all !== true &&
    options.code === undefined &&
    options.since === undefined &&
    options.until === undefined &&
    options.queue === undefined
  ) {
    throw new CliError('choose what to replay: --code, --since/--until, --queue, or --all', ExitCode.Usage);
  }
  const config = configOrUsage();
  const clients = await openQueueClients(config);
  try {
    const queues = Object.values(clients.queues).filter(
      (q) => options.queue === undefined || q.name === options.queue,
    );
    if (queues.length === 0)
      throw new CliError(`--queue must be one of ${ALL_QUEUES.join(', ')}`, ExitCode.Usage);
    const board = new QueueBoard({
      queues,
      redis: clients.redis,
      prefix: config.redis.prefix,
      links: { hubspotBaseUrl: config.hubspot.baseUrl },
      failedLimit: 100_000,
    });
    let selection: ReplaySelection = {};
    if (options.code !== undefined) selection.code = options.code;
    if (options.since !== undefined) selection.from = options.since;
    if (options.until !== undefined) selection.to = options.until;
    if (selection.code === undefined && selection.from === undefined && selection.to === undefined) {
      // --all or --queue alone: every failed job of the chosen queues.
      const failed = await board.failedJobs();
      selection = { jobs: failed.map((j) => ({ queue: j.queue, id: j.id })) };
      if (failed.length === 0) {
        report(options, { replayed: 0, succeeded: 0, failed: 0, errors: [] });
        return;
      }
    }
    let status;
    try {
      status = await board.replay(selection, 'cli');
    } catch (error) {
      if (error instanceof ReplaySelectionError) throw new CliError(error.message, ExitCode.Usage);
      throw error;
    }
    for (const job of status.jobs) metrics.replays.inc({ queue: job.queue });
    // This process serves no /metrics: hand the count to the dashboard's through Redis.
    await new MetricsPublisher(clients.redis, new RedisKeys(config.redis.prefix)).flush();
    const bar =
      process.stderr.isTTY && options.json !== true && options.wait && status.jobs.length > 0
        ? new cliProgress.SingleBar(
            { format: 'replay {bar} {value}/{total}', stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    bar?.start(status.progress.total, 0);
    while (options.wait && status.state === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      status = (await board.replayStatus(status.id)) ?? status;
      bar?.update(status.progress.total - status.progress.pending);
    }
    bar?.stop();
    const failedAgain = status.jobStates.filter((j) => j.state === 'failed');
    report(options, {
      replayed: status.jobs.length,
      succeeded: status.progress.completed,
      failed: status.progress.failed,
      pending: status.progress.pending,
      errors: status.errors,
      failedJobs: failedAgain.map((j) => ({ queue: j.queue, id: j.id, reason: j.failedReason ?? '' })),
    });
    if (status.errors.length > 0 || status.progress.failed > 0) process.exitCode = ExitCode.Problems;
  } finally {
    await clients.close();
  }
}

function report(options: ReplayOptions, result: Record<string, unknown> & { replayed: number }): void {
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [
    `replayed ${result.replayed}, succeeded ${String(result['succeeded'])}, failed ${String(result['failed'])}`,
  ];
  for (const f of (result['failedJobs'] as
    Array<{ queue: string; id: string; reason: string }> | undefined) ?? []) {
    lines.push(`  failed again: ${f.queue} ${f.id}: ${f.reason}`);
  }
  for (const e of result['errors'] as Array<{ queue: string; id: string; error: string }>) {
    lines.push(`  not replayed: ${e.queue} ${e.id}: ${e.error}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('Retry failed jobs (by queue, error code, time window, or all) and report how they ended')
    .addOption(new Option('--queue <queue>', 'only this queue').choices([...ALL_QUEUES]))
    .option('--code <code>', 'only failures with this code (e.g. SALESFORCE_STRING_TOO_LONG)')
    .option('--since <time>', 'only jobs that failed at or after this ISO time')
    .option('--until <time>', 'only jobs that failed before this ISO time')
    .option('--all', 'every failed job')
    .option('--json', 'print the summary as JSON')
    .option('--no-wait', 'put the jobs back and exit without waiting for them')
    .action(async (options: ReplayOptions) => replayCommand(options));
}
