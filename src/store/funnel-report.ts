import { sql } from 'kysely';
import type { Executor } from './batch-sql.js';
import {
  FUNNEL_STAGES,
  type FunnelGroup,
  type FunnelQuery,
  type FunnelReport,
  type SlaQuery,
  type SlaReport,
} from './customer-view-types.js';

/**
 * Funnel and hand-off SLA. "Reached" is cumulative: a person whose furthest stage is sql has also
 * reached subscriber, lead, mql and sal, whether or not each entry was recorded (people skip stages).
 * Both reports read state derived from `tandem.stage_history` when it is written (see
 * `CustomerView.appendStageEntries`): `persons.furthest_stage_position` — the highest of every stage ever
 * entered and the current one, `disqualified` counting for nothing — and `accepted_at` on MQL entries.
 * That keeps them to one index-backed scan each at 100,000+ persons.
 */

const NO_SOURCE = '(none)';

interface FurthestCount {
  key: string;
  furthest: number;
  persons: number;
}

export async function funnelReport(db: Executor, query: FunnelQuery): Promise<FunnelReport> {
  const groupKey =
    query.groupBy === 'month'
      ? sql`to_char(created_at at time zone 'UTC', 'YYYY-MM')`
      : sql`coalesce(nullif(original_source, ''), ${NO_SOURCE})`;
  const { rows } = await sql<FurthestCount>`
    select ${groupKey} as key, furthest_stage_position as furthest, count(*) as persons
    from tandem.persons
    where created_at >= ${query.from} and created_at < ${query.to}
    group by 1, 2
  `.execute(db);

  const byKey = new Map<string, Map<number, number>>();
  const overall = new Map<number, number>();
  for (const row of rows) {
    const counts = byKey.get(row.key) ?? new Map<number, number>();
    counts.set(row.furthest, (counts.get(row.furthest) ?? 0) + row.persons);
    byKey.set(row.key, counts);
    overall.set(row.furthest, (overall.get(row.furthest) ?? 0) + row.persons);
  }
  const groups = [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, counts]) => funnelGroup(key, counts));
  return { groups, overall: funnelGroup('all', overall) };
}

/** Cumulative counts per stage from "how many people stopped furthest at each position". */
export function funnelGroup(key: string, furthestCounts: ReadonlyMap<number, number>): FunnelGroup {
  let persons = 0;
  for (const n of furthestCounts.values()) persons += n;
  let previous: number | undefined;
  const stages = FUNNEL_STAGES.map((stage, index) => {
    const position = index + 1;
    let reached = 0;
    for (const [p, n] of furthestCounts) if (p >= position) reached += n;
    const conversionFromPrevious = previous === undefined || previous === 0 ? null : reached / previous;
    previous = reached;
    return { stage, reached, conversionFromPrevious };
  });
  return { key, persons, stages };
}

interface BreachRow {
  person_id: string;
  email: string | null;
  mql_at: Date;
  accepted_at: Date | null;
}

/**
 * Every MQL entry whose deadline (entry + `hours`) has passed by `now` and that sales did not accept in
 * time: no sal-or-later entry at or after it, or the first one later than the deadline. A person
 * recycled and re-qualified is a new hand-off, judged on its own.
 */
export async function slaBreaches(db: Executor, query: SlaQuery): Promise<SlaReport> {
  const window = sql`(${query.hours}::double precision * interval '1 hour')`;
  const since = query.since === undefined ? sql`` : sql`and m.entered_at >= ${query.since}`;
  const breached = sql`
    m.stage = 'mql'
    and m.entered_at <= ${query.now}::timestamptz - ${window}
    ${since}
    and (m.accepted_at is null or m.accepted_at > m.entered_at + ${window})
  `;
  const [{ rows: counted }, { rows }] = await Promise.all([
    sql<{ total: number }>`select count(*) as total from tandem.stage_history m where ${breached}`.execute(
      db,
    ),
    sql<BreachRow>`
      select m.person_id, p.email, m.entered_at as mql_at, m.accepted_at
      from tandem.stage_history m
      left join tandem.persons p on p.id = m.person_id
      where ${breached}
      order by m.entered_at, m.person_id
      limit ${query.limit ?? 500}
    `.execute(db),
  ]);
  return {
    total: counted[0]?.total ?? 0,
    breaches: rows.map((r) => ({
      personId: r.person_id,
      email: r.email,
      mqlAt: r.mql_at,
      dueAt: new Date(r.mql_at.getTime() + query.hours * 3_600_000),
      acceptedAt: r.accepted_at,
    })),
  };
}
