import {
  LIFECYCLE_STAGES,
  type Condition,
  type Lifecycle,
  type LifecycleStage,
  type StageRule,
} from './mapping/schema.js';
import type { CompiledMapping } from './compiled.js';
import { atStage, evaluate, heldSince, type ConditionFacts } from './conditions.js';
import { parseInstant, toIsoInstant } from './values/coerce.js';
import { stageRank } from './stages.js';

/** One step of a person's funnel history; `rule` names what moved it (`definitions.mql`, `recycle[0]`, …). */
export interface StageEntry {
  stage: LifecycleStage;
  enteredAt: string;
  reason: string;
  rule: string;
}

export interface StageInput {
  previous: LifecycleStage | null;
  history: readonly StageEntry[];
  /** Facts about the person; `stage` is set by the engine. */
  facts: ConditionFacts;
  now: string;
  /**
   * When the evidence for a stage happened, if known (e.g. the deal's creation for `opportunity`). A stage
   * without it whose definition holds is dated by when its definition started to hold as far as the fields'
   * change times tell (`heldSince`), so a first sync does not date a year-old MQL today.
   */
  evidenceAt?: Partial<Record<LifecycleStage, string>>;
}

export interface StageDecision {
  stage: LifecycleStage | null;
  changed: boolean;
  /** The entries this decision adds to the history, oldest first. */
  entries: StageEntry[];
  /** Why the person is at `stage` (the latest entry's reason), when known. */
  reason?: string;
}

/** The texts of stage entries, built once per stage (every forward move of every person uses them). */
const NO_TEXTS: readonly (string | undefined)[] = [];

const entryTexts = new Map<LifecycleStage, { holds: string; rule: string; skippedTo: string }>();

function stageTexts(stage: LifecycleStage): { holds: string; rule: string; skippedTo: string } {
  let known = entryTexts.get(stage);
  if (known === undefined) {
    known = {
      holds: `The ${stage} definition holds`,
      rule: `definitions.${stage}`,
      skippedTo: `Skipped on the way to ${stage}`,
    };
    entryTexts.set(stage, known);
  }
  return known;
}

/** The highest funnel stage whose definition holds, or null when none does. */
export function candidateStage(
  lifecycle: Lifecycle,
  facts: ConditionFacts,
  compiled: CompiledMapping,
): LifecycleStage | null {
  for (let i = LIFECYCLE_STAGES.length - 1; i >= 0; i -= 1) {
    const stage = LIFECYCLE_STAGES[i];
    if (stage === undefined) continue;
    const condition = lifecycle.definitions[stage];
    if (condition !== undefined && evaluate(condition, facts, compiled)) return stage;
  }
  return null;
}

function firstRule(
  rules: ReadonlyArray<[string, StageRule]>,
  facts: ConditionFacts,
  current: LifecycleStage | null,
  compiled: CompiledMapping,
): [string, StageRule] | undefined {
  return rules.find(([, rule]) => rule.to !== current && evaluate(rule.when, facts, compiled));
}

const ruleNames = new WeakMap<Lifecycle, ReadonlyArray<[string, StageRule]>>();

/** `disqualify` then `recycle` rules with their names (`disqualify[0]`, …), built once per lifecycle. */
function namedRules(lifecycle: Lifecycle): ReadonlyArray<[string, StageRule]> {
  let rules = ruleNames.get(lifecycle);
  if (rules === undefined) {
    rules = [
      ...lifecycle.disqualify.map((r, i): [string, StageRule] => [`disqualify[${i}]`, r]),
      ...lifecycle.recycle.map((r, i): [string, StageRule] => [`recycle[${i}]`, r]),
    ];
    ruleNames.set(lifecycle, rules);
  }
  return rules;
}

/**
 * Decide the unified stage. The stage only moves forward (to the highest stage whose definition holds),
 * except through a `disqualify` rule (checked first) or a `recycle` rule; rules are checked against the
 * stage the person would otherwise have, so a recycled lead that still meets the MQL definition stays
 * recycled instead of bouncing. `disqualified` is terminal until a rule moves it.
 *
 * A forward move records an entry for every stage it passes (the funnel needs each one): stages whose own
 * definition holds say so, the others say they were skipped. Each is dated by its own evidence when known
 * (e.g. the conversion for `sql`, the deal's creation for `opportunity`), else by the next stage's date,
 * else `now`; never earlier than the last recorded entry, never later than `now`, and in order.
 */
