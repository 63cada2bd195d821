import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ALL_QUEUES, bullPrefix } from '../../src/queues/names.js';
import { exitOf, startTandem } from '../support/cli.js';

// `tandem demo` as a first-time user runs it, against the private test Redis (REDIS_URL) and a temporary
// data directory: real sandboxes, the real pipeline, workers, schedules and dashboard in one process.

const url = process.env['TEST_REDIS_URL'] ?? '';
const prefix = `test-demo-${randomUUID()}`;

afterAll(async () => {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  for (const name of ALL_QUEUES) {
    const queue = new Queue(name, { connection, prefix: bullPrefix(prefix) });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  const mine = await connection.keys(`${prefix}:*`);
  if (mine.length > 0) await connection.del(...mine);
  await connection.quit();
});

describe('tandem demo', () => {
  it('starts everything, serves the dashboard with the printed token, and stops cleanly on SIGINT', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tandem-demo-'));
    const { child, output } = await startTandem(
      ['demo', '--data-dir', dataDir, '--persons', '60', '--port', '0', '--redis-prefix', prefix],
      { REDIS_URL: url, LOG_LEVEL: 'silent' },
      /Tandem dashboard: (http:\/\/\S+) +\(log in with admin token (\S+)\)/,
    );
    try {
      const [, base, token] =
        /Tandem dashboard: (http:\/\/\S+) +\(log in with admin token (\S+)\)/.exec(output()) ?? [];
      expect(output()).toMatch(/Using Redis at .* \(REDIS_URL\)/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(await ready.json()).toMatchObject({
        checks: { redis: 'ok', hubspot: 'ok', salesforce: 'ok' },
      });
      expect(ready.status).toBe(200);

      const login = await fetch(`${base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base ?? '' },
        body: new URLSearchParams({ token: token ?? '', next: '/' }),
        redirect: 'manual',
      });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
      expect(cookie).toMatch(/^tandem_session=/);
      const page = await fetch(`${base}/api/queues`, { headers: { cookie } });
      expect(page.status).toBe(200);
      // The Mapping page validates against the sandboxes' live schemas, as `tandem dashboard` does.
      const mapping = await fetch(`${base}/api/mapping`, { headers: { cookie } });
      expect(await mapping.json()).toMatchObject({ live: { checked: true } });
      const mappingPage = await (await fetch(`${base}/mapping`, { headers: { cookie } })).text();
      expect(mappingPage).toMatch(/Checked against the live/);
      const wrong = await fetch(`${base}/api/queues`, {
        headers: { authorization: 'Bearer not-the-token-at-all' },
      });
      expect(wrong.status).toBe(401);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exitOf(child)).toBe(0);
    expect(output()).toMatch(/Demo stopped\./);
  }, 120_000);
});
