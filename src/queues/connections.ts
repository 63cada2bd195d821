import { Redis } from 'ioredis';

/**
 * Redis connections as BullMQ's production guide asks for them
 * (docs/gitbook/guide/going-to-production.md):
 * - workers: `maxRetriesPerRequest: null`, so a blocking command waits through a Redis restart instead
 *   of throwing and stopping the worker's loop;
 * - producers (the CLI, the scheduler, the dashboard's replays): `enableOfflineQueue: false`, so adding a
 *   job while Redis is down fails at once instead of queueing in memory and hanging the command.
 */

export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** A producer connection, resolved once it is ready (offline commands would fail rather than wait). */
export async function producerConnection(url: string): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, lazyConnect: true });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}
