// A small implementation of OUR `SyncPipeline` interface for the queue layer's tests (BullMQ and Redis stay
// real). Its whole state lives in Redis under `fake:<ns>:…`, so several worker processes share one world:
//   records:<system>   hash id → value     (what each "CRM" holds; person ids are shared across systems)
//   seen:<system>      hash id → value     (the pull checkpoint: what was last pulled)
//   writes             hash system/id → n  (how many times a record was written: double work shows here)
//   by-pid             hash pid → n        (which process wrote)
//   reject             set  system/id      (writes the CRM rejects permanently)
//   outage:<system>    string n            (the next n write calls fail with HTTP 503)
//   rate-limited:<system> n          (the next n write calls are rate-limited for 300 ms)
//   down:<system>     string            (pulls fail: connection refused)
//   slow-ms            string ms           (each write call sleeps this long: time to kill a worker)
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimitedError } from '../../src/connectors/classify.js';
import type { TandemConfig } from '../../src/config/index.js';
import type {
  EntityKind,
  PulledPage,
  PullOptions,
  ReconcileOutcome,
  RecordFailure,
  SourceRef,
  SyncPipeline,
  WriteBackOutcome,
  WriteBatch,
} from '../../src/pipeline/contract.js';
import type { System } from '../../src/domain/mapping/schema.js';
import type { RecordWrite } from '../../src/domain/write-plan.js';

const OBJECT: Record<System, 'contacts' | 'Lead'> = { hubspot: 'contacts', salesforce: 'Lead' };
const other = (s: System): System => (s === 'hubspot' ? 'salesforce' : 'hubspot');

export class FakePipeline implements SyncPipeline {
  readonly objects = [
    { system: 'hubspot' as const, object: 'contacts' as const, kind: 'person' as const },
    { system: 'salesforce' as const, object: 'Lead' as const, kind: 'person' as const },
  ];
  readonly mappingVersion = 'fake-1';

  constructor(
    readonly redis: Redis,
    readonly ns: string,
    readonly pageSize = 25,
  ) {}

  key(name: string): string {
    return `fake:${this.ns}:${name}`;
  }

  async *pull(system: System, object: string, options?: PullOptions): AsyncIterable<PulledPage> {
    await this.redis.rpush(this.key('pulls'), `${system}/${object} scheduled=${options?.scheduled === true}`);
    if ((await this.redis.exists(this.key(`down:${system}`))) === 1) {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    }
    const records = await this.redis.hgetall(this.key(`records:${system}`));
    const seen = await this.redis.hgetall(this.key(`seen:${system}`));
    const changed = Object.keys(records)
      .filter((id) => seen[id] !== records[id])
      .sort();
    for (let i = 0; i < changed.length; i += this.pageSize) {
      const ids = changed.slice(i, i + this.pageSize);
      const values = ids.flatMap((id) => [id, records[id] ?? '']);
      yield {
        system,
        object: object as 'contacts',
        kind: 'person',
        refs: ids.map((id) => ({ system, object: object as 'contacts', id })),
        deleted: [],
        checkpoint: {
          system,
          object,
          phase: 'incremental',
          since: new Date(0).toISOString(),
          lastId: ids[ids.length - 1] ?? null,
        },
      };
      // As the real pipeline: the checkpoint moves once the page is handed on (its reconcile queued).
      await this.redis.hset(this.key(`seen:${system}`), ...values);
    }
  }

