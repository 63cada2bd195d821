import type { ValueType } from '../mapping/schema.js';
import type { RawValue } from '../records.js';

/**
 * A value in Tandem's unified form: numbers are numbers, booleans booleans, dates `YYYY-MM-DD`,
 * datetimes ISO-8601 UTC with milliseconds, everything else a string; blank is `null`.
 */
export type UnifiedValue = string | number | boolean | null;

export type CoerceResult = { ok: true; value: UnifiedValue } | { ok: false; message: string };

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Milliseconds since the epoch from an ISO string (Salesforce's `+0000` offsets too) or epoch millis. */
const instants = new Map<string, number | undefined>();
const INSTANT_CACHE_SIZE = 50_000;

function parseInstantText(value: string): number | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d{9,}$/.test(text)) return Number(text);
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseInstant(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  // Timestamps repeat a lot within a batch (and across comparisons); parsing is pure, so memoise it.
  const known = instants.get(value);
  if (known !== undefined || instants.has(value)) return known;
  const ms = parseInstantText(value);
  if (instants.size >= INSTANT_CACHE_SIZE) instants.clear();
  instants.set(value, ms);
  return ms;
}

const isoTexts = new Map<number, string>();

/** Memoised like `parseInstant`: stage entries and touchpoints format the same few instants again and again. */
export function toIsoInstant(ms: number): string {
  let text = isoTexts.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoTexts.size >= INSTANT_CACHE_SIZE) isoTexts.clear();
    isoTexts.set(ms, text);
  }
  return text;
}

const ok = (value: UnifiedValue): CoerceResult => ({ ok: true, value });
const fail = (message: string): CoerceResult => ({ ok: false, message });

function toNumber(raw: string | number | boolean): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'boolean') return undefined;
  const text = raw.trim();
  return NUMERIC.test(text) ? Number(text) : undefined;
}

function toBoolean(raw: string | number | boolean): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number') return raw === 1 ? true : raw === 0 ? false : undefined;
  switch (raw.trim().toLowerCase()) {
    case 'true':
    case 'yes':
    case '1':
      return true;
    case 'false':
    case 'no':
    case '0':
      return false;
    default:
      return undefined;
  }
}

function toDate(raw: string | number | boolean): string | undefined {
  if (typeof raw === 'boolean') return undefined;
  if (typeof raw === 'string') {
    const m = ISO_DATE.exec(raw.trim());
    if (m) {
      const probe = new Date(`${m[0]}T00:00:00.000Z`);
      return Number.isNaN(probe.getTime()) || probe.toISOString().slice(0, 10) !== m[0] ? undefined : m[0];
    }
  }
  const ms = parseInstant(raw);
  return ms === undefined ? undefined : toIsoInstant(ms).slice(0, 10);
}

/** Coerce a value as a system holds it to the unified type (HubSpot strings and Salesforce JSON alike). */
export function coerce(raw: RawValue | undefined, type: ValueType): CoerceResult {
  if (raw === null || raw === undefined) return ok(null);
  if (typeof raw === 'string' && raw.trim() === '') return ok(null);
  switch (type) {
    case 'string':
    case 'enum':
    case 'multi_enum':
    case 'phone':
      return ok(typeof raw === 'string' ? raw : String(raw));
    case 'email': {
      const text = String(raw).trim();
      return EMAIL.test(text) ? ok(text) : fail(`"${text}" is not an email address`);
    }
    case 'number': {
      const n = toNumber(raw);
      return n === undefined ? fail(`"${String(raw)}" is not a number`) : ok(n);
    }
    case 'integer': {
      const n = toNumber(raw);
      if (n === undefined || !Number.isInteger(n)) return fail(`"${String(raw)}" is not a whole number`);
      return ok(n);
    }
    case 'boolean': {
      const b = toBoolean(raw);
      return b === undefined ? fail(`"${String(raw)}" is not true or false`) : ok(b);
    }
    case 'date': {
      const d = toDate(raw);
      return d === undefined ? fail(`"${String(raw)}" is not a date`) : ok(d);
    }
    case 'datetime': {
      const ms = typeof raw === 'boolean' ? undefined : parseInstant(raw);
      return ms === undefined ? fail(`"${String(raw)}" is not a date-time`) : ok(toIsoInstant(ms));
    }
  }
}

/** Equality in unified form (numbers by value, strings exactly). */
export function sameUnified(a: UnifiedValue, b: UnifiedValue): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) < 1e-9);
}
