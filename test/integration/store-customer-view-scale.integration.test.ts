import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generatePopulation, personId, type Population } from '../../bench/customer-view-population.js';
import { CustomerView } from '../../src/store/customer-view.js';
import { FUNNEL_STAGES, type StageName } from '../../src/store/customer-view-types.js';
import { openDatabase, type CustomerViewConnection } from '../../src/store/database.js';

// PGlite start-up and large batches can outlast Jest's 5 s default on a busy machine.
jest.setTimeout(120_000);

// Correctness at 100,000 persons loaded through the batched API (timings live in bench/customer-view.ts).
const PERSONS = 100_000;
const BATCH = 10_000;
const position = (stage: StageName | null | undefined): number =>
  stage === null || stage === undefined || stage === 'disqualified' ? 0 : FUNNEL_STAGES.indexOf(stage) + 1;

describe('customer view at 100,000 persons on PGlite', () => {
  let connection: CustomerViewConnection;
  let view: CustomerView;
  let population: Population;

  beforeAll(async () => {
    population = generatePopulation(PERSONS);
    connection = await openDatabase({ dataDir: ':memory:' });
    view = new CustomerView(connection.db);
    for (let i = 0; i < PERSONS; i += BATCH) {
      await view.upsertPersons(population.persons.slice(i, i + BATCH));
      await view.upsertLinks(population.links.slice(i, i + BATCH));
    }
    for (let i = 0; i < population.stages.length; i += BATCH * 3) {
      await view.appendStageEntries(population.stages.slice(i, i + BATCH * 3));
    }
  }, 600_000);
  afterAll(async () => {
    await connection?.close();
  });

  it('stores every person and stage entry', async () => {
    const persons = await connection.db
      .selectFrom('persons')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const entries = await connection.db
      .selectFrom('stage_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(persons.n).toBe(PERSONS);
    expect(entries.n).toBe(population.stages.length);
  });

  it('reports the funnel by original source exactly as recomputed from the generated history', async () => {
    const furthest = new Map<string, number>();
    for (const p of population.persons) furthest.set(p.id, position(p.lifecycleStage));
    for (const s of population.stages) {
      furthest.set(s.personId, Math.max(furthest.get(s.personId) ?? 0, position(s.stage)));
    }
    const expected = new Map<string, number[]>();
    for (const p of population.persons) {
      const key = p.originalSource ?? '(none)';
      const reached = expected.get(key) ?? FUNNEL_STAGES.map(() => 0);
      const top = furthest.get(p.id) ?? 0;
      FUNNEL_STAGES.forEach((_, i) => {
        if (top >= i + 1) reached[i] = (reached[i] ?? 0) + 1;
      });
      expected.set(key, reached);
    }

    const report = await view.funnel({
      from: new Date('2024-01-01T00:00:00Z'),
      to: new Date('2025-01-01T00:00:00Z'),
      groupBy: 'original_source',
    });
    expect(report.overall.persons).toBe(PERSONS);
    expect(Object.fromEntries(report.groups.map((g) => [g.key, g.stages.map((s) => s.reached)]))).toEqual(
      Object.fromEntries(expected),
    );
    const byMonth = await view.funnel({
      from: new Date('2024-01-01T00:00:00Z'),
      to: new Date('2025-01-01T00:00:00Z'),
      groupBy: 'month',
    });
    expect(byMonth.groups).toHaveLength(12);
    expect(byMonth.groups.reduce((sum, g) => sum + g.persons, 0)).toBe(PERSONS);
    expect(byMonth.overall).toEqual(report.overall);
  });

  it('finds the same SLA breaches as recomputed from the generated history', async () => {
    const hours = 24;
    const now = new Date('2025-01-01T00:00:00Z');
    const byPerson = new Map<string, Array<{ stage: StageName; at: number }>>();
    for (const s of population.stages) {
      const list = byPerson.get(s.personId) ?? [];
      list.push({ stage: s.stage, at: s.enteredAt.getTime() });
      byPerson.set(s.personId, list);
    }
    const expected: Array<{ personId: string; mqlAt: number }> = [];
    for (const [id, list] of byPerson) {
      for (const mql of list.filter((e) => e.stage === 'mql')) {
        const due = mql.at + hours * 3_600_000;
        if (due > now.getTime()) continue;
        const accepted = list
          .filter((e) => position(e.stage) >= position('sal') && e.at >= mql.at)
          .reduce<number | undefined>((min, e) => (min === undefined || e.at < min ? e.at : min), undefined);
        if (accepted === undefined || accepted > due) expected.push({ personId: id, mqlAt: mql.at });
      }
    }
    expected.sort((a, b) => a.mqlAt - b.mqlAt || (a.personId < b.personId ? -1 : 1));
    expect(expected.length).toBeGreaterThan(1000);

    const report = await view.slaBreaches({ hours, now, limit: 1000 });
    expect(report.total).toBe(expected.length);
    expect(report.breaches.map((b) => [b.personId, b.mqlAt.getTime()])).toEqual(
      expected.slice(0, 1000).map((e) => [e.personId, e.mqlAt]),
    );
  });

  it('looks a person up by email and by HubSpot id among 100,000', async () => {
    const probe = 73_421;
    const byEmail = await view.findPerson({ email: `${personId(probe)}@example.com` });
    const byHubSpot = await view.findPerson({ system: 'hubspot', recordId: String(1_000_000 + probe) });
    expect(byEmail?.person.id).toBe(personId(probe));
    expect(byHubSpot).toEqual(byEmail);
    expect(byEmail?.stageHistory.length).toBe(
      population.stages.filter((s) => s.personId === personId(probe)).length,
    );
    const stale = await view.personsByMappingVersion('v2', { limit: 100_000 });
    expect(stale).toHaveLength(PERSONS / 10);
  });
});
