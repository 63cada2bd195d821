import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from '../logging.js';

/**
 * Keeps a worker process from dying of heap exhaustion when its jobs together outgrow the V8 heap cap
 * (`--max-old-space-size`; docker-compose gives each worker 160 MB). A worker that runs out of heap dies
 * at once: its jobs sit "active" until another worker's stalled check puts them back, and after
 * `maxStalledCount` deaths they fail with "job stalled more than allowable limit", a reason that names no
 * memory. The guard reads what each full (mark-sweep) collection leaves alive; when that is at least
 * `pauseAt` of the heap limit, the process takes no new jobs (the jobs it holds run on) until a collection
 * leaves less than `resumeBelow`, or until nothing is in flight (then only the process's own baseline
 * is left, and waiting longer cannot help).
 */

export interface HeapReading {
  /** Bytes alive after the last full collection. */
  liveBytes: number;
  /** The heap's hard limit in bytes. */
  limitBytes: number;
}

export interface MemoryGuardOptions {
  /** Share of the heap limit alive after a full collection at which new jobs stop (default 0.8). */
  pauseAt?: number;
  /** Share below which they are taken again (default 0.6). */
  resumeBelow?: number;
  log: Logger;
  /** Told each time the guard pauses the workers (e.g. to count it in a metric). */
  onPause?: () => void;
}

export type MemoryDecision = 'pause' | 'resume' | 'stay';

/** What to do after a reading: the guard's whole policy, apart from timers and workers. */
export function decide(
  paused: boolean,
  reading: HeapReading,
  inFlight: number,
  limits: { pauseAt: number; resumeBelow: number },
): MemoryDecision {
  const share = reading.liveBytes / Math.max(1, reading.limitBytes);
  if (!paused) return share >= limits.pauseAt && inFlight > 0 ? 'pause' : 'stay';
  return share < limits.resumeBelow || inFlight === 0 ? 'resume' : 'stay';
}

/** What the guard pauses and resumes: BullMQ `Worker`s have both. */
export interface Pausable {
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): Promise<void>;
}

export class MemoryGuard {
  private paused = false;
  private inFlight = 0;
  private last: HeapReading | undefined;
  private observer: PerformanceObserver | undefined;
  private readonly pauseAt: number;
  private readonly resumeBelow: number;
  /** How often the guard paused and resumed the workers. */
  readonly stats = { pauses: 0, resumes: 0 };

  constructor(
    private readonly workers: readonly Pausable[],
    private readonly options: MemoryGuardOptions,
  ) {
    this.pauseAt = options.pauseAt ?? 0.8;
    this.resumeBelow = options.resumeBelow ?? 0.6;
    if (!(this.resumeBelow > 0 && this.resumeBelow <= this.pauseAt && this.pauseAt <= 1))
      throw new RangeError(
        `memory guard: need 0 < resumeBelow (${this.resumeBelow}) <= pauseAt (${this.pauseAt}) <= 1`,
      );
  }

  /** Watches V8's full collections (a `PerformanceObserver` on `gc` entries). */
  start(): this {
    this.observer = new PerformanceObserver((list) => {
      const full = list
        .getEntries()
        .some((e) => (e as { detail?: { kind?: number } }).detail?.kind === perf.NODE_PERFORMANCE_GC_MAJOR);
      if (!full) return;
      const heap = getHeapStatistics();
      this.observe({ liveBytes: heap.used_heap_size, limitBytes: heap.heap_size_limit });
    });
    this.observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Wraps a job processor so the guard knows how many jobs are in flight. */
  track<A extends unknown[], R>(processor: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      this.inFlight += 1;
      try {
        return await processor(...args);
      } finally {
        this.inFlight -= 1;
        // The last job out leaves only the baseline: no need to wait for a collection to say so.
        if (this.paused && this.inFlight === 0 && this.last !== undefined) this.observe(this.last);
      }
    };
  }

  /** Acts on a reading (called after each full collection; public for tests). */
  observe(reading: HeapReading): void {
    this.last = reading;
    const decision = decide(this.paused, reading, this.inFlight, {
      pauseAt: this.pauseAt,
      resumeBelow: this.resumeBelow,
    });
    const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
    const detail = {
      liveMb: mb(reading.liveBytes),
      limitMb: mb(reading.limitBytes),
      inFlight: this.inFlight,
    };
    if (decision === 'pause') {
      this.paused = true;
      this.stats.pauses += 1;
      this.options.onPause?.();
      this.options.log.warn(
        detail,
        `memory: ${detail.liveMb} of ${detail.limitMb} MB heap alive after a full collection; taking no new jobs until the ${detail.inFlight} in flight free some (raise the heap cap with NODE_OPTIONS=--max-old-space-size, or lower TANDEM_RECONCILE_BATCH or the reconcile concurrency)`,
      );
      for (const w of this.workers) void w.pause(true).catch(() => undefined);
    } else if (decision === 'resume') {
      this.paused = false;
      this.stats.resumes += 1;
      this.options.log.info(detail, 'memory: taking jobs again');
      for (const w of this.workers) void w.resume().catch(() => undefined);
    }
  }
}
