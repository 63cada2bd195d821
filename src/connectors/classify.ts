// What went wrong, in one place: any error either SDK (or the network) throws, and any per-record failure
// in a HubSpot 207 batch or a Salesforce collection result, becomes one Classification that says whether to
// retry, wait or give up, with a reason an admin understands and a stable code machines can count.

export type RateLimitScope =
  | 'hubspot_ten_secondly'
  | 'hubspot_secondly'
  | 'hubspot_daily'
  | 'salesforce_daily'
  | 'salesforce_concurrent'
  | 'http';

export type Classification =
  | { kind: 'transient'; reason: string; code: string }
  | { kind: 'rate_limited'; waitMs: number; reason: string; code: string; scope?: RateLimitScope }
  | {
      kind: 'permanent';
      reason: string;
      code: string;
      field?: string;
      recordId?: string;
      /** HubSpot 409 "Contact already exists. Existing ID: 123": the record to update instead. */
      existingId?: string;
    };

export interface ClassifyContext {
  /** Which CRM the call went to, when the error alone does not tell. */
  system?: 'hubspot' | 'salesforce';
  /** Salesforce object or HubSpot object type, to name `Lead.Status` rather than `Status`. */
  object?: string;
  recordId?: string;
  /** Epoch ms; only the HubSpot daily limit depends on the clock. */
  now?: number;
}

// --- Tandem's error classes -----------------------------------------------------------------------------

export class TandemError extends Error {
  readonly classification: Classification;
  constructor(classification: Classification, options?: { cause?: unknown }) {
    super(classification.reason, options);
    this.classification = classification;
  }
  get code(): string {
    return this.classification.code;
  }
}

type Of<K extends Classification['kind']> = Extract<Classification, { kind: K }>;

export class PermanentError extends TandemError {
  override readonly name = 'PermanentError';
  declare readonly classification: Of<'permanent'>;
  constructor(classification: Omit<Of<'permanent'>, 'kind'>, options?: { cause?: unknown }) {
    super({ kind: 'permanent', ...classification }, options);
  }
}

export class TransientError extends TandemError {
  override readonly name = 'TransientError';
  declare readonly classification: Of<'transient'>;
  constructor(classification: Omit<Of<'transient'>, 'kind'>, options?: { cause?: unknown }) {
    super({ kind: 'transient', ...classification }, options);
  }
}

export class RateLimitedError extends TandemError {
  override readonly name = 'RateLimitedError';
  declare readonly classification: Of<'rate_limited'>;
  constructor(classification: Omit<Of<'rate_limited'>, 'kind'>, options?: { cause?: unknown }) {
    super({ kind: 'rate_limited', ...classification }, options);
  }
}

/** Classifies `error` and wraps it in the matching Tandem error class (returned as is if already one). */
export function toTandemError(error: unknown, context: ClassifyContext = {}): TandemError {
  if (error instanceof TandemError) return error;
  const { kind, ...rest } = classify(error, context);
  switch (kind) {
    case 'permanent':
      return new PermanentError(rest as Omit<Of<'permanent'>, 'kind'>, { cause: error });
    case 'transient':
      return new TransientError(rest, { cause: error });
    case 'rate_limited':
      return new RateLimitedError(rest as Omit<Of<'rate_limited'>, 'kind'>, { cause: error });
  }
}

export type QueueSignal = { action: 'fail-now' } | { action: 'retry' } | { action: 'wait'; waitMs: number };

/**
 * What the queue layer does: permanent → BullMQ `UnrecoverableError` (fail now, attempts left or not);
 * transient → throw and let BullMQ back off; rate-limited → `worker.rateLimit(waitMs)` and
 * `Worker.RateLimitError()` so the job waits without burning an attempt.
 */
export function toQueueSignal(classification: Classification): QueueSignal {
  switch (classification.kind) {
    case 'permanent':
      return { action: 'fail-now' };
    case 'transient':
      return { action: 'retry' };
    case 'rate_limited':
      return { action: 'wait', waitMs: classification.waitMs };
  }
}

// --- classify -------------------------------------------------------------------------------------------

const TEN_SECONDS = 10_000;
/** Salesforce's daily quota is a rolling 24 hours, so capacity returns gradually: look again in an hour. */
const SALESFORCE_DAILY_WAIT_MS = 3_600_000;
const SALESFORCE_CONCURRENT_WAIT_MS = 30_000;

