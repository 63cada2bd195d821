import type { Command } from 'commander';
import { rebuildView } from '../../pipeline/maintenance.js';
import { configOrUsage } from '../../queues/cli-support.js';
import { ExitCode } from '../exit-codes.js';
import { openForCli } from './pipeline-support.js';

/** `tandem rebuild`: the customer view recreated from both CRMs, writing to neither. */
async function rebuildCommand(options: { json?: boolean }): Promise<void> {
  const pipeline = await openForCli(configOrUsage());
  try {
    const summary = await rebuildView(pipeline);
    if (options.json === true) {
      process.stdout.write(
        `${JSON.stringify({ ...summary, failures: summary.failures.map((f) => f.detail) }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `Rebuilt from both CRMs: ${summary.pulled} records pulled, ${summary.reconciled} unified records saved, ${summary.failures.length} records with problems (nothing was written to either CRM)\n`,
      );
    }
    if (summary.failures.length > 0) process.exitCode = ExitCode.Problems;
  } finally {
    await pipeline.close();
  }
}

export function registerRebuildCommand(program: Command): void {
  program
    .command('rebuild')
    .description('Recreate the customer view from HubSpot and Salesforce without writing to either')
    .option('--json', 'print the summary as JSON')
    .action(rebuildCommand);
}
