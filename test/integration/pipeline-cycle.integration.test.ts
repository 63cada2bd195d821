import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateWorld } from '../../src/sandbox/world/generate.js';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import {
  fullCycle,
  startPipelineHarness,
  type CycleResult,
  type PipelineHarness,
} from './pipeline-support.js';

/** The demo world through the whole pipeline: one cycle, then a fixed point. */

let h: PipelineHarness;
let pipeline: SyncPipelineImpl;
let first: CycleResult;

beforeAll(async () => {
  h = await startPipelineHarness({ seed: 'demo', persons: 600 });
  expect(h.sandbox.world.persons).toBe(generateWorld({ seed: 'demo', persons: 600 }).hubspot.contacts.length);
  pipeline = await h.open();
  first = await fullCycle(pipeline, 'incremental');
}, 600_000);

afterAll(async () => {
  await pipeline?.close();
  await h?.stop();
});

describe('a full cycle over the demo world', () => {
  it('writes to both systems and fails only records with a readable reason', () => {
    const summary = {
      pages: first.pages.length,
      batches: first.batches.length,
      reconcileFailures: first.reconcileFailures.map((f) => `${f.detail.code}: ${f.detail.reason}`),
      written: first.outcomes.reduce((n, o) => n + o.written, 0),
      failed: first.outcomes.flatMap((o) => o.failed.map((f) => `${f.detail.code}: ${f.detail.reason}`)),
    };
    console.log(JSON.stringify(summary, null, 2).slice(0, 5000));
    expect(summary.written).toBeGreaterThan(0);
  });

  it('plans nothing on the next cycle (fixed point)', async () => {
    const second = await fullCycle(pipeline, 'backfill');
    const lines = second.batches.flatMap((b) =>
      b.writes.flatMap((w) =>
        w.fields.map(
          (f) =>
            `${w.action} ${w.system} ${w.object} ${w.recordId ?? ''} ${f.field}=${JSON.stringify(f.value)} (was ${JSON.stringify(f.previous)}) ${f.reason}`,
        ),
      ),
    );
    console.log(lines.slice(0, 60).join('\n'));
    expect(lines).toEqual([]);
  }, 600_000);
});
