import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { RateLimitedError } from '../../src/connectors/classify.js';
import { leadWorld, startHarness, type Harness } from './salesforce-connector-helpers.js';

describe('SalesforceConnector under rate limits and failures', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => h.reset());

  it('hands a call to the queue once its rate-limit waits add up to maxRateLimitTotalMs', async () => {
    h.running.sandbox.loadWorld(leadWorld(5));
    const waits: number[] = [];
    const salesforce = await h.connector({
      retry: { maxRateLimitTotalMs: 90_000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    // Every request is turned away as over the concurrent long-running limit (a 30 s wait each).
    await h.running.control('faults', { spec: '429=1' });
    const pages = salesforce.pull('Lead', null)[Symbol.asyncIterator]();
    const error = await pages.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).classification.scope).toBe('salesforce_concurrent');
    expect(waits).toEqual([30_000, 30_000, 30_000]);
    expect((await h.stats()).totalCalls).toBe(4);
  }, 15_000);

  it('reads the schema again after a failed read instead of keeping the failure', async () => {
    const salesforce = await h.connector({ retry: { retries: 0 } });
    await h.running.control('faults', { spec: '5xx=1' });
    await expect(salesforce.readSchema()).rejects.toThrow();
    await h.running.control('faults', { spec: '' });
    const schema = await salesforce.readSchema();
    expect(Object.keys(schema)).toEqual(expect.arrayContaining(['Lead', 'Contact']));
    expect(await salesforce.readSchema()).toBe(schema);
  });
});
