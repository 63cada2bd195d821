import type { Command } from 'commander';
import { formatPlanPreview } from '../../pipeline/preview.js';
import { previewMapping } from '../../pipeline/maintenance.js';
import { configOrUsage } from '../../queues/cli-support.js';
import { openForCli } from './pipeline-support.js';
import { parsePositiveInteger } from './sandbox.js';

interface PreviewOptions {
  limit: number;
  json?: boolean;
  mapping?: string;
}

/** `tandem mappings preview`: what the mapping would write, per record and field, writing nothing. */
async function previewCommand(options: PreviewOptions): Promise<void> {
  const config = configOrUsage();
  const pipeline = await openForCli(
    config,
    options.mapping === undefined ? {} : { mappingPath: options.mapping },
  );
  try {
    const result = await previewMapping(pipeline, { limit: options.limit });
    if (options.json === true) {
      process.stdout.write(
        `${JSON.stringify(
          {
            mappingVersion: pipeline.mappingVersion,
            sampled: result.sampled,
            writes: result.lines,
            failures: result.failures.map((f) => f.detail),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      process.stdout.write(
        `Mapping ${pipeline.mappingVersion}: ${result.sampled} records sampled, ${result.lines.length} field writes would be made (nothing was written)\n`,
      );
      process.stdout.write(formatPlanPreview(result.batches, result.failures));
    }
  } finally {
    await pipeline.close();
  }
}

/** Adds `preview` under `tandem mappings`. */
export function registerMappingsPreview(mappings: Command): void {
  mappings
    .command('preview')
    .description(
      'Dry run on real data: read the first N records of each object and print what would be written (before → after, and the rule), writing nothing',
    )
    .option('--limit <n>', 'records per object', parsePositiveInteger, 20)
    .option('--json', 'print the planned writes as JSON')
    .option('--mapping <file>', 'preview this mapping file instead of TANDEM_MAPPING')
    .action(previewCommand);
}