/**
 * Classifies an error from `@hubspot/api-client`, jsforce, fetch or Node's network stack, or a per-record
 * failure (a HubSpot batch `errors[]` item, a Salesforce `{statusCode, message, fields}` or collection result).
 *
 * `AUTH_EXPIRED` is transient so the caller can refresh the token and retry once; a second `AUTH_EXPIRED`
 * in a row should be treated as permanent by the caller.
 *
 * @example
 * const c = classify(err, { system: 'salesforce', object: 'Lead' });
 * if (c.kind === 'permanent') recordFailure(c.reason, c.field);
 */
export function classify(error: unknown, context: ClassifyContext = {}): Classification {
  if (error instanceof TandemError) return error.classification;
  const withRecord = (c: Classification): Classification =>
    c.kind === 'permanent' && c.recordId === undefined && context.recordId !== undefined
      ? { ...c, recordId: context.recordId }
      : c;

  const network = classifyNetwork(error);
  if (network !== undefined) return network;

  if (isRecord(error)) {
    if (isHubSpotApiException(error))
      return withRecord(classifyHubSpotResponse(error.code, parseBody(error.body), error.headers, context));
    // jsforce OAuth2 failures: an Error named after the OAuth `error`, message = `error_description`.
    if (error instanceof Error && OAUTH_ERRORS.has(error.name))
      return classifyOAuth(error.name, error.message);
    if (typeof error['error'] === 'string' && OAUTH_ERRORS.has(error['error'])) {
      return classifyOAuth(error['error'], stringOr(error['error_description'], ''));
    }
    // jsforce HttpApiError: `errorCode`, and `data` holding the Salesforce error object(s).
    if (error instanceof Error && typeof error['errorCode'] === 'string') {
      const data = error['data'];
      let first = Array.isArray(data) ? data.find(isRecord) : isRecord(data) ? data : undefined;
      // Asked for CSV or text (Bulk API 2.0 results), jsforce leaves a JSON error answer unparsed:
      // ERROR_HTTP_403 whose message is the body `[{"errorCode":"REQUEST_LIMIT_EXCEEDED",…}]`.
      if (/^ERROR_HTTP_\d{3}$/.test(error['errorCode']) && first !== undefined) {
        const body = parseBody(first['message']);
        const inner = Array.isArray(body) ? body.find(isRecord) : undefined;
        if (inner !== undefined && typeof inner['errorCode'] === 'string') first = inner;
      }
      const code =
        first !== undefined && typeof first['errorCode'] === 'string'
          ? first['errorCode']
          : error['errorCode'];
      const message = first !== undefined ? stringOr(first['message'], error.message) : error.message;
      return withRecord(classifySalesforce(code, message, stringArray(first?.['fields']), context));
    }
    // Salesforce collection result: {id, success: false, errors: [{statusCode, message, fields}]}.
    if (error['success'] === false && Array.isArray(error['errors'])) {
      const first = error['errors'].find(isRecord);
      const recordId = typeof error['id'] === 'string' ? error['id'] : context.recordId;
      const inner =
        first === undefined
          ? undefined
          : classify(first, { ...context, ...(recordId !== undefined ? { recordId } : {}) });
      return (
        inner ?? permanent('SALESFORCE_RECORD_FAILED', 'Salesforce rejected the record without saying why')
      );
    }
    // Salesforce per-record error or REST error object.
    const sfCode =
      typeof error['statusCode'] === 'string'
        ? error['statusCode']
        : typeof error['errorCode'] === 'string'
          ? error['errorCode']
          : undefined;
    if (sfCode !== undefined && typeof error['message'] === 'string') {
      return withRecord(classifySalesforce(sfCode, error['message'], stringArray(error['fields']), context));
    }
    // HubSpot error body or batch `errors[]` item: {status: 'error', category, message, context?, errors?}.
    if (typeof error['category'] === 'string' && typeof error['message'] === 'string') {
      return withRecord(classifyHubSpotBody(undefined, error, undefined, context));
    }
    // A generic HTTP error (our own fetch wrappers): {status|statusCode: number, headers?, body?}.
    const status =
      typeof error['status'] === 'number'
        ? error['status']
        : typeof error['statusCode'] === 'number'
          ? error['statusCode']
          : undefined;
    if (status !== undefined) {
      const body = parseBody(error['body']);
      if (context.system === 'hubspot' || (isRecord(body) && typeof body['category'] === 'string')) {
        return withRecord(classifyHubSpotResponse(status, body, error['headers'], context));
      }
      if (Array.isArray(body) && isRecord(body[0])) {
        const c = classify(body[0], context);
        return status === 429 || status >= 500 ? httpStatus(status, error['headers'], context, c.reason) : c;
      }
      return withRecord(
        httpStatus(status, error['headers'], context, error instanceof Error ? error.message : undefined),
      );
    }
  }
  // A Salesforce REST error body, as parsed JSON: [{message, errorCode, fields}].
  if (Array.isArray(error) && isRecord(error[0])) return classify(error[0], context);

  const message =
    error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  return withRecord(permanent('UNEXPECTED_ERROR', `Unexpected error: ${message ?? String(error)}`));
}

