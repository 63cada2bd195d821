import { describe, expect, it } from '@jest/globals';
import { FaultInjector, parseFaultSpec } from '../../src/sandbox/common/faults.js';

// `--fault-seed`: the same seed gives the same faults in the same order, so a failing chaos run can be
// replayed; another seed gives another sequence.
function sequence(seed: string, n = 400): string[] {
  const injector = new FaultInjector(parseFaultSpec('5xx=0.2,429=0.2,timeout=0.1,latency=20-200ms'), seed);
  return Array.from({ length: n }, () => `${injector.next().kind}+${injector.latency()}ms`);
}

describe('FaultInjector under --fault-seed', () => {
  it('repeats the same decisions and latencies for the same seed', () => {
    const first = sequence('chaos-42');
    expect(sequence('chaos-42')).toEqual(first);
    // Not trivially constant: every kind of fault occurs, and latencies vary within the range.
    const kinds = new Set(first.map((d) => d.split('+')[0]));
    expect([...kinds].sort()).toEqual(['429', '5xx', 'none', 'timeout']);
    const latencies = first.map((d) => Number(/\+(\d+)ms$/.exec(d)?.[1]));
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...latencies)).toBeLessThanOrEqual(200);
    expect(new Set(latencies).size).toBeGreaterThan(50);
  });

  it('gives a different sequence for another seed', () => {
    const a = sequence('chaos-42');
    const b = sequence('chaos-43');
    expect(b).not.toEqual(a);
    const differing = a.filter((d, i) => d !== b[i]).length;
    expect(differing).toBeGreaterThan(a.length / 2);
  });

  it('draws nothing when no faults are configured', () => {
    const injector = new FaultInjector(parseFaultSpec(undefined), 'any');
    expect(Array.from({ length: 5 }, () => injector.next().kind)).toEqual(Array(5).fill('none'));
    expect(injector.latency()).toBe(0);
  });
});
