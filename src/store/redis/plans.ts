import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** How long an entity's latest plan id is remembered: longer than any write waits in a queue. */
export const PLAN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The id of the latest plan made for each unified entity. Every reconcile stamps its writes with its own
 * plan id and records it here; write-back skips a write whose entity has been planned again since (the
 * newer plan saw the records at least as they are now and planned its own writes), so write-back jobs that
 * run out of order never put an older value over a newer one — a stage moving back to `sql` after
 * `opportunity` was written, say. An entity with no id here (expired, or Redis rebuilt) is not superseded.
 *
 * @example
 * await plans.record(['person:hubspot:1'], planId);
 * const [latest] = await plans.latest(['person:hubspot:1']);
 */
export class PlanVersions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async record(entityKeys: readonly string[], planId: string): Promise<void> {
    if (entityKeys.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of new Set(entityKeys)) pipeline.set(this.keys.plan(key), planId, 'EX', PLAN_TTL_SECONDS);
    await pipeline.exec();
  }

  /** The latest plan id per entity, in order (undefined when none is known). */
  async latest(entityKeys: readonly string[]): Promise<Array<string | undefined>> {
    if (entityKeys.length === 0) return [];
    const values = await this.redis.mget(...entityKeys.map((k) => this.keys.plan(k)));
    return values.map((v) => v ?? undefined);
  }
}
