// Integration tests own their Redis: a private redis-server on a free port, unless TEST_REDIS_URL names
// one. Either way tests only touch keys under their own random prefix, and never flush.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  if (process.env.TEST_REDIS_URL) return;
  const { startPrivateRedis } = await tsImport('../../src/runtime/redis-server.ts', import.meta.url);
  const redis = await startPrivateRedis();
  globalThis.__tandemRedis = redis;
  process.env.TEST_REDIS_URL = redis.url;
}
