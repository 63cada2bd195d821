import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { CliError, ExitCode } from '../cli/exit-codes.js';
import { ConfigError, loadConfig, type TandemConfig } from '../config/index.js';
import type { Logger } from '../logging.js';
import type { SyncPipeline } from '../pipeline/contract.js';
import { producerConnection } from './connections.js';
import { closeQueues, openQueues, Producers, type TandemQueues } from './producers.js';
import { QueueName } from './names.js';

/** Shared by the queue commands (`worker`, `sync`, `scheduler`, `status`, `replay`, `demo`). */

export function configOrUsage(): TandemConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.Usage);
    throw error;
  }
}

export interface PipelineSource {
  /**
   * A module exporting `openPipeline(config): Promise<SyncPipeline>` used instead of the real pipeline:
   * tests of the queue layer run `tandem worker` processes against their own implementation of the
   * interface (BullMQ and Redis stay real).
   */
  pipelineModule?: string | undefined;
  logger?: Logger;
}

/** The real pipeline (`openSyncPipeline`), or the one `--pipeline-module` names. */
export async function openPipeline(config: TandemConfig, source: PipelineSource = {}): Promise<SyncPipeline> {
  try {
    if (source.pipelineModule !== undefined) {
      const mod = (await import(pathToFileURL(resolve(source.pipelineModule)).href)) as {
        openPipeline?: (config: TandemConfig) => Promise<SyncPipeline>;
      };
      if (typeof mod.openPipeline !== 'function') {
        throw new CliError(`${source.pipelineModule} does not export openPipeline(config)`, ExitCode.Usage);
      }
      return await mod.openPipeline(config);
    }
    const { openSyncPipeline } = await import('../pipeline/index.js');
    return await openSyncPipeline(config, source.logger === undefined ? {} : { logger: source.logger });
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.Usage);
    throw new CliError(
      `cannot open the sync pipeline: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.Unavailable,
    );
  }
}

export interface QueueClients {
  redis: Redis;
  queues: TandemQueues;
  producers: Producers;
  close(): Promise<void>;
}

/** A producer connection (fails fast when Redis is down) and the three queues. */
export async function openQueueClients(
  config: TandemConfig,
  options: { attempts?: number | undefined } = {},
): Promise<QueueClients> {
  let redis: Redis;
  try {
    redis = await producerConnection(config.redis.url);
  } catch (error) {
    throw new CliError(
      `cannot reach Redis at ${config.redis.url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')}: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.Unavailable,
    );
  }
  redis.on('error', () => undefined);
  const queues = openQueues(redis, config.redis.prefix);
  const producers = new Producers(queues, {
    redisPrefix: config.redis.prefix,
    failedRetentionMs: config.workers.failedJobRetentionMs,
    ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
  });
  return {
    redis,
    queues,
    producers,
    async close() {
      await closeQueues(queues);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** `TANDEM_WORKER_CONCURRENCY` names the write-back queue `write`. */
export function concurrencyFrom(config: TandemConfig): Record<QueueName, number> {
  const c = config.workers.concurrency;
  return { [QueueName.Pull]: c.pull, [QueueName.Reconcile]: c.reconcile, [QueueName.WriteBack]: c.write };
}

export function parseQueueList(raw: string): QueueName[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const known = Object.values(QueueName) as string[];
  const bad = names.filter((n) => !known.includes(n));
  if (bad.length > 0 || names.length === 0) {
    throw new CliError(`--queues expects some of ${known.join(', ')}; got "${raw}"`, ExitCode.Usage);
  }
  return names as QueueName[];
}

/** `--concurrency 4` (every queue) or `pull=2,reconcile=4,write-back=2`. */
export function parseConcurrencyOption(
  raw: string,
  base: Record<QueueName, number>,
): Record<QueueName, number> {
  const single = Number(raw);
  if (Number.isInteger(single) && single > 0)
    return { pull: single, reconcile: single, 'write-back': single };
  const result = { ...base };
  for (const part of raw.split(',')) {
    const [name = '', count = ''] = part.split('=').map((s) => s.trim());
    const n = Number(count);
    const queue = (name === 'write' ? 'write-back' : name) as QueueName;
    if (!(queue in result) || !Number.isInteger(n) || n < 1) {
      throw new CliError(
        `--concurrency expects a whole number, or pull=2,reconcile=4,write-back=2; got "${raw}"`,
        ExitCode.Usage,
      );
    }
    result[queue] = n;
  }
  return result;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
