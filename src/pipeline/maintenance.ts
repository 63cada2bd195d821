// Preview, back-fill and rebuild: runs of the pipeline without queues, for the CLI and tests.

import type { HubSpotObjectName, SalesforceObjectName, SourceRecord } from '../domain/records.js';
import type { EntityKind, RecordFailure, SourceRef, WriteBatch } from './contract.js';
import type { SyncPipelineImpl } from './pipeline.js';
import { previewLines, type PreviewLine } from './preview.js';

export interface PreviewResult {
  sampled: number;
  batches: WriteBatch[];
  failures: RecordFailure[];
  lines: PreviewLine[];
}

/**
 * A dry run on real data: the first `limit` records of every object, read through the connectors (reads
 * only), reconciled with `dryRun` against what the store already knows. Nothing is written anywhere.
 */
export async function previewMapping(
  pipeline: SyncPipelineImpl,
  options: { limit: number },
): Promise<PreviewResult> {
  const sample = new Map<EntityKind, SourceRecord[]>();
  for (const o of pipeline.objects) {
    const pages =
      o.system === 'hubspot'
        ? pipeline.connectors.hubspot.pull(o.object as HubSpotObjectName, null, { pageSize: options.limit })
        : pipeline.connectors.salesforce.pull(o.object as SalesforceObjectName, null, {
            pageSize: options.limit,
          });
    for await (const page of pages) {
      sample.set(o.kind, [...(sample.get(o.kind) ?? []), ...page.records.slice(0, options.limit)]);
      break;
    }
  }
  const batches: WriteBatch[] = [];
  const failures: RecordFailure[] = [];
  let sampled = 0;
  for (const [kind, records] of sample) {
    sampled += records.length;
    if (records.length === 0) continue;
    const refs: SourceRef[] = records.map((r) => ({ system: r.system, object: r.object, id: r.id }));
    const outcome = await pipeline.reconcile(kind, refs, { dryRun: true, overrides: records });
    batches.push(...outcome.writes);
    failures.push(...outcome.failures);
  }
  return { sampled, batches, failures, lines: previewLines(batches) };
}

export interface RunSummary {
  reconciled: number;
  written: number;
  created: number;
  failures: RecordFailure[];
}

const KINDS: readonly EntityKind[] = ['company', 'person', 'deal'];

/**
 * Re-applies the current mapping to every unified record stamped with another version: reconcile (which
 * plans only the fields whose outcome changed) and write back, page by page.
 */
export async function backfillMapping(
  pipeline: SyncPipelineImpl,
  options: { kind?: EntityKind; pageSize?: number; jobId?: string } = {},
): Promise<RunSummary> {
  const summary: RunSummary = { reconciled: 0, written: 0, created: 0, failures: [] };
  const jobId = options.jobId ?? `backfill-${pipeline.mappingVersion}`;
  for (const kind of options.kind === undefined ? KINDS : [options.kind]) {
    const seen = new Set<string>();
    for (;;) {
      const refs = await pipeline.refsForMappingBackfill(kind, { limit: options.pageSize ?? 200 });
      const fresh = refs.filter((r) => !seen.has(`${r.system}:${r.id}`));
      if (fresh.length === 0) break;
      for (const r of refs) seen.add(`${r.system}:${r.id}`);
      const outcome = await pipeline.reconcile(kind, refs, { jobId });
      summary.reconciled += outcome.entities;
      summary.failures.push(...outcome.failures);
      for (const batch of outcome.writes) {
        const result = await pipeline.writeBack(batch, { jobId });
        summary.written += result.written;
        summary.created += result.created;
        summary.failures.push(...result.failed);
      }
    }
  }
  return summary;
}

/**
 * Recreates the customer view (and the coordination state) from both CRMs: every object pulled from
 * scratch, every page reconciled and saved; the plans are dropped, so neither CRM is written.
 */
export async function rebuildView(pipeline: SyncPipelineImpl): Promise<RunSummary & { pulled: number }> {
  const summary = { pulled: 0, reconciled: 0, written: 0, created: 0, failures: [] as RecordFailure[] };
  const pages: Array<{ kind: EntityKind; refs: SourceRef[] }> = [];
  for (const o of pipeline.objects) {
    for await (const page of pipeline.pull(o.system, o.object, { mode: 'rebuild' })) {
      summary.pulled += page.refs.length;
      if (page.refs.length + page.deleted.length > 0)
        pages.push({ kind: page.kind, refs: [...page.refs, ...page.deleted] });
    }
  }
  for (const page of pages) {
    const outcome = await pipeline.reconcile(page.kind, page.refs, { jobId: 'rebuild', refreshView: true });
    summary.reconciled += outcome.entities;
    summary.failures.push(...outcome.failures);
  }
  return summary;
}
