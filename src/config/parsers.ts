// Parsers for configuration values that arrive as strings (environment variables, or YAML scalars
// turned into strings). Each returns either a value or a sentence saying what was expected.

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const expected = <T>(text: string): Parsed<T> => ({ ok: false, expected: text });

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `500ms`, `30s`, `5m`, `1h30m`, `30d` → milliseconds. A bare number is rejected: its unit would be a guess. */
export function parseDuration(raw: string): Parsed<number> {
  const text = raw.trim();
  const part = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(part)) {
    total += Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
    consumed += match[0].length;
  }
  if (text.length === 0 || consumed !== text.length) {
    return expected('a duration such as 500ms, 30s, 5m, 1h30m or 30d');
  }
  return ok(total);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function parseBoolean(raw: string): Parsed<boolean> {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return expected('true or false (also accepted: 1/0, yes/no, on/off)');
}

/** Whole numbers, with optional `_` or `,` thousands separators (`10_000`, `10,000`). */
export function parseInteger(raw: string, min: number, max = Number.MAX_SAFE_INTEGER): Parsed<number> {
  const text = raw.trim();
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
  if (!/^\d{1,3}(?:[_,]?\d{3})*$|^\d+$/.test(text)) return expected(`a whole number ${range}`);
  const value = Number(text.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(value) || value < min || value > max) return expected(`a whole number ${range}`);
  return ok(value);
}

/** `50` or `50%` → 50. */
export function parsePercent(raw: string): Parsed<number> {
  const text = raw.trim().replace(/%$/, '');
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value <= 0 || value > 100) {
    return expected('a percentage above 0 and at most 100, such as 50 or 50%');
  }
  return ok(value);
}

export function parseUrl(raw: string, schemes: readonly string[]): Parsed<string> {
  const wanted = `a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}`;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return expected(wanted);
  }
  if (!schemes.includes(url.protocol)) return expected(wanted);
  return ok(raw.trim());
}

/** An https base URL with no trailing slash, as both SDKs concatenate paths onto it. */
export function parseBaseUrl(raw: string): Parsed<string> {
  const parsed = parseUrl(raw, ['https:', 'http:']);
  if (!parsed.ok) return parsed;
  return ok(parsed.value.replace(/\/+$/, ''));
}

export type Schedule = { kind: 'interval'; everyMs: number } | { kind: 'cron'; pattern: string };

const MIN_INTERVAL_MS = 1_000;

/** An interval (`30s`, `5m`) or a cron expression of 5 fields, or 6 with a leading seconds field. */
export function parseSchedule(raw: string): Parsed<Schedule> {
  const text = raw.trim();
  const what = 'an interval such as 30s or 5m, or a cron expression such as "*/5 * * * *"';
  if (/^\d/.test(text) && !/\s/.test(text)) {
    const duration = parseDuration(text);
    if (!duration.ok) return expected(what);
    if (duration.value < MIN_INTERVAL_MS) return expected('an interval of at least 1s');
    return ok({ kind: 'interval', everyMs: duration.value });
  }
  const problem = cronProblem(text);
  if (problem !== undefined) return expected(`${what} (${problem})`);
  return ok({ kind: 'cron', pattern: text.split(/\s+/).join(' ') });
}

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  allowQuestionMark?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, allowQuestionMark: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: WEEKDAYS, allowQuestionMark: true },
];
const SECONDS_FIELD: CronField = { name: 'second', min: 0, max: 59 };

/** Undefined when the expression is valid, otherwise which field is wrong. */
export function cronProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  let fields: readonly CronField[];
  if (parts.length === 5) fields = CRON_FIELDS;
  else if (parts.length === 6) fields = [SECONDS_FIELD, ...CRON_FIELDS];
  else return `a cron expression has 5 or 6 fields, this has ${parts.length}`;
  for (const [index, field] of fields.entries()) {
    const part = parts[index] ?? '';
    if (!cronFieldIsValid(part, field)) {
      return `the ${field.name} field "${part}" must be *, a number from ${field.min} to ${field.max}, a range, a list or a step`;
    }
  }
  return undefined;
}

function cronFieldIsValid(part: string, field: CronField): boolean {
  if (field.allowQuestionMark === true && part === '?') return true;
  return part.split(',').every((item) => {
    const [base = '', step, ...rest] = item.split('/');
    if (rest.length > 0) return false;
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) return false;
    if (base === '*') return true;
    const bounds = base.split('-');
    if (bounds.length > 2) return false;
    const values = bounds.map((bound) => cronValue(bound, field));
    if (values.some((v) => v === undefined)) return false;
    const [from, to] = values as number[];
    return to === undefined || (from as number) <= to;
  });
}

function cronValue(text: string, field: CronField): number | undefined {
  const byName = field.names?.indexOf(text.toUpperCase() as never) ?? -1;
  if (byName >= 0) return field.name === 'month' ? byName + 1 : byName;
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= field.min && value <= field.max ? value : undefined;
}
