import type { Logger } from '../src/logging.js';
import type { SyncPipeline } from '../src/pipeline/contract.js';
import type { Producers } from '../src/queues/producers.js';
import type { LeaseLocks, RedisKeys } from '../src/store/redis/index.js';

/** What the three processors need: the pipeline to call, producers to hand results on, locks. */
export interface WorkerDeps {
  pipeline: SyncPipeline;
  producers: Producers;
  locks: LeaseLocks;
  keys: RedisKeys;
  log: Logger;
  /** Refs per reconcile job a pull queues (`TANDEM_RECONCILE_BATCH`; default `DEFAULT_RECONCILE_BATCH`). */
  reconcileBatch?: number;
}
