import { describe, expect, it } from '@jest/globals';
import {
  ConfigError,
  loadConfig,
  parseDuration,
  parseSchedule,
  requireCredentials,
  requireHubSpot,
  requireSalesforce,
  type TandemConfig,
} from '../../../src/config/index.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----\n';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n').slice(1);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const noFile = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

describe('loadConfig defaults', () => {
  it('gives every default from an empty environment', () => {
    const config = loadConfig({}, { readFile: noFile });
    expect(config).toEqual({
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'tandem' },
      dataDir: '.tandem',
      database: { kind: 'pglite', dataDir: '.tandem/pglite' },
      hubspot: {
        baseUrl: 'https://api.hubapi.com',
        tier: 'free',
        limits: { perTenSeconds: 100, perDay: 250_000 },
        dailyBudgetPercent: 50,
        tenSecondSharePercent: 50,
        deletionScanIntervalMs: 300_000,
        searchLagMs: 30_000,
      },
      salesforce: {
        loginUrl: 'https://login.salesforce.com',
        apiVersion: '62.0',
        credentials: {},
        dailyBudgetPercent: 50,
        bulkThreshold: 10_000,
        windowLagMs: 60_000,
      },
      mappingPath: 'mappings/default.yaml',
      schedules: {
        persons: { kind: 'interval', everyMs: 120_000 },
        companies: { kind: 'interval', everyMs: 600_000 },
        deals: { kind: 'interval', everyMs: 300_000 },
      },
      workers: {
        concurrency: { pull: 2, reconcile: 4, write: 2 },
        reconcileBatch: 500,
        failedJobRetentionMs: 30 * 86_400_000,
      },
      dashboard: { host: '127.0.0.1', port: 4280 },
      log: { level: 'info', pii: false },
    } satisfies TandemConfig);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.workers.concurrency)).toBe(true);
    expect(() => {
      (config.redis as { url: string }).url = 'x';
    }).toThrow(TypeError);
  });
});

