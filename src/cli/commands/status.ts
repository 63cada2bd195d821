import type { Command } from 'commander';
import { buildOverview, type SyncStatusRow } from '../../dashboard/overview.js';
import { QueueBoard, type QueueDepth } from '../../dashboard/queues.js';
import { configOrUsage, openQueueClients } from '../../queues/cli-support.js';
import { CustomerView } from '../../store/customer-view.js';
import { openDatabase } from '../../store/database.js';

interface StatusOptions {
  json?: boolean;
}

interface StatusRow extends SyncStatusRow {
  failedJobs: number;
}

/**
 * `tandem status`: per system and object the last successful sync, checkpoint, lag, records over 24 hours
 * (sync runs from the customer view), the failure rate of the jobs about it that finished in 24 hours
 * (BullMQ), checkpoints from Redis — the dashboard's overview — failed jobs waiting for a replay, and the
 * queues' depths.
 */
async function statusCommand(options: StatusOptions): Promise<void> {
  const config = configOrUsage();
  const clients = await openQueueClients(config);
  let database: Awaited<ReturnType<typeof openDatabase>> | undefined;
  try {
    let note: string | undefined;
    try {
      database = await openDatabase({
        databaseUrl: config.database.kind === 'postgres' ? config.database.url : undefined,
        dataDir: config.dataDir,
      });
    } catch (error) {
      note = `customer view unavailable (${error instanceof Error ? error.message : String(error)}): sync runs not shown`;
    }
    const empty = { syncRuns: async () => [] } as unknown as CustomerView;
    const overview = await buildOverview({
      customerView: database === undefined ? empty : new CustomerView(database.db),
      redis: clients.redis,
      config,
      now: new Date(),
    });
    const board = new QueueBoard({
      queues: Object.values(clients.queues),
      redis: clients.redis,
      prefix: config.redis.prefix,
      links: { hubspotBaseUrl: config.hubspot.baseUrl },
      failedLimit: 100_000,
    });
    const [depths, failed] = await Promise.all([board.depths(), board.failedJobs()]);
    const rows: StatusRow[] = overview.syncs.map((row) => ({
      ...row,
      failedJobs: failed.filter((f) => f.system === row.system && f.object === row.object).length,
    }));
    if (options.json === true) {
      process.stdout.write(
        `${JSON.stringify({ objects: rows, queues: depths, failedJobs: failed.length, note })}\n`,
      );
      return;
    }
    process.stdout.write(`${formatStatus(rows, depths)}\n`);
    if (note !== undefined) process.stdout.write(`\n${note}\n`);
  } finally {
    await database?.close();
    await clients.close();
  }
}

function ago(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export function formatStatus(rows: readonly StatusRow[], depths: readonly QueueDepth[]): string {
  const header = ['object', 'last sync', 'lag', 'records 24h', 'failure rate', 'failed jobs', 'checkpoint'];
  const body = rows.map((r) => [
    `${r.system} ${r.object}`,
    r.lastSuccessAt ?? '—',
    ago(r.lagSeconds),
    String(r.recordsSynced24h),
    r.failureRate24h === null ? '—' : `${(r.failureRate24h * 100).toFixed(1)}%`,
    String(r.failedJobs),
    r.checkpoint === null ? '—' : r.checkpoint.slice(0, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const queueLines = depths.map(
    (d) =>
      `${d.queue.padEnd(11)} waiting ${d.waiting + d.prioritized}  active ${d.active}  delayed ${d.delayed}  failed ${d.failed}  completed ${d.completed}`,
  );
  return [line(header), ...body.map(line), '', 'Queues', ...queueLines].join('\n');
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show per object the last sync, checkpoint, lag, counts and failures, and the queues')
    .option('--json', 'print as one JSON object')
    .action(async (options: StatusOptions) => statusCommand(options));
}