  async reconcile(kind: EntityKind, refs: readonly SourceRef[]): Promise<ReconcileOutcome> {
    const writes: RecordWrite[] = [];
    const failures: RecordFailure[] = [];
    for (const ref of refs) {
      const value = await this.redis.hget(this.key(`records:${ref.system}`), ref.id);
      if (value === 'UNMAPPED') {
        failures.push({
          kind,
          refs: [ref],
          detail: {
            code: 'UNMAPPED_VALUE',
            reason: `no value map entry for ${ref.id}`,
            kind: 'permanent',
            system: ref.system,
            object: ref.object,
            recordId: ref.id,
            failedAt: new Date().toISOString(),
          },
        });
        continue;
      }
      const target = other(ref.system);
      const current = await this.redis.hget(this.key(`records:${target}`), ref.id);
      if (value === null || current === value) continue;
      writes.push({
        action: 'update',
        system: target,
        object: OBJECT[target],
        recordId: ref.id,
        entityKey: `person-${ref.id}`,
        fields: [{ field: 'value', value, hash: value, reason: 'differs' }],
      });
    }
    const batches: WriteBatch[] = [];
    for (const system of ['hubspot', 'salesforce'] as const) {
      const mine = writes.filter((w) => w.system === system);
      if (mine.length === 0) continue;
      const key = `${system}-fake-${createHash('sha256').update(JSON.stringify(mine)).digest('hex').slice(0, 20)}`;
      batches.push({
        system,
        object: OBJECT[system],
        writes: mine,
        mappingVersion: this.mappingVersion,
        key,
      });
    }
    // Records a "later read" claimed meanwhile (set `again`): reconciled once more.
    const raced: SourceRef[] = [];
    for (const ref of refs) if ((await this.redis.srem(this.key('again'), ref.id)) === 1) raced.push(ref);
    return {
      entities: refs.length,
      writes: batches,
      failures,
      dryRun: false,
      ...(raced.length > 0 ? { reconcileAgain: raced } : {}),
    };
  }

  async writeBack(batch: WriteBatch): Promise<WriteBackOutcome> {
    const limited = await this.redis.decr(this.key(`rate-limited:${batch.system}`));
    if (limited >= 0) {
      throw new RateLimitedError({
        code: 'HUBSPOT_RATE_LIMIT_TEN_SECONDLY',
        reason: 'slow down',
        waitMs: 300,
      });
    }
    const outage = await this.redis.decr(this.key(`outage:${batch.system}`));
    if (outage >= 0) {
      throw Object.assign(new Error('Service Unavailable'), { status: 503, headers: {} });
    }
    const slow = Number((await this.redis.get(this.key('slow-ms'))) ?? 0);
    let written = 0;
    const failed: RecordFailure[] = [];
    for (const write of batch.writes) {
      if (slow > 0) await new Promise((r) => setTimeout(r, slow));
      const id = write.recordId ?? '';
      if ((await this.redis.sismember(this.key('reject'), `${write.system}/${id}`)) === 1) {
        failed.push({
          write,
          detail: {
            code: 'SALESFORCE_STRING_TOO_LONG',
            reason: `Salesforce rejected the value for Lead.value of ${id}: it is longer than the field allows`,
            kind: 'permanent',
            system: write.system,
            object: write.object,
            recordId: id,
            field: 'value',
            failedAt: new Date().toISOString(),
          },
        });
        continue;
      }
      const value = String(write.fields[0]?.value ?? '');
      await this.redis
        .multi()
        .hset(this.key(`records:${write.system}`), id, value)
        .hset(this.key(`seen:${write.system}`), id, value) // our own write is no change (echo)
        .hincrby(this.key('writes'), `${write.system}/${id}`, 1)
        .hincrby(this.key('by-pid'), String(process.pid), 1)
        .exec();
      written += 1;
    }
    return { written, created: 0, failed };
  }

  async refsForMappingBackfill(): Promise<SourceRef[]> {
    return [];
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Seeds `count` persons in HubSpot only (Salesforce gets them through sync). */
export async function seedPersons(redis: Redis, ns: string, count: number, value = 'v1'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `p${String(i).padStart(5, '0')}`);
  await redis.hset(`fake:${ns}:records:hubspot`, ...ids.flatMap((id) => [id, `${value}-${id}`]));
  return ids;
}

export async function dropFakeState(redis: Redis, ns: string): Promise<void> {
  const keys = await redis.keys(`fake:${ns}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

/** For `tandem worker|sync --pipeline-module test/support/fake-pipeline.ts`: the namespace is the prefix. */
export async function openPipeline(config: TandemConfig): Promise<SyncPipeline> {
  return new FakePipeline(new Redis(config.redis.url), config.redis.prefix);
}
