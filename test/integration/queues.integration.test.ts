import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { Redis } from 'ioredis';
import { Worker, type Job } from 'bullmq';
import pino from 'pino';
import { QueueBoard, failedJobView } from '../../src/dashboard/queues.js';
import { producerConnection } from '../../src/queues/connections.js';
import type { EntityKind, PullOptions, ReconcileOptions, SourceRef } from '../../src/pipeline/contract.js';
import { runCycle } from '../../src/queues/cycle.js';
import { JobName, parseWriteBackJob } from '../../src/queues/jobs.js';
import { batchKey } from '../../src/pipeline/batches.js';
import type { RecordWrite } from '../../src/domain/write-plan.js';
import type { ObjectName } from '../../src/domain/records.js';
import { ALL_QUEUES, bullPrefix, Priority } from '../../src/queues/names.js';
import { metrics } from '../../src/observability/metrics.js';
import { upsertSchedules } from '../../src/queues/scheduler.js';
import { closeQueues, openQueues, Producers, type TandemQueues } from '../../src/queues/producers.js';
import { startWorkers, type WorkerSet } from '../../src/queues/runtime.js';
import { dropFakeState, FakePipeline, seedPersons } from '../support/fake-pipeline.js';

// The queue layer on real BullMQ and a real Redis, driving a small implementation of the SyncPipeline
// interface whose state is in Redis too (test/support/fake-pipeline.ts).

const url = process.env['TEST_REDIS_URL'] ?? '';
const log = pino({ level: 'silent' });
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
let pipeline: FakePipeline;
let workers: WorkerSet | undefined;

beforeEach(() => {
  prefix = `test-${randomUUID()}`;
  queues = openQueues(producerRedis, prefix);
  producers = new Producers(queues, { redisPrefix: prefix, failedRetentionMs: 86_400_000, backoffMs: 20 });
  pipeline = new FakePipeline(redis, prefix, 10);
});
afterEach(async () => {
  await workers?.close();
  workers = undefined;
  for (const queue of Object.values(queues)) await queue.obliterate({ force: true });
  await closeQueues(queues);
  await dropFakeState(redis, prefix);
  const mine = await redis.keys(`${prefix}:*`);
  if (mine.length > 0) await redis.del(...mine);
});

async function start(): Promise<WorkerSet> {
  workers = await startWorkers({ redisUrl: url, redisPrefix: prefix, pipeline, producers, log });
  return workers;
}

const board = (): QueueBoard =>
  new QueueBoard({
    queues: Object.values(queues),
    redis,
    prefix,
    links: { hubspotBaseUrl: 'https://api.hubapi.com' },
  });

