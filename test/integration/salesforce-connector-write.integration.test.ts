import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ApiBudget } from '../../src/connectors/budget.js';
import { RateLimitedError } from '../../src/connectors/classify.js';
import type { WriteOp } from '../../src/connectors/connector.js';
import { connectSalesforce } from '../../src/connectors/salesforce/auth.js';
import { SalesforceConnector } from '../../src/connectors/salesforce/connector.js';
import type { SalesforceAuth } from '../../src/config/index.js';
import { leadWorld, START, startHarness, type Harness } from './salesforce-connector-helpers.js';
import { CREDENTIALS } from './sandbox-salesforce-helpers.js';

function upsert(i: number, fields: Record<string, string | number | null> = {}): WriteOp {
  return {
    kind: 'upsert',
    ref: `ref-${i}`,
    idProperty: 'HubSpot_Contact_ID__c',
    idValue: `hs-${i}`,
    fields: { LastName: `Upserted ${i}`, Company: 'Acme', Email: `upsert${i}@example.com`, ...fields },
  };
}

async function leadCount(salesforce: SalesforceConnector): Promise<number> {
  return (await salesforce.caller.conn.query('SELECT COUNT() FROM Lead')).totalSize;
}

describe('SalesforceConnector.write against the sandbox', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => h.reset());

  it('writes the good records of a collection when some are rejected, and names each failure', async () => {
    const salesforce = await h.connector();
    const ops = Array.from({ length: 250 }, (_, i) => upsert(i));
    ops[7] = upsert(7, { Email: 'not-an-email' });
    ops[240] = upsert(240, { Tandem_Lifecycle_Stage__c: 'prospect' });
    const outcomes = await salesforce.write('Lead', ops);
    expect(outcomes.map((o) => o.ref)).toEqual(ops.map((o) => o.ref));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(248);
    expect(outcomes[7]).toMatchObject({
      ok: false,
      classification: { kind: 'permanent', code: 'SALESFORCE_INVALID_EMAIL_ADDRESS', field: 'Email' },
    });
    expect(outcomes[240]).toMatchObject({
      ok: false,
      classification: { kind: 'permanent', code: 'SALESFORCE_INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' },
    });
    expect(await leadCount(salesforce)).toBe(248);
  });

  it('re-running the same upserts creates nothing new', async () => {
    const salesforce = await h.connector();
    const ops = Array.from({ length: 30 }, (_, i) => upsert(i));
    const first = await salesforce.write('Lead', ops);
    expect(first.every((o) => o.ok && o.created)).toBe(true);
    const again = await salesforce.write('Lead', ops);
    expect(again.every((o) => o.ok && !o.created)).toBe(true);
    expect(again.map((o) => (o.ok ? o.recordId : ''))).toEqual(first.map((o) => (o.ok ? o.recordId : '')));
    // A create carrying the HubSpot id is sent as an upsert on it: a replay does not duplicate either.
    const create: WriteOp = {
      kind: 'create',
      ref: 'c',
      fields: { ...upsert(3).fields, HubSpot_Contact_ID__c: 'hs-3' },
    };
    const [replayed] = await salesforce.write('Lead', [create]);
    expect(replayed).toMatchObject({ ok: true, created: false });
    expect(await leadCount(salesforce)).toBe(30);
  });

  it('creates, updates and deletes with per-record outcomes in the order given', async () => {
    const salesforce = await h.connector();
    const [created] = await salesforce.write('Account', [
      { kind: 'create', ref: 'a', fields: { Name: 'Acme' } },
    ]);
    expect(created).toMatchObject({ ok: true, created: true });
    const id = created?.ok === true ? created.recordId : '';
    const outcomes = await salesforce.write('Account', [
      { kind: 'update', ref: 'u', recordId: id, fields: { Website: 'acme.example' } },
      { kind: 'archive', ref: 'gone', recordId: '001000000000zzzAAA', fields: {} },
      { kind: 'create', ref: 'b', fields: { Name: 'Beta' } },
    ]);
    expect(outcomes.map((o) => [o.ref, o.ok])).toEqual([
      ['u', true],
      ['gone', false],
      ['b', true],
    ]);
    const [deleted] = await salesforce.write('Account', [
      { kind: 'archive', ref: 'd', recordId: id, fields: {} },
    ]);
    expect(deleted).toMatchObject({ ok: true, recordId: id });
  });

  it('DUPLICATES_DETECTED on create fails permanently and names the existing record to update instead', async () => {
    h.running.sandbox.loadWorld(leadWorld(3));
    const salesforce = await h.connector();
    const outcomes = await salesforce.write('Lead', [
      {
        kind: 'create',
        ref: 'dup',
        fields: { LastName: 'Again', Company: 'X', Email: 'PERSON2@example.com' },
      },
      { kind: 'create', ref: 'new', fields: { LastName: 'New', Company: 'X', Email: 'new@example.com' } },
    ]);
    expect(outcomes[0]).toMatchObject({
      ok: false,
      classification: {
        kind: 'permanent',
        code: 'SALESFORCE_DUPLICATES_DETECTED',
        existingId: '00Q000000000002EAA',
      },
    });
    expect(outcomes[1]).toMatchObject({ ok: true, created: true });
  });

  it('CANNOT_UPDATE_CONVERTED_LEAD tells the admin to write the converted Contact, and names it', async () => {
    h.running.sandbox.loadWorld(leadWorld(2));
    const salesforce = await h.connector();
    const lead = '00Q000000000001EAA';
    const converted = (await h.running.control('convert-lead', { leadId: lead })) as { contactId: string };
    const [outcome] = await salesforce.write('Lead', [
      { kind: 'update', ref: 'l', recordId: lead, fields: { Title: 'CEO' } },
    ]);
    expect(outcome).toMatchObject({
      ok: false,
      classification: {
        kind: 'permanent',
        code: 'SALESFORCE_CANNOT_UPDATE_CONVERTED_LEAD',
        existingId: converted.contactId,
      },
    });
    expect(outcome?.ok === false && outcome.classification.reason).toMatch(/converted Contact/);
  });

  it('loses no write through 503s and concurrency throttling', async () => {
    const salesforce = await h.connector();
    await h.running.control('faults', { spec: '5xx=0.3,429=0.2' });
    try {
      const outcomes = await salesforce.write(
        'Lead',
        Array.from({ length: 1_000 }, (_, i) => upsert(i)),
      );
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    } finally {
      await h.running.control('faults', { spec: '' });
    }
    expect(await leadCount(salesforce)).toBe(1_000);
  });

  it('pauses with RateLimitedError when the daily budget is spent, and fails no record', async () => {
    const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    try {
      const max = h.running.sandbox.apiUsage.max;
      const budget = new ApiBudget({
        redis,
        prefix: `test-${randomUUID()}`,
        system: 'salesforce',
        daily: { quota: max, budgetPercent: 90, resets: 'rolling-24h' },
        now: () => h.clock.now,
      });
      const salesforce = await h.connector({ budget });
      // The org (other integrations included) has used almost all of today's quota.
      await h.running.control('api-usage', { used: Math.floor(max * 0.9) - 2 });
      const ops = Array.from({ length: 1_000 }, (_, i) => upsert(i));
      const outcomes = await salesforce.write('Lead', ops);
      const written = outcomes.filter((o) => o.ok);
      const waiting = outcomes.filter((o) => !o.ok);
      expect(written.length).toBeGreaterThan(0);
      expect(waiting.length).toBeGreaterThan(0);
      for (const o of waiting) {
        expect(o.ok === false && o.classification).toMatchObject({
          kind: 'rate_limited',
          code: 'TANDEM_DAILY_BUDGET_SPENT',
        });
      }
      await expect(salesforce.write('Lead', ops.slice(written.length))).rejects.toBeInstanceOf(
        RateLimitedError,
      );
      expect(await leadCount(await h.connector())).toBe(written.length);
    } finally {
      redis.disconnect();
    }
  });
});

