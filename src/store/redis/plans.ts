import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** How long an entity's latest plan id is remembered: longer than any write waits in a queue. */
export const PLAN_TTL_SECONDS = 7 * 24 * 3600;

// KEYS: the entities' plan keys. ARGV: ticket, planId, plan TTL s. Returns the 1-based indexes taken.
const CLAIM = `
local ticket = tonumber(ARGV[1])
local accepted = {}
for i = 1, #KEYS do
  local current = redis.call('get', KEYS[i])
  local held = 0
  if current then
    local sep = string.find(current, '|', 1, true)
    if sep then held = tonumber(string.sub(current, 1, sep - 1)) or 0 end
  end
  if held <= ticket then
    redis.call('set', KEYS[i], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
    accepted[#accepted + 1] = i
  end
end
return accepted`;

/**
 * The latest plan made for each unified entity, ordered by when its records were read. A reconcile takes a
 * ticket (`ticket()`, increasing) before it reads the records, and after planning claims its entities with
 * it in one atomic call: an entity already planned with a later ticket — by a reconcile that read after this
 * one did — is not taken, and this reconcile drops its result for it (the later plan saw at least what this
 * one saw; a record stored after that read queues a reconcile of its own, whose ticket is later still). So
 * two reconciles of one person in different batches never leave the older read's plan in force, whichever
 * finishes last. Claims never wait (holding entities while their view rows are written kept reconcile jobs
 * active for seconds); instead a reconcile checks `latest` after storing its view rows, and an entity
 * claimed meanwhile is reconciled once more (`ReconcileOutcome.reconcileAgain`), since the older read's rows
 * may have landed after the later read's.
 *
 * Write-back skips a write whose entity has been planned again since (`latest`), so write-back jobs that run
 * out of order never put an older value over a newer one — a stage moving back to `sql` after `opportunity`
 * was written, say. An entity with no plan here (expired, or Redis rebuilt) is not superseded.
 *
 * @example
 * const ticket = await plans.ticket();            // before reading the records
 * const mine = await plans.claim(['person:hubspot:1'], planId, ticket);
 */
export class PlanVersions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async ticket(): Promise<number> {
    return this.redis.incr(this.keys.plan('~sequence'));
  }

  /** The entities this plan is now the latest for; the others were planned from a later read. */
  async claim(entityKeys: readonly string[], planId: string, ticket: number): Promise<Set<string>> {
    const entities = [...new Set(entityKeys)];
    if (entities.length === 0) return new Set();
    const reply = (await this.redis.eval(
      CLAIM,
      entities.length,
      ...entities.map((k) => this.keys.plan(k)),
      String(ticket),
      planId,
      String(PLAN_TTL_SECONDS),
    )) as number[];
    return new Set(reply.map((i) => entities[i - 1] as string));
  }

  /** The latest plan id per entity, in order (undefined when none is known). */
  async latest(entityKeys: readonly string[]): Promise<Array<string | undefined>> {
    if (entityKeys.length === 0) return [];
    const values = await this.redis.mget(...entityKeys.map((k) => this.keys.plan(k)));
    return values.map((v) => (v === null ? undefined : v.slice(v.indexOf('|') + 1)));
  }
}