describe('loadConfig accepts', () => {
  const cases: [string, Record<string, string>, (c: TandemConfig) => unknown, unknown][] = [
    [
      'a Postgres DATABASE_URL',
      { DATABASE_URL: 'postgres://u:p@db/tandem' },
      (c) => c.database,
      { kind: 'postgres', url: 'postgres://u:p@db/tandem' },
    ],
    [
      'a data dir for PGlite',
      { TANDEM_DATA_DIR: '/var/lib/tandem' },
      (c) => c.database,
      { kind: 'pglite', dataDir: '/var/lib/tandem/pglite' },
    ],
    [
      'rediss:// URLs',
      { REDIS_URL: 'rediss://:pw@cache:6380/2' },
      (c) => c.redis.url,
      'rediss://:pw@cache:6380/2',
    ],
    [
      'a HubSpot base URL, dropping the trailing slash',
      { HUBSPOT_BASE_URL: 'http://127.0.0.1:9000/' },
      (c) => c.hubspot.baseUrl,
      'http://127.0.0.1:9000',
    ],
    [
      'the tier in any case, setting limits',
      { HUBSPOT_TIER: 'Enterprise' },
      (c) => c.hubspot.limits,
      { perTenSeconds: 190, perDay: 1_000_000 },
    ],
    [
      'limits above the tier (HubSpot’s API limit increase)',
      { HUBSPOT_TIER: 'professional', HUBSPOT_RATE_LIMIT_PER_10S: '250', HUBSPOT_DAILY_LIMIT: '1625000' },
      (c) => c.hubspot.limits,
      { perTenSeconds: 250, perDay: 1_625_000 },
    ],
    [
      'the sandbox login URL',
      { SALESFORCE_LOGIN_URL: 'https://test.salesforce.com' },
      (c) => c.salesforce.loginUrl,
      'https://test.salesforce.com',
    ],
    [
      'a cron schedule, whitespace normalised',
      { TANDEM_SCHEDULE_DEALS: '*/5  9-17 * * MON-FRI' },
      (c) => c.schedules.deals,
      { kind: 'cron', pattern: '*/5 9-17 * * MON-FRI' },
    ],
    [
      'a six-field cron schedule',
      { TANDEM_SCHEDULE_PERSONS: '0 */2 * * * *' },
      (c) => c.schedules.persons,
      { kind: 'cron', pattern: '0 */2 * * * *' },
    ],
    [
      'a compound interval',
      { TANDEM_SCHEDULE_COMPANIES: '1h30m' },
      (c) => c.schedules.companies,
      { kind: 'interval', everyMs: 5_400_000 },
    ],
    [
      'one concurrency for all queues',
      { TANDEM_WORKER_CONCURRENCY: '3' },
      (c) => c.workers.concurrency,
      { pull: 3, reconcile: 3, write: 3 },
    ],
    [
      'per-queue concurrency, keeping the rest',
      { TANDEM_WORKER_CONCURRENCY: 'write=1, pull=5' },
      (c) => c.workers.concurrency,
      { pull: 5, reconcile: 4, write: 1 },
    ],
    ['refs per reconcile job', { TANDEM_RECONCILE_BATCH: '1000' }, (c) => c.workers.reconcileBatch, 1000],
    [
      'percentages with a % sign',
      { TANDEM_SALESFORCE_DAILY_BUDGET_PERCENT: '25%' },
      (c) => c.salesforce.dailyBudgetPercent,
      25,
    ],
    [
      'thousands separators in the bulk threshold',
      { TANDEM_BULK_THRESHOLD: '20_000' },
      (c) => c.salesforce.bulkThreshold,
      20_000,
    ],
    ['booleans as words', { LOG_PII: 'Yes' }, (c) => c.log.pii, true],
    [
      'an exposed dashboard with an admin token',
      { TANDEM_DASHBOARD_HOST: '0.0.0.0', TANDEM_ADMIN_TOKEN: 'a'.repeat(16) },
      (c) => c.dashboard,
      { host: '0.0.0.0', port: 4280, adminToken: 'a'.repeat(16) },
    ],
    [
      'empty variables as unset',
      { REDIS_URL: '', HUBSPOT_TIER: '  ' },
      (c) => [c.redis.url, c.hubspot.tier],
      ['redis://127.0.0.1:6379', 'free'],
    ],
    [
      'a one-line PEM with literal \\n',
      { SALESFORCE_JWT_PRIVATE_KEY: PEM.replace(/\n/g, '\\n') },
      (c) => c.salesforce.credentials.jwtPrivateKey,
      PEM,
    ],
  ];
  it.each(cases)('%s', (_name, env, pick, expected) => {
    expect(pick(loadConfig(env))).toEqual(expected);
  });
});