describe('Salesforce auth flows against the sandbox', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const flows = (): Array<[string, SalesforceAuth]> => [
    [
      'client_credentials',
      { flow: 'client_credentials', clientId: CREDENTIALS.clientId, clientSecret: CREDENTIALS.clientSecret },
    ],
    [
      'refresh_token',
      {
        flow: 'refresh_token',
        clientId: CREDENTIALS.clientId,
        clientSecret: CREDENTIALS.clientSecret,
        refreshToken: CREDENTIALS.refreshToken,
      },
    ],
    [
      'jwt',
      {
        flow: 'jwt',
        clientId: CREDENTIALS.clientId,
        privateKey: h.running.sandbox.jwtPrivateKeyPem,
        subject: CREDENTIALS.username,
      },
    ],
    ['password (SOAP)', { flow: 'password', username: CREDENTIALS.username, password: CREDENTIALS.password }],
    [
      'password (OAuth2)',
      {
        flow: 'password',
        username: CREDENTIALS.username,
        password: CREDENTIALS.password,
        clientId: CREDENTIALS.clientId,
        clientSecret: CREDENTIALS.clientSecret,
      },
    ],
  ];

  it.each([0, 1, 2, 3, 4])('flow #%i authorises, and re-authorises after every token expired', async (n) => {
    const [, auth] = flows()[n] as [string, SalesforceAuth];
    h.clock.now = START;
    const conn = await connectSalesforce(
      { loginUrl: h.running.url, instanceUrl: h.running.url, apiVersion: '62.0', auth },
      { now: () => h.clock.now },
    );
    const salesforce = new SalesforceConnector(conn, {
      now: () => h.clock.now,
      retry: { minTimeoutMs: 1, maxTimeoutMs: 2 },
    });
    const before = conn.accessToken;
    expect(
      (await salesforce.write('Account', [{ kind: 'create', ref: 'x', fields: { Name: `A${n}` } }]))[0],
    ).toMatchObject({ ok: true });
    h.running.sandbox.expireAllTokens();
    const [after] = await salesforce.write('Account', [
      { kind: 'create', ref: 'y', fields: { Name: `B${n}` } },
    ]);
    expect(after).toMatchObject({ ok: true });
    expect(conn.accessToken).not.toBe(before);
  });

  it('a wrong secret is a permanent error, not a retry loop', async () => {
    await expect(
      connectSalesforce({
        loginUrl: h.running.url,
        apiVersion: '62.0',
        auth: { flow: 'client_credentials', clientId: CREDENTIALS.clientId, clientSecret: 'wrong' },
      }),
    ).rejects.toThrow(/invalid client credentials/);
  });
});
