import { describe, expect, it } from '@jest/globals';
import {
  isSalesforceId,
  SALESFORCE_KEY_PREFIXES,
  salesforceId,
  toCaseSafeId,
} from '../../src/sandbox/world/salesforce-id.js';

describe('toCaseSafeId', () => {
  // Published 15 → 18 conversions (Salesforce CASESAFEID examples), plus edge cases worked by hand.
  it.each([
    ['a0D30000001n7Pi', 'a0D30000001n7PiEAI'],
    ['a0RE000000IJmcN', 'a0RE000000IJmcNMAT'],
    ['a01M00000062mPg', 'a01M00000062mPgIAI'],
    ['001M000000qfPyS', '001M000000qfPySIAU'],
    ['a0FE000000D6r3F', 'a0FE000000D6r3FMAR'],
    ['0F9E000000092w2', '0F9E000000092w2KAA'],
    ['001A0000006Vm9r', '001A0000006Vm9rIAC'],
    ['aaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaAAA'],
    ['AAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAA555'],
  ])('%s → %s', (id15, id18) => {
    expect(toCaseSafeId(id15)).toBe(id18);
    expect(toCaseSafeId(id18)).toBe(id18);
  });

  it.each(['', '001', '001A0000006Vm9r!', '001A0000006Vm9'])('rejects %j', (bad) => {
    expect(() => toCaseSafeId(bad)).toThrow(RangeError);
  });
});

describe('isSalesforceId', () => {
  it.each([
    ['a0D30000001n7PiEAI', true],
    ['a0D30000001n7Pi', true],
    ['a0D30000001n7PiAAA', false],
    ['a0d30000001n7PiEAI', false],
    ['a0D30000001n7PiEA', false],
    ['a0D30000001n7P-EAI', false],
  ])('%s → %s', (id, valid) => {
    expect(isSalesforceId(id)).toBe(valid);
  });
});

describe('salesforceId', () => {
  it.each(Object.entries(SALESFORCE_KEY_PREFIXES))('makes valid %s ids with prefix %s', (_object, prefix) => {
    for (const sequence of [0, 1, 61, 62, 3_843, 1_000_000, 2 ** 40]) {
      const id = salesforceId(prefix, sequence);
      expect(id).toHaveLength(18);
      expect(id.startsWith(prefix)).toBe(true);
      expect(isSalesforceId(id)).toBe(true);
    }
  });

  it('gives distinct sequences distinct ids, even compared case-insensitively', () => {
    const seen = new Set<string>();
    for (let sequence = 0; sequence < 5_000; sequence += 1)
      seen.add(salesforceId('00Q', sequence).toLowerCase());
    expect(seen.size).toBe(5_000);
  });

  it('encodes the sequence in base62 after the prefix', () => {
    expect(salesforceId('001', 0).slice(0, 15)).toBe('001000000000000');
    expect(salesforceId('001', 61).slice(0, 15)).toBe('00100000000000z');
    expect(salesforceId('001', 62).slice(0, 15)).toBe('001000000000010');
  });

  it.each([
    ['00', 1],
    ['001', -1],
    ['001', 1.5],
  ])('rejects prefix %j with sequence %d', (prefix, sequence) => {
    expect(() => salesforceId(prefix, sequence)).toThrow(RangeError);
  });
});
