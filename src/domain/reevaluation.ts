import type { Condition, Mapping } from './mapping/schema.js';
import { parseInstant } from './values/coerce.js';

/**
 * Time-window rules (`changed_within_days`) change their answer with the clock alone: "no form submission
 * in 90 days → recycle to lead" starts to hold 90 days after the last submission, when neither CRM changes
 * anything. Reconciles are driven by changes, so each person carries the next instant one of its windows
 * closes (`UnifiedPerson.reevaluateAt`, stored as `persons.reevaluate_at`) and an incremental pull hands the
 * persons whose instant has passed on to reconcile (see `SyncPipelineImpl.pull`).
 */

/** One `changed_within_days` test: the unified field it reads and its window. */
export interface TimeWindow {
  field: string;
  windowMs: number;
}

const DAY_MS = 86_400_000;

function collect(condition: Condition | undefined, out: Map<string, TimeWindow>): void {
  if (condition === undefined) return;
  if ('all' in condition) for (const c of condition.all) collect(c, out);
  else if ('any' in condition) for (const c of condition.any) collect(c, out);
  else if ('not' in condition) collect(condition.not, out);
  else if ('field' in condition && condition.changed_within_days !== undefined) {
    const windowMs = condition.changed_within_days * DAY_MS;
    out.set(`${condition.field}\u0000${windowMs}`, { field: condition.field, windowMs });
  }
}

/**
 * Every distinct window a person's reconcile can read: stage definitions, recycle and disqualify rules,
 * score rules, the create policy and the person scope.
 */
export function personTimeWindows(mapping: Mapping): TimeWindow[] {
  const out = new Map<string, TimeWindow>();
  const { lifecycle, score } = mapping;
  for (const condition of Object.values(lifecycle.definitions)) collect(condition, out);
  for (const rule of [...lifecycle.recycle, ...lifecycle.disqualify]) collect(rule.when, out);
  for (const rule of [...score.fit, ...score.engagement]) if ('when' in rule) collect(rule.when, out);
  const person = mapping.objects.person;
  collect(person.create.only_when, out);
  collect(person.scope.hubspot, out);
  collect(person.scope.salesforce, out);
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
