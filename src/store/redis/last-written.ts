import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** One field of one CRM record Tandem wrote. */
export interface WrittenField {
  system: string;
  recordId: string;
  field: string;
}

export interface WrittenValue extends WrittenField {
  /** Hash of the value as written (the comparison a pulled change is checked against). */
  hash: string;
}

/**
 * Hashes of what Tandem last wrote, per (system, record, field), kept as one Redis hash per record:
 * `<prefix>:{lw}:<system>:<recordId>` field → value hash. A pulled value whose hash matches is Tandem's
 * own echo, not a change. Reads and writes of a whole batch go out as one pipeline (one round trip).
 */
export class LastWrittenStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** Expire a record's hashes this long after its last write; without it they live until deleted. */
    private readonly ttlSeconds?: number,
  ) {}

  /** The stored hash for each requested field, in request order (undefined when none). */
  async getMany(fields: readonly WrittenField[]): Promise<Array<string | undefined>> {
    if (fields.length === 0) return [];
    const byRecord = groupByRecord(this.keys, fields);
    const pipeline = this.redis.pipeline();
    for (const [key, names] of byRecord) pipeline.hmget(key, ...names);
    const replies = (await pipeline.exec()) ?? [];
    const found = new Map<string, string>();
    [...byRecord].forEach(([key, names], i) => {
      const [error, values] = replies[i] ?? [new Error('missing pipeline reply'), null];
      if (error !== null) throw error;
      (values as Array<string | null>).forEach((value, j) => {
        if (value !== null) found.set(`${key}\n${names[j]}`, value);
      });
    });
    return fields.map((f) => found.get(`${this.keys.lastWritten(f.system, f.recordId)}\n${f.field}`));
  }

  async setMany(values: readonly WrittenValue[]): Promise<void> {
    if (values.length === 0) return;
    const byRecord = new Map<string, Record<string, string>>();
    for (const v of values) {
      const key = this.keys.lastWritten(v.system, v.recordId);
      const hashes = byRecord.get(key) ?? {};
      hashes[v.field] = v.hash;
      byRecord.set(key, hashes);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, hashes] of byRecord) {
      pipeline.hset(key, hashes);
      if (this.ttlSeconds !== undefined) pipeline.expire(key, this.ttlSeconds);
    }
    await execOrThrow(pipeline);
  }

  /** Forgets single fields (e.g. after a failed write whose value never landed). */
  async deleteFields(fields: readonly WrittenField[]): Promise<void> {
    if (fields.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, names] of groupByRecord(this.keys, fields)) pipeline.hdel(key, ...names);
    await execOrThrow(pipeline);
  }

  /** Forgets whole records (deleted or merged away in the CRM). */
  async deleteRecords(system: string, recordIds: readonly string[]): Promise<void> {
    if (recordIds.length === 0) return;
    await this.redis.del(...recordIds.map((id) => this.keys.lastWritten(system, id)));
  }
}

function groupByRecord(keys: RedisKeys, fields: readonly WrittenField[]): Map<string, string[]> {
  const byRecord = new Map<string, string[]>();
  for (const f of fields) {
    const key = keys.lastWritten(f.system, f.recordId);
    const names = byRecord.get(key) ?? [];
    if (!names.includes(f.field)) names.push(f.field);
    byRecord.set(key, names);
  }
  return byRecord;
}

async function execOrThrow(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error !== null) throw error;
}