// --- network --------------------------------------------------------------------------------------------

const NETWORK_CODES: Readonly<Record<string, { code: string; what: string }>> = {
  ETIMEDOUT: { code: 'NETWORK_TIMEOUT', what: 'the connection timed out' },
  ESOCKETTIMEDOUT: { code: 'NETWORK_TIMEOUT', what: 'the connection timed out' },
  UND_ERR_CONNECT_TIMEOUT: { code: 'NETWORK_TIMEOUT', what: 'connecting timed out' },
  UND_ERR_HEADERS_TIMEOUT: { code: 'NETWORK_TIMEOUT', what: 'the response headers did not arrive in time' },
  UND_ERR_BODY_TIMEOUT: { code: 'NETWORK_TIMEOUT', what: 'the response body did not arrive in time' },
  ECONNRESET: { code: 'NETWORK_CONNECTION_RESET', what: 'the connection was reset' },
  EPIPE: { code: 'NETWORK_CONNECTION_RESET', what: 'the connection was closed while sending' },
  UND_ERR_SOCKET: { code: 'NETWORK_CONNECTION_RESET', what: 'the connection was closed by the other side' },
  UND_ERR_CLOSED: { code: 'NETWORK_CONNECTION_RESET', what: 'the connection was closed' },
  ECONNREFUSED: { code: 'NETWORK_CONNECTION_REFUSED', what: 'the connection was refused' },
  EAI_AGAIN: { code: 'NETWORK_DNS', what: 'the host name could not be resolved for now' },
  ENOTFOUND: {
    code: 'NETWORK_DNS',
    what: 'the host name could not be resolved (check the URL if this persists)',
  },
  ENETUNREACH: { code: 'NETWORK_UNREACHABLE', what: 'the network is unreachable' },
  ENETDOWN: { code: 'NETWORK_UNREACHABLE', what: 'the network is down' },
  EHOSTUNREACH: { code: 'NETWORK_UNREACHABLE', what: 'the host is unreachable' },
  EHOSTDOWN: { code: 'NETWORK_UNREACHABLE', what: 'the host is down' },
};

const REDIS_UNAVAILABLE =
  /Reached the max retries per request limit|Connection is closed\.|Stream isn't writeable and enableOfflineQueue/;

function classifyNetwork(error: unknown): Classification | undefined {
  // Node's fetch wraps the socket error: TypeError('fetch failed', { cause: { code } }).
  for (let e: unknown = error, depth = 0; isRecord(e) && depth < 4; e = e['cause'], depth++) {
    const code = typeof e['code'] === 'string' ? e['code'] : undefined;
    const known = code !== undefined ? NETWORK_CODES[code] : undefined;
    if (known !== undefined)
      return transient(known.code, `Network problem: ${known.what} (${code}); will retry`);
    const name = typeof e['name'] === 'string' ? e['name'] : undefined;
    const message = typeof e['message'] === 'string' ? e['message'] : '';
    if (name === 'TimeoutError' || (name === 'AbortError' && /time ?out/i.test(message))) {
      return transient('NETWORK_TIMEOUT', 'Network problem: the request timed out; will retry');
    }
    if (name === 'AbortError')
      return transient('REQUEST_ABORTED', 'The request was aborted before it finished; will retry');
    // ioredis while Redis restarts or fails over: Tandem's own coordination store, never the record.
    if (name === 'MaxRetriesPerRequestError' || REDIS_UNAVAILABLE.test(message)) {
      return transient('REDIS_UNAVAILABLE', `Redis is unreachable for now (${message}); will retry`);
    }
    const customerView = classifyCustomerView(e, message);
    if (customerView !== undefined) return customerView;
  }
  return undefined;
}

