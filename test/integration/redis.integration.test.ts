import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

describe('private test Redis', () => {
  const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '', { lazyConnect: true });
  afterAll(async () => {
    await redis.quit();
  });

  it('is reachable and isolated under a random prefix', async () => {
    expect(process.env['TEST_REDIS_URL']).toMatch(/^redis:\/\//);
    const key = `test-${randomUUID()}:probe`;
    await redis.set(key, 'v', 'EX', 60);
    expect(await redis.get(key)).toBe('v');
    await redis.del(key);
  });
});
