import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ClusterMetrics } from '../../src/observability/cluster-metrics.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { producerConnection } from '../../src/queues/connections.js';
import { runCycle } from '../../src/queues/cycle.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { closeQueues, openQueues, Producers, type TandemQueues } from '../../src/queues/producers.js';
import { exitOf, startTandem } from '../support/cli.js';
import { dropFakeState, FakePipeline, seedPersons } from '../support/fake-pipeline.js';

// `tandem worker` processes sharing one Redis (BullMQ real), each running the queue layer over the
// test implementation of the SyncPipeline interface (state in Redis, shared by the processes).

const url = process.env['TEST_REDIS_URL'] ?? '';
let redis: Redis;
let producerRedis: Redis;
beforeAll(async () => {
  redis = new Redis(url);
  producerRedis = await producerConnection(url);
});
afterAll(async () => {
  await producerRedis.quit();
  await redis.quit();
});

let prefix: string;
let queues: TandemQueues;
let producers: Producers;
let children: ChildProcess[];
const objects = new FakePipeline(null as unknown as Redis, 'x').objects;

beforeEach(() => {
  prefix = `test-${randomUUID()}`;
  queues = openQueues(producerRedis, prefix);
  producers = new Producers(queues, { redisPrefix: prefix, failedRetentionMs: 86_400_000, backoffMs: 50 });
  children = [];
});
afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  }
  for (const queue of Object.values(queues)) await queue.obliterate({ force: true });
  await closeQueues(queues);
  await dropFakeState(redis, prefix);
  const mine = await redis.keys(`${prefix}:*`);
  if (mine.length > 0) await redis.del(...mine);
});

function env(): Record<string, string> {
  return {
    REDIS_URL: url,
    TANDEM_REDIS_PREFIX: prefix,
    TANDEM_DATA_DIR: mkdtempSync(join(tmpdir(), 'tandem-workers-')),
    LOG_LEVEL: 'silent',
  };
}

async function worker(extra: string[] = []): Promise<ChildProcess> {
  const { child } = await startTandem(
    ['worker', '--pipeline-module', 'test/support/fake-pipeline.ts', '--concurrency', '1', ...extra],
    env(),
    /Tandem worker \d+ running/,
  );
  children.push(child);
  return child;
}

describe('tandem worker processes', () => {
  it('two processes share the work without processing anything twice', async () => {
    const ids = await seedPersons(redis, prefix, 150);
    await redis.set(`fake:${prefix}:slow-ms`, '3');
    await Promise.all([worker(), worker()]);
    const summary = await runCycle({ producers, objects, mode: 'incremental', pollMs: 50 });
    expect(summary.failures).toEqual([]);
    const writes = await redis.hgetall(`fake:${prefix}:writes`);
    expect(Object.keys(writes)).toHaveLength(ids.length);
    expect(Object.values(writes).filter((n) => n !== '1')).toEqual([]);
    const byPid = await redis.hgetall(`fake:${prefix}:by-pid`);
    expect(Object.keys(byPid).sort()).toEqual(children.map((c) => String(c.pid)).sort());

    // Each process publishes its job counts to Redis (at the latest on SIGTERM); the dashboard's /metrics
    // (here its ClusterMetrics, in this process) serves their sum: every completed job, counted once.
    for (const child of children) child.kill('SIGTERM');
    for (const child of children) expect(await exitOf(child)).toBe(0);
    const text = await new ClusterMetrics(createMetrics(), redis, new RedisKeys(prefix)).text();
    for (const queue of ['pull', 'reconcile', 'write-back'] as const) {
      const line = `tandem_job_duration_seconds_count{outcome="completed",queue="${queue}"} `;
      const counted = Number(
        text
          .split('\n')
          .find((l) => l.startsWith(line))
          ?.slice(line.length) ?? 0,
      );
      expect({ queue, counted }).toEqual({ queue, counted: await queues[queue].getCompletedCount() });
    }
  });

  it('drains in-flight jobs on SIGTERM and exits 0', async () => {
    await seedPersons(redis, prefix, 20);
    await redis.set(`fake:${prefix}:slow-ms`, '40');
    const child = await worker();
    const cycle = runCycle({ producers, objects, mode: 'incremental', pollMs: 50 });
    while (((await queues['write-back'].getActiveCount()) as number) === 0) await sleep(20);
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    // The batch it was writing finished before it stopped: nothing is left active or stalled.
    expect(await queues['write-back'].getActiveCount()).toBe(0);
    await worker();
    const summary = await cycle;
    expect(summary.failures).toEqual([]);
    expect(await redis.hlen(`fake:${prefix}:records:salesforce`)).toBe(20);
  });

  it('a worker killed with SIGKILL mid-batch loses nothing and duplicates nothing after restart', async () => {
    await seedPersons(redis, prefix, 40);
    await redis.set(`fake:${prefix}:slow-ms`, '60');
    const fast = ['--lock-duration', '2000', '--stalled-interval', '500'];
    const victim = await worker(fast);
    const cycle = runCycle({ producers, objects, mode: 'incremental', pollMs: 50 });
    while ((await redis.hlen(`fake:${prefix}:writes`)) < 3) await sleep(20);
    victim.kill('SIGKILL');
    await exitOf(victim);
    await worker(fast);
    const summary = await cycle;

    expect(summary.failures).toEqual([]);
    const values = await redis.hgetall(`fake:${prefix}:records:salesforce`);
    expect(Object.keys(values)).toHaveLength(40);
    expect(Object.entries(values).every(([id, v]) => v === `v1-${id}`)).toBe(true);
    // Only the interrupted batch (≤ 10 records) was sent twice, and writes are idempotent.
    const writes = Object.values(await redis.hgetall(`fake:${prefix}:writes`)).map(Number);
    expect(writes.filter((n) => n > 1).length).toBeLessThanOrEqual(10);
    expect(Math.max(...writes)).toBeLessThanOrEqual(2);
    expect(await queues['write-back'].getFailedCount()).toBe(0);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
