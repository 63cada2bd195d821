// Tandem's logger: pino, with secrets always removed and personal data (emails, phones, names) removed
// unless LOG_PII=true. Three layers, because no single one catches everything:
//  1. formatters.log / formatters.bindings walk every logged object (any depth) and censor by key name;
//  2. errors are serialized first, so their own properties and causes are walked too;
//  3. hooks.streamWrite scrubs the finished JSON line: email addresses in free text (messages, error
//     messages, stacks) and bearer/HubSpot tokens that an SDK put inside an error message.
import { pino, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel, TandemConfig } from './config/index.js';

export const REDACTED = '[Redacted]';
export const REDACTED_EMAIL = '[email]';

export interface LoggingOptions {
  level: LogLevel | string;
  /** When true, personal data is logged as is (secrets never are). */
  logPii: boolean;
}

/** Keys (lower-cased, non-alphanumerics removed) whose string values are secrets, wherever they appear. */
const SECRET_KEY_PARTS = [
  'token',
  'secret',
  'password',
  'passwd',
  'authorization',
  'cookie',
  'privatekey',
  'apikey',
  'sessionid',
  'credential',
  'signature',
];

/** Keys holding personal data. `name` is only personal inside a record, see `isPersonalKey`. */
const PERSONAL_KEY_PARTS = ['email', 'phone'];
const PERSONAL_KEYS = new Set([
  'firstname',
  'lastname',
  'middlename',
  'fullname',
  'mobile',
  'fax',
  'address',
  'street',
  'mailingstreet',
  'ipaddress',
  'hsipaddress',
  'birthdate',
]);
/** Under these keys an object is a CRM record (or part of one), where a bare `name` is a person's. */
const RECORD_CONTAINER_KEYS = new Set([
  'properties',
  'record',
  'records',
  'fields',
  'values',
  'input',
  'inputs',
  'results',
  'before',
  'after',
  'changes',
  'person',
  'persons',
  'contact',
  'contacts',
  'lead',
  'leads',
]);

const MAX_DEPTH = 12;

const normalize = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

function isSecretKey(key: string): boolean {
  const k = normalize(key);
  return SECRET_KEY_PARTS.some((part) => k.includes(part));
}

function isPersonalKey(key: string, inRecord: boolean): boolean {
  const k = normalize(key);
  if (PERSONAL_KEY_PARTS.some((part) => k.includes(part)) || PERSONAL_KEYS.has(k)) return true;
  // Salesforce's `Name` (Contact/Lead full name) is capitalised; a lower-case `name` is usually a queue,
  // a property or an error name, so only inside a record is it a person's name.
  return key === 'Name' || (k === 'name' && inRecord);
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer|OAuth)\s+[A-Za-z0-9._~+/=!-]+/gi;
const HUBSPOT_PRIVATE_APP_TOKEN =
  /\bpat-[a-z0-9]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
// Salesforce session ids / access tokens: 15-char org id, '!', then a long opaque string.
const SALESFORCE_SESSION = /\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}/g;
// SDK error messages embed response headers as JSON: "set-cookie":"…".
const HEADER_IN_TEXT = /(\\?"(?:set-cookie|cookie|authorization)\\?"\s*:\s*)(\\?")(?:(?!\2).)*\2/gi;

/** Removes secrets, and email addresses unless `logPii`, from free text. */
export function scrubText(text: string, logPii: boolean): string {
  let out = text
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(HUBSPOT_PRIVATE_APP_TOKEN, REDACTED)
    .replace(SALESFORCE_SESSION, REDACTED)
    .replace(HEADER_IN_TEXT, `$1$2${REDACTED}$2`);
  if (!logPii) out = out.replace(EMAIL, REDACTED_EMAIL);
  return out;
}

/**
 * A copy of `value` with secret values censored, and personal values too unless `logPii`. Errors become
 * plain serialized objects (pino's `errWithCause` shape) so their properties are walked as well.
 */
export function scrubForLog(value: unknown, logPii: boolean): unknown {
  return scrub(value, logPii, false, 0, new WeakSet());
}

function scrub(
  value: unknown,
  logPii: boolean,
  inRecord: boolean,
  depth: number,
  seen: WeakSet<object>,
): unknown {
  if (typeof value === 'string') return logPii ? value : value.replace(EMAIL, REDACTED_EMAIL);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  seen.add(value);
  if (value instanceof Error) {
    return scrub(stdSerializers.errWithCause(value), logPii, inRecord, depth + 1, seen);
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, logPii, inRecord, depth + 1, seen));
  if (value instanceof Date) return value;
  const isRecordObject = inRecord || 'attributes' in value || 'properties' in value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined || child === null) {
      out[key] = child;
    } else if (isSecretKey(key) && typeof child !== 'number' && typeof child !== 'boolean') {
      out[key] = REDACTED;
    } else if (!logPii && isPersonalKey(key, isRecordObject)) {
      out[key] = REDACTED;
    } else {
      const childInRecord = isRecordObject || RECORD_CONTAINER_KEYS.has(normalize(key));
      out[key] = scrub(child, logPii, childInRecord, depth + 1, seen);
    }
  }
  return out;
}

// pino's own redaction for the common fixed paths (cheap, and a second net for HTTP-shaped logs).
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * Tandem's logger. Pass the loaded config, or `{ level, logPii }`; `destination` defaults to stdout.
 *
 * @example
 * const log = createLogger(config);
 * log.info({ record: { properties: { email: 'ada@example.com' } } }, 'pulled'); // email → [Redacted]
 */
export function createLogger(
  options: TandemConfig | LoggingOptions,
  destination?: DestinationStream,
): Logger {
  const { level, logPii } =
    'log' in options ? { level: options.log.level, logPii: options.log.pii } : options;
  const pinoOptions: LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // formatters.log has already serialized and scrubbed errors; pino's default would re-serialize the
    // plain result and report its type as "Object".
    serializers: { err: (value: unknown) => (value instanceof Error ? scrubForLog(value, logPii) : value) },
    formatters: {
      log: (object) => scrubForLog(object, logPii) as Record<string, unknown>,
      bindings: (bindings) => scrubForLog(bindings, logPii) as Record<string, unknown>,
    },
    hooks: {
      streamWrite: (line) => scrubText(line, logPii),
    },
  };
  return destination === undefined ? pino(pinoOptions) : pino(pinoOptions, destination);
}

export type { Logger };
