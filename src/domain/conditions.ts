import type { Condition, FieldCondition, LifecycleStage, NumberComparison } from './mapping/schema.js';
import type { CompiledMapping } from './compiled.js';
import { isBlank } from './records.js';
import { parseInstant, type UnifiedValue } from './values/coerce.js';
import { stageRank } from './stages.js';

/** What a condition can look at: unified fields (with change times), scores and facts about the person. */
export interface ConditionFacts {
  fields: Readonly<Record<string, UnifiedValue | undefined>>;
  changedAt?: Readonly<Record<string, string | undefined>> | undefined;
  score?: { fit: number; engagement: number; total: number } | undefined;
  converted?: boolean | undefined;
  hasOpenDeal?: boolean | undefined;
  hasWonDeal?: boolean | undefined;
  stage?: LifecycleStage | null | undefined;
  /** Epoch ms; needed only by `changed_within_days`. */
  now?: number | undefined;
}

/**
 * The same facts at another stage. Every key is written, in one order, so all facts objects share one
 * shape (a spread of objects built in different orders is one of the engine's costlier lines).
 */
export function atStage(facts: ConditionFacts, stage: LifecycleStage | null): ConditionFacts {
  return {
    fields: facts.fields,
    changedAt: facts.changedAt,
    score: facts.score,
    converted: facts.converted,
    hasOpenDeal: facts.hasOpenDeal,
    hasWonDeal: facts.hasWonDeal,
    stage,
    now: facts.now,
  };
}

const DAY_MS = 86_400_000;

function asNumber(value: UnifiedValue | undefined | string | number): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return undefined;
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

type Evaluator = (facts: ConditionFacts) => boolean;
type FieldTest = (value: UnifiedValue | undefined, facts: ConditionFacts) => boolean;

/** An expected value of `eq`/`in`, read once: its number (if any) and folded text. */
interface Expected {
  bool: boolean;
  text: string;
  folded: string;
  number: number | undefined;
}

const expected = (e: string | number | boolean): Expected => ({
  bool: typeof e === 'boolean',
  text: String(e),
  folded: String(e).trim().toLowerCase(),
  number: asNumber(typeof e === 'boolean' ? undefined : e),
});

/** `valuesEqual(value, e)` for any of `options`, reading the value once. */
function equalsAny(value: UnifiedValue | undefined, options: readonly Expected[]): boolean {
  if (isBlank(value)) return false;
  const text = String(value);
  const isBool = typeof value === 'boolean';
  let number: number | undefined | null = null;
  let folded: string | undefined;
  for (const e of options) {
    if (e.bool || isBool) {
      if (text === e.text) return true;
      continue;
    }
    if (e.number !== undefined) {
      if (number === null) number = asNumber(value);
      if (number !== undefined) {
        if (number === e.number) return true;
        continue;
      }
    }
    folded ??= text.trim().toLowerCase();
    if (folded === e.folded) return true;
  }
  return false;
}

/** A field condition as a list of tests, each built once from the condition (same order, same rules). */
function compileField(c: FieldCondition): Evaluator {
  const tests: FieldTest[] = [];
  if (c.is_blank !== undefined) {
    const want = c.is_blank;
    tests.push((v) => isBlank(v) === want);
  }
  if (c.eq !== undefined) {
    const eq = [expected(c.eq)];
    tests.push((v) => equalsAny(v, eq));
  }
  if (c.neq !== undefined) {
    const neq = [expected(c.neq)];
    tests.push((v) => !equalsAny(v, neq));
  }
  if (c.in !== undefined) {
    const options = c.in.map(expected);
    tests.push((v) => equalsAny(v, options));
  }
  if (c.not_in !== undefined) {
    const options = c.not_in.map(expected);
    tests.push((v) => !equalsAny(v, options));
  }
  for (const [bound, ok] of [
    [c.gt, (d: number) => d > 0],
    [c.gte, (d: number) => d >= 0],
    [c.lt, (d: number) => d < 0],
    [c.lte, (d: number) => d <= 0],
  ] as const) {
    if (bound === undefined) continue;
    tests.push((v) => {
      const d = order(v, bound);
      return d !== undefined && ok(d);
    });
  }
  if (c.matches !== undefined) {
    const pattern = c.matches;
    let re: RegExp | undefined; // built on first use, as before: an unused bad pattern never throws
    tests.push((v) => !isBlank(v) && (re ??= new RegExp(pattern, 'i')).test(String(v)));
  }
  if (c.contains !== undefined) {
    const needle = c.contains.toLowerCase();
    tests.push((v) => !isBlank(v) && String(v).toLowerCase().includes(needle));
  }
  if (c.changed_within_days !== undefined) {
    const windowMs = c.changed_within_days * DAY_MS;
    tests.push((_v, facts) => {
      const at = parseInstant(facts.changedAt?.[c.field]);
      if (at === undefined || facts.now === undefined) return false;
      return !(facts.now - at > windowMs);
    });
  }
  const field = c.field;
  return (facts) => {
    const value = facts.fields[field];
    for (const test of tests) if (!test(value, facts)) return false;
    return true;
  };
}

