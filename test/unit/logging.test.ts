import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, scrubText } from '../../src/logging.js';

const SECRETS = {
  hubspotToken: 'pat-na1-0b9e4c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b',
  accessToken: '00D5e000000AbCd!AQ4AQFakeSalesforceSessionTokenValue1234567890',
  refreshToken: '5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrk7GWNq1bT8gs',
  clientSecret: 'C1ientS3cretValueABCDEF',
  password: 'hunter2-hunter2',
  cookie: '__cf_bm=Sekr1tCookieValue; path=/',
  privateKey: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
};

const PII = {
  email: 'ada.lovelace@example.com',
  otherEmail: 'grace.hopper@navy.example.org',
  phone: '+44 20 7946 0958',
  mobile: '+1 415 555 0100',
  first: 'Augusta',
  last: 'Byron-King',
  full: 'Charles Babbage',
};

function capture(logPii: boolean): { log: ReturnType<typeof createLogger>; output: () => string } {
  const lines: string[] = [];
  const log = createLogger({ level: 'trace', logPii }, { write: (line: string) => void lines.push(line) });
  return { log, output: () => lines.join('') };
}

/** Logs every shape a secret or a person's data reaches the logger in. */
function logEverything(log: ReturnType<typeof createLogger>): void {
  log.info({ accessToken: SECRETS.accessToken, client_secret: SECRETS.clientSecret }, 'top-level secrets');
  log.info(
    { job: { auth: { oauth: { refresh_token: SECRETS.refreshToken, password: SECRETS.password } } } },
    'deep',
  );
  log.info(
    { req: { headers: { Authorization: `Bearer ${SECRETS.hubspotToken}`, cookie: SECRETS.cookie } } },
    'http',
  );
  log.info({ config: { salesforce: { credentials: { jwtPrivateKey: SECRETS.privateKey } } } }, 'config');
  log.warn(`request failed with header Authorization: Bearer ${SECRETS.accessToken}`);
  log.info(
    {
      contact: {
        id: '101',
        properties: {
          email: PII.email,
          phone: PII.phone,
          mobilephone: PII.mobile,
          firstname: PII.first,
          lastname: PII.last,
        },
      },
    },
    'hubspot record',
  );
  log.info(
    {
      batch: [
        {
          attributes: { type: 'Lead', url: '/services/data/v62.0/sobjects/Lead/00Q' },
          FirstName: PII.first,
          LastName: PII.last,
          Name: PII.full,
          Email: PII.email,
          MobilePhone: PII.mobile,
        },
      ],
    },
    'salesforce records',
  );
  log.info({ plan: { writes: [{ after: { values: { name: PII.full } } }] } }, 'nested write plan');
  log.info(`matched ${PII.email} to an existing lead`);
  log.info('matched %s by secondary email', PII.otherEmail);
  log.child({ personEmail: PII.email }).info('child binding');
  log.error(new Error(`duplicate contact ${PII.otherEmail}`));
  log.error(
    {
      err: new ApiException(
        409,
        'An error occurred.',
        {
          status: 'error',
          message: `Contact ${PII.email} already exists. Existing ID: 51`,
          category: 'CONFLICT',
        },
        { 'content-type': 'application/json', 'set-cookie': SECRETS.cookie },
      ),
    },
    'hubspot said no',
  );
}

describe('createLogger', () => {
  it('never writes a secret, with or without LOG_PII', () => {
    for (const logPii of [false, true]) {
      const { log, output } = capture(logPii);
      logEverything(log);
      const text = output();
      expect(text).toContain('top-level secrets');
      for (const secret of Object.values(SECRETS)) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain('Sekr1tCookieValue');
      expect(text).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    }
  });

  it('removes personal data at any depth and in free text by default', () => {
    const { log, output } = capture(false);
    logEverything(log);
    const text = output();
    for (const value of Object.values(PII)) expect(text).not.toContain(value);
    expect(text).toContain('matched [email] to an existing lead');
    expect(text).toContain('Existing ID: 51');
  });

  it('keeps personal data when LOG_PII=true', () => {
    const { log, output } = capture(true);
    logEverything(log);
    const text = output();
    for (const value of Object.values(PII)) expect(text).toContain(value);
  });

  it('keeps what is not personal: ids, queue names, error names, field lists', () => {
    const { log, output } = capture(false);
    const jsforceLike = Object.assign(new Error('Email: invalid email address'), {
      name: 'INVALID_EMAIL_ADDRESS',
      errorCode: 'INVALID_EMAIL_ADDRESS',
      data: { fields: ['Email'] },
    });
    log.info(
      { queue: { name: 'pull' }, recordId: '00Q5e00000AbCdE', tokensLeft: 42, err: jsforceLike },
      'kept',
    );
    const entry = JSON.parse(output()) as Record<string, unknown>;
    expect(entry).toMatchObject({
      queue: { name: 'pull' },
      recordId: '00Q5e00000AbCdE',
      tokensLeft: 42,
      err: {
        type: 'Error',
        name: 'INVALID_EMAIL_ADDRESS',
        errorCode: 'INVALID_EMAIL_ADDRESS',
        data: { fields: ['Email'] },
      },
      msg: 'kept',
    });
  });

  it('takes level and LOG_PII from the loaded config', () => {
    const lines: string[] = [];
    const log = createLogger(loadConfig({ LOG_LEVEL: 'warn', LOG_PII: 'true' }), {
      write: (l: string) => void lines.push(l),
    });
    log.info('dropped');
    log.warn({ email: PII.email }, 'kept');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(PII.email);
  });

  it('does not change the objects it is given', () => {
    const { log } = capture(false);
    const record = { properties: { email: PII.email } };
    log.info({ record }, 'x');
    expect(record.properties.email).toBe(PII.email);
  });
});

describe('scrubText', () => {
  it.each([
    [`Authorization: Bearer ${SECRETS.hubspotToken}`, false, 'Authorization: Bearer [Redacted]'],
    [`token ${SECRETS.hubspotToken} rejected`, true, 'token [Redacted] rejected'],
    [`session ${SECRETS.accessToken}`, true, 'session [Redacted]'],
    [
      'Headers: {"set-cookie":"__cf_bm=abc; path=/","x":"y"}',
      true,
      'Headers: {"set-cookie":"[Redacted]","x":"y"}',
    ],
    [`write to ${PII.email} failed`, false, 'write to [email] failed'],
    [`write to ${PII.email} failed`, true, `write to ${PII.email} failed`],
  ])('%s (logPii=%p)', (input, logPii, expected) => {
    expect(scrubText(input, logPii)).toBe(expected);
  });
});