describe('loadConfig rejects, listing every problem', () => {
  const cases: [string, Record<string, string>, string[]][] = [
    [
      'a bare host as REDIS_URL',
      { REDIS_URL: 'localhost:6379' },
      [
        '  - REDIS_URL (environment): expected a URL starting with redis:// or rediss://, got "localhost:6379"',
      ],
    ],
    [
      'a limit that is not a positive whole number',
      { HUBSPOT_RATE_LIMIT_PER_10S: '0' },
      ['  - HUBSPOT_RATE_LIMIT_PER_10S (environment): expected a whole number ≥ 1, got "0"'],
    ],
    [
      'an unknown tier',
      { HUBSPOT_TIER: 'gold' },
      ['  - HUBSPOT_TIER (environment): expected one of free, starter, professional, enterprise, got "gold"'],
    ],
    [
      'an unknown auth flow',
      { SALESFORCE_AUTH_FLOW: 'oauth' },
      [
        '  - SALESFORCE_AUTH_FLOW (environment): expected one of client_credentials, refresh_token, jwt, password, got "oauth"',
      ],
    ],
    [
      'an API version without .0',
      { SALESFORCE_API_VERSION: 'v62' },
      ['  - SALESFORCE_API_VERSION (environment): expected an API version such as 62.0, got "v62"'],
    ],
    [
      'a cron with four fields, and a minute out of range',
      { TANDEM_SCHEDULE_DEALS: '*/5 * * *', TANDEM_SCHEDULE_PERSONS: '61 * * * *' },
      [
        '  - TANDEM_SCHEDULE_PERSONS (environment): expected an interval such as 30s or 5m, or a cron expression such as "*/5 * * * *" (the minute field "61" must be *, a number from 0 to 59, a range, a list or a step), got "61 * * * *"',
        '  - TANDEM_SCHEDULE_DEALS (environment): expected an interval such as 30s or 5m, or a cron expression such as "*/5 * * * *" (a cron expression has 5 or 6 fields, this has 4), got "*/5 * * *"',
      ],
    ],
    [
      'an interval with no unit',
      { TANDEM_SCHEDULE_COMPANIES: '300' },
      [
        '  - TANDEM_SCHEDULE_COMPANIES (environment): expected an interval such as 30s or 5m, or a cron expression such as "*/5 * * * *", got "300"',
      ],
    ],
    [
      'an interval under a second',
      { TANDEM_SCHEDULE_COMPANIES: '500ms' },
      ['  - TANDEM_SCHEDULE_COMPANIES (environment): expected an interval of at least 1s, got "500ms"'],
    ],
    [
      'an unknown queue',
      { TANDEM_WORKER_CONCURRENCY: 'pull=2,push=3' },
      [
        '  - TANDEM_WORKER_CONCURRENCY (environment): expected a whole number for every queue (e.g. 4), or per queue such as pull=2,reconcile=4,write=2 (queues: pull, reconcile, write), got "pull=2,push=3"',
      ],
    ],
    [
      'a reconcile batch of none',
      { TANDEM_RECONCILE_BATCH: '0' },
      ['  - TANDEM_RECONCILE_BATCH (environment): expected a whole number from 1 to 10000, got "0"'],
    ],
    [
      'a percentage above 100',
      { TANDEM_HUBSPOT_TEN_SECOND_SHARE: '150' },
      [
        '  - TANDEM_HUBSPOT_TEN_SECOND_SHARE (environment): expected a percentage above 0 and at most 100, such as 50 or 50%, got "150"',
      ],
    ],
    [
      'a retention without a unit',
      { TANDEM_FAILED_JOB_RETENTION: '30' },
      [
        '  - TANDEM_FAILED_JOB_RETENTION (environment): expected a duration such as 500ms, 30s, 5m, 1h30m or 30d, got "30"',
      ],
    ],
    [
      'a port out of range',
      { TANDEM_DASHBOARD_PORT: '70000' },
      ['  - TANDEM_DASHBOARD_PORT (environment): expected a whole number from 1 to 65535, got "70000"'],
    ],
    [
      'a boolean that is neither',
      { LOG_PII: 'maybe' },
      ['  - LOG_PII (environment): expected true or false (also accepted: 1/0, yes/no, on/off), got "maybe"'],
    ],
    [
      'an unknown log level',
      { LOG_LEVEL: 'verbose' },
      [
        '  - LOG_LEVEL (environment): expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
      ],
    ],
    [
      'a mapping that is not YAML',
      { TANDEM_MAPPING: 'mappings/default.json' },
      [
        '  - TANDEM_MAPPING (environment): expected a path to a mapping YAML file, got "mappings/default.json"',
      ],
    ],
    [
      'a short admin token, without echoing it',
      { TANDEM_ADMIN_TOKEN: 'hunter2' },
      ['  - TANDEM_ADMIN_TOKEN (environment): expected a token of at least 16 characters'],
    ],
    [
      'a DATABASE_URL that is not Postgres, without echoing it',
      { DATABASE_URL: 'mysql://root:pw@db/x' },
      ['  - DATABASE_URL (environment): expected a URL starting with postgres:// or postgresql://'],
    ],
    [
      'an exposed dashboard with no admin token',
      { TANDEM_DASHBOARD_HOST: '0.0.0.0' },
      [
        '  - TANDEM_ADMIN_TOKEN (not set): expected a token, because TANDEM_DASHBOARD_HOST=0.0.0.0 opens the dashboard beyond this machine',
      ],
    ],
    [
      'the same admin and viewer token',
      { TANDEM_ADMIN_TOKEN: 'x'.repeat(20), TANDEM_VIEWER_TOKEN: 'x'.repeat(20) },
      ['  - TANDEM_VIEWER_TOKEN (environment): expected a token different from TANDEM_ADMIN_TOKEN'],
    ],
    [
      'both a JWT key and a key file',
      { SALESFORCE_JWT_PRIVATE_KEY: PEM, SALESFORCE_JWT_PRIVATE_KEY_FILE: 'key.pem' },
      [
        '  - SALESFORCE_JWT_PRIVATE_KEY_FILE (environment): expected either SALESFORCE_JWT_PRIVATE_KEY or SALESFORCE_JWT_PRIVATE_KEY_FILE, not both',
      ],
    ],
    [
      'a JWT key that is not PEM',
      { SALESFORCE_JWT_PRIVATE_KEY: 'abc' },
      [
        '  - SALESFORCE_JWT_PRIVATE_KEY (environment): expected a PEM private key beginning with -----BEGIN PRIVATE KEY-----',
      ],
    ],
    [
      'a missing JWT key file',
      { SALESFORCE_JWT_PRIVATE_KEY_FILE: '/keys/none.pem' },
      [
        '  - SALESFORCE_JWT_PRIVATE_KEY_FILE (environment): expected a readable PEM private key file, but /keys/none.pem could not be read (ENOENT)',
      ],
    ],
    [
      'a missing config file',
      { TANDEM_CONFIG: '/etc/tandem.yaml' },
      [
        '  - TANDEM_CONFIG (environment): expected a readable YAML config file, but /etc/tandem.yaml could not be read (ENOENT)',
      ],
    ],
  ];
  it.each(cases)('%s', (_name, env, expected) => {
    expect(problemsOf(() => loadConfig(env, { readFile: noFile }))).toEqual(expected);
  });

  it('reports all problems at once, with a count', () => {
    let error: unknown;
    try {
      loadConfig({ REDIS_URL: 'x', HUBSPOT_TIER: 'y', LOG_PII: 'z' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')[0]).toBe(
      'Tandem configuration is invalid (3 problems):',
    );
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([
      'REDIS_URL',
      'HUBSPOT_TIER',
      'LOG_PII',
    ]);
  });
});

describe('loadConfig: TANDEM_MAPPING must name an existing file', () => {
  const existing = new Set(['/srv/tandem/mappings/acme.yaml']);
  const isFile = (path: string): boolean => existing.has(path);

  it('accepts an existing file, relative to cwd, keeping the path as given', () => {
    const config = loadConfig({ TANDEM_MAPPING: 'mappings/acme.yaml' }, { isFile, cwd: '/srv/tandem' });
    expect(config.mappingPath).toBe('mappings/acme.yaml');
  });

  it('names the variable, what was expected and the resolved path, with the other problems', () => {
    expect(
      problemsOf(() =>
        loadConfig(
          { TANDEM_MAPPING: 'mappings/acme-typo.yaml', LOG_PII: 'maybe' },
          { isFile, cwd: '/srv/tandem' },
        ),
      ),
    ).toEqual([
      '  - TANDEM_MAPPING (environment): expected the path of an existing mapping YAML file, but there is no file at /srv/tandem/mappings/acme-typo.yaml',
      '  - LOG_PII (environment): expected true or false (also accepted: 1/0, yes/no, on/off), got "maybe"',
    ]);
  });

  it('checks a mapping named in the config file too, against the disk by default', () => {
    const readFile = (path: string): string =>
      path === '/etc/tandem.yaml' ? 'TANDEM_MAPPING: /nonexistent/tandem/mapping.yaml\n' : noFile(path);
    expect(problemsOf(() => loadConfig({ TANDEM_CONFIG: '/etc/tandem.yaml' }, { readFile }))).toEqual([
      '  - TANDEM_MAPPING (/etc/tandem.yaml line 1): expected the path of an existing mapping YAML file, but there is no file at /nonexistent/tandem/mapping.yaml',
    ]);
  });

  it('leaves the built-in default to the commands that read it', () => {
    expect(loadConfig({}, { isFile: () => false }).mappingPath).toBe('mappings/default.yaml');
  });
});

describe('loadConfig with a config file', () => {
  const files: Record<string, string> = {
    '/etc/tandem.yaml': [
      '# Tandem',
      'HUBSPOT_TIER: professional',
      'TANDEM_BULK_THRESHOLD: 5000',
      'LOG_PII: true',
      'TANDEM_SCHEDULE_DEALS: "0 * * * *"',
      'DATABASE_URL:',
      '',
    ].join('\n'),
    '/etc/bad.yaml': [
      'HUBSPOT_TIER: gold',
      'TANDEM_BULK_THRESHOLD: -4',
      'TANDEM_SCHEDUL_DEALS: 5m',
      'TANDEM_WORKER_CONCURRENCY:',
      '  pull: 2',
      '',
    ].join('\n'),
    '/etc/broken.yaml': 'HUBSPOT_TIER: [free\n',
    '/srv/tandem/key.pem': PEM,
  };
  const readFile = (path: string): string => files[path] ?? noFile(path);

  it('reads YAML scalars of any type, with the environment winning', () => {
    const config = loadConfig({ TANDEM_CONFIG: '/etc/tandem.yaml', LOG_PII: 'false' }, { readFile });
    expect(config.hubspot.tier).toBe('professional');
    expect(config.salesforce.bulkThreshold).toBe(5000);
    expect(config.log.pii).toBe(false);
    expect(config.schedules.deals).toEqual({ kind: 'cron', pattern: '0 * * * *' });
    expect(config.database.kind).toBe('pglite');
    expect(config.configFile).toBe('/etc/tandem.yaml');
  });

  it('resolves a relative config path and key file against cwd', () => {
    const config = loadConfig(
      { TANDEM_CONFIG: 'tandem.yaml', SALESFORCE_JWT_PRIVATE_KEY_FILE: 'tandem/key.pem' },
      {
        readFile: (p) => (p === '/etc/tandem.yaml' ? (files[p] ?? '') : readFile(p.replace('/etc', '/srv'))),
        cwd: '/etc',
      },
    );
    expect(config.salesforce.credentials.jwtPrivateKey).toBe(PEM);
  });

  it('names the file and line of each bad value, and unknown keys', () => {
    expect(problemsOf(() => loadConfig({ TANDEM_CONFIG: '/etc/bad.yaml' }, { readFile }))).toEqual([
      '  - HUBSPOT_TIER (/etc/bad.yaml line 1): expected one of free, starter, professional, enterprise, got "gold"',
      '  - TANDEM_WORKER_CONCURRENCY (/etc/bad.yaml line 4): expected a single value, not a list or mapping',
      '  - TANDEM_BULK_THRESHOLD (/etc/bad.yaml line 2): expected a whole number ≥ 1, got "-4"',
      '  - TANDEM_SCHEDUL_DEALS (/etc/bad.yaml line 3): is not a Tandem setting (did you mean TANDEM_SCHEDULE_DEALS?)',
    ]);
  });

  it('reports YAML syntax errors with a line', () => {
    const [problem] = problemsOf(() => loadConfig({ TANDEM_CONFIG: '/etc/broken.yaml' }, { readFile }));
    expect(problem).toMatch(/^ {2}- TANDEM_CONFIG \(\/etc\/broken\.yaml line \d+\): expected valid YAML: /);
  });
});

describe('requireHubSpot', () => {
  it('returns the connection config when the token is set', () => {
    const hubspot = requireHubSpot(
      loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-123', HUBSPOT_TIER: 'professional' }),
    );
    expect(hubspot).toEqual({
      accessToken: 'pat-na1-123',
      baseUrl: 'https://api.hubapi.com',
      limits: { perTenSeconds: 190, perDay: 625_000 },
      dailyBudgetPercent: 50,
      tenSecondSharePercent: 50,
    });
  });

  it('names the missing token', () => {
    expect(problemsOf(() => requireHubSpot(loadConfig({})))).toEqual([
      '  - HUBSPOT_ACCESS_TOKEN (not set): expected a HubSpot private app access token (Settings → Integrations → Private Apps)',
    ]);
  });
});

describe('requireCredentials', () => {
  it('lists what is missing for both systems at once, HubSpot first', () => {
    expect(problemsOf(() => requireCredentials(loadConfig({})))).toEqual([
      '  - HUBSPOT_ACCESS_TOKEN (not set): expected a HubSpot private app access token (Settings → Integrations → Private Apps)',
      '  - SALESFORCE_AUTH_FLOW (not set): expected one of client_credentials, refresh_token, jwt, password',
    ]);
  });

  it('lists Salesforce problems even when HubSpot is complete, and HubSpot when Salesforce is', () => {
    expect(
      problemsOf(() =>
        requireCredentials(
          loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-123', SALESFORCE_AUTH_FLOW: 'refresh_token' }),
        ),
      ),
    ).toEqual([
      '  - SALESFORCE_CLIENT_ID (not set): expected the connected app consumer key',
      '  - SALESFORCE_REFRESH_TOKEN (not set): expected an OAuth refresh token',
    ]);
    expect(
      problemsOf(() =>
        requireCredentials(
          loadConfig({
            SALESFORCE_AUTH_FLOW: 'password',
            SALESFORCE_USERNAME: 'sync@acme.com',
            SALESFORCE_PASSWORD: 'p',
          }),
        ),
      ),
    ).toEqual([
      '  - HUBSPOT_ACCESS_TOKEN (not set): expected a HubSpot private app access token (Settings → Integrations → Private Apps)',
    ]);
  });

  it('returns both connection configs when both are complete', () => {
    const both = requireCredentials(
      loadConfig({
        HUBSPOT_ACCESS_TOKEN: 'pat-na1-123',
        SALESFORCE_AUTH_FLOW: 'password',
        SALESFORCE_USERNAME: 'sync@acme.com',
        SALESFORCE_PASSWORD: 'p',
      }),
    );
    expect(both.hubspot.accessToken).toBe('pat-na1-123');
    expect(both.salesforce.auth).toEqual({ flow: 'password', username: 'sync@acme.com', password: 'p' });
  });
});

describe('requireSalesforce', () => {
  const valid: [string, Record<string, string>, unknown][] = [
    [
      'client_credentials with a My Domain login URL',
      {
        SALESFORCE_AUTH_FLOW: 'client_credentials',
        SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
        SALESFORCE_CLIENT_ID: 'id',
        SALESFORCE_CLIENT_SECRET: 'secret',
      },
      { flow: 'client_credentials', clientId: 'id', clientSecret: 'secret' },
    ],
    [
      'refresh_token without a secret',
      { SALESFORCE_AUTH_FLOW: 'refresh_token', SALESFORCE_CLIENT_ID: 'id', SALESFORCE_REFRESH_TOKEN: 'rt' },
      { flow: 'refresh_token', clientId: 'id', refreshToken: 'rt' },
    ],
    [
      'jwt with an inline key',
      {
        SALESFORCE_AUTH_FLOW: 'jwt',
        SALESFORCE_CLIENT_ID: 'id',
        SALESFORCE_JWT_PRIVATE_KEY: PEM,
        SALESFORCE_JWT_SUBJECT: 'sync@acme.com',
      },
      { flow: 'jwt', clientId: 'id', privateKey: PEM, subject: 'sync@acme.com' },
    ],
    [
      'password with a security token',
      {
        SALESFORCE_AUTH_FLOW: 'password',
        SALESFORCE_USERNAME: 'sync@acme.com',
        SALESFORCE_PASSWORD: 'pw',
        SALESFORCE_SECURITY_TOKEN: 'tok',
      },
      { flow: 'password', username: 'sync@acme.com', password: 'pw', securityToken: 'tok' },
    ],
  ];
  it.each(valid)('accepts %s', (_name, env, auth) => {
    expect(requireSalesforce(loadConfig(env)).auth).toEqual(auth);
  });

  const invalid: [string, Record<string, string>, string[]][] = [
    [
      'no flow',
      {},
      [
        '  - SALESFORCE_AUTH_FLOW (not set): expected one of client_credentials, refresh_token, jwt, password',
      ],
    ],
    [
      'client_credentials through login.salesforce.com without a secret',
      { SALESFORCE_AUTH_FLOW: 'client_credentials', SALESFORCE_CLIENT_ID: 'id' },
      [
        '  - SALESFORCE_CLIENT_SECRET (not set): expected the connected app consumer secret',
        '  - SALESFORCE_INSTANCE_URL (not set): expected your My Domain URL (e.g. https://acme.my.salesforce.com): the client_credentials flow does not work through login.salesforce.com',
      ],
    ],
    [
      'refresh_token with nothing',
      { SALESFORCE_AUTH_FLOW: 'refresh_token' },
      [
        '  - SALESFORCE_CLIENT_ID (not set): expected the connected app consumer key',
        '  - SALESFORCE_REFRESH_TOKEN (not set): expected an OAuth refresh token',
      ],
    ],
    [
      'jwt with only a client id',
      { SALESFORCE_AUTH_FLOW: 'jwt', SALESFORCE_CLIENT_ID: 'id', SALESFORCE_PASSWORD: 'not used by jwt' },
      [
        '  - SALESFORCE_JWT_PRIVATE_KEY or SALESFORCE_JWT_PRIVATE_KEY_FILE (not set): expected the PEM private key whose certificate is uploaded to the connected app',
        '  - SALESFORCE_JWT_SUBJECT (not set): expected the username of the integration user',
      ],
    ],
    [
      'password without a password',
      { SALESFORCE_AUTH_FLOW: 'password', SALESFORCE_USERNAME: 'sync@acme.com' },
      ['  - SALESFORCE_PASSWORD (not set): expected the integration user’s password'],
    ],
  ];
  it.each(invalid)('names what is missing: %s', (_name, env, expected) => {
    expect(problemsOf(() => requireSalesforce(loadConfig(env)))).toEqual(expected);
  });
});

describe('parsers', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['30d', 2_592_000_000],
    ['1h30m', 5_400_000],
  ])('parseDuration(%s) = %d ms', (raw, ms) => {
    expect(parseDuration(raw)).toEqual({ ok: true, value: ms });
  });

  it.each(['', '5', 'm', '5 m', '5x', '-5s', '1.5h'])('parseDuration rejects %j', (raw) => {
    expect(parseDuration(raw).ok).toBe(false);
  });

  it.each(['* * * * *', '0 9 * * 1-5', '*/15 * * * *', '0 0 1 JAN,JUL ?', '0 0 * * 7', '5-10/2 * * * *'])(
    'parseSchedule accepts cron %j',
    (raw) => {
      expect(parseSchedule(raw)).toEqual({ ok: true, value: { kind: 'cron', pattern: raw } });
    },
  );

  it.each([
    '* * * * * * *',
    '60 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * * 13 *',
    '* * * * 8',
    '10-5 * * * *',
    '*/0 * * * *',
    'L * * * *',
    '@hourly',
  ])('parseSchedule rejects cron %j', (raw) => {
    expect(parseSchedule(raw).ok).toBe(false);
  });
});
