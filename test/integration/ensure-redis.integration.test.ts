import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  defaultRedisSteps,
  ensureRedis,
  LOCAL_REDIS_URL,
  type EnsuredRedis,
} from '../../src/runtime/ensure-redis.js';

describe('ensureRedis on this machine', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-ensure-redis-'));
  const started: EnsuredRedis[] = [];
  afterAll(async () => {
    for (const redis of started) await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a private redis-server with AOF under <dataDir>/redis, and PINGs it', async () => {
    const lines: string[] = [];
    const redis = await ensureRedis({
      dataDir,
      log: (line) => lines.push(line),
      allowInstall: false,
      // Pretend nothing runs on 6379, whatever this machine has, so the private branch is taken.
      steps: {
        probe: async (url) =>
          url === LOCAL_REDIS_URL
            ? { ok: false, reason: 'ignored by this test' }
            : defaultRedisSteps.probe(url),
      },
    });
    started.push(redis);
    expect(redis.source).toBe('private');

    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'dir')).toEqual(['dir', join(dataDir, 'redis')]);
    } finally {
      client.disconnect();
    }
    expect(existsSync(join(dataDir, 'redis'))).toBe(true);
  });

  it('uses REDIS_URL when it answers (the test Redis)', async () => {
    const url = process.env['TEST_REDIS_URL'] ?? '';
    const redis = await ensureRedis({ redisUrl: url, dataDir, log: () => {}, allowInstall: false });
    expect({ source: redis.source, url: redis.url }).toEqual({ source: 'env', url });
  });

  it('rejects a REDIS_URL nobody answers on', async () => {
    await expect(
      ensureRedis({ redisUrl: 'redis://127.0.0.1:1', dataDir, log: () => {}, allowInstall: false }),
    ).rejects.toThrow(/^REDIS_URL=redis:\/\/127\.0\.0\.1:1 does not answer PING/);
  });
});
