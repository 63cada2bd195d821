import type { Checkpoint, PullPage } from '../../src/connectors/connector.js';
import { connectSalesforce } from '../../src/connectors/salesforce/auth.js';
import {
  SalesforceConnector,
  type SalesforceConnectorOptions,
} from '../../src/connectors/salesforce/connector.js';
import { salesforceId } from '../../src/sandbox/world/salesforce-id.js';
import type { SalesforceWorld } from '../../src/sandbox/world/schema.js';
import {
  CREDENTIALS,
  startSalesforceSandbox,
  type RunningSalesforceSandbox,
} from './sandbox-salesforce-helpers.js';

export const START = Date.parse('2024-06-01T00:00:00.000Z');

export interface Harness {
  running: RunningSalesforceSandbox;
  clock: { now: number };
  connector(options?: SalesforceConnectorOptions): Promise<SalesforceConnector>;
  stats(): Promise<{ totalCalls: number; calls: Record<string, number> }>;
  /** Before each test: the clock back at START, an empty org, no faults. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A sandbox on a clock the test moves, and connectors on the same clock with instant retries. */
export async function startHarness(options: { bulkQueryPageSize?: number } = {}): Promise<Harness> {
  const clock = { now: START };
  const running = await startSalesforceSandbox({
    now: () => clock.now,
    bulkChecksBeforeComplete: 1,
    ...(options.bulkQueryPageSize !== undefined ? { bulkQueryPageSize: options.bulkQueryPageSize } : {}),
  });
  return {
    running,
    clock,
    async connector(extra = {}) {
      const conn = await connectSalesforce({
        loginUrl: running.url,
        apiVersion: '62.0',
        auth: {
          flow: 'password',
          username: CREDENTIALS.username,
          password: CREDENTIALS.password,
          clientId: CREDENTIALS.clientId,
          clientSecret: CREDENTIALS.clientSecret,
        },
      });
      return new SalesforceConnector(conn, {
        now: () => clock.now,
        retry: { minTimeoutMs: 1, maxTimeoutMs: 5, retries: 8 },
        sleep: () => new Promise((resolve) => setTimeout(resolve, 1)),
        bulkPolling: { pollIntervalMs: 5, pollTimeoutMs: 60_000 },
        ...extra,
      });
    },
    async stats() {
      return (await (await fetch(`${running.url}/__sandbox/stats`)).json()) as {
        totalCalls: number;
        calls: Record<string, number>;
      };
    },
    async reset() {
      clock.now = START;
      running.sandbox.reset();
      await running.control('faults', { spec: '' });
    },
    close: () => running.close(),
  };
}

/** `count` Leads; the first `sameStamp` share one SystemModstamp, the rest one millisecond apart. */
export function leadWorld(
  count: number,
  options: { sameStamp?: number; from?: number; firstSequence?: number } = {},
): SalesforceWorld {
  const from = options.from ?? START - 86_400_000;
  const first = options.firstSequence ?? 1;
  const leads = Array.from({ length: count }, (_, i) => {
    const stamp = new Date(i < (options.sameStamp ?? 0) ? from : from + i).toISOString();
    return {
      Id: salesforceId('00Q', first + i),
      LastName: `Person ${i}`,
      Company: `Company ${i % 50}`,
      Email: `person${first + i}@example.com`,
      Status: 'Open - Not Contacted',
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
    };
  });
  return {
    records: {
      Lead: leads,
      Account: [],
      Contact: [],
      Opportunity: [],
      OpportunityContactRole: [],
      Campaign: [],
      CampaignMember: [],
    },
    deleted: [],
  } as unknown as SalesforceWorld;
}

/** Pages of a pull, optionally stopping after `maxPages`. */
export async function collect(
  pages: AsyncIterable<PullPage>,
  maxPages = Infinity,
): Promise<{ pages: PullPage[]; ids: string[]; deleted: string[]; last: Checkpoint | null }> {
  const seen: PullPage[] = [];
  for await (const page of pages) {
    seen.push(page);
    if (seen.length >= maxPages) break;
  }
  return {
    pages: seen,
    ids: seen.flatMap((p) => p.records.map((r) => r.id)),
    deleted: seen.flatMap((p) => p.deleted.map((d) => d.id)),
    last: seen.at(-1)?.checkpoint ?? null,
  };
}
