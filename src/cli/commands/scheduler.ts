import { Option, type Command } from 'commander';
import { configOrUsage, openPipeline, openQueueClients } from '../../queues/cli-support.js';
import { removeSchedules, upsertSchedules } from '../../queues/scheduler.js';

interface SchedulerOptions {
  remove?: boolean;
  json?: boolean;
  pipelineModule?: string;
}

/**
 * `tandem scheduler`: upserts one BullMQ job scheduler per system and object from the configured schedules,
 * then exits. The schedulers live in Redis and running workers produce each next pull, so nothing needs to
 * stay up; run it again after changing `TANDEM_SCHEDULE_*`.
 */
async function schedulerCommand(options: SchedulerOptions): Promise<void> {
  const config = configOrUsage();
  const clients = await openQueueClients(config);
  const pipeline = await openPipeline(config, { pipelineModule: options.pipelineModule });
  try {
    if (options.remove === true) {
      const removed = await removeSchedules(clients.producers, pipeline.objects);
      process.stdout.write(
        options.json === true ? `${JSON.stringify({ removed })}\n` : `Removed ${removed} schedules\n`,
      );
      return;
    }
    const schedules = await upsertSchedules(clients.producers, pipeline.objects, config.schedules);
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify({ schedules })}\n`);
      return;
    }
    for (const s of schedules) {
      const when =
        s.every !== undefined ? `every ${Math.round(s.every / 1000)} s` : `cron "${s.pattern ?? ''}"`;
      process.stdout.write(`${s.system} ${s.object}: incremental pull ${when}\n`);
    }
    process.stdout.write('Schedules saved in Redis; running `tandem worker` processes carry them out.\n');
  } finally {
    await pipeline.close();
    await clients.close();
  }
}

export function registerSchedulerCommand(program: Command): void {
  program
    .command('scheduler')
    .description(
      'Save the incremental-pull schedules (TANDEM_SCHEDULE_*) as BullMQ job schedulers, then exit',
    )
    .option('--remove', 'remove the schedules instead')
    .option('--json', 'print what was saved as JSON')
    .addOption(
      new Option('--pipeline-module <file>', 'use this SyncPipeline implementation (tests)').hideHelp(),
    )
    .action(async (options: SchedulerOptions) => schedulerCommand(options));
}
