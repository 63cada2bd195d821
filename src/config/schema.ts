// The one schema for Tandem's configuration. Input is a flat record keyed by variable name (environment
// variables and config-file keys share the names); output is the structured, typed TandemConfig.
import { z } from 'zod';
import {
  parseBaseUrl,
  parseBoolean,
  parseDuration,
  parseInteger,
  parsePercent,
  parseSchedule,
  parseUrl,
  type Parsed,
  type Schedule,
} from './parsers.js';

export const HUBSPOT_TIERS = ['free', 'starter', 'professional', 'enterprise'] as const;
export type HubSpotTier = (typeof HUBSPOT_TIERS)[number];

export const SALESFORCE_AUTH_FLOWS = ['client_credentials', 'refresh_token', 'jwt', 'password'] as const;
export type SalesforceAuthFlow = (typeof SALESFORCE_AUTH_FLOWS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const WORKER_QUEUES = ['pull', 'reconcile', 'write'] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

/** Private-app limits per HubSpot subscription tier (requests per 10 seconds, per day). */
export const HUBSPOT_TIER_LIMITS: Readonly<Record<HubSpotTier, { perTenSeconds: number; perDay: number }>> = {
  free: { perTenSeconds: 100, perDay: 250_000 },
  starter: { perTenSeconds: 100, perDay: 250_000 },
  professional: { perTenSeconds: 190, perDay: 625_000 },
  enterprise: { perTenSeconds: 190, perDay: 1_000_000 },
};

export const DEFAULTS = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  TANDEM_REDIS_PREFIX: 'tandem',
  TANDEM_DATA_DIR: '.tandem',
  HUBSPOT_BASE_URL: 'https://api.hubapi.com',
  HUBSPOT_TIER: 'free',
  SALESFORCE_LOGIN_URL: 'https://login.salesforce.com',
  SALESFORCE_API_VERSION: '62.0',
  TANDEM_MAPPING: 'mappings/default.yaml',
  TANDEM_SCHEDULE_PERSONS: '2m',
  TANDEM_SCHEDULE_COMPANIES: '10m',
  TANDEM_SCHEDULE_DEALS: '5m',
  TANDEM_WORKER_CONCURRENCY: 'pull=2,reconcile=4,write=2',
  TANDEM_RECONCILE_BATCH: '500',
  TANDEM_SALESFORCE_DAILY_BUDGET_PERCENT: '50',
  TANDEM_HUBSPOT_DAILY_BUDGET_PERCENT: '50',
  TANDEM_HUBSPOT_TEN_SECOND_SHARE: '50',
  TANDEM_BULK_THRESHOLD: '10000',
  TANDEM_SALESFORCE_WINDOW_LAG: '60s',
  TANDEM_HUBSPOT_DELETION_SCAN_INTERVAL: '5m',
  TANDEM_HUBSPOT_SEARCH_LAG: '30s',
  TANDEM_FAILED_JOB_RETENTION: '30d',
  TANDEM_DASHBOARD_PORT: '4280',
  TANDEM_DASHBOARD_HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  LOG_PII: 'false',
} as const;

/** Every variable Tandem reads, in the order problems are reported. */
export const CONFIG_VARIABLES = [
  'REDIS_URL',
  'TANDEM_REDIS_PREFIX',
  'DATABASE_URL',
  'TANDEM_DATA_DIR',
  'HUBSPOT_ACCESS_TOKEN',
  'HUBSPOT_BASE_URL',
  'HUBSPOT_TIER',
  'HUBSPOT_RATE_LIMIT_PER_10S',
  'HUBSPOT_DAILY_LIMIT',
  'SALESFORCE_LOGIN_URL',
  'SALESFORCE_INSTANCE_URL',
  'SALESFORCE_API_VERSION',
  'SALESFORCE_AUTH_FLOW',
  'SALESFORCE_CLIENT_ID',
  'SALESFORCE_CLIENT_SECRET',
  'SALESFORCE_REFRESH_TOKEN',
  'SALESFORCE_USERNAME',
  'SALESFORCE_PASSWORD',
  'SALESFORCE_SECURITY_TOKEN',
  'SALESFORCE_JWT_PRIVATE_KEY',
  'SALESFORCE_JWT_PRIVATE_KEY_FILE',
  'SALESFORCE_JWT_SUBJECT',
  'TANDEM_MAPPING',
  'TANDEM_SCHEDULE_PERSONS',
  'TANDEM_SCHEDULE_COMPANIES',
  'TANDEM_SCHEDULE_DEALS',
  'TANDEM_WORKER_CONCURRENCY',
  'TANDEM_RECONCILE_BATCH',
  'TANDEM_SALESFORCE_DAILY_BUDGET_PERCENT',
  'TANDEM_HUBSPOT_DAILY_BUDGET_PERCENT',
  'TANDEM_HUBSPOT_TEN_SECOND_SHARE',
  'TANDEM_BULK_THRESHOLD',
  'TANDEM_SALESFORCE_WINDOW_LAG',
  'TANDEM_HUBSPOT_DELETION_SCAN_INTERVAL',
  'TANDEM_HUBSPOT_SEARCH_LAG',
  'TANDEM_FAILED_JOB_RETENTION',
  'TANDEM_DASHBOARD_PORT',
  'TANDEM_DASHBOARD_HOST',
  'TANDEM_ADMIN_TOKEN',
  'TANDEM_VIEWER_TOKEN',
  'LOG_LEVEL',
  'LOG_PII',
] as const;
export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];

