import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { LockBusyError } from './locks.js';

/** How long an entity's latest plan id is remembered: longer than any write waits in a queue. */
export const PLAN_TTL_SECONDS = 7 * 24 * 3600;
/** How long a claim holds its entities while their customer-view rows are written. */
const CLAIM_LEASE_MS = 60_000;
/** How long a claim waits for another reconcile to finish writing the same entity before giving up. */
const CLAIM_WAIT_MS = 5_000;

// KEYS: n plan keys, then their n lock keys. ARGV: ticket, planId, token, lease ms, plan TTL s.
// -1 when another claim holds one of the entities (nothing taken); else the 1-based indexes accepted.
const CLAIM = `
local n = #KEYS / 2
for i = 1, n do
  local holder = redis.call('get', KEYS[n + i])
  if holder and holder ~= ARGV[3] then return -1 end
end
local ticket = tonumber(ARGV[1])
local accepted = {}
for i = 1, n do
  local current = redis.call('get', KEYS[i])
  local held = 0
  if current then
    local sep = string.find(current, '|', 1, true)
    if sep then held = tonumber(string.sub(current, 1, sep - 1)) or 0 end
  end
  if held <= ticket then
    redis.call('set', KEYS[i], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[5])
    redis.call('set', KEYS[n + i], ARGV[3], 'PX', ARGV[4])
    accepted[#accepted + 1] = i
  end
end
return accepted`;

const RELEASE = `
local released = 0
for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) == ARGV[1] then released = released + redis.call('del', KEYS[i]) end
end
return released`;

/** What a reconcile holds between claiming its entities and having written their customer-view rows. */
export interface PlanClaim {
  /** The entities this reconcile's plan is the latest for; the others were planned from a later read. */
  accepted: Set<string>;
  release(): Promise<void>;
}

/**
 * The latest plan made for each unified entity, ordered by when its records were read. A reconcile takes a
 * ticket (`ticket()`, increasing) before it reads the records, and after planning claims its entities with
 * it: an entity already planned with a later ticket — by a reconcile that read after this one did — is not
 * taken, and this reconcile drops its result for it (the later plan saw at least what this one saw). Two
 * reconciles of one person in different batches therefore never leave the older read's plan, view rows or
 * writes in force, whichever finishes last.
 *
 * A claim also holds its entities until `release()` (after the view rows are written), so the rows of the
 * latest plan are the ones that stay; a claim meeting another one waits briefly, then fails with
 * `LockBusyError` (the job is retried a little later).
 *
 * Write-back skips a write whose entity has been planned again since (`latest`), so write-back jobs that run
 * out of order never put an older value over a newer one — a stage moving back to `sql` after `opportunity`
 * was written, say. An entity with no plan here (expired, or Redis rebuilt) is not superseded.
 *
 * @example
 * const ticket = await plans.ticket();            // before reading the records
 * const claim = await plans.claim(['person:hubspot:1'], planId, ticket);
 * try { writeViewRows(claim.accepted) } finally { await claim.release() }
 */
export class PlanVersions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: { waitMs?: number; leaseMs?: number } = {},
  ) {}

  async ticket(): Promise<number> {
    return this.redis.incr(this.keys.plan('~sequence'));
  }

  async claim(entityKeys: readonly string[], planId: string, ticket: number): Promise<PlanClaim> {
    const entities = [...new Set(entityKeys)];
    if (entities.length === 0) return { accepted: new Set(), release: async () => undefined };
    const token = randomUUID();
    const lockKeys = entities.map((k) => this.keys.plan(`~claim:${k}`));
    const keys = [...entities.map((k) => this.keys.plan(k)), ...lockKeys];
    const deadline = Date.now() + (this.options.waitMs ?? CLAIM_WAIT_MS);
    for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
      const reply = (await this.redis.eval(
        CLAIM,
        keys.length,
        ...keys,
        String(ticket),
        planId,
        token,
        String(this.options.leaseMs ?? CLAIM_LEASE_MS),
        String(PLAN_TTL_SECONDS),
      )) as number | number[];
      if (Array.isArray(reply)) {
        const accepted = new Set(reply.map((i) => entities[i - 1] as string));
        const held = lockKeys.filter((_, i) => accepted.has(entities[i] as string));
        return {
          accepted,
          release: async () => {
            if (held.length > 0) await this.redis.eval(RELEASE, held.length, ...held, token);
          },
        };
      }
      if (Date.now() >= deadline) throw new LockBusyError(this.keys.plan(`~claim:${entities[0] ?? ''}`));
      await sleep(pause);
    }
  }

  /** The latest plan id per entity, in order (undefined when none is known). */
  async latest(entityKeys: readonly string[]): Promise<Array<string | undefined>> {
    if (entityKeys.length === 0) return [];
    const values = await this.redis.mget(...entityKeys.map((k) => this.keys.plan(k)));
    return values.map((v) => (v === null ? undefined : v.slice(v.indexOf('|') + 1)));
  }
}
