/**
 * What a sandbox served, for tests and benchmarks (`GET /__sandbox/stats`): calls per endpoint (method and
 * route pattern), 429s sent by the rate limiter, and injected faults.
 */
export interface SandboxStatsSnapshot {
  totalCalls: number;
  calls: Record<string, number>;
  rateLimited: number;
  faults: { '5xx': number; '429': number; timeout: number };
  recordsRead: number;
  recordsWritten: number;
  since: string;
}

export class SandboxStats {
  private calls = new Map<string, number>();
  private totalCalls = 0;
  rateLimited = 0;
  faults = { '5xx': 0, '429': 0, timeout: 0 };
  recordsRead = 0;
  recordsWritten = 0;
  private since = new Date();

  recordCall(method: string, route: string): void {
    const key = `${method.toUpperCase()} ${route}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    this.totalCalls += 1;
  }

  reset(): void {
    this.calls.clear();
    this.totalCalls = 0;
    this.rateLimited = 0;
    this.faults = { '5xx': 0, '429': 0, timeout: 0 };
    this.recordsRead = 0;
    this.recordsWritten = 0;
    this.since = new Date();
  }

  snapshot(): SandboxStatsSnapshot {
    return {
      totalCalls: this.totalCalls,
      calls: Object.fromEntries([...this.calls.entries()].sort(([a], [b]) => a.localeCompare(b))),
      rateLimited: this.rateLimited,
      faults: { ...this.faults },
      recordsRead: this.recordsRead,
      recordsWritten: this.recordsWritten,
      since: this.since.toISOString(),
    };
  }
}