export type DatabaseConfig = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

/** Salesforce credentials as given; `requireSalesforce` turns them into one complete auth flow. */
export interface SalesforceCredentials {
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  username?: string;
  password?: string;
  securityToken?: string;
  /** PEM text, from SALESFORCE_JWT_PRIVATE_KEY or read from SALESFORCE_JWT_PRIVATE_KEY_FILE. */
  jwtPrivateKey?: string;
  jwtSubject?: string;
}

export interface TandemConfig {
  redis: { url: string; prefix: string };
  dataDir: string;
  database: DatabaseConfig;
  hubspot: {
    accessToken?: string;
    baseUrl: string;
    tier: HubSpotTier;
    limits: { perTenSeconds: number; perDay: number };
    dailyBudgetPercent: number;
    tenSecondSharePercent: number;
    /**
     * Scheduled pulls read HubSpot's archived list (deletions) at most this often
     * (`TANDEM_HUBSPOT_DELETION_SCAN_INTERVAL`, default 5 min); any other pull reads it every time.
     */
    deletionScanIntervalMs: number;
    /**
     * Incremental search reads records modified at least this long ago (`TANDEM_HUBSPOT_SEARCH_LAG`, default
     * 30 s): HubSpot's search index trails writes.
     */
    searchLagMs: number;
  };
  salesforce: {
    loginUrl: string;
    instanceUrl?: string;
    apiVersion: string;
    authFlow?: SalesforceAuthFlow;
    credentials: SalesforceCredentials;
    dailyBudgetPercent: number;
    bulkThreshold: number;
    /** Changes are read once this much older than now (`TANDEM_SALESFORCE_WINDOW_LAG`, default 60 s). */
    windowLagMs: number;
  };
  mappingPath: string;
  schedules: { persons: Schedule; companies: Schedule; deals: Schedule };
  workers: {
    concurrency: Record<WorkerQueue, number>;
    /** Records per reconcile job a pull queues (`TANDEM_RECONCILE_BATCH`, default 500). */
    reconcileBatch: number;
    failedJobRetentionMs: number;
  };
  dashboard: { host: string; port: number; adminToken?: string; viewerToken?: string };
  log: { level: LogLevel; pii: boolean };
  /** The config file that was read, if any. */
  configFile?: string;
}

export type { Schedule };

// --- field helpers --------------------------------------------------------------------------------------

function quote(raw: string): string {
  const shown = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  return JSON.stringify(shown);
}

/** A string variable run through a parser; a parse failure becomes "expected X, got "y"". */
function parsed<T>(parse: (raw: string) => Parsed<T>, options: { secret?: boolean } = {}) {
  return z.string().transform((raw, ctx): T => {
    const result = parse(raw);
    if (result.ok) return result.value;
    const got = options.secret === true ? '' : `, got ${quote(raw)}`;
    ctx.addIssue({ code: 'custom', message: `expected ${result.expected}${got}` });
    return z.NEVER;
  });
}

function withDefault<T>(name: keyof typeof DEFAULTS, parse: (raw: string) => Parsed<T>) {
  return z
    .string()
    .optional()
    .transform((raw) => raw ?? DEFAULTS[name])
    .pipe(parsed(parse));
}

function oneOf<const T extends readonly string[]>(values: T): (raw: string) => Parsed<T[number]> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    return values.includes(value)
      ? { ok: true, value: value as T[number] }
      : { ok: false, expected: `one of ${values.join(', ')}` };
  };
}

const text = (what: string, pattern?: RegExp) => (raw: string) =>
  raw.trim() !== '' && (pattern === undefined || pattern.test(raw.trim()))
    ? ({ ok: true, value: raw.trim() } as const)
    : ({ ok: false, expected: what } as const);

