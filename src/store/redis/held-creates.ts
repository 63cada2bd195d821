import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** A CRM record whose counterpart Tandem did not create yet (the other system's first read is not done). */
export interface HeldRecord {
  system: string;
  object: string;
  id: string;
}

/**
 * Records whose counterpart create waits for the target system's first full read of their kind, one Redis
 * set per (target system, kind). Reconcile adds to it; the pull that finishes that read takes the whole set
 * at once (MULTI: SMEMBERS + DEL) and reconciles the records again, now knowing every record of the system.
 *
 * @example
 * await held.add('hubspot', 'person', [{ system: 'salesforce', object: 'Lead', id: '00Q…' }]);
 * const again = await held.take('hubspot', 'person');
 */
export class HeldCreates {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async add(system: string, kind: string, records: readonly HeldRecord[]): Promise<void> {
    if (records.length === 0) return;
    const members = records.map((r) => `${r.system}\t${r.object}\t${r.id}`);
    await this.redis.sadd(this.keys.heldCreates(system, kind), ...members);
  }

  /** Every held record of (system, kind), removed from the set; sorted, so the reconcile batches are stable. */
  async take(system: string, kind: string): Promise<HeldRecord[]> {
    const key = this.keys.heldCreates(system, kind);
    const replies = await this.redis.multi().smembers(key).del(key).exec();
    const [error, members] = replies?.[0] ?? [new Error('no reply to SMEMBERS'), null];
    if (error !== null) throw error;
    return (members as string[]).sort().flatMap((m) => {
      const [system, object, id] = m.split('\t');
      return system !== undefined && object !== undefined && id !== undefined ? [{ system, object, id }] : [];
    });
  }
}
