import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ALL_QUEUES, bullPrefix } from '../../src/queues/names.js';
import { exitOf, runTandem, startTandem } from '../support/cli.js';
import { dropFakeState, seedPersons } from '../support/fake-pipeline.js';

// `tandem sync --once`, `replay`, `scheduler` and `status` as scripts run them: exit codes and JSON.

const url = process.env['TEST_REDIS_URL'] ?? '';
let redis: Redis;
beforeAll(() => {
  redis = new Redis(url);
});
afterAll(async () => {
  await redis.quit();
});

let prefix: string;
let env: Record<string, string>;
const children: ChildProcess[] = [];
const module = ['--pipeline-module', 'test/support/fake-pipeline.ts'];

beforeEach(() => {
  prefix = `test-${randomUUID()}`;
  env = {
    REDIS_URL: url,
    TANDEM_REDIS_PREFIX: prefix,
    TANDEM_DATA_DIR: mkdtempSync(join(tmpdir(), 'tandem-cli-sync-')),
    LOG_LEVEL: 'silent',
  };
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGTERM');
    await exitOf(child);
  }
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  for (const name of ALL_QUEUES) {
    const queue = new Queue(name, { connection, prefix: bullPrefix(prefix) });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  await connection.quit();
  await dropFakeState(redis, prefix);
  const mine = await redis.keys(`${prefix}:*`);
  if (mine.length > 0) await redis.del(...mine);
});

interface Summary {
  objects: Array<{ system: string; object: string; pulled: number; written: number; failed: number }>;
  failures: Array<{ code: string; recordId?: string; queue: string; jobId: string }>;
  unreachable: Array<{ system: string; code: string }>;
}

describe('tandem sync --once', () => {
  it('exits 0 with a JSON summary, and the second cycle writes nothing', async () => {
    await seedPersons(redis, prefix, 30);
    const first = await runTandem(['sync', '--once', '--json', ...module], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as Summary;
    expect(summary.objects).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ system: 'hubspot', object: 'contacts', pulled: 30 }),
        expect.objectContaining({ system: 'salesforce', object: 'Lead', written: 30, failed: 0 }),
      ]),
    );
    const second = await runTandem(['sync', '--once', '--json', ...module], env);
    expect(second.code).toBe(0);
    const again = JSON.parse(second.stdout) as Summary;
    expect(again.objects.reduce((n, o) => n + o.written, 0)).toBe(0);
  });

  it('prints a table and exits 1 naming the failed record; replay after the fix succeeds', async () => {
    await seedPersons(redis, prefix, 8);
    await redis.sadd(`fake:${prefix}:reject`, 'salesforce/p00002');
    const run = await runTandem(['sync', '--once', ...module], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^object\s+pulled\s+reconciled\s+written\s+failed$/m);
    expect(run.stdout).toMatch(/salesforce Lead\s+0\s+0\s+7\s+1/);
    expect(run.stdout).toMatch(/SALESFORCE_STRING_TOO_LONG\s+salesforce Lead p00002: Salesforce rejected/);

    // Nothing to run the replayed job yet: a worker process does it.
    const { child } = await startTandem(['worker', ...module], env, /Tandem worker \d+ running/);
    children.push(child);
    await redis.srem(`fake:${prefix}:reject`, 'salesforce/p00002');
    const replay = await runTandem(['replay', '--code', 'SALESFORCE_STRING_TOO_LONG', '--json'], env);
    expect(JSON.parse(replay.stdout)).toMatchObject({ replayed: 1, succeeded: 1, failed: 0 });
    expect(replay.code).toBe(0);
    expect(await redis.hget(`fake:${prefix}:records:salesforce`, 'p00002')).toBe('v1-p00002');

    const nothing = await runTandem(['replay', '--all', '--json'], env);
    expect(JSON.parse(nothing.stdout)).toMatchObject({ replayed: 0 });
    expect((await runTandem(['replay'], env)).code).toBe(2);
  });

  it('exits 3 when a system is unreachable', async () => {
    await seedPersons(redis, prefix, 3);
    await redis.set(`fake:${prefix}:down:salesforce`, '1');
    const run = await runTandem(['sync', '--once', '--json', '--attempts', '1', ...module], env);
    expect(run.code).toBe(3);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.unreachable).toEqual([
      expect.objectContaining({ system: 'salesforce', code: 'NETWORK_CONNECTION_REFUSED' }),
    ]);
  });

  it('exits 3 when Redis cannot be reached, and 2 without --once', async () => {
    const down = await runTandem(['sync', '--once', ...module], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach Redis/);
    expect((await runTandem(['sync', ...module], env)).code).toBe(2);
  });

  // The real pipeline, no credentials at all: one run shows every variable to set, for both systems.
  const noCredentials = Object.fromEntries(
    [
      'HUBSPOT_ACCESS_TOKEN',
      'SALESFORCE_AUTH_FLOW',
      'SALESFORCE_CLIENT_ID',
      'SALESFORCE_CLIENT_SECRET',
      'SALESFORCE_USERNAME',
      'SALESFORCE_PASSWORD',
      'SALESFORCE_REFRESH_TOKEN',
      'TANDEM_CONFIG',
    ].map((name) => [name, '']),
  );

  it('exits 2 listing the missing credentials of both systems at once', async () => {
    const run = await runTandem(['sync', '--once'], { ...env, ...noCredentials });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Missing credentials (2 problems)');
    expect(run.stderr).toContain('HUBSPOT_ACCESS_TOKEN (not set)');
    expect(run.stderr).toContain('SALESFORCE_AUTH_FLOW (not set)');
  });

  it('exits 2 at start naming TANDEM_MAPPING when it points at no file', async () => {
    const run = await runTandem(['sync', '--once'], {
      ...env,
      ...noCredentials,
      TANDEM_MAPPING: 'mappings/no-such-mapping.yaml',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'TANDEM_MAPPING (environment): expected the path of an existing mapping YAML file, but there is no file at ',
    );
    expect(run.stderr).not.toContain('ENOENT');
  });
});

describe('tandem scheduler and status', () => {
  it('saves one job scheduler per object, idempotently, and status reports queues as JSON', async () => {
    const schedEnv = { ...env, TANDEM_SCHEDULE_PERSONS: '30s' };
    const first = await runTandem(['scheduler', '--json', ...module], schedEnv);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).schedules).toEqual([
      expect.objectContaining({ id: 'pull-hubspot-contacts', every: 30_000 }),
      expect.objectContaining({ id: 'pull-salesforce-Lead', every: 30_000 }),
    ]);
    await runTandem(['scheduler', '--json', ...module], schedEnv);
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const pull = new Queue('pull', { connection, prefix: bullPrefix(prefix) });
    expect(await pull.getJobSchedulersCount()).toBe(2);
    await pull.close();
    await connection.quit();

    const status = await runTandem(['status', '--json'], env);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      queues: Array<{ queue: string; delayed: number; waiting: number; prioritized: number }>;
    };
    expect(parsed.queues.map((q) => q.queue).sort()).toEqual(['pull', 'reconcile', 'write-back']);
    // Each scheduler's first pull is queued (no worker is running to take it).
    const queued = parsed.queues.find((q) => q.queue === 'pull');
    expect((queued?.waiting ?? 0) + (queued?.prioritized ?? 0) + (queued?.delayed ?? 0)).toBe(2);
  });
});