const secret = (what: string, minLength = 1) =>
  parsed(
    (raw: string): Parsed<string> =>
      raw.trim().length >= minLength ? { ok: true, value: raw.trim() } : { ok: false, expected: what },
    { secret: true },
  ).optional();

function parseConcurrency(raw: string): Parsed<Record<WorkerQueue, number>> {
  const what = `a whole number for every queue (e.g. 4), or per queue such as pull=2,reconcile=4,write=2 (queues: ${WORKER_QUEUES.join(', ')})`;
  const single = parseInteger(raw, 1, 256);
  if (single.ok)
    return { ok: true, value: { pull: single.value, reconcile: single.value, write: single.value } };
  const result: Record<WorkerQueue, number> = { pull: 2, reconcile: 4, write: 2 };
  for (const entry of raw.split(',')) {
    const [name = '', count = ''] = entry.split('=').map((s) => s.trim());
    const n = parseInteger(count, 1, 256);
    if (!(WORKER_QUEUES as readonly string[]).includes(name) || !n.ok) return { ok: false, expected: what };
    result[name as WorkerQueue] = n.value;
  }
  return { ok: true, value: result };
}

/** Env files often carry a PEM on one line with literal `\n`s. */
function parsePrivateKey(raw: string): Parsed<string> {
  const pem = raw.includes('\\n') ? raw.replace(/\\n/g, '\n') : raw;
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)
    ? { ok: true, value: pem.trim() + '\n' }
    : { ok: false, expected: 'a PEM private key beginning with -----BEGIN PRIVATE KEY-----' };
}

// --- the schema -----------------------------------------------------------------------------------------

