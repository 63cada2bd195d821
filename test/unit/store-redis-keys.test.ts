import { describe, expect, it } from '@jest/globals';
import { RedisKeys } from '../../src/store/redis/keys.js';

// Redis Cluster hashes only the part inside the first {…}: every key of one concern shares a slot.
const hashTag = (key: string): string | undefined => /\{([^}]+)\}/.exec(key)?.[1];

describe('RedisKeys', () => {
  const keys = new RedisKeys('tandem');

  it('lays out every key under the prefix with one hash tag per concern', () => {
    expect(keys.checkpoint('hubspot', 'contacts')).toBe('tandem:{checkpoint}:hubspot:contacts');
    expect(keys.lastWritten('salesforce', '00Q5e00000AbCdE')).toBe('tandem:{lw}:salesforce:00Q5e00000AbCdE');
    expect(keys.lock('pull:hubspot:contacts')).toBe('tandem:{lock}:pull:hubspot:contacts');
    expect(keys.budget('salesforce', 'daily')).toBe('tandem:{budget}:salesforce:daily');
    expect(keys.metricTotals()).toBe('tandem:{metrics}:totals');
    expect(keys.queuePrefix()).toBe('{tandem}:bull');
  });

  it('puts keys of one concern in one slot and concerns in different slots', () => {
    expect(hashTag(keys.lastWritten('hubspot', '1'))).toBe(hashTag(keys.lastWritten('salesforce', '2')));
    const tags = new Set([
      hashTag(keys.checkpoint('hubspot', 'contacts')),
      hashTag(keys.lastWritten('hubspot', '1')),
      hashTag(keys.lock('x')),
      hashTag(keys.budget('hubspot', 'burst')),
      hashTag(keys.queuePrefix()),
    ]);
    expect(tags.size).toBe(5);
  });

  it.each(['', 'tandem:', 'ten{ant}', 'has space'])('refuses the prefix %j', (prefix) => {
    expect(() => new RedisKeys(prefix)).toThrow(/prefix/);
  });

  it('accepts a namespaced prefix', () => {
    expect(new RedisKeys('acme:prod').checkpoint('hubspot', 'deals')).toBe(
      'acme:prod:{checkpoint}:hubspot:deals',
    );
  });
});
