import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** A CRM record waiting to be reconciled. */
export interface ParkedRecord {
  system: string;
  object: string;
  id: string;
}

const member = (r: ParkedRecord): string => `${r.system}\t${r.object}\t${r.id}`;

/**
 * Members per SADD / SREM: the whole first read of a large world is parked and released at once, and a
 * command's arguments are spread onto the call stack (100,000 of them overflowed it).
 */
const CHUNK = 10_000;

function* chunks(records: readonly ParkedRecord[]): Iterable<string[]> {
  for (let i = 0; i < records.length; i += CHUNK) yield records.slice(i, i + CHUNK).map(member);
}

/**
 * Records whose reconcile waits for the first full read of their kind in both systems, one Redis set per
 * kind. Reconcile parks them; the pull that completes that read reads the set, hands the records on to
 * reconcile, then removes them (a crash in between leaves them parked for the next pull).
 *
 * @example
 * await parked.add('person', [{ system: 'salesforce', object: 'Lead', id: '00Q…' }]);
 * const again = await parked.members('person');
 * // … queue their reconcile …
 * await parked.remove('person', again);
 */
export class ParkedRecords {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async add(kind: string, records: readonly ParkedRecord[]): Promise<void> {
    for (const members of chunks(records)) await this.redis.sadd(this.keys.parked(kind), ...members);
  }

  /** Every parked record of the kind, sorted, so the reconcile batches are stable. */
  async members(kind: string): Promise<ParkedRecord[]> {
    const members = await this.redis.smembers(this.keys.parked(kind));
    return members.sort().flatMap((m) => {
      const [system, object, id] = m.split('\t');
      return system !== undefined && object !== undefined && id !== undefined ? [{ system, object, id }] : [];
    });
  }

  async remove(kind: string, records: readonly ParkedRecord[]): Promise<void> {
    for (const members of chunks(records)) await this.redis.srem(this.keys.parked(kind), ...members);
  }
}
