import { bullPrefix } from '../../queues/names.js';

/**
 * Every Redis key Tandem uses, built from one configurable prefix. Each concern carries its own
 * Redis-Cluster hash tag (`{checkpoint}`, `{lw}`, `{lock}`, …) so a multi-key command or pipeline within
 * one concern always lands in one slot. The layout is documented in docs/CUSTOMER-VIEW.md.
 *
 * @example
 * new RedisKeys('tandem').checkpoint('hubspot', 'contacts') // 'tandem:{checkpoint}:hubspot:contacts'
 */
export class RedisKeys {
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(prefix) || prefix.endsWith(':')) {
      throw new Error(
        `Redis key prefix "${prefix}" must be letters, digits, _ . : - (no braces, not ending in ':')`,
      );
    }
  }

  /** Incremental-sync position per (system, object). */
  checkpoint(system: string, object: string): string {
    return `${this.prefix}:{checkpoint}:${system}:${object}`;
  }

  /** Set of records whose reconcile waits for the first full read of their kind in both systems. */
  parked(kind: string): string {
    return `${this.prefix}:{parked}:${kind}`;
  }

  /** The latest plan made for a unified entity (superseded writes are skipped); `PlanVersions` also keeps its sequence and claims here. */
  plan(entityKey: string): string {
    return `${this.prefix}:{plan}:${entityKey}`;
  }

  /** Hash of field → hash of the value Tandem last wrote to one CRM record (echo suppression). */
  lastWritten(system: string, recordId: string): string {
    return `${this.prefix}:{lw}:${system}:${recordId}`;
  }

  /** A lease lock (e.g. an object's pull). */
  lock(name: string): string {
    return `${this.prefix}:{lock}:${name}`;
  }

  /** API call budget per system (rate limiting and daily quota). */
  budget(system: string, window: string): string {
    return `${this.prefix}:{budget}:${system}:${window}`;
  }

  /**
   * Hash of metric series → total over every process: workers add what their counters and histograms grew
   * by since their last flush (`HINCRBYFLOAT`), the dashboard's `/metrics` reads the sums
   * (src/observability/metrics-publisher.ts, cluster-metrics.ts).
   */
  metricTotals(): string {
    return `${this.prefix}:{metrics}:totals`;
  }

  /**
   * One dashboard login (JSON: role, CSRF secret, expiry; TTL = the session's lifetime), named by a digest of
   * the session id so the key never holds a usable cookie value.
   */
  dashboardSession(sessionDigest: string): string {
    return `${this.prefix}:{dashboard}:session:${sessionDigest}`;
  }

  /**
   * Prefix to hand to BullMQ (`new Queue(name, { prefix })`): `bullPrefix(prefix)` from `src/queues/names.ts`,
   * the one place it is defined, so every queue key of this prefix shares one cluster slot.
   */
  queuePrefix(): string {
    return bullPrefix(this.prefix);
  }
}
