import type { Score } from './mapping/schema.js';
import type { CompiledMapping } from './compiled.js';
import { evaluate, type ConditionFacts } from './conditions.js';

/** Lead score = fit (who they are) + engagement (what they did), each line explained. */
export interface LeadScore {
  fit: number;
  engagement: number;
  total: number;
  breakdown: Array<{ label: string; points: number }>;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function describe(label: string | undefined, fallback: string): string {
  return label ?? fallback;
}

/**
 * Fit and engagement rules see the person's fields and facts but no score (they define it). Per-unit
 * engagement counts positive quantities only and stops at `max_points`.
 */
export function scorePerson(score: Score, facts: ConditionFacts, compiled: CompiledMapping): LeadScore {
  // Without the score (no `delete`: it would turn the facts into a slow dictionary object).
  let unscored: ConditionFacts = facts;
  if (facts.score !== undefined) {
    const { score: _ignored, ...rest } = facts;
    unscored = rest;
  }
  const breakdown: LeadScore['breakdown'] = [];
  let fit = 0;
  // Index loops: `entries()` allocates an iterator and a pair per rule, per person.
  for (let i = 0; i < score.fit.length; i += 1) {
    const rule = score.fit[i];
    if (rule === undefined) continue;
    if (!evaluate(rule.when, unscored, compiled)) continue;
    fit += rule.points;
    breakdown.push({ label: describe(rule.label, `fit rule ${i + 1}`), points: rule.points });
  }
  let engagement = 0;
  for (let i = 0; i < score.engagement.length; i += 1) {
    const rule = score.engagement[i];
    if (rule === undefined) continue;
    let points: number;
    let label: string;
    if ('when' in rule) {
      if (!evaluate(rule.when, unscored, compiled)) continue;
      points = rule.points;
      label = describe(rule.label, `engagement rule ${i + 1}`);
    } else {
      const raw = facts.fields[rule.field];
      const units = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : 0;
      if (!Number.isFinite(units) || units <= 0) continue;
      points = round2(units * rule.points_each);
      if (rule.max_points !== undefined) points = Math.min(points, rule.max_points);
      label = describe(rule.label, rule.field);
    }
    if (points === 0) continue;
    engagement += points;
    breakdown.push({ label, points });
  }
  fit = round2(fit);
  engagement = round2(engagement);
  return { fit, engagement, total: round2(fit + engagement), breakdown };
}
