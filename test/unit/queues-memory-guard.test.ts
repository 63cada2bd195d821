import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { decide, MemoryGuard, type Pausable } from '../../src/queues/memory-guard.js';

const limits = { pauseAt: 0.8, resumeBelow: 0.6 };
const heap = (share: number) => ({ liveBytes: share * 1000, limitBytes: 1000 });

describe('the memory guard', () => {
  it.each([
    // paused, live share, in flight → decision
    [false, 0.5, 3, 'stay'],
    [false, 0.79, 3, 'stay'],
    [false, 0.8, 3, 'pause'],
    [false, 0.95, 1, 'pause'],
    [false, 0.95, 0, 'stay'], // nothing in flight: only the baseline is alive, pausing cannot help
    [true, 0.7, 2, 'stay'], // between the two thresholds: no flapping
    [true, 0.59, 2, 'resume'],
    [true, 0.9, 0, 'resume'], // the last job left: the rest is the baseline
  ] as const)('paused %s, %s of the limit alive, %s in flight: %s', (paused, share, inFlight, expected) => {
    expect(decide(paused, heap(share), inFlight, limits)).toBe(expected);
  });

  it('pauses every worker when a collection leaves too much alive, and resumes when the last job ends', async () => {
    const calls: string[] = [];
    const worker = (name: string): Pausable => ({
      pause: async (doNotWaitActive) => void calls.push(`${name} pause ${String(doNotWaitActive)}`),
      resume: async () => void calls.push(`${name} resume`),
    });
    const guard = new MemoryGuard([worker('pull'), worker('reconcile')], {
      ...limits,
      log: pino({ level: 'silent' }),
    });
    let finish = (): void => undefined;
    const job = guard.track(() => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    const running = job();
    guard.observe(heap(0.85));
    expect(guard.isPaused).toBe(true);
    // The jobs in flight run on: pausing does not wait for them.
    expect(calls).toEqual(['pull pause true', 'reconcile pause true']);
    guard.observe(heap(0.7));
    expect(guard.isPaused).toBe(true);
    finish();
    await expect(running).resolves.toBe('done');
    expect(guard.isPaused).toBe(false);
    expect(calls.slice(2)).toEqual(['pull resume', 'reconcile resume']);
    expect(guard.stats).toEqual({ pauses: 1, resumes: 1 });
  });

  it('reads the heap after each full collection V8 makes', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const paused: string[] = [];
    const worker: Pausable = { pause: async () => void paused.push('paused'), resume: async () => undefined };
    // Any live heap is over 0.01% of the limit: the first full collection with a job in flight pauses.
    const guard = new MemoryGuard([worker], {
      pauseAt: 0.0001,
      resumeBelow: 0.0001,
      log: pino({ level: 'silent' }),
    });
    guard.start();
    let finish = (): void => undefined;
    const running = guard.track(() => new Promise<void>((resolve) => (finish = resolve)))();
    try {
      gc();
      for (let i = 0; i < 50 && !guard.isPaused; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(guard.isPaused).toBe(true);
      expect(paused).toEqual(['paused']);
    } finally {
      guard.stop();
      finish();
      await running;
    }
  });

  it('refuses thresholds that would never resume', () => {
    expect(
      () => new MemoryGuard([], { pauseAt: 0.5, resumeBelow: 0.7, log: pino({ level: 'silent' }) }),
    ).toThrow(/resumeBelow/);
  });
});
