import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { CheckpointSchema, type Checkpoint } from '../../src/connectors/connector.js';
import type { PulledPage, PullOptions } from '../../src/pipeline/contract.js';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import { CheckpointStore } from '../../src/store/redis/checkpoints.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { startPipelineHarness, type PipelineHarness } from './pipeline-support.js';

/**
 * `PullOptions.groupRefs`: a pull hands consecutive connector pages on together (one bigger reconcile job
 * instead of several small ones) and saves the group's checkpoint only once the consumer asks for the page
 * after it, so a crash before that re-reads the whole group and no ref is lost. HubSpot contacts of the demo
 * world read 10 to a connector page.
 */

let h: PipelineHarness;
let pipeline: SyncPipelineImpl;
let redis: Redis;
let checkpoints: CheckpointStore<Checkpoint>;

const PAGE = 10;
const GROUP = 25;
const ids = (page: PulledPage): string[] => page.refs.map((r) => r.id);

async function firstGroups(count: number, options: Partial<PullOptions> = {}): Promise<PulledPage[]> {
  const pages: PulledPage[] = [];
  // Leaving the loop without asking for the next page is a crash after the last page taken: nothing after
  // its `yield` runs.
  for await (const page of pipeline.pull('hubspot', 'contacts', {
    mode: 'incremental',
    pageSize: PAGE,
    ...options,
  })) {
    pages.push(page);
    if (pages.length === count) break;
  }
  return pages;
}

beforeAll(async () => {
  h = await startPipelineHarness({ seed: 'demo', persons: 60 });
  pipeline = await h.open();
  redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
  checkpoints = new CheckpointStore(redis, new RedisKeys(h.prefix), CheckpointSchema);
}, 120_000);

afterAll(async () => {
  await redis?.quit();
  await pipeline?.close();
  await h?.stop();
});

beforeEach(async () => {
  await checkpoints.delete('hubspot', 'contacts');
});

describe('pull groups', () => {
  it('hands pages on in groups of at least groupRefs refs, with the same refs as page by page', async () => {
    const single = await firstGroups(Number.POSITIVE_INFINITY);
    await checkpoints.delete('hubspot', 'contacts');
    const grouped = await firstGroups(Number.POSITIVE_INFINITY, { groupRefs: GROUP });

    // Pages without refs (the deletion scan's, which only moves the checkpoint) aside, every page is full but the last.
    const filled = single.filter((p) => p.refs.length > 0);
    expect(filled.length).toBeGreaterThanOrEqual(4);
    expect(filled.slice(0, -1).every((p) => p.refs.length === PAGE)).toBe(true);
    // 10 + 10 + 10 ≥ 25: three connector pages a group, the rest in the last one.
    const sizes = grouped.map((p) => p.refs.length);
    expect(sizes.slice(0, -1).every((n) => n === 3 * PAGE)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(single.reduce((n, p) => n + p.refs.length, 0));
    expect(grouped.flatMap(ids).sort()).toEqual(single.flatMap(ids).sort());
    // The last group carries the pull's final checkpoint (an incremental one, from the time of the read).
    expect(grouped.at(-1)?.checkpoint.phase).toBe('incremental');
    expect(await checkpoints.get('hubspot', 'contacts')).toEqual(grouped.at(-1)?.checkpoint);
  });

  it('saves no checkpoint while a group is in hand: a crash re-reads the whole group', async () => {
    const [first] = await firstGroups(1, { groupRefs: GROUP });
    expect(first?.refs).toHaveLength(3 * PAGE);
    // Three connector pages were read and stored, but the group was never handed on.
    expect(await checkpoints.get('hubspot', 'contacts')).toBeUndefined();

    const [again] = await firstGroups(1, { groupRefs: GROUP });
    expect(again && ids(again)).toEqual(first && ids(first));
  });

  it('saves a group’s checkpoint once the next page is asked for: the next pull starts after the group', async () => {
    const [first, second] = await firstGroups(2, { groupRefs: GROUP });
    expect(await checkpoints.get('hubspot', 'contacts')).toEqual(first?.checkpoint);

    // The second group was in hand when the pull stopped: it comes again, and the first does not.
    const [resumed] = await firstGroups(1, { groupRefs: GROUP });
    expect(resumed && ids(resumed)).toEqual(second && ids(second));
    expect(resumed?.refs.some((r) => first?.refs.some((f) => f.id === r.id))).toBe(false);
  });
});