export function decideStage(
  lifecycle: Lifecycle,
  input: StageInput,
  compiled: CompiledMapping,
): StageDecision {
  const { previous, history } = input;
  const facts = atStage(input.facts, previous);
  const lastReason = history.at(-1)?.reason;
  const unchanged = (): StageDecision => ({
    stage: previous,
    changed: false,
    entries: [],
    ...(lastReason !== undefined ? { reason: lastReason } : {}),
  });

  let forward: LifecycleStage | null = previous;
  if (previous !== 'disqualified') {
    const candidate = candidateStage(lifecycle, facts, compiled);
    if (stageRank(candidate) > stageRank(previous)) forward = candidate;
  }
  const rules = namedRules(lifecycle);
  const fired = firstRule(rules, atStage(facts, forward), forward, compiled);
  const final = fired ? fired[1].to : forward;
  if (final === previous || final === null) return unchanged();

  const nowMs = parseInstant(input.now) ?? 0;
  const floorMs = parseInstant(history.at(-1)?.enteredAt) ?? Number.NEGATIVE_INFINITY;
  const clamp = (ms: number): number => Math.min(nowMs, Math.max(floorMs, ms));
  const evidence = (stage: LifecycleStage): number | undefined => parseInstant(input.evidenceAt?.[stage]);
  const since = (condition: Condition | undefined): number | undefined =>
    condition === undefined ? undefined : heldSince(condition, facts, compiled.scoreFields);
  const finalMs = clamp(
    evidence(final) ??
      since(fired ? fired[1].when : final === 'disqualified' ? undefined : lifecycle.definitions[final]) ??
      nowMs,
  );
  // Reuse the caller's own strings for instants it gave (the last evidence given for an instant, then
  // `now`), and format any other instant once: passed stages often share a date.
  const given = input.evidenceAt === undefined ? NO_TEXTS : Object.values(input.evidenceAt);
  // Entries are formatted in time order, so one remembered instant catches the repeats.
  let lastMs = Number.NaN;
  let lastText = '';
  const format = (ms: number): string => {
    for (let i = given.length - 1; i >= 0; i -= 1) {
      const v = given[i];
      if (v !== undefined && parseInstant(v) === ms && v.endsWith('Z')) return v;
    }
    if (ms === nowMs) return input.now;
    if (ms !== lastMs) {
      lastMs = ms;
      lastText = toIsoInstant(ms);
    }
    return lastText;
  };

  if (fired) {
    const [rule, { reason }] = fired;
    return {
      stage: final,
      changed: true,
      entries: [{ stage: final, enteredAt: format(finalMs), reason, rule }],
      reason,
    };
  }

  const passed = LIFECYCLE_STAGES.slice(stageRank(previous) + 1, stageRank(final) + 1);
  const holds = passed.map((stage) => {
    const definition = lifecycle.definitions[stage];
    return stage === final || (definition !== undefined && evaluate(definition, facts, compiled));
  });
  // A stage without evidence of its own is dated by the next stage that has some (or the final one).
  const times = new Array<number>(passed.length);
  let next = finalMs;
  for (let i = passed.length - 1; i >= 0; i -= 1) {
    const stage = passed[i];
    const own =
      stage === undefined
        ? undefined
        : (evidence(stage) ?? (holds[i] === true ? since(lifecycle.definitions[stage]) : undefined));
    next = own === undefined ? next : Math.min(next, clamp(own));
    times[i] = next;
  }
  const entries: StageEntry[] = passed.map((stage, i) => {
    const held = holds[i] === true;
    return {
      stage,
      enteredAt: format(times[i] ?? finalMs),
      reason: held ? stageTexts(stage).holds : stageTexts(final).skippedTo,
      rule: held ? stageTexts(stage).rule : 'skipped',
    };
  });
  const reason = entries.at(-1)?.reason;
  return { stage: final, changed: true, entries, ...(reason !== undefined ? { reason } : {}) };
}
