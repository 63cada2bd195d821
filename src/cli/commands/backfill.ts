import { InvalidArgumentError, type Command } from 'commander';
import type { EntityKind } from '../../pipeline/contract.js';
import { backfillMapping } from '../../pipeline/maintenance.js';
import { configOrUsage } from '../../queues/cli-support.js';
import { ExitCode } from '../exit-codes.js';
import { openForCli } from './pipeline-support.js';

function parseKind(value: string): EntityKind {
  if (value === 'person' || value === 'company' || value === 'deal') return value;
  throw new InvalidArgumentError('expected person, company or deal');
}

/** `tandem backfill`: re-applies the current mapping to records computed under another version. */
async function backfillCommand(options: { kind?: EntityKind; json?: boolean }): Promise<void> {
  const pipeline = await openForCli(configOrUsage());
  try {
    const summary = await backfillMapping(pipeline, options.kind === undefined ? {} : { kind: options.kind });
    if (options.json === true) {
      process.stdout.write(
        `${JSON.stringify({ ...summary, failures: summary.failures.map((f) => f.detail) }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `Mapping ${pipeline.mappingVersion}: ${summary.reconciled} records re-applied, ${summary.written} written (${summary.created} created), ${summary.failures.length} failed\n`,
      );
      for (const f of summary.failures.slice(0, 50)) {
        const d = f.detail;
        process.stdout.write(
          `  ${d.code}  ${[d.system, d.object, d.recordId].filter(Boolean).join(' ')}: ${d.reason}\n`,
        );
      }
    }
    if (summary.failures.length > 0) process.exitCode = ExitCode.Problems;
  } finally {
    await pipeline.close();
  }
}

export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description('Re-apply the current mapping to every record last computed with another mapping version')
    .option('--kind <kind>', 'only persons, companies or deals (person | company | deal)', parseKind)
    .option('--json', 'print the summary as JSON')
    .action(backfillCommand);
}
