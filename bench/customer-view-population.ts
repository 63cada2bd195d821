import type { PersonRecord, RecordLink, StageEntry, StageName } from '../src/store/customer-view-types.js';

/**
 * A deterministic synthetic population for the customer view at scale: persons created through 2024,
 * each walking the funnel some way with randomised hand-off delays. Shared by the bench and the
 * 100,000-person test, which recomputes the expected funnel and SLA from it independently of SQL.
 */
export interface Population {
  persons: PersonRecord[];
  stages: StageEntry[];
  links: RecordLink[];
}

export const SOURCES = ['webinar', 'paid_search', 'organic', 'referral', 'event', null] as const;
const PATH: StageName[] = ['lead', 'mql', 'sal', 'sql', 'opportunity', 'customer'];
const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function personId(i: number): string {
  return `p${String(i).padStart(7, '0')}`;
}

export function generatePopulation(count: number, seed = 42): Population {
  const random = mulberry32(seed);
  const persons: PersonRecord[] = [];
  const stages: StageEntry[] = [];
  const links: RecordLink[] = [];
  for (let i = 0; i < count; i++) {
    const id = personId(i);
    const createdAt = START + Math.floor(random() * 365 * 24) * HOUR;
    const source = SOURCES[Math.floor(random() * SOURCES.length)] ?? null;
    // Each step onward is taken with falling probability; the hand-off delay after mql spans the SLA.
    let steps = 1;
    const odds = [0.45, 0.7, 0.6, 0.5, 0.4];
    while (steps < PATH.length && random() < (odds[steps - 1] ?? 0)) steps++;
    let at = createdAt;
    let previous: StageName | null = null;
    for (let s = 0; s < steps; s++) {
      const stage = PATH[s] as StageName;
      if (s > 0)
        at += (previous === 'mql' ? 1 + Math.floor(random() * 60) : 24 + Math.floor(random() * 240)) * HOUR;
      stages.push({ personId: id, stage, enteredAt: new Date(at), previousStage: previous, rule: stage });
      previous = stage;
    }
    persons.push({
      id,
      email: `${id}@example.com`,
      lifecycleStage: previous,
      leadScore: Math.floor(random() * 100),
      originalSource: source,
      latestSource: source,
      fields: { firstName: `First ${i}`, company: `Company ${i % 5000}` },
      mappingVersion: i % 10 === 0 ? 'v1' : 'v2',
      createdAt: new Date(createdAt),
      updatedAt: new Date(at),
    });
    links.push({
      system: 'hubspot',
      object: 'contacts',
      recordId: String(1_000_000 + i),
      unifiedId: id,
      recordType: 'person',
      linkedBy: 'created',
      linkedAt: new Date(createdAt),
    });
  }
  return { persons, stages, links };
}
