import { sql } from 'kysely';
import type { Executor } from './batch-sql.js';
import {
  FUNNEL_STAGES,
  type FunnelGroup,
  type FunnelQuery,
  type FunnelReport,
  type SlaBreach,
  type SlaQuery,
} from './customer-view-types.js';

/**
 * Funnel and hand-off SLA over `tandem.stage_history`. "Reached" is cumulative: a person whose furthest
 * stage is sql has also reached subscriber, lead, mql and sal, whether or not each entry was recorded
 * (people skip stages). The furthest stage is the highest of every stage ever entered and the current
 * one; `disqualified` is outside the funnel and counts for nothing.
 */

const SAL_POSITION = FUNNEL_STAGES.indexOf('sal') + 1;
const NO_SOURCE = '(none)';

interface FurthestCount {
  key: string;
  furthest: number;
  persons: number;
}

export async function funnelReport(db: Executor, query: FunnelQuery): Promise<FunnelReport> {
  const groupKey =
    query.groupBy === 'month'
      ? sql`to_char(p.created_at at time zone 'UTC', 'YYYY-MM')`
      : sql`coalesce(nullif(p.original_source, ''), ${NO_SOURCE})`;
  const { rows } = await sql<FurthestCount>`
    with cohort as (
      select p.id, ${groupKey} as key, coalesce(current_stage.position, 0) as current_position
      from tandem.persons p
      left join tandem.lifecycle_stages current_stage on current_stage.stage = p.lifecycle_stage
      where p.created_at >= ${query.from} and p.created_at < ${query.to}
    ),
    furthest_entered as (
      select h.person_id, max(s.position) as position
      from tandem.stage_history h
      join tandem.lifecycle_stages s on s.stage = h.stage
      where h.person_id in (select id from cohort)
      group by h.person_id
    )
    select c.key, greatest(c.current_position, coalesce(f.position, 0)) as furthest, count(*) as persons
    from cohort c
    left join furthest_entered f on f.person_id = c.id
    group by 1, 2
  `.execute(db);

  const byKey = new Map<string, Map<number, number>>();
  for (const row of rows) {
    const counts = byKey.get(row.key) ?? new Map<number, number>();
    counts.set(Number(row.furthest), Number(row.persons));
    byKey.set(row.key, counts);
  }
  const overall = new Map<number, number>();
  for (const counts of byKey.values()) {
    for (const [position, n] of counts) overall.set(position, (overall.get(position) ?? 0) + n);
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
 * time: the first sal-or-later entry at or after the MQL entry is missing or later than the deadline.
 * A person recycled and re-qualified is a new hand-off, judged on its own.
 */
export async function slaBreaches(db: Executor, query: SlaQuery): Promise<SlaBreach[]> {
  const window = sql`(${query.hours}::double precision * interval '1 hour')`;
  const since = query.since === undefined ? sql`` : sql`and m.entered_at >= ${query.since}`;
  const limit = query.limit === undefined ? sql`` : sql`limit ${query.limit}`;
  const { rows } = await sql<BreachRow>`
    select m.person_id, p.email, m.entered_at as mql_at, accepted.at as accepted_at
    from tandem.stage_history m
    join tandem.persons p on p.id = m.person_id
    left join lateral (
      select min(h.entered_at) as at
      from tandem.stage_history h
      join tandem.lifecycle_stages s on s.stage = h.stage
      where h.person_id = m.person_id and s.position >= ${SAL_POSITION} and h.entered_at >= m.entered_at
    ) accepted on true
    where m.stage = 'mql'
      and m.entered_at + ${window} <= ${query.now}
      ${since}
      and (accepted.at is null or accepted.at > m.entered_at + ${window})
    order by m.entered_at, m.person_id
    ${limit}
  `.execute(db);
  return rows.map((r) => ({
    personId: r.person_id,
    email: r.email,
    mqlAt: r.mql_at,
    dueAt: new Date(r.mql_at.getTime() + query.hours * 3_600_000),
    acceptedAt: r.accepted_at,
  }));
}