describe('a sync cycle through the queues', () => {
  it('converges: the first cycle writes every person, the second writes nothing', async () => {
    const ids = await seedPersons(redis, prefix, 45);
    await start();
    const first = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    await explainUnless(first, (o) => o.system === 'salesforce' && o.written === 45);
    const hubspot = first.objects.find((o) => o.system === 'hubspot');
    const salesforce = first.objects.find((o) => o.system === 'salesforce');
    expect(hubspot).toMatchObject({ pulled: 45, reconciled: 45 });
    expect(salesforce).toMatchObject({ written: 45 });
    expect(first.failures).toEqual([]);
    expect(await redis.hlen(`fake:${prefix}:records:salesforce`)).toBe(45);

    const second = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    expect(second.objects.reduce((n, o) => n + o.written + o.pulled, 0)).toBe(0);
    const writes = await redis.hgetall(`fake:${prefix}:writes`);
    expect(Object.keys(writes)).toHaveLength(ids.length);
    expect(Object.values(writes).every((n) => n === '1')).toBe(true);
  });

  it('follows a reconcile queued again while its twin runs, and ends only after it ran', async () => {
    await seedPersons(redis, prefix, 4);
    const runs: string[] = [];
    const twice = Object.assign(Object.create(pipeline) as FakePipeline, {
      // The same page twice, the second once the first page's reconcile is running.
      pull: async function* (system: 'hubspot' | 'salesforce', object: string) {
        for await (const page of pipeline.pull(system, object)) {
          yield page;
          await waitFor(async () => (await queues.reconcile.getActiveCount()) > 0);
          yield page;
        }
      },
      reconcile: async (...args: Parameters<FakePipeline['reconcile']>) => {
        runs.push(args[1].map((r) => r.id).join(','));
        await new Promise((r) => setTimeout(r, 400));
        return pipeline.reconcile(...args);
      },
    });
    workers = await startWorkers({ redisUrl: url, redisPrefix: prefix, pipeline: twice, producers, log });
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 20 });
    // Both runs counted, and the cycle waited for the second: nothing is left to run when it returns.
    expect(runs).toEqual(['p00000,p00001,p00002,p00003', 'p00000,p00001,p00002,p00003']);
    await explainUnless(summary, (o) => o.system === 'hubspot' && o.pulled === 8 && o.reconciled === 8);
    expect(await queues.reconcile.getJobCounts('active', 'waiting', 'prioritized', 'delayed')).toEqual({
      active: 0,
      waiting: 0,
      prioritized: 0,
      delayed: 0,
    });
  });

  it('takes no new jobs while the memory guard holds the process, and takes them again once it lets go', async () => {
    await seedPersons(redis, prefix, 40);
    const held: Array<() => void> = [];
    let holding = true;
    const gated = Object.assign(Object.create(pipeline) as FakePipeline, {
      reconcile: async (...args: Parameters<FakePipeline['reconcile']>) => {
        if (holding) await new Promise<void>((resolve) => held.push(resolve));
        return pipeline.reconcile(...args);
      },
    });
    workers = await startWorkers({
      redisUrl: url,
      redisPrefix: prefix,
      pipeline: gated,
      producers,
      log,
      reconcileBatch: 10,
      concurrency: { reconcile: 2 },
    });
    const set = workers;
    const cycle = runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 20 });
    const active = async (): Promise<number> => queues.reconcile.getActiveCount();
    const queued = async (): Promise<number> =>
      Object.values(await queues.reconcile.getJobCounts('waiting', 'prioritized')).reduce((a, b) => a + b, 0);
    const releaseAll = (): void => {
      holding = false;
      for (const release of held.splice(0)) release();
    };
    try {
      await waitFor(async () => (await active()) === 2 && (await queued()) > 0);

      // A full collection left 90% of the heap alive: the two jobs in flight run on, no third starts.
      const pausesBefore = (await metrics.memoryPauses.get()).values[0]?.value ?? 0;
      set.memory.observe({ liveBytes: 900, limitBytes: 1000 });
      expect(set.memory.isPaused).toBe(true);
      expect((await metrics.memoryPauses.get()).values[0]?.value).toBe(pausesBefore + 1);
      held.shift()?.();
      await waitFor(async () => (await active()) === 1);
      await new Promise((r) => setTimeout(r, 700));
      expect(await active()).toBe(1);
      expect(await queued()).toBeGreaterThan(0);

      set.memory.observe({ liveBytes: 300, limitBytes: 1000 });
      expect(set.memory.isPaused).toBe(false);
      await waitFor(async () => (await active()) === 2);
    } finally {
      releaseAll(); // a failed check must not leave jobs held (closing the workers waits for them)
    }
    const summary = await cycle;
    await explainUnless(summary, (o) => o.system === 'hubspot' && o.reconciled === 40);
    expect(set.memory.stats).toEqual({ pauses: 1, resumes: 1 });
  });

  it('polls with a stop signal without piling listeners on it (Node warns past 10 on stderr)', async () => {
    await seedPersons(redis, prefix, 4);
    const slow = Object.assign(Object.create(pipeline) as FakePipeline, {
      reconcile: async (...args: Parameters<FakePipeline['reconcile']>) => {
        await new Promise((r) => setTimeout(r, 400));
        return pipeline.reconcile(...args);
      },
    });
    workers = await startWorkers({ redisUrl: url, redisPrefix: prefix, pipeline: slow, producers, log });
    const stop = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      // Polling every 5 ms through a 400 ms reconcile: dozens of sleeps on the same signal.
      await runCycle({
        producers,
        objects: pipeline.objects,
        mode: 'incremental',
        pollMs: 5,
        signal: stop.signal,
      });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('queues a pull’s records in reconcile jobs of about reconcileBatch refs, asking the pipeline for groups that big', async () => {
    await seedPersons(redis, prefix, 25);
    const onePage = new FakePipeline(redis, prefix, 25);
    const asked: (number | undefined)[] = [];
    const sizes: number[] = [];
    const recording = Object.assign(Object.create(onePage) as FakePipeline, {
      pull: (system: 'hubspot' | 'salesforce', object: string, options?: PullOptions) => {
        asked.push(options?.groupRefs);
        return onePage.pull(system, object);
      },
      reconcile: async (...args: Parameters<FakePipeline['reconcile']>) => {
        sizes.push(args[1].length);
        return onePage.reconcile(...args);
      },
    });
    workers = await startWorkers({
      redisUrl: url,
      redisPrefix: prefix,
      pipeline: recording,
      producers,
      log,
      reconcileBatch: 10,
    });
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    await explainUnless(summary, (o) => o.system === 'hubspot' && o.pulled === 25 && o.reconciled === 25);
    expect(asked).toEqual([10, 10]);
    // 25 refs at 10 a job: three jobs of near-equal size, not 10 + 10 + 5.
    expect(sizes.sort((a, b) => a - b)).toEqual([8, 8, 9]);
  });

  it('skips as-reconciled refs only on a reconcile job’s first run, and never for persons due for re-evaluation', async () => {
    await seedPersons(redis, prefix, 4);
    const base = new FakePipeline(redis, prefix, 25);
    const calls: Array<{ ids: string; skip: boolean }> = [];
    let failedOnce = false;
    const recording = Object.assign(Object.create(base) as FakePipeline, {
      pull: async function* (system: 'hubspot' | 'salesforce', object: string) {
        for await (const page of base.pull(system, object)) {
          yield page;
          if (system !== 'hubspot') continue;
          // What the real pipeline adds at the end of the first person object's incremental pull.
          const due = page.refs.slice(0, 1).map((r) => ({ ...r, id: `${r.id}-due` }));
          yield { ...page, refs: due, dueForReevaluation: true as const };
        }
      },
      reconcile: async (kind: EntityKind, refs: readonly SourceRef[], options?: ReconcileOptions) => {
        const ids = refs.map((r) => r.id).join(',');
        calls.push({ ids, skip: options?.skipReconciled === true });
        // The hubspot page's first run dies after it may have stored its marks: the retry reconciles all.
        if (!failedOnce && refs.length > 1 && refs[0]?.system === 'hubspot') {
          failedOnce = true;
          throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
        }
        return base.reconcile(kind, refs);
      },
    });
    workers = await startWorkers({ redisUrl: url, redisPrefix: prefix, pipeline: recording, producers, log });
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    await explainUnless(summary, (o) => o.system === 'hubspot' && o.pulled >= 4);
    const hubspotPage = calls.filter((c) => c.ids.split(',').length > 1 && c.ids.startsWith('p0000'));
    expect(hubspotPage.map((c) => c.skip)).toContain(true);
    const retried = hubspotPage.filter((c) => c.ids === hubspotPage[0]?.ids);
    expect(retried.map((c) => c.skip)).toEqual([true, false]);
    const due = calls.filter((c) => c.ids.endsWith('-due'));
    expect(due.length).toBeGreaterThan(0);
    expect(due.every((c) => !c.skip)).toBe(true);
  });

  it('reconciles again the records a reconcile reports claimed by a later read, within the cycle', async () => {
    await seedPersons(redis, prefix, 6);
    await redis.sadd(`fake:${prefix}:again`, 'p00002', 'p00004');
    await start();
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    await explainUnless(summary, (o) => o.system === 'hubspot' && o.pulled === 6 && o.reconciled === 8);
    expect(await redis.scard(`fake:${prefix}:again`)).toBe(0);
  });

  it('keeps a rejected record as its own failed job with a readable reason; its batch-mates are written', async () => {
    await seedPersons(redis, prefix, 12);
    await redis.sadd(`fake:${prefix}:reject`, 'salesforce/p00003');
    await start();
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });

    expect(summary.failures).toHaveLength(1);
    expect(summary.failures[0]).toMatchObject({
      queue: 'write-back',
      code: 'SALESFORCE_STRING_TOO_LONG',
      recordId: 'p00003',
      system: 'salesforce',
    });
    expect(summary.objects.find((o) => o.system === 'salesforce')).toMatchObject({ written: 11, failed: 1 });
    // The record was not sent again to record the failure: only the 11 batch-mates were written.
    expect(await redis.hget(`fake:${prefix}:writes`, 'salesforce/p00003')).toBeNull();
    expect(await redis.hlen(`fake:${prefix}:writes`)).toBe(11);

    const [failed] = await queues['write-back'].getFailed();
    expect(failed?.name).toBe(JobName.WriteFailure);
    const view = failedJobView('write-back', failed!, { hubspotBaseUrl: 'x' });
    expect(view.reason).toMatch(/Salesforce rejected the value for Lead.value of p00003/);
    expect(view.code).toBe('SALESFORCE_STRING_TOO_LONG');
    expect(failed?.data.batch.writes).toHaveLength(1);
    expect(failed?.data.knownFailure).toBeUndefined();
    expect(failed?.opts.priority).toBe(Priority.Replay);

    // The cause fixed, a replay from the dashboard writes it for real.
    await redis.srem(`fake:${prefix}:reject`, 'salesforce/p00003');
    const replay = await board().replay({ code: 'SALESFORCE_STRING_TOO_LONG' }, 'test');
    expect(replay.jobs).toHaveLength(1);
    await waitFor(async () => (await failed!.getState()) === 'completed');
    expect(await redis.hget(`fake:${prefix}:writes`, 'salesforce/p00003')).toBe('1');
    expect(await redis.hget(`fake:${prefix}:records:salesforce`, 'p00003')).toBe('v1-p00003');
  });

  it('a replay that fails again leaves the same job failed, not a second one', async () => {
    await seedPersons(redis, prefix, 3);
    await redis.sadd(`fake:${prefix}:reject`, 'salesforce/p00001');
    await start();
    await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    const [failed] = await queues['write-back'].getFailed();
    await board().replay({ jobs: [{ queue: 'write-back', id: failed!.id! }] }, 'test');
    await waitFor(async () => (await failed!.getState()) === 'failed');
    const again = await queues['write-back'].getFailed();
    expect(again.map((j) => j.id)).toEqual([failed!.id]);
    expect(again[0]?.attemptsStarted).toBeGreaterThan(0);
    expect(again[0]?.data.failure.code).toBe('SALESFORCE_STRING_TOO_LONG');
  });

  it('recovers from a 5xx storm without manual action (backoff, then success)', async () => {
    await seedPersons(redis, prefix, 10);
    await redis.set(`fake:${prefix}:outage:salesforce`, '3');
    await start();
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    expect(summary.failures).toEqual([]);
    expect(summary.objects.find((o) => o.system === 'salesforce')?.written).toBe(10);
    expect(Number(await redis.get(`fake:${prefix}:outage:salesforce`))).toBeLessThan(0);
  });

  it('waits out a rate limit without burning an attempt', async () => {
    producers = new Producers(queues, { redisPrefix: prefix, failedRetentionMs: 86_400_000, attempts: 1 });
    await seedPersons(redis, prefix, 5);
    await redis.set(`fake:${prefix}:rate-limited:salesforce`, '2');
    await start();
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    // One attempt only: had the 429s counted as attempts, the batch would have failed. On a mismatch the
    // jobs say where the writes went.
    await explainUnless(summary, (o) => o.system === 'salesforce' && o.written === 5);
    expect(summary.failures).toEqual([]);
    const [done] = await queues['write-back'].getCompleted();
    // Started three times (two 429s, then success), yet one attempt was enough.
    expect(done?.attemptsStarted).toBe(3);
    expect(done?.attemptsMade).toBe(1);
  });

  it('exhausted transient retries leave a failed job with the reason', async () => {
    producers = new Producers(queues, {
      redisPrefix: prefix,
      failedRetentionMs: 86_400_000,
      attempts: 2,
      backoffMs: 10,
    });
    await seedPersons(redis, prefix, 4);
    await redis.set(`fake:${prefix}:outage:salesforce`, '100');
    await start();
    const summary = await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    await explainUnless(summary, (o) => o.system === 'salesforce' && o.failed === 1);
    expect(summary.failures).toHaveLength(1);
    expect(summary.failures[0]).toMatchObject({
      code: 'SALESFORCE_SERVER_ERROR',
      kind: 'transient',
      queue: 'write-back',
    });
    const [failed] = await queues['write-back'].getFailed();
    expect(failed?.attemptsMade).toBe(2);
  });
});