function compileCondition(condition: Condition): Evaluator {
  if ('all' in condition) {
    const parts = condition.all.map(compiledCondition);
    return (facts) => parts.every((p) => p(facts));
  }
  if ('any' in condition) {
    const parts = condition.any.map(compiledCondition);
    return (facts) => parts.some((p) => p(facts));
  }
  if ('not' in condition) {
    const inner = compiledCondition(condition.not);
    return (facts) => !inner(facts);
  }
  if ('score' in condition) {
    const cmp = condition.score;
    return (facts) => compareNumber(facts.score?.total, cmp);
  }
  if ('fit_score' in condition) {
    const cmp = condition.fit_score;
    return (facts) => compareNumber(facts.score?.fit, cmp);
  }
  if ('engagement_score' in condition) {
    const cmp = condition.engagement_score;
    return (facts) => compareNumber(facts.score?.engagement, cmp);
  }
  if ('converted' in condition) {
    const want = condition.converted;
    return (facts) => (facts.converted ?? false) === want;
  }
  if ('has_open_deal' in condition) {
    const want = condition.has_open_deal;
    return (facts) => (facts.hasOpenDeal ?? false) === want;
  }
  if ('has_won_deal' in condition) {
    const want = condition.has_won_deal;
    return (facts) => (facts.hasWonDeal ?? false) === want;
  }
  if ('stage' in condition) {
    const { at_least, is } = condition.stage;
    const minRank = at_least === undefined ? undefined : stageRank(at_least);
    return (facts) => {
      const stage = facts.stage ?? null;
      if (minRank !== undefined && (stage === null || stageRank(stage) < minRank || stage === 'disqualified'))
        return false;
      if (is !== undefined && (stage === null || !is.includes(stage))) return false;
      return true;
    };
  }
  return compileField(condition);
}

/** Conditions are compiled once per condition object (the mapping's own objects are long-lived). */
const evaluators = new WeakMap<Condition, Evaluator>();

function compiledCondition(condition: Condition): Evaluator {
  let fn = evaluators.get(condition);
  if (fn === undefined) {
    fn = compileCondition(condition);
    evaluators.set(condition, fn);
  }
  return fn;
}

/**
 * Does `condition` hold for `facts`? The condition is compiled to a closure on first use and cached per
 * condition object. `compiled` is kept for callers; the regular expressions are compiled with the condition.
 */
export function evaluate(condition: Condition, facts: ConditionFacts, _compiled?: CompiledMapping): boolean {
  return compiledCondition(condition)(facts);
}

/** The unified fields a condition reads, and whether it reads the lead score (whose rules read more). */
export interface ConditionInputs {
  fields: ReadonlySet<string>;
  /** The same fields in the set's order, as an array (iterated per person). */
  fieldList: readonly string[];
  score: boolean;
  /** The `changed_within_days` tests it makes. */
  windows: readonly TimeWindow[];
}

/** One `changed_within_days` test: the unified field it reads and its window. */
export interface TimeWindow {
  field: string;
  windowMs: number;
}

const inputs = new WeakMap<Condition, ConditionInputs>();

export function conditionInputs(condition: Condition): ConditionInputs {
  const known = inputs.get(condition);
  if (known !== undefined) return known;
  const fields = new Set<string>();
  const windows: TimeWindow[] = [];
  let score = false;
  const walk = (c: Condition): void => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('score' in c || 'fit_score' in c || 'engagement_score' in c) score = true;
    else if ('field' in c) {
      fields.add(c.field);
      if (c.changed_within_days !== undefined)
        windows.push({ field: c.field, windowMs: c.changed_within_days * DAY_MS });
    }
  };
  walk(condition);
  const result = { fields, fieldList: [...fields], score, windows };
  inputs.set(condition, result);
  return result;
}

/**
 * Since when `condition` (which holds for `facts`) has held, as far as the fields' change times tell: an
 * `all` since its latest part, an `any` since its earliest part that holds, any other test since the latest
 * change of the fields it reads (the score rules' fields when it reads the score). Deal, conversion and
 * stage tests read no field (the engine dates those by their own evidence). Undefined when nothing is known.
 */
export function heldSince(
  condition: Condition,
  facts: ConditionFacts,
  scoreFields: readonly string[],
): number | undefined {
  // No closure, no set iteration: this runs for every stage a first sync passes, per person.
  let out: number | undefined;
  if ('all' in condition) {
    for (const part of condition.all) {
      const ms = heldSince(part, facts, scoreFields);
      if (ms !== undefined && (out === undefined || ms > out)) out = ms;
    }
  } else if ('any' in condition) {
    for (const part of condition.any) {
      if (!evaluate(part, facts)) continue;
      const ms = heldSince(part, facts, scoreFields);
      if (ms !== undefined && (out === undefined || ms < out)) out = ms;
    }
  } else {
    const read = conditionInputs(condition);
    const changedAt = facts.changedAt;
    out = latestChange(read.fieldList, changedAt, out);
    if (read.score) out = latestChange(scoreFields, changedAt, out);
    // A window that has closed changed the test's answer when it closed, not when its field changed
    // (`not` a change within 90 days holds since 90 days after the change).
    for (let i = 0; i < read.windows.length; i += 1) {
      const w = read.windows[i] as TimeWindow;
      const at = parseInstant(changedAt?.[w.field]);
      if (at === undefined || facts.now === undefined || !(facts.now - at > w.windowMs)) continue;
      const closed = at + w.windowMs + 1;
      if (out === undefined || closed > out) out = closed;
    }
  }
  return out;
}

function latestChange(
  fields: readonly string[],
  changedAt: ConditionFacts['changedAt'],
  out: number | undefined,
): number | undefined {
  for (const field of fields) {
    const ms = parseInstant(changedAt?.[field]);
    if (ms !== undefined && (out === undefined || ms > out)) out = ms;
  }
  return out;
}