/** `pg` when the server goes away mid-query or cannot be reached from the pool. */
const CUSTOMER_VIEW_UNREACHABLE =
  /^Connection terminated|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect/;

/**
 * PostgreSQL (the customer view) by SQLSTATE class: a restart, a lost connection, a deadlock or lock wait,
 * a serialization failure or exhausted resources pass and are retried; anything else (bad data, a broken
 * schema) is left to the generic path.
 */
function classifyCustomerView(e: Record<string, unknown>, message: string): Classification | undefined {
  if (CUSTOMER_VIEW_UNREACHABLE.test(message))
    return transient(
      'CUSTOMER_VIEW_UNAVAILABLE',
      `PostgreSQL is unreachable for now (${message}); will retry`,
    );
  const sqlState = typeof e['code'] === 'string' && typeof e['severity'] === 'string' ? e['code'] : undefined;
  if (sqlState === undefined || !/^[0-9A-Z]{5}$/.test(sqlState)) return undefined;
  const cls = sqlState.slice(0, 2);
  if (cls === '40')
    return transient(
      'CUSTOMER_VIEW_CONFLICT',
      `PostgreSQL rolled back a concurrent update (${sqlState}: ${message}); will retry`,
    );
  if (['08', '53', '57', '58'].includes(cls) || sqlState === '55P03')
    return transient(
      'CUSTOMER_VIEW_UNAVAILABLE',
      `PostgreSQL is unavailable for now (${sqlState}: ${message}); will retry`,
    );
  return undefined;
}

// --- OAuth ----------------------------------------------------------------------------------------------

const OAUTH_ERRORS = new Set([
  'invalid_grant',
  'invalid_client',
  'invalid_client_id',
  'invalid_client_credentials',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_request',
  'inactive_user',
  'inactive_org',
]);

function classifyOAuth(error: string, description: string): Classification {
  const detail = description === '' ? error : `${error}: ${description}`;
  return permanent(
    'AUTH_INVALID',
    `Salesforce refused to sign in (${detail}). Check the SALESFORCE_* credentials, the connected app and the integration user`,
  );
}

// --- HubSpot --------------------------------------------------------------------------------------------

function isHubSpotApiException(e: Record<string, unknown>): e is Record<string, unknown> & { code: number } {
  return e instanceof Error && typeof e['code'] === 'number' && 'body' in e && 'headers' in e;
}

function classifyHubSpotResponse(
  status: number,
  body: unknown,
  headers: unknown,
  context: ClassifyContext,
): Classification {
  if (isRecord(body)) return classifyHubSpotBody(status, body, headers, context);
  if (status === 404) {
    return permanent(
      'HUBSPOT_OBJECT_NOT_FOUND',
      `HubSpot could not find the ${context.object ?? 'record'} (deleted or merged?)`,
    );
  }
  const text = typeof body === 'string' && body.trim() !== '' ? `: ${body.trim().slice(0, 200)}` : '';
  return httpStatus(
    status,
    headers,
    { ...context, system: 'hubspot' },
    `HubSpot answered HTTP ${status}${text}`,
  );
}

