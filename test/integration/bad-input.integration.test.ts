import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@hubspot/api-client';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import jsforce from 'jsforce';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { salesforceId } from '../../src/sandbox/world/salesforce-id.js';
import type { World } from '../../src/sandbox/world/schema.js';
import { runTandem } from '../support/cli.js';

/**
 * Bad input through the real pipeline and queues (`tandem sync --once`): invalid emails, over-long strings,
 * unmapped picklist values, text in a number field, emoji, right-to-left text and HTML in names, mixed with
 * well-formed persons. Each bad record fails or passes alone with its reason; its neighbours are written.
 */

const url = process.env['TEST_REDIS_URL'] ?? '';
const OLD = '2026-01-01T00:00:00.000Z';
const NEW = '2026-10-01T00:00:00.000Z';
const SF_OLD = '2026-01-01T00:00:00.000+0000';
const LONG_TITLE = `Director of ${'Very Long Title '.repeat(20)}`.trim();

interface Person {
  key: string;
  email: string;
  hubspot?: Record<string, string>;
  lead?: Record<string, unknown>;
}

/** Persons in both systems (matched by email). HubSpot is newer, so `newest` fields flow to Salesforce. */
const PERSONS: Person[] = [
  { key: 'good1', email: 'good.one@acme-widgets.com', hubspot: { jobtitle: 'Analyst One' } },
  { key: 'good2', email: 'good.two@acme-widgets.com', hubspot: { jobtitle: 'Analyst Two' } },
  { key: 'longTitle', email: 'long.title@acme-widgets.com', hubspot: { jobtitle: LONG_TITLE } },
  { key: 'badEmail', email: 'not-an-email', hubspot: { jobtitle: 'Analyst Bad Email' } },
  {
    key: 'unmapped',
    email: 'unmapped.status@acme-widgets.com',
    hubspot: { jobtitle: 'Analyst Unmapped' },
    lead: { Status: 'Totally Unknown Status' },
  },
  {
    key: 'wrongType',
    email: 'wrong.type@acme-widgets.com',
    hubspot: { jobtitle: 'Analyst Wrong Type', hs_analytics_num_page_views: 'lots and lots' },
  },
  { key: 'emoji', email: 'emoji@acme-widgets.com', lead: { FirstName: 'Zoë 😀🚀', LastName: 'Smïth' } },
  { key: 'rtl', email: 'rtl@acme-widgets.com', lead: { FirstName: 'שלום', LastName: 'مرحبا' } },
  {
    key: 'html',
    email: 'html@acme-widgets.com',
    lead: { FirstName: '<b>Bob</b><script>alert(1)</script>', LastName: '<i>Tables</i>' },
  },
];

function world(): World {
  const contacts = PERSONS.map((p, i) => {
    const id = String(101 + i);
    const properties: Record<string, string | null> = {
      email: p.email,
      firstname: 'First',
      lastname: 'Last',
      createdate: OLD,
      lastmodifieddate: NEW,
      hs_object_id: id,
      ...p.hubspot,
    };
    if (p.lead?.['FirstName'] !== undefined) properties['firstname'] = '';
    const history = Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [
        k,
        [{ value: v ?? '', timestamp: NEW, sourceType: 'CRM_UI' }],
      ]),
    );
    return {
      id,
      properties,
      createdAt: OLD,
      updatedAt: NEW,
      archived: false,
      propertiesWithHistory: history,
    };
  });
  const leads = PERSONS.map((p, i) => ({
    Id: salesforceId('00Q', 10 + i),
    FirstName: 'First',
    LastName: 'Last',
    Email: p.email,
    Title: 'Old Title',
    Company: 'Acme Widgets',
    Status: 'Open - Not Contacted',
    IsConverted: false,
    CreatedDate: SF_OLD,
    LastModifiedDate: SF_OLD,
    SystemModstamp: SF_OLD,
    IsDeleted: false,
    ...p.lead,
  }));
  return {
    version: 1,
    hubspot: { contacts, nextId: 500 },
    salesforce: { records: { Lead: leads }, nextSequence: 500 },
  } as unknown as World;
}

let sandbox: RunningSandbox;
let env: Record<string, string>;
let prefix: string;
let hubspot: Client;
let salesforce: jsforce.Connection;
let failures: Array<{ code: string; reason: string; recordId?: string; field?: string }>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bad-input-'));
  sandbox = await startSandbox({ hubspotPort: 0, salesforcePort: 0, dataDir: dir });
  const c = sandbox.credentials;
  for (const [base, body] of [
    [c.hubspot.baseUrl, world().hubspot],
    [c.salesforce.loginUrl, world().salesforce],
  ] as const) {
    const r = await fetch(`${base}/__sandbox/world`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(200);
  }
  prefix = `test-${randomUUID()}`;
  env = {
    HUBSPOT_BASE_URL: c.hubspot.baseUrl,
    HUBSPOT_ACCESS_TOKEN: c.hubspot.accessToken,
    TANDEM_HUBSPOT_SEARCH_LAG: '0s',
    SALESFORCE_LOGIN_URL: c.salesforce.loginUrl,
    SALESFORCE_INSTANCE_URL: c.salesforce.instanceUrl,
    SALESFORCE_AUTH_FLOW: 'client_credentials',
    SALESFORCE_CLIENT_ID: c.salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: c.salesforce.clientSecret,
    REDIS_URL: url,
    TANDEM_REDIS_PREFIX: prefix,
    TANDEM_DATA_DIR: dir,
    LOG_LEVEL: 'silent',
  };
  const run = await runTandem(['sync', '--once', '--json', '--workers', 'always'], env);
  expect(run.stdout).toMatch(/^\{/);
  hubspot = new Client({ basePath: c.hubspot.baseUrl, accessToken: c.hubspot.accessToken });
  salesforce = new jsforce.Connection({
    loginUrl: c.salesforce.loginUrl,
    version: '62.0',
    oauth2: {
      loginUrl: c.salesforce.loginUrl,
      clientId: c.salesforce.clientId,
      clientSecret: c.salesforce.clientSecret,
    },
  });
  await salesforce.login(c.salesforce.username, c.salesforce.password);
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  failures = [];
  for (const name of ['pull', 'reconcile', 'write-back']) {
    const queue = new Queue(name, { connection, prefix: `{${prefix}}:bull` });
    for (const job of await queue.getFailed(0, 1000)) {
      const f = (job.data as { failure?: (typeof failures)[number] }).failure;
      failures.push(f ?? { code: 'NO_DETAIL', reason: job.failedReason });
    }
    await queue.obliterate({ force: true });
    await queue.close();
  }
  const mine = await connection.keys(`${prefix}:*`);
  if (mine.length > 0) await connection.del(...mine);
  await connection.quit();
}, 170_000);

