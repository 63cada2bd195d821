import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A small lease lock: `SET key token PX ttl NX` to take it, compare-and-delete (Lua) to release it, so a
 * holder whose lease expired can never release the next holder's lock.
 *
 * Used for single-holder work such as an object's pull (scheduled pulls have BullMQ's own job ids). Two
 * reconciles of one person are ordered by `PlanVersions` instead (tickets and claims).
 */

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class LockBusyError extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} is held by another worker`);
    this.name = 'LockBusyError';
  }
}

/** The lease ran out before the work finished: someone else may have taken the lock meanwhile. */
export class LockLostError extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} expired before its holder released it`);
    this.name = 'LockLostError';
  }
}

export interface Lease {
  readonly key: string;
  readonly token: string;
  /** Pushes the expiry to `ttlMs` from now; false when the lease was already lost. */
  extend(ttlMs: number): Promise<boolean>;
}

export class LeaseLocks {
  constructor(private readonly redis: Redis) {}

  async acquire(key: string, ttlMs: number): Promise<Lease | undefined> {
    const token = randomUUID();
    const reply = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (reply !== 'OK') return undefined;
    return {
      key,
      token,
      extend: async (ms) => (await this.redis.eval(EXTEND, 1, key, token, String(ms))) === 1,
    };
  }

  /** True when this lease was still held and is now released. */
  async release(lease: Lease): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, lease.key, lease.token)) === 1;
  }

  /**
   * Runs `fn` holding the lock. Busy → `LockBusyError` at once (let the queue retry later); lease lost
   * while `fn` ran → `LockLostError` after it, so the job is retried (reconcile is idempotent).
   *
   * @example
   * await locks.withLock(keys.lock('pull:hubspot:contacts'), 30_000, () => pull());
   */
  async withLock<T>(key: string, ttlMs: number, fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = await this.acquire(key, ttlMs);
    if (lease === undefined) throw new LockBusyError(key);
    let result: T;
    try {
      result = await fn(lease);
    } catch (error) {
      await this.release(lease);
      throw error;
    }
    if (!(await this.release(lease))) throw new LockLostError(key);
    return result;
  }
}
