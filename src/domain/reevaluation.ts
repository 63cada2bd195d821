import { conditionInputs, type TimeWindow } from './conditions.js';
import { conditionsOf } from './mapping/conditions-of.js';
import type { Mapping } from './mapping/schema.js';
import { parseInstant } from './values/coerce.js';

export type { TimeWindow } from './conditions.js';

/**
 * Time-window rules (`changed_within_days`) change their answer with the clock alone: "no form submission
 * in 90 days → recycle to lead" starts to hold 90 days after the last submission, when neither CRM changes
 * anything. Reconciles are driven by changes, so each person carries the next instant one of its windows
 * closes (`UnifiedPerson.reevaluateAt`, stored as `persons.reevaluate_at`) and an incremental pull hands the
 * persons whose instant has passed on to reconcile (see `SyncPipelineImpl.pull`).
 */

/**
 * Every distinct window a person's reconcile can read: stage definitions, recycle and disqualify rules,
 * score rules, the create policy and the person scope.
 */
export function personTimeWindows(mapping: Mapping): TimeWindow[] {
  const out = new Map<string, TimeWindow>();
  for (const { condition, object } of conditionsOf(mapping)) {
    if (object !== 'person') continue;
    for (const w of conditionInputs(condition).windows) out.set(`${w.field}\u0000${w.windowMs}`, w);
  }
  return [...out.values()];
}

/**
 * The first instant after `nowMs` at which one of `windows` closes for these change times — a test that
 * holds now (`now − changedAt ≤ window`) stops holding one millisecond after `changedAt + window` — as ISO
 * text, or undefined when no window is open. A window closing is when an answer can change; whether it does
 * is for the reconcile at that instant to decide.
 */
export function nextReevaluation(
  windows: readonly TimeWindow[],
  changedAt: Readonly<Record<string, string | undefined>>,
  nowMs: number | undefined,
): string | undefined {
  if (windows.length === 0 || nowMs === undefined) return undefined;
  let next: number | undefined;
  for (const w of windows) {
    const at = parseInstant(changedAt[w.field]);
    if (at === undefined) continue;
    const closes = at + w.windowMs + 1;
    if (closes > nowMs && (next === undefined || closes < next)) next = closes;
  }
  return next === undefined ? undefined : new Date(next).toISOString();
}