function classifyHubSpotBody(
  status: number | undefined,
  body: Record<string, unknown>,
  headers: unknown,
  context: ClassifyContext,
): Classification {
  const category = stringOr(body['category'], '');
  const message = stringOr(body['message'], '');
  const object = context.object ?? 'record';

  if (status === 429 || body['errorType'] === 'RATE_LIMIT') {
    return hubSpotRateLimit(stringOr(body['policyName'], ''), message, headers, context.now ?? Date.now());
  }
  if (status === 401 || category === 'INVALID_AUTHENTICATION' || category === 'EXPIRED_AUTHENTICATION') {
    if (category === 'INVALID_AUTHENTICATION') {
      return permanent(
        'AUTH_INVALID',
        `HubSpot rejected the access token (${message || category}). Check HUBSPOT_ACCESS_TOKEN`,
      );
    }
    return transient(
      'AUTH_EXPIRED',
      `HubSpot says the access token expired${message ? ` (${message})` : ''}; refresh it and retry`,
    );
  }
  if (category === 'MISSING_SCOPES' || status === 403) {
    return permanent(
      'HUBSPOT_MISSING_SCOPES',
      `HubSpot refused access: ${message || 'forbidden'}. Give the private app the scopes Tandem needs`,
    );
  }
  if (category === 'CONFLICT' || status === 409) {
    const existingId = /Existing ID:\s*(\d+)/i.exec(message)?.[1];
    return permanent('HUBSPOT_CONFLICT', `HubSpot refused a duplicate: ${message || 'conflict'}`, {
      ...(existingId !== undefined ? { existingId } : {}),
    });
  }
  if (category === 'OBJECT_NOT_FOUND' || status === 404) {
    const ids = isRecord(body['context']) ? stringArray(body['context']['ids']) : [];
    return permanent(
      'HUBSPOT_OBJECT_NOT_FOUND',
      `HubSpot could not find the ${object} (deleted or merged?): ${message || 'not found'}`,
      {
        ...(ids[0] !== undefined ? { recordId: ids[0] } : {}),
      },
    );
  }
  if (category === 'VALIDATION_ERROR' || status === 400) return hubSpotValidation(body, message, context);
  if (status !== undefined)
    return httpStatus(
      status,
      headers,
      { ...context, system: 'hubspot' },
      `HubSpot: ${message || `HTTP ${status}`}`,
    );
  return permanent(`HUBSPOT_${category || 'ERROR'}`, `HubSpot rejected the ${object}: ${message}`);
}

interface HubSpotPropertyError {
  code: string;
  property?: string;
  message: string;
}

/** HubSpot puts property errors in `errors[]` (code + context.propertyName) or as JSON inside `message`. */
function hubSpotPropertyErrors(body: Record<string, unknown>, message: string): HubSpotPropertyError[] {
  const found: HubSpotPropertyError[] = [];
  const errors = Array.isArray(body['errors']) ? body['errors'].filter(isRecord) : [];
  for (const e of errors) {
    const ctx = isRecord(e['context']) ? e['context'] : {};
    const property = stringArray(ctx['propertyName'])[0] ?? stringOr(e['name'], '');
    found.push({
      code: stringOr(e['code'], stringOr(e['error'], 'VALIDATION_ERROR')),
      message: stringOr(e['message'], message),
      ...(property !== '' ? { property } : {}),
    });
  }
  const embedded = /^[^[]*:\s*(\[.*\])\s*$/s.exec(message)?.[1];
  if (found.length === 0 && embedded !== undefined) {
    try {
      const parsed: unknown = JSON.parse(embedded);
      for (const e of Array.isArray(parsed) ? parsed.filter(isRecord) : []) {
        const property = stringOr(e['name'], '');
        found.push({
          code: stringOr(e['error'], 'VALIDATION_ERROR'),
          message: stringOr(e['message'], message),
          ...(property !== '' ? { property } : {}),
        });
      }
    } catch {
      // not JSON after all: fall back to the message
    }
  }
  return found;
}

function hubSpotValidation(
  body: Record<string, unknown>,
  message: string,
  context: ClassifyContext,
): Classification {
  const object = context.object ?? 'record';
  const [first] = hubSpotPropertyErrors(body, message);
  if (first === undefined)
    return permanent('HUBSPOT_VALIDATION_ERROR', `HubSpot rejected the ${object}: ${message}`);
  const where = first.property !== undefined ? `${context.object ?? object}.${first.property}` : object;
  const field = first.property !== undefined ? { field: first.property } : {};
  switch (first.code) {
    case 'PROPERTY_DOESNT_EXIST':
      return permanent(
        'HUBSPOT_PROPERTY_DOESNT_EXIST',
        `HubSpot has no property ${where}: create it in HubSpot or fix the mapping`,
        field,
      );
    case 'INVALID_OPTION':
      return permanent(
        'HUBSPOT_INVALID_OPTION',
        `HubSpot rejected the value for ${where}: ${first.message}`,
        field,
      );
    case 'READ_ONLY_VALUE':
      return permanent(
        'HUBSPOT_READ_ONLY_VALUE',
        `HubSpot does not allow writing ${where}: it is read-only. Remove it from the mapping's writes`,
        field,
      );
    default:
      return permanent(
        `HUBSPOT_${first.code}`,
        `HubSpot rejected the value for ${where}: ${first.message}`,
        field,
      );
  }
}

function hubSpotRateLimit(policy: string, message: string, headers: unknown, now: number): Classification {
  const retryAfter = retryAfterMs(headers, now);
  if (policy === 'DAILY') {
    return rateLimited(
      'HUBSPOT_RATE_LIMIT_DAILY',
      retryAfter ?? msUntilNextUtcMidnight(now),
      'HubSpot daily API limit reached; waiting until it resets at midnight in the account’s time zone (approximated as the next UTC midnight)',
      'hubspot_daily',
    );
  }
  if (policy === 'SECONDLY' || /secondly limit/i.test(message)) {
    return rateLimited(
      'HUBSPOT_RATE_LIMIT_SECONDLY',
      retryAfter ?? 1_000,
      'HubSpot per-second limit reached; waiting a second',
      'hubspot_secondly',
    );
  }
  const interval = numberHeader(headers, 'x-hubspot-ratelimit-interval-milliseconds');
  return rateLimited(
    'HUBSPOT_RATE_LIMIT_TEN_SECONDLY',
    retryAfter ?? interval ?? TEN_SECONDS,
    'HubSpot 10-second limit reached; waiting for the window to reset',
    'hubspot_ten_secondly',
  );
}

// --- Salesforce -----------------------------------------------------------------------------------------

const SALESFORCE_TRANSIENT = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'QUERY_TIMEOUT',
  'REQUEST_RUNNING_TOO_LONG',
]);

