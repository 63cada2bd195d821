import { ConfigError } from '../../config/index.js';
import type { TandemConfig } from '../../config/index.js';
import { openSyncPipeline, type OpenSyncPipelineOptions } from '../../pipeline/open.js';
import type { SyncPipelineImpl } from '../../pipeline/pipeline.js';
import { CliError, ExitCode } from '../exit-codes.js';

/** The pipeline for the queue-less commands (preview, backfill, rebuild), with CLI-shaped errors. */
export async function openForCli(
  config: TandemConfig,
  options: OpenSyncPipelineOptions = {},
): Promise<SyncPipelineImpl> {
  try {
    return await openSyncPipeline(config, options);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.Usage);
    throw new CliError(
      `cannot open the sync pipeline: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.Unavailable,
    );
  }
}
