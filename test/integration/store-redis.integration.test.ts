import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import {
  CheckpointStore,
  CorruptCheckpointError,
  LastWrittenStore,
  LeaseLocks,
  LockBusyError,
  LockLostError,
  ParkedRecords,
  PlanVersions,
  RedisKeys,
} from '../../src/store/redis/index.js';

const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '', { lazyConnect: true });
afterAll(async () => {
  await redis.quit();
});

let keys: RedisKeys;
beforeEach(() => {
  keys = new RedisKeys(`test-${randomUUID()}`);
});
afterEach(async () => {
  // Only this test's keys: everything under its random prefix.
  const mine = await redis.keys(`${keys.prefix}:*`);
  if (mine.length > 0) await redis.del(...mine);
});

const CheckpointSchema = z.object({
  phase: z.enum(['initial', 'incremental']),
  after: z.string(),
});

describe('checkpoints', () => {
  it('round-trips a validated checkpoint per system and object', async () => {
    const store = new CheckpointStore(redis, keys, CheckpointSchema);
    expect(await store.get('hubspot', 'contacts')).toBeUndefined();
    await store.save('hubspot', 'contacts', { phase: 'incremental', after: '2024-05-01T00:00:00Z' });
    await store.save('salesforce', 'Lead', { phase: 'initial', after: '0' });
    expect(await store.get('hubspot', 'contacts')).toEqual({
      phase: 'incremental',
      after: '2024-05-01T00:00:00Z',
    });
    expect(await store.get('salesforce', 'Lead')).toEqual({ phase: 'initial', after: '0' });
    expect(await redis.get(`${keys.prefix}:{checkpoint}:hubspot:contacts`)).not.toBeNull();
    await store.delete('hubspot', 'contacts');
    expect(await store.get('hubspot', 'contacts')).toBeUndefined();
  });

  it('reports a corrupt stored value with its key instead of resetting it', async () => {
    const store = new CheckpointStore(redis, keys, CheckpointSchema);
    const key = keys.checkpoint('hubspot', 'deals');
    await redis.set(key, JSON.stringify({ phase: 'sideways', after: 1 }));
    await expect(store.get('hubspot', 'deals')).rejects.toThrow(CorruptCheckpointError);
    await expect(store.get('hubspot', 'deals')).rejects.toThrow(key);
    await redis.set(key, '{not json');
    await expect(store.get('hubspot', 'deals')).rejects.toThrow(/not JSON/);
    expect(await redis.get(key)).toBe('{not json'); // left as found
    await expect(store.save('hubspot', 'deals', { phase: 'later' } as never)).rejects.toThrow(
      CorruptCheckpointError,
    );
  });
});

describe('parked records', () => {
  it('parks and releases a whole first read of a large world (150,000 records) without overflowing the stack', async () => {
    const parked = new ParkedRecords(redis, keys);
    const records = Array.from({ length: 150_000 }, (_, i) => ({
      system: i % 2 === 0 ? 'hubspot' : 'salesforce',
      object: i % 2 === 0 ? 'contacts' : 'Lead',
      id: String(i).padStart(7, '0'),
    }));
    await parked.add('person', records);
    const members = await parked.members('person');
    expect(members).toHaveLength(150_000);
    expect(members[0]).toEqual({ system: 'hubspot', object: 'contacts', id: '0000000' });
    await parked.remove('person', members.slice(0, 149_999));
    expect(await parked.members('person')).toEqual([members[149_999]]);
  });
});

