import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { createLogger } from '../../logging.js';
import type { PullMode } from '../../pipeline/contract.js';
import { concurrencyFrom, configOrUsage, openPipeline, openQueueClients } from '../../queues/cli-support.js';
import { runCycle, type CycleSummary } from '../../queues/cycle.js';
import { startWorkers, type WorkerSet } from '../../queues/runtime.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { parsePositiveInteger } from './sandbox.js';

interface SyncOptions {
  once?: boolean;
  json?: boolean;
  mode: PullMode;
  workers: 'auto' | 'always' | 'never';
  attempts?: number;
  pipelineModule?: string;
}

/** Exit code of a finished cycle: 3 when a system was unreachable, 1 when records failed, else 0. */
export function cycleExitCode(summary: CycleSummary): number {
  if (summary.unreachable.length > 0) return ExitCode.Unavailable;
  if (summary.failures.length > 0) return ExitCode.Problems;
  return ExitCode.Ok;
}

export function formatCycle(summary: CycleSummary): string {
  const header = ['object', 'pulled', 'reconciled', 'written', 'failed'];
  const rows = summary.objects.map((o) => [
    `${o.system} ${o.object}`,
    String(o.pulled),
    String(o.reconciled),
    String(o.written),
    String(o.failed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out = [line(header), ...rows.map(line)];
  if (summary.unreachable.length > 0) {
    out.push('', 'Unreachable:');
    for (const u of summary.unreachable) out.push(`  ${u.system} ${u.object}: ${u.reason} (${u.code})`);
  }
  if (summary.failures.length > 0) {
    out.push('', `${summary.failures.length} failed (replay with: tandem replay --code CODE):`);
    for (const f of summary.failures.slice(0, 50)) {
      const what = [f.system, f.object, f.recordId].filter((x) => x !== undefined).join(' ');
      out.push(`  ${f.code}  ${what}: ${f.reason}  [${f.queue} ${f.jobId}]`);
    }
    if (summary.failures.length > 50) out.push(`  … and ${summary.failures.length - 50} more`);
  }
  return out.join('\n');
}

async function syncCommand(options: SyncOptions): Promise<void> {
  if (options.once !== true) {
    throw new CliError(
      'tandem sync runs one cycle: pass --once (continuous sync is `tandem worker` plus `tandem scheduler`)',
      ExitCode.Usage,
    );
  }
  const config = configOrUsage();
  const log = createLogger(config);
  const clients = await openQueueClients(config, { attempts: options.attempts });
  let workers: WorkerSet | undefined;
  const pipeline = await openPipeline(config, { pipelineModule: options.pipelineModule, logger: log }).catch(
    async (error: unknown) => {
      await clients.close();
      throw error;
    },
  );
  let bar: cliProgress.SingleBar | undefined;
  try {
    const counts = await Promise.all(Object.values(clients.queues).map((q) => q.getWorkersCount()));
    const othersRunning = counts.every((n) => n > 0);
    if (options.workers === 'always' || (options.workers === 'auto' && !othersRunning)) {
      workers = await startWorkers({
        redisUrl: config.redis.url,
        redisPrefix: config.redis.prefix,
        pipeline,
        producers: clients.producers,
        log,
        concurrency: concurrencyFrom(config),
        reconcileBatch: config.workers.reconcileBatch,
      });
    } else if (!othersRunning) {
      throw new CliError('--workers never, but no `tandem worker` is running on every queue', ExitCode.Usage);
    }
    if (process.stderr.isTTY && options.json !== true) {
      bar = new cliProgress.SingleBar(
        { format: 'sync {bar} {value}/{total} jobs', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(pipeline.objects.length, 0);
    }
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    const summary = await runCycle({
      producers: clients.producers,
      objects: pipeline.objects,
      mode: options.mode,
      signal: stop.signal,
      onProgress: ({ finished, known }) => {
        bar?.setTotal(known);
        bar?.update(finished);
      },
    });
    process.off('SIGINT', onSignal);
    bar?.stop();
    bar = undefined;
    if (options.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`${formatCycle(summary)}\n`);
    process.exitCode = cycleExitCode(summary);
  } finally {
    bar?.stop();
    await workers?.close();
    await pipeline.close();
    await clients.close();
  }
}

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('Run one complete sync cycle through the queues and report per object')
    .option('--once', 'run one cycle and exit (0 all synced, 1 some records failed, 3 a system unreachable)')
    .option('--json', 'print the summary as one JSON object')
    .addOption(
      new Option('--mode <mode>', 'incremental, or backfill (everything again)')
        .choices(['incremental', 'backfill'])
        .default('incremental'),
    )
    .addOption(
      new Option('--workers <when>', 'run workers in this process: auto = unless workers are already running')
        .choices(['auto', 'always', 'never'])
        .default('auto'),
    )
    .option('--attempts <n>', 'attempts for transient errors (default 5)', parsePositiveInteger)
    .addOption(
      new Option('--pipeline-module <file>', 'use this SyncPipeline implementation (tests)').hideHelp(),
    )
    .action(async (options: SyncOptions) => syncCommand(options));
}
