import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import type { TandemConfig } from '../../src/config/index.js';
import type {
  PulledPage,
  PullMode,
  RecordFailure,
  WriteBackOutcome,
  WriteBatch,
} from '../../src/pipeline/contract.js';
import { openSyncPipeline, type OpenSyncPipelineOptions } from '../../src/pipeline/open.js';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import { startSandbox, type RunningSandbox, type SandboxOptions } from '../../src/sandbox/index.js';

export interface PipelineHarness {
  sandbox: RunningSandbox;
  config: TandemConfig;
  prefix: string;
  open(options?: OpenSyncPipelineOptions): Promise<SyncPipelineImpl>;
  /** Writes both sandboxes have taken since the last `resetStats()`. */
  writes(): number;
  resetStats(): void;
  stop(): Promise<void>;
}

export async function startPipelineHarness(options: SandboxOptions = {}): Promise<PipelineHarness> {
  const sandbox = await startSandbox({
    dataDir: mkdtempSync(join(tmpdir(), 'tandem-pipeline-')),
    ...options,
  });
  const c = sandbox.credentials;
  const prefix = `test-${randomUUID()}`;
  const config = loadConfig({
    HUBSPOT_BASE_URL: c.hubspot.baseUrl,
    HUBSPOT_ACCESS_TOKEN: c.hubspot.accessToken,
    SALESFORCE_LOGIN_URL: c.salesforce.loginUrl,
    SALESFORCE_INSTANCE_URL: c.salesforce.instanceUrl,
    SALESFORCE_AUTH_FLOW: 'client_credentials',
    SALESFORCE_CLIENT_ID: c.salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: c.salesforce.clientSecret,
    REDIS_URL: process.env['TEST_REDIS_URL'] ?? '',
    TANDEM_REDIS_PREFIX: prefix,
  });
  return {
    sandbox,
    config,
    prefix,
    open: (o = {}) =>
      openSyncPipeline(config, {
        database: { dataDir: ':memory:' },
        salesforce: { windowLagMs: 0 },
        hubspot: { searchLagMs: 0 },
        ...o,
      }),
    writes: () =>
      sandbox.hubspot.stats.snapshot().recordsWritten + sandbox.salesforce.stats.snapshot().recordsWritten,
    resetStats: () => {
      sandbox.hubspot.stats.reset();
      sandbox.salesforce.stats.reset();
    },
    stop: () => sandbox.stop(),
  };
}

export interface CycleResult {
  pages: PulledPage[];
  batches: WriteBatch[];
  reconcileFailures: RecordFailure[];
  outcomes: WriteBackOutcome[];
}

/** Pull every object, reconcile every page, write back every batch (no queues). */
export async function fullCycle(pipeline: SyncPipelineImpl, mode: PullMode): Promise<CycleResult> {
  const pages: PulledPage[] = [];
  for (const o of pipeline.objects) {
    for await (const page of pipeline.pull(o.system, o.object, { mode })) pages.push(page);
  }
  const batches: WriteBatch[] = [];
  const reconcileFailures: RecordFailure[] = [];
  for (const page of pages) {
    const refs = [...page.refs, ...page.deleted];
    if (refs.length === 0) continue;
    const outcome = await pipeline.reconcile(page.kind, refs);
    batches.push(...outcome.writes);
    reconcileFailures.push(...outcome.failures);
  }
  const outcomes: WriteBackOutcome[] = [];
  for (const batch of batches) outcomes.push(await pipeline.writeBack(batch, { jobId: batch.key }));
  return { pages, batches, reconcileFailures, outcomes };
}