export const configVariablesSchema = z.object({
  REDIS_URL: withDefault('REDIS_URL', (raw) => parseUrl(raw, ['redis:', 'rediss:'])),
  TANDEM_REDIS_PREFIX: withDefault(
    'TANDEM_REDIS_PREFIX',
    text('a key prefix of letters, digits, and - _ . :', /^[A-Za-z0-9_.:-]+$/),
  ),
  DATABASE_URL: parsed((raw) => parseUrl(raw, ['postgres:', 'postgresql:']), { secret: true }).optional(),
  TANDEM_DATA_DIR: withDefault('TANDEM_DATA_DIR', text('a directory path')),
  HUBSPOT_ACCESS_TOKEN: secret('a HubSpot private app access token'),
  HUBSPOT_BASE_URL: withDefault('HUBSPOT_BASE_URL', parseBaseUrl),
  HUBSPOT_TIER: withDefault('HUBSPOT_TIER', oneOf(HUBSPOT_TIERS)),
  // An account with HubSpot's API limit increase (or another agreement) has limits above its tier's.
  HUBSPOT_RATE_LIMIT_PER_10S: parsed((raw) => parseInteger(raw, 1)).optional(),
  HUBSPOT_DAILY_LIMIT: parsed((raw) => parseInteger(raw, 1)).optional(),
  SALESFORCE_LOGIN_URL: withDefault('SALESFORCE_LOGIN_URL', parseBaseUrl),
  SALESFORCE_INSTANCE_URL: parsed(parseBaseUrl).optional(),
  SALESFORCE_API_VERSION: withDefault(
    'SALESFORCE_API_VERSION',
    text('an API version such as 62.0', /^\d{2,3}\.0$/),
  ),
  SALESFORCE_AUTH_FLOW: parsed(oneOf(SALESFORCE_AUTH_FLOWS)).optional(),
  SALESFORCE_CLIENT_ID: secret('a connected app consumer key'),
  SALESFORCE_CLIENT_SECRET: secret('a connected app consumer secret'),
  SALESFORCE_REFRESH_TOKEN: secret('an OAuth refresh token'),
  SALESFORCE_USERNAME: parsed(
    text('a Salesforce username such as integration@acme.com', /^\S+@\S+$/),
  ).optional(),
  SALESFORCE_PASSWORD: secret('a password'),
  SALESFORCE_SECURITY_TOKEN: secret('a security token'),
  SALESFORCE_JWT_PRIVATE_KEY: parsed(parsePrivateKey, { secret: true }).optional(),
  SALESFORCE_JWT_PRIVATE_KEY_FILE: parsed(text('a path to a PEM private key file')).optional(),
  SALESFORCE_JWT_SUBJECT: parsed(text('the Salesforce username to act as', /^\S+@\S+$/)).optional(),
  TANDEM_MAPPING: withDefault('TANDEM_MAPPING', text('a path to a mapping YAML file', /\.ya?ml$/i)),
  TANDEM_SCHEDULE_PERSONS: withDefault('TANDEM_SCHEDULE_PERSONS', parseSchedule),
  TANDEM_SCHEDULE_COMPANIES: withDefault('TANDEM_SCHEDULE_COMPANIES', parseSchedule),
  TANDEM_SCHEDULE_DEALS: withDefault('TANDEM_SCHEDULE_DEALS', parseSchedule),
  TANDEM_WORKER_CONCURRENCY: withDefault('TANDEM_WORKER_CONCURRENCY', parseConcurrency),
  TANDEM_RECONCILE_BATCH: withDefault('TANDEM_RECONCILE_BATCH', (raw) => parseInteger(raw, 1, 10_000)),
  TANDEM_SALESFORCE_DAILY_BUDGET_PERCENT: withDefault('TANDEM_SALESFORCE_DAILY_BUDGET_PERCENT', parsePercent),
  TANDEM_HUBSPOT_DAILY_BUDGET_PERCENT: withDefault('TANDEM_HUBSPOT_DAILY_BUDGET_PERCENT', parsePercent),
  TANDEM_HUBSPOT_TEN_SECOND_SHARE: withDefault('TANDEM_HUBSPOT_TEN_SECOND_SHARE', parsePercent),
  TANDEM_BULK_THRESHOLD: withDefault('TANDEM_BULK_THRESHOLD', (raw) => parseInteger(raw, 1)),
  TANDEM_SALESFORCE_WINDOW_LAG: withDefault('TANDEM_SALESFORCE_WINDOW_LAG', parseDuration),
  TANDEM_HUBSPOT_DELETION_SCAN_INTERVAL: withDefault('TANDEM_HUBSPOT_DELETION_SCAN_INTERVAL', parseDuration),
  TANDEM_HUBSPOT_SEARCH_LAG: withDefault('TANDEM_HUBSPOT_SEARCH_LAG', parseDuration),
  TANDEM_FAILED_JOB_RETENTION: withDefault('TANDEM_FAILED_JOB_RETENTION', parseDuration),
  TANDEM_DASHBOARD_PORT: withDefault('TANDEM_DASHBOARD_PORT', (raw) => parseInteger(raw, 1, 65_535)),
  TANDEM_DASHBOARD_HOST: withDefault('TANDEM_DASHBOARD_HOST', text('a host name or IP address to listen on')),
  TANDEM_ADMIN_TOKEN: secret('a token of at least 16 characters', 16),
  TANDEM_VIEWER_TOKEN: secret('a token of at least 16 characters', 16),
  LOG_LEVEL: withDefault('LOG_LEVEL', oneOf(LOG_LEVELS)),
  LOG_PII: withDefault('LOG_PII', parseBoolean),
});

/**
 * Rules that span variables. Checked on the raw strings, beside the schema, so they are reported together
 * with every per-variable problem rather than only once those are fixed.
 */
export function crossVariableProblems(
  raw: Readonly<Record<string, string>>,
): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  if (
    raw['SALESFORCE_JWT_PRIVATE_KEY'] !== undefined &&
    raw['SALESFORCE_JWT_PRIVATE_KEY_FILE'] !== undefined
  ) {
    problems.push({
      variable: 'SALESFORCE_JWT_PRIVATE_KEY_FILE',
      message: 'expected either SALESFORCE_JWT_PRIVATE_KEY or SALESFORCE_JWT_PRIVATE_KEY_FILE, not both',
    });
  }
  const host = (raw['TANDEM_DASHBOARD_HOST'] ?? DEFAULTS.TANDEM_DASHBOARD_HOST).trim();
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && raw['TANDEM_ADMIN_TOKEN'] === undefined) {
    problems.push({
      variable: 'TANDEM_ADMIN_TOKEN',
      message: `expected a token, because TANDEM_DASHBOARD_HOST=${host} opens the dashboard beyond this machine`,
    });
  }
  const admin = raw['TANDEM_ADMIN_TOKEN'];
  if (admin !== undefined && admin.trim() === raw['TANDEM_VIEWER_TOKEN']?.trim()) {
    problems.push({
      variable: 'TANDEM_VIEWER_TOKEN',
      message: 'expected a token different from TANDEM_ADMIN_TOKEN',
    });
  }
  return problems;
}

export type ConfigVariables = z.output<typeof configVariablesSchema>;