afterAll(async () => {
  await sandbox?.stop();
});

async function lead(email: string): Promise<Record<string, unknown>> {
  const r = await salesforce.query<Record<string, unknown>>(
    `SELECT Id, FirstName, LastName, Title, Status FROM Lead WHERE Email = '${email}'`,
  );
  expect(r.records).toHaveLength(1);
  return r.records[0] as Record<string, unknown>;
}

async function contact(email: string): Promise<Record<string, string | null>> {
  // By email through the object API, not search: search has a 5-per-second limit the checks would hit.
  const found = await hubspot.crm.contacts.basicApi.getById(
    email,
    ['email', 'firstname', 'lastname', 'jobtitle'],
    undefined,
    undefined,
    false,
    'email',
  );
  expect(found.properties['email']).toBe(email);
  return found.properties;
}

const idOf = (key: string): string => String(101 + PERSONS.findIndex((p) => p.key === key));

describe('bad input through the real pipeline', () => {
  it('writes the well-formed persons of the same batches', async () => {
    expect((await lead('good.one@acme-widgets.com'))['Title']).toBe('Analyst One');
    expect((await lead('good.two@acme-widgets.com'))['Title']).toBe('Analyst Two');
  });

  it('fails the over-long title alone, naming record, field and value', async () => {
    const mine = failures.filter((f) => /TOO_LONG/.test(f.code));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.field ?? mine[0]?.reason).toMatch(/Title/);
    expect(mine[0]?.reason).toMatch(/Director of Very Long/);
    expect(mine[0]?.recordId).toMatch(/^00Q/);
    expect((await lead('long.title@acme-widgets.com'))['Title']).toBe('Old Title');
  });

  it('fails the unmapped picklist value alone with the value in its reason', () => {
    const mine = failures.filter((f) => /UNMAPPED/.test(f.code) && /Totally Unknown Status/.test(f.reason));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.field ?? mine[0]?.reason).toMatch(/Status|lead_status/);
  });

  it('treats the invalid email and the text in a number field each on their own', async () => {
    for (const [key, pattern] of [
      ['badEmail', /not-an-email/],
      ['wrongType', /lots and lots|hs_analytics_num_page_views|page_views/],
    ] as const) {
      const mine = failures.filter((f) => f.recordId === idOf(key) || pattern.test(f.reason));
      // Either it failed alone (at most once per system) with a reason naming the value or field, or it passed.
      for (const f of mine) expect(f.reason).toMatch(pattern);
      expect(mine.length).toBeLessThanOrEqual(2);
    }
    // The person with text in a number field either failed alone (its reason names the value) or was
    // written; it is never silently half-synced with the bad value dropped.
    const wrongTypeFailed = failures.some(
      (f) => f.recordId === idOf('wrongType') || /lots and lots/.test(f.reason),
    );
    const title = (await lead('wrong.type@acme-widgets.com'))['Title'];
    expect({ wrongTypeFailed, title }).toEqual(
      wrongTypeFailed
        ? { wrongTypeFailed, title: 'Old Title' }
        : { wrongTypeFailed, title: 'Analyst Wrong Type' },
    );
  });

  it('carries emoji, right-to-left text and HTML in names unchanged to the other system', async () => {
    expect(await contact('emoji@acme-widgets.com')).toMatchObject({
      firstname: 'Zoë 😀🚀',
      lastname: 'Smïth',
    });
    expect(await contact('rtl@acme-widgets.com')).toMatchObject({ firstname: 'שלום', lastname: 'مرحبا' });
    expect(await contact('html@acme-widgets.com')).toMatchObject({
      firstname: '<b>Bob</b><script>alert(1)</script>',
      lastname: '<i>Tables</i>',
    });
  });

  it('has no failure except the ones above', () => {
    const explained = failures.filter(
      (f) =>
        /TOO_LONG/.test(f.code) ||
        (/UNMAPPED/.test(f.code) && /Totally Unknown Status/.test(f.reason)) ||
        /not-an-email|lots and lots|page_views/.test(f.reason),
    );
    expect(failures.filter((f) => !explained.includes(f))).toEqual([]);
  });
});