describe('last-written hashes', () => {
  it('sets and gets many fields across records in request order', async () => {
    const store = new LastWrittenStore(redis, keys);
    await store.setMany([
      { system: 'hubspot', recordId: '1', field: 'email', hash: 'h-e1' },
      { system: 'hubspot', recordId: '1', field: 'jobtitle', hash: 'h-t1' },
      { system: 'salesforce', recordId: '00Q1', field: 'Email', hash: 'h-sf' },
      { system: 'hubspot', recordId: '2', field: 'email', hash: 'h-e2' },
    ]);
    await store.setMany([{ system: 'hubspot', recordId: '1', field: 'email', hash: 'h-e1b' }]);
    expect(
      await store.getMany([
        { system: 'hubspot', recordId: '2', field: 'email' },
        { system: 'hubspot', recordId: '1', field: 'email' },
        { system: 'hubspot', recordId: '1', field: 'phone' },
        { system: 'salesforce', recordId: '00Q1', field: 'Email' },
        { system: 'salesforce', recordId: '00Q9', field: 'Email' },
        { system: 'hubspot', recordId: '1', field: 'jobtitle' },
      ]),
    ).toEqual(['h-e2', 'h-e1b', undefined, 'h-sf', undefined, 'h-t1']);
    expect(await redis.hgetall(`${keys.prefix}:{lw}:hubspot:1`)).toEqual({
      email: 'h-e1b',
      jobtitle: 'h-t1',
    });
    expect(await store.getMany([])).toEqual([]);
  });

  it('deletes fields and records, and sets a TTL when configured', async () => {
    const store = new LastWrittenStore(redis, keys, 3600);
    await store.setMany([
      { system: 'hubspot', recordId: '1', field: 'email', hash: 'a' },
      { system: 'hubspot', recordId: '1', field: 'phone', hash: 'b' },
      { system: 'hubspot', recordId: '2', field: 'email', hash: 'c' },
    ]);
    const ttl = await redis.ttl(keys.lastWritten('hubspot', '1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
    await store.deleteFields([{ system: 'hubspot', recordId: '1', field: 'email' }]);
    await store.deleteRecords('hubspot', ['2']);
    expect(
      await store.getMany([
        { system: 'hubspot', recordId: '1', field: 'email' },
        { system: 'hubspot', recordId: '1', field: 'phone' },
        { system: 'hubspot', recordId: '2', field: 'email' },
      ]),
    ).toEqual([undefined, 'b', undefined]);
  });
});

describe('lease locks', () => {
  it('lets only one holder in at a time', async () => {
    const locks = new LeaseLocks(redis);
    const key = keys.lock('person:p-1');
    let releaseFirst: () => void = () => undefined;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstEntered: () => void = () => undefined;
    const firstIsIn = new Promise<void>((resolve) => (firstEntered = resolve));

    const first = locks.withLock(key, 60_000, async () => {
      firstEntered();
      await firstMayFinish;
      return 'first';
    });
    await firstIsIn;
    await expect(locks.withLock(key, 60_000, async () => 'second')).rejects.toThrow(LockBusyError);
    releaseFirst();
    expect(await first).toBe('first');
    expect(await locks.withLock(key, 60_000, async () => 'second')).toBe('second');
    expect(await redis.exists(key)).toBe(0);
  });

  it('releases on failure and never releases a lock that expired and was taken by someone else', async () => {
    const locks = new LeaseLocks(redis);
    const key = keys.lock('expiry');
    await expect(
      locks.withLock(key, 60_000, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await redis.exists(key)).toBe(0);

    const stale = await locks.acquire(key, 60_000);
    expect(stale).toBeDefined();
    await redis.pexpire(key, 1); // the lease runs out
    while ((await redis.exists(key)) === 1) await new Promise((resolve) => setImmediate(resolve));
    const fresh = await locks.acquire(key, 60_000);
    expect(fresh).toBeDefined();
    expect(await locks.release(stale!)).toBe(false);
    expect(await stale!.extend(60_000)).toBe(false);
    expect(await redis.get(key)).toBe(fresh!.token);
    expect(await fresh!.extend(120_000)).toBe(true);
    expect(await locks.release(fresh!)).toBe(true);
    expect(await redis.exists(key)).toBe(0);
  });

  it('tells the holder its lease was lost when it finishes after expiry', async () => {
    const locks = new LeaseLocks(redis);
    const key = keys.lock('lost');
    await expect(
      locks.withLock(key, 60_000, async () => {
        await redis.del(key); // as if the lease had expired
        await redis.set(key, 'someone-else');
      }),
    ).rejects.toThrow(LockLostError);
    expect(await redis.get(key)).toBe('someone-else');
  });
});

describe('plan versions', () => {
  it('keeps the plan of the later read, whichever reconcile claims last', async () => {
    const plans = new PlanVersions(redis, keys);
    const early = await plans.ticket();
    const late = await plans.ticket();
    expect(late).toBeGreaterThan(early);

    const later = await plans.claim(['person:a', 'person:b'], 'plan-late', late);
    expect([...later].sort()).toEqual(['person:a', 'person:b']);
    // The earlier read claims after: it keeps only the entity nobody planned from a later read.
    const earlier = await plans.claim(['person:a', 'person:c'], 'plan-early', early);
    expect([...earlier]).toEqual(['person:c']);
    expect(await plans.latest(['person:a', 'person:b', 'person:c', 'person:d'])).toEqual([
      'plan-late',
      'plan-late',
      'plan-early',
      undefined,
    ]);
  });

  it('reads a plan id stored before tickets existed as the latest, and lets any ticket replace it', async () => {
    await redis.set(keys.plan('person:old'), 'legacy-plan');
    const plans = new PlanVersions(redis, keys);
    expect(await plans.latest(['person:old'])).toEqual(['legacy-plan']);
    const claim = await plans.claim(['person:old'], 'new-plan', await plans.ticket());
    expect([...claim]).toEqual(['person:old']);
    expect(await plans.latest(['person:old'])).toEqual(['new-plan']);
  });
});