function classifySalesforce(
  errorCode: string,
  message: string,
  fields: string[],
  context: ClassifyContext,
): Classification {
  const object = context.object;
  const field = fields[0];
  const where =
    field !== undefined ? (object !== undefined ? `${object}.${field}` : field) : (object ?? 'the record');
  const code = `SALESFORCE_${errorCode}`;
  const at = field !== undefined ? { field } : {};

  const http = /^ERROR_HTTP_(\d{3})$/.exec(errorCode)?.[1];
  if (http !== undefined)
    return httpStatus(
      Number(http),
      undefined,
      { ...context, system: 'salesforce' },
      `Salesforce answered HTTP ${http}`,
    );

  switch (errorCode) {
    case 'REQUEST_LIMIT_EXCEEDED':
      if (/concurrent/i.test(message)) {
        return rateLimited(
          code,
          SALESFORCE_CONCURRENT_WAIT_MS,
          `Salesforce limits concurrent long-running requests (${message}); waiting 30 s`,
          'salesforce_concurrent',
        );
      }
      return rateLimited(
        code,
        SALESFORCE_DAILY_WAIT_MS,
        `Salesforce API request limit exceeded for the org (${message}); the 24-hour quota frees up gradually, trying again in an hour`,
        'salesforce_daily',
      );
    case 'INVALID_SESSION_ID':
      return transient(
        'AUTH_EXPIRED',
        `Salesforce session expired or is invalid (${message}); refresh the token and retry`,
      );
    case 'INVALID_AUTH_HEADER':
      return permanent('AUTH_INVALID', `Salesforce rejected the authorization header (${message})`);
    case 'STRING_TOO_LONG':
      return permanent(
        code,
        `Salesforce rejected the value for ${where}: it is longer than the field allows (${message})`,
        at,
      );
    case 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST': {
      const value = /restricted picklist field:\s*(.*)$/s.exec(message)?.[1];
      return permanent(
        code,
        value !== undefined
          ? `Salesforce rejected the value for ${where}: '${value}' is not an allowed picklist value`
          : `Salesforce rejected the value for ${where}: ${message}`,
        at,
      );
    }
    case 'INVALID_FIELD': {
      const column = /No such column '([^']+)'/.exec(message)?.[1];
      const entity = /on entity '([^']+)'/.exec(message)?.[1] ?? object;
      const name = field ?? column;
      return permanent(
        code,
        name !== undefined
          ? `Salesforce has no field ${entity !== undefined ? `${entity}.` : ''}${name} the integration user can see: fix the mapping or the field-level security`
          : `Salesforce rejected a field: ${message}`,
        name !== undefined ? { field: name } : {},
      );
    }
    case 'REQUIRED_FIELD_MISSING': {
      const listed = /missing:\s*\[([^\]]+)\]/
        .exec(message)?.[1]
        ?.split(',')
        .map((s) => s.trim());
      const missing = fields.length > 0 ? fields : (listed ?? []);
      return permanent(
        code,
        `Salesforce requires ${missing.length > 0 ? missing.map((f) => (object !== undefined ? `${object}.${f}` : f)).join(', ') : 'a field'} and it was empty: map a value or a default`,
        missing[0] !== undefined ? { field: missing[0] } : {},
      );
    }
    case 'DUPLICATES_DETECTED':
      return permanent(
        code,
        `Salesforce duplicate rules blocked writing ${object ?? 'the record'}: ${message}`,
        at,
      );
    case 'CANNOT_UPDATE_CONVERTED_LEAD':
      return permanent(
        code,
        'Salesforce does not allow updating a converted Lead: write to its converted Contact instead',
        at,
      );
    case 'MALFORMED_QUERY':
      return permanent(code, `Salesforce could not parse the SOQL query: ${message.trim()}`);
    case 'INVALID_TYPE':
      return permanent(
        code,
        `Salesforce does not know this object or the integration user cannot see it: ${message}`,
      );
    case 'ENTITY_IS_DELETED':
      return permanent(code, `The Salesforce ${object ?? 'record'} was deleted: ${message}`, at);
    case 'NOT_FOUND':
      return permanent(code, `Salesforce has no such ${object ?? 'record'} (${message})`);
    case 'FIELD_CUSTOM_VALIDATION_EXCEPTION':
      return permanent(
        code,
        `A Salesforce validation rule rejected ${object ?? 'the record'}: ${message}`,
        at,
      );
    case 'INSUFFICIENT_ACCESS_OR_READONLY':
    case 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY':
    case 'API_DISABLED_FOR_ORG':
    case 'API_CURRENTLY_DISABLED':
      return permanent(
        code,
        `Salesforce refused access: ${message}. Check the integration user's permissions`,
        at,
      );
  }
  if (SALESFORCE_TRANSIENT.has(errorCode))
    return transient(code, `Salesforce is busy (${errorCode}: ${message}); will retry`);
  return permanent(
    code,
    `Salesforce rejected ${where === 'the record' ? 'the request' : where}: ${message} (${errorCode})`,
    at,
  );
}

