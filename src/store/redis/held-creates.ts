import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** A CRM record whose counterpart Tandem did not create yet (the other system's first read is not done). */
export interface HeldRecord {
  system: string;
  object: string;
  id: string;
}

const member = (r: HeldRecord): string => `${r.system}\t${r.object}\t${r.id}`;

/**
 * Records whose counterpart create waits for the target system's first full read of their kind, one Redis
 * set per (target system, kind). Reconcile adds to it; the pull that finishes that read reads the whole set,
 * reconciles the records again, now knowing every record of the system, then removes what it handed on.
 *
 * @example
 * await held.add('hubspot', 'person', [{ system: 'salesforce', object: 'Lead', id: '00Q…' }]);
 * const again = await held.members('hubspot', 'person');
 * // … queue their reconcile …
 * await held.remove('hubspot', 'person', again);
 */
export class HeldCreates {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async add(system: string, kind: string, records: readonly HeldRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.redis.sadd(this.keys.heldCreates(system, kind), ...records.map(member));
  }

  /** Every held record of (system, kind), sorted, so the reconcile batches are stable. */
  async members(system: string, kind: string): Promise<HeldRecord[]> {
    const members = await this.redis.smembers(this.keys.heldCreates(system, kind));
    return members.sort().flatMap((m) => {
      const [system, object, id] = m.split('\t');
      return system !== undefined && object !== undefined && id !== undefined ? [{ system, object, id }] : [];
    });
  }

  /** Removes records once they are on their way to reconcile. */
  async remove(system: string, kind: string, records: readonly HeldRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.redis.srem(this.keys.heldCreates(system, kind), ...records.map(member));
  }
}