describe('producers and payloads', () => {
  it('fails a malformed payload at once with the bad paths named', async () => {
    await start();
    const job = await queues.reconcile.add(
      'reconcile',
      { kind: 'person', refs: [{ system: 'zoho', id: '' }] },
      {
        attempts: 5,
      },
    );
    await waitFor(async () => (await job.getState()) === 'failed');
    const failed = await queues.reconcile.getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/Malformed reconcile job payload: refs\.0\.system/);
    expect(failed?.data.failure.code).toBe('INVALID_JOB_PAYLOAD');
  });

  it('coalesces the same records queued twice, and keeps one pull per object', async () => {
    const refs = [
      { system: 'hubspot' as const, object: 'contacts' as const, id: '1' },
      { system: 'hubspot' as const, object: 'contacts' as const, id: '2' },
    ];
    const [a] = await producers.enqueueReconcile('person', refs);
    const [b, behind] = await producers.enqueueReconcile('person', [...refs].reverse());
    expect(b?.id).toBe(a?.id);
    // Coalesced into the waiting job: the id it would have had behind a running twin never exists.
    expect(behind).toMatchObject({ after: a?.id });
    expect(await queues.reconcile.getJob(behind!.id)).toBeUndefined();
    expect(await queues.reconcile.count()).toBe(1);

    const p1 = await producers.enqueuePull('hubspot', 'contacts', { mode: 'incremental' });
    const p2 = await producers.enqueuePull('hubspot', 'contacts', { mode: 'backfill' });
    expect(p1).toBe('pull:hubspot:contacts');
    expect(p2).toBe(p1);
    expect(await queues.pull.count()).toBe(1);
  });

  it('joins a write-back batch to a job of its object still waiting, up to the API batch size, never to one a worker took', async () => {
    const batchOf = (system: 'hubspot' | 'salesforce', object: ObjectName, n: number, tag: string) => {
      const writes: RecordWrite[] = Array.from({ length: n }, (_, i) => ({
        action: 'update' as const,
        system,
        object,
        recordId: `${tag}-${i}`,
        entityKey: `person:${tag}-${i}`,
        fields: [{ field: 'jobtitle', value: `Title ${tag} ${i}`, hash: `h${i}`, reason: 'newest' }],
      }));
      const batch = { system, object, writes, mappingVersion: 'v1' };
      return { ...batch, key: batchKey(batch) };
    };
    const backfill = { priority: Priority.Backfill, cycleId: 'cycle-1' };
    const writesOf = async (id: string) =>
      parseWriteBackJob((await queues['write-back'].getJob(id))?.data).batch.writes.map((w) => w.recordId);

    const [first, ...more] = await producers.enqueueWriteBack(
      batchOf('hubspot', 'contacts', 30, 'a'),
      backfill,
    );
    expect(more).toEqual([]);
    expect(await producers.enqueueWriteBack(batchOf('hubspot', 'contacts', 30, 'b'), backfill)).toEqual([
      first,
    ]);
    const ids = (tag: string, from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `${tag}-${from + i}`);
    expect(await writesOf(first!)).toEqual([...ids('a', 0, 30), ...ids('b', 0, 30)]);
    // 50 more fill the 40 places left (HubSpot takes 100 a call); the other 10 are a job of their own, which
    // the next batch joins.
    const [filled, third, ...none] = await producers.enqueueWriteBack(
      batchOf('hubspot', 'contacts', 50, 'c'),
      backfill,
    );
    expect(filled).toBe(first);
    expect(none).toEqual([]);
    expect(third).not.toBe(first);
    expect(await producers.enqueueWriteBack(batchOf('hubspot', 'contacts', 5, 'd'), backfill)).toEqual([
      third,
    ]);
    expect(await writesOf(first!)).toEqual([...ids('a', 0, 30), ...ids('b', 0, 30), ...ids('c', 0, 40)]);
    expect(await writesOf(third!)).toEqual([...ids('c', 40, 50), ...ids('d', 0, 5)]);
    // Another object, priority or cycle never shares a job.
    const others = [
      ...(await producers.enqueueWriteBack(batchOf('salesforce', 'Lead', 10, 'e'), backfill)),
      ...(await producers.enqueueWriteBack(batchOf('hubspot', 'contacts', 10, 'f'), { cycleId: 'cycle-1' })),
      ...(await producers.enqueueWriteBack(batchOf('hubspot', 'contacts', 10, 'g'), {
        ...backfill,
        cycleId: 'cycle-2',
      })),
    ];
    expect(new Set([first, third, ...others]).size).toBe(5);

    // Once a worker took the open job, a new batch is a new job, and the taken job's writes stay as taken.
    const takerRedis = new Redis(url, { maxRetriesPerRequest: null });
    const taker = new Worker('write-back', null, { connection: takerRedis, prefix: bullPrefix(prefix) });
    try {
      let taken: Job | undefined;
      for (let i = 0; i < 10 && taken?.id !== third; i++) {
        const next = (await taker.getNextJob('token')) as Job | undefined;
        if (next === undefined) break;
        taken = next;
        if (next.id !== third) await next.moveToCompleted({}, 'token', false);
      }
      expect(taken?.id).toBe(third);
      const [after, ...rest] = await producers.enqueueWriteBack(
        batchOf('hubspot', 'contacts', 10, 'h'),
        backfill,
      );
      expect(rest).toEqual([]);
      expect(after).not.toBe(third);
      expect(await writesOf(third!)).toHaveLength(15);
      expect(await writesOf(after!)).toEqual(ids('h', 0, 10));
    } finally {
      await taker.close(true);
      await takerRedis.quit();
    }
  });

  it("tells the pipeline which pulls are a scheduler's ticks (they may skip scans that are not due)", async () => {
    await start();
    await runCycle({ producers, objects: pipeline.objects, mode: 'incremental', pollMs: 50 });
    const every = { kind: 'interval' as const, everyMs: 200 };
    await upsertSchedules(producers, pipeline.objects, { persons: every, companies: every, deals: every });
    const pulls = async () => redis.lrange(`fake:${prefix}:pulls`, 0, -1);
    for (let i = 0; i < 100 && !(await pulls()).includes('hubspot/contacts scheduled=true'); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const seen = await pulls();
    expect(seen.slice(0, 2).sort()).toEqual([
      'hubspot/contacts scheduled=false',
      'salesforce/Lead scheduled=false',
    ]);
    expect(seen).toContain('hubspot/contacts scheduled=true');
  });

  it('runs incremental work before back-fill work', async () => {
    await producers.enqueuePull('hubspot', 'contacts', { mode: 'backfill' });
    await producers.enqueuePull('salesforce', 'Lead', { mode: 'incremental' });
    const order: string[] = [];
    const slow = new FakePipeline(redis, prefix);
    const recording = Object.assign(Object.create(slow) as FakePipeline, {
      pull: (system: 'hubspot' | 'salesforce', object: string) => {
        order.push(`${system}/${object}`);
        return slow.pull(system, object);
      },
    });
    workers = await startWorkers({
      redisUrl: url,
      redisPrefix: prefix,
      pipeline: recording,
      producers,
      log,
      concurrency: { pull: 1 },
      queues: ['pull'],
    });
    await waitFor(async () => (await queues.pull.getCompletedCount()) === 2);
    expect(order).toEqual(['salesforce/Lead', 'hubspot/contacts']);
  });

  it('uses one BullMQ prefix', () => {
    expect(queues.pull.opts.prefix).toBe(bullPrefix(prefix));
    expect(ALL_QUEUES).toEqual(['pull', 'reconcile', 'write-back']);
  });
});

/** Fails with the summary and every job (state, result) unless `expected` holds for some object's counts. */
async function explainUnless(
  summary: Awaited<ReturnType<typeof runCycle>>,
  expected: (counts: Awaited<ReturnType<typeof runCycle>>['objects'][number]) => boolean,
): Promise<void> {
  if (summary.objects.some(expected)) return;
  const jobs = await Promise.all(
    Object.values(queues).map(async (q) =>
      Promise.all(
        (await q.getJobs()).map(async (j) => ({
          queue: q.name,
          id: j.id,
          state: await j.getState(),
          at: [j.timestamp, j.processedOn, j.finishedOn],
          result: j.returnvalue as unknown,
        })),
      ),
    ),
  );
  expect({ summary, jobs: jobs.flat() }).toBe('as expected');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}