// --- generic HTTP ---------------------------------------------------------------------------------------

function httpStatus(
  status: number,
  headers: unknown,
  context: ClassifyContext,
  detail?: string,
): Classification {
  const vendor =
    context.system === 'hubspot' ? 'HUBSPOT' : context.system === 'salesforce' ? 'SALESFORCE' : 'HTTP';
  const said = detail ?? `HTTP ${status}`;
  const wait = retryAfterMs(headers, context.now ?? Date.now());
  if ((status === 429 || status === 503) && wait !== undefined) {
    return rateLimited(
      `${vendor}_RATE_LIMITED`,
      wait,
      `${said}; the server asked to wait ${Math.ceil(wait / 1000)} s`,
      'http',
    );
  }
  if (status === 429 || status === 420)
    return rateLimited(
      `${vendor}_RATE_LIMITED`,
      TEN_SECONDS,
      `${said}; too many requests, waiting 10 s`,
      'http',
    );
  if (status >= 500) return transient(`${vendor}_SERVER_ERROR`, `${said}: a server-side error; will retry`);
  if (status === 401)
    return transient('AUTH_EXPIRED', `${said}: not authorised; refresh the token and retry`);
  if (status === 408)
    return transient('NETWORK_TIMEOUT', `${said}: the server timed out waiting for the request; will retry`);
  return permanent(`${vendor}_HTTP_${status}`, said);
}

function retryAfterMs(headers: unknown, now: number): number | undefined {
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Math.ceil(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function numberHeader(headers: unknown, name: string): number | undefined {
  const raw = header(headers, name);
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function header(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  if (typeof headers['get'] === 'function') {
    const value: unknown = (headers['get'] as (n: string) => unknown).call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name)
      return Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : String(value);
  }
  return undefined;
}

function msUntilNextUtcMidnight(now: number): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - now;
}

// --- small helpers --------------------------------------------------------------------------------------

function transient(code: string, reason: string): Classification {
  return { kind: 'transient', code, reason };
}

function rateLimited(code: string, waitMs: number, reason: string, scope: RateLimitScope): Classification {
  return { kind: 'rate_limited', code, waitMs, reason, scope };
}

function permanent(
  code: string,
  reason: string,
  extra: { field?: string; recordId?: string; existingId?: string } = {},
): Classification {
  return { kind: 'permanent', code, reason, ...extra };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
