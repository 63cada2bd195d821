import { describe, expect, it } from '@jest/globals';

describe('jest ESM setup', () => {
  it('loads an ESM-only dependency (p-retry)', async () => {
    const { default: pRetry } = await import('p-retry');
    let calls = 0;
    const result = await pRetry(
      () => {
        calls += 1;
        if (calls < 2) throw new Error('transient');
        return 'ok';
      },
      { retries: 2, minTimeout: 1, maxTimeout: 1 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(2);
  });
});