/** Assemble the structured config; `jwtPrivateKey` is the key text after any file was read. */
export function toTandemConfig(
  v: ConfigVariables,
  extras: { jwtPrivateKey?: string; configFile?: string; joinPath: (...parts: string[]) => string },
): TandemConfig {
  const credentials: SalesforceCredentials = {};
  const setIf = <K extends keyof SalesforceCredentials>(key: K, value: string | undefined): void => {
    if (value !== undefined) credentials[key] = value;
  };
  setIf('clientId', v.SALESFORCE_CLIENT_ID);
  setIf('clientSecret', v.SALESFORCE_CLIENT_SECRET);
  setIf('refreshToken', v.SALESFORCE_REFRESH_TOKEN);
  setIf('username', v.SALESFORCE_USERNAME);
  setIf('password', v.SALESFORCE_PASSWORD);
  setIf('securityToken', v.SALESFORCE_SECURITY_TOKEN);
  setIf('jwtPrivateKey', extras.jwtPrivateKey ?? v.SALESFORCE_JWT_PRIVATE_KEY);
  setIf('jwtSubject', v.SALESFORCE_JWT_SUBJECT);

  const config: TandemConfig = {
    redis: { url: v.REDIS_URL, prefix: v.TANDEM_REDIS_PREFIX },
    dataDir: v.TANDEM_DATA_DIR,
    database:
      v.DATABASE_URL !== undefined
        ? { kind: 'postgres', url: v.DATABASE_URL }
        : { kind: 'pglite', dataDir: extras.joinPath(v.TANDEM_DATA_DIR, 'pglite') },
    hubspot: {
      baseUrl: v.HUBSPOT_BASE_URL,
      tier: v.HUBSPOT_TIER,
      limits: {
        perTenSeconds: v.HUBSPOT_RATE_LIMIT_PER_10S ?? HUBSPOT_TIER_LIMITS[v.HUBSPOT_TIER].perTenSeconds,
        perDay: v.HUBSPOT_DAILY_LIMIT ?? HUBSPOT_TIER_LIMITS[v.HUBSPOT_TIER].perDay,
      },
      dailyBudgetPercent: v.TANDEM_HUBSPOT_DAILY_BUDGET_PERCENT,
      tenSecondSharePercent: v.TANDEM_HUBSPOT_TEN_SECOND_SHARE,
      deletionScanIntervalMs: v.TANDEM_HUBSPOT_DELETION_SCAN_INTERVAL,
      searchLagMs: v.TANDEM_HUBSPOT_SEARCH_LAG,
    },
    salesforce: {
      loginUrl: v.SALESFORCE_LOGIN_URL,
      apiVersion: v.SALESFORCE_API_VERSION,
      credentials,
      dailyBudgetPercent: v.TANDEM_SALESFORCE_DAILY_BUDGET_PERCENT,
      bulkThreshold: v.TANDEM_BULK_THRESHOLD,
      windowLagMs: v.TANDEM_SALESFORCE_WINDOW_LAG,
    },
    mappingPath: v.TANDEM_MAPPING,
    schedules: {
      persons: v.TANDEM_SCHEDULE_PERSONS,
      companies: v.TANDEM_SCHEDULE_COMPANIES,
      deals: v.TANDEM_SCHEDULE_DEALS,
    },
    workers: {
      concurrency: v.TANDEM_WORKER_CONCURRENCY,
      reconcileBatch: v.TANDEM_RECONCILE_BATCH,
      failedJobRetentionMs: v.TANDEM_FAILED_JOB_RETENTION,
    },
    dashboard: { host: v.TANDEM_DASHBOARD_HOST, port: v.TANDEM_DASHBOARD_PORT },
    log: { level: v.LOG_LEVEL, pii: v.LOG_PII },
  };
  if (v.HUBSPOT_ACCESS_TOKEN !== undefined) config.hubspot.accessToken = v.HUBSPOT_ACCESS_TOKEN;
  if (v.SALESFORCE_INSTANCE_URL !== undefined) config.salesforce.instanceUrl = v.SALESFORCE_INSTANCE_URL;
  if (v.SALESFORCE_AUTH_FLOW !== undefined) config.salesforce.authFlow = v.SALESFORCE_AUTH_FLOW;
  if (v.TANDEM_ADMIN_TOKEN !== undefined) config.dashboard.adminToken = v.TANDEM_ADMIN_TOKEN;
  if (v.TANDEM_VIEWER_TOKEN !== undefined) config.dashboard.viewerToken = v.TANDEM_VIEWER_TOKEN;
  if (extras.configFile !== undefined) config.configFile = extras.configFile;
  return config;
}
