import type { Condition, FieldCondition, LifecycleStage, NumberComparison } from './mapping/schema.js';
import type { CompiledMapping } from './compiled.js';
import { isBlank } from './records.js';
import { parseInstant, type UnifiedValue } from './values/coerce.js';
import { stageRank } from './stages.js';

/** What a condition can look at: unified fields (with change times), scores and facts about the person. */
export interface ConditionFacts {
  fields: Readonly<Record<string, UnifiedValue | undefined>>;
  changedAt?: Readonly<Record<string, string | undefined>>;
  score?: { fit: number; engagement: number; total: number };
  converted?: boolean;
  hasOpenDeal?: boolean;
  hasWonDeal?: boolean;
  stage?: LifecycleStage | null;
  /** Epoch ms; needed only by `changed_within_days`. */
  now?: number;
}

const DAY_MS = 86_400_000;

function asNumber(value: UnifiedValue | undefined | string | number): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
}

function valuesEqual(value: UnifiedValue | undefined, expected: string | number | boolean): boolean {
  if (isBlank(value)) return false;
  if (typeof expected === 'boolean' || typeof value === 'boolean') return String(value) === String(expected);
  const a = asNumber(value);
  const b = asNumber(expected);
  if (a !== undefined && b !== undefined) return a === b;
  return String(value).trim().toLowerCase() === String(expected).trim().toLowerCase();
}

/** Numbers compare as numbers; otherwise both as instants when both parse, else as text. */
function order(value: UnifiedValue | undefined, bound: number | string): number | undefined {
  if (isBlank(value) || typeof value === 'boolean') return undefined;
  if (typeof bound === 'number') {
    const n = asNumber(value);
    return n === undefined ? undefined : n - bound;
  }
  const n = asNumber(value);
  const m = asNumber(bound);
  if (n !== undefined && m !== undefined) return n - m;
  const a = parseInstant(value);
  const b = parseInstant(bound);
  if (a !== undefined && b !== undefined) return a - b;
  const x = String(value);
  return x < bound ? -1 : x > bound ? 1 : 0;
}

function compareNumber(value: number | undefined, cmp: NumberComparison): boolean {
  if (value === undefined) return false;
  if (cmp.gt !== undefined && !(value > cmp.gt)) return false;
  if (cmp.gte !== undefined && !(value >= cmp.gte)) return false;
  if (cmp.lt !== undefined && !(value < cmp.lt)) return false;
  if (cmp.lte !== undefined && !(value <= cmp.lte)) return false;
  if (cmp.eq !== undefined && value !== cmp.eq) return false;
  return true;
}

function evaluateField(c: FieldCondition, facts: ConditionFacts, compiled: CompiledMapping): boolean {
  const value = facts.fields[c.field];
  if (c.is_blank !== undefined && isBlank(value) !== c.is_blank) return false;
  if (c.eq !== undefined && !valuesEqual(value, c.eq)) return false;
  if (c.neq !== undefined && valuesEqual(value, c.neq)) return false;
  if (c.in !== undefined && !c.in.some((e) => valuesEqual(value, e))) return false;
  if (c.not_in !== undefined && c.not_in.some((e) => valuesEqual(value, e))) return false;
  for (const [bound, ok] of [
    [c.gt, (d: number) => d > 0],
    [c.gte, (d: number) => d >= 0],
    [c.lt, (d: number) => d < 0],
    [c.lte, (d: number) => d <= 0],
  ] as const) {
    if (bound === undefined) continue;
    const d = order(value, bound);
    if (d === undefined || !ok(d)) return false;
  }
  if (c.matches !== undefined && (isBlank(value) || !compiled.regex(c.matches).test(String(value))))
    return false;
  if (
    c.contains !== undefined &&
    (isBlank(value) || !String(value).toLowerCase().includes(c.contains.toLowerCase()))
  ) {
    return false;
  }
  if (c.changed_within_days !== undefined) {
    const at = parseInstant(facts.changedAt?.[c.field]);
    if (at === undefined || facts.now === undefined) return false;
    if (facts.now - at > c.changed_within_days * DAY_MS) return false;
  }
  return true;
}

export function evaluate(condition: Condition, facts: ConditionFacts, compiled: CompiledMapping): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluate(c, facts, compiled));
  if ('any' in condition) return condition.any.some((c) => evaluate(c, facts, compiled));
  if ('not' in condition) return !evaluate(condition.not, facts, compiled);
  if ('score' in condition) return compareNumber(facts.score?.total, condition.score);
  if ('fit_score' in condition) return compareNumber(facts.score?.fit, condition.fit_score);
  if ('engagement_score' in condition)
    return compareNumber(facts.score?.engagement, condition.engagement_score);
  if ('converted' in condition) return (facts.converted ?? false) === condition.converted;
  if ('has_open_deal' in condition) return (facts.hasOpenDeal ?? false) === condition.has_open_deal;
  if ('has_won_deal' in condition) return (facts.hasWonDeal ?? false) === condition.has_won_deal;
  if ('stage' in condition) {
    const { at_least, is } = condition.stage;
    const stage = facts.stage ?? null;
    if (
      at_least !== undefined &&
      (stage === null || stageRank(stage) < stageRank(at_least) || stage === 'disqualified')
    )
      return false;
    if (is !== undefined && (stage === null || !is.includes(stage))) return false;
    return true;
  }
  return evaluateField(condition, facts, compiled);
}
