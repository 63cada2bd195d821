import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { RedisKeys } from './keys.js';

export class CorruptCheckpointError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`checkpoint ${key} holds an invalid value (${detail}); fix or delete the key to resync`);
    this.name = 'CorruptCheckpointError';
  }
}

/**
 * Where each (system, object) incremental sync stopped, as zod-validated JSON. A stored value that no
 * longer parses is an error naming the key: silently starting over would re-pull everything, and
 * silently skipping would lose changes.
 *
 * @example
 * const checkpoints = new CheckpointStore(redis, keys, HubSpotCheckpointSchema);
 * await checkpoints.save('hubspot', 'contacts', { phase: 'incremental', after: '2024-05-01T00:00:00Z' });
 */
export class CheckpointStore<T> {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly schema: z.ZodType<T>,
  ) {}

  async get(system: string, object: string): Promise<T | undefined> {
    const key = this.keys.checkpoint(system, object);
    const stored = await this.redis.get(key);
    if (stored === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored);
    } catch {
      throw new CorruptCheckpointError(key, 'not JSON');
    }
    const result = this.schema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new CorruptCheckpointError(
        key,
        issue === undefined ? 'schema mismatch' : `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
    }
    return result.data;
  }

  /** Validates before writing, so a bad checkpoint is refused here rather than found on the next run. */
  async save(system: string, object: string, value: T): Promise<void> {
    const key = this.keys.checkpoint(system, object);
    const result = this.schema.safeParse(value);
    if (!result.success) throw new CorruptCheckpointError(key, `refused to save: ${result.error.message}`);
    await this.redis.set(key, JSON.stringify(result.data));
  }

  async delete(system: string, object: string): Promise<void> {
    await this.redis.del(this.keys.checkpoint(system, object));
  }
}
