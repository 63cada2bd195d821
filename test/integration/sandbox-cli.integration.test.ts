import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import jsforce from 'jsforce';
import type { SandboxCredentials, SandboxWorldSummary } from '../../src/sandbox/index.js';

/**
 * `tandem sandbox --seed demo --json` as a script would use it: read the first stdout line, then drive the
 * world with nothing but the two official SDKs.
 */
interface Started {
  child: ChildProcess;
  info: SandboxCredentials & { world: SandboxWorldSummary };
}

async function startCli(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['bin/tandem.js', 'sandbox', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`tandem sandbox exited with ${code}: ${stderr}`)));
  });
  return { child, info: JSON.parse(first) as Started['info'] };
}

/** `npx tsx bench/sdk-tour.ts '<json line>'`, as the README shows it. */
function runTour(json: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sdk-tour.ts', json], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

async function stopCli(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  return exited;
}

describe('tandem sandbox --seed demo --json', () => {
  let started: Started;
  const stateDir = mkdtempSync(join(tmpdir(), 'tandem-sandbox-cli-'));
  const stateFile = join(stateDir, 'world.json');

  beforeAll(async () => {
    started = await startCli([
      '--seed',
      'demo',
      '--persons',
      '600',
      '--hubspot-port',
      '0',
      '--salesforce-port',
      '0',
      '--state',
      stateFile,
    ]);
  });
  afterAll(async () => {
    if (started !== undefined) await stopCli(started.child);
  });

  it('prints URLs and credentials as one JSON line first', () => {
    expect(started.info.hubspot.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.info.salesforce.loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.info.world.source).toBe('generated');
    // `persons` is what --persons asked for; each system's records are counted per object.
    expect(started.info.world.persons).toBe(600);
    const counts = started.info.world.counts;
    expect(counts?.hubspot.contacts).toBeGreaterThan(300);
    expect(counts?.hubspot.contacts).toBeLessThan(600);
    expect(counts?.hubspot.companies).toBeGreaterThan(0);
    expect(counts?.salesforce.Lead).toBeGreaterThan(200);
    expect(counts?.salesforce.Campaign).toBeGreaterThan(0);
  });

  it('serves a world the HubSpot SDK can list, search and batch-upsert', async () => {
    const hubspot = new Client({
      basePath: started.info.hubspot.baseUrl,
      accessToken: started.info.hubspot.accessToken,
      numberOfApiCallRetries: 0,
    });
    const page = await hubspot.crm.contacts.basicApi.getPage(100, undefined, ['email', 'lifecyclestage']);
    expect(page.results).toHaveLength(100);
    expect(page.paging?.next?.after).toBeDefined();

    const search = await hubspot.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: FilterOperatorEnum.HasProperty }] }],
      sorts: ['lastmodifieddate'],
      properties: ['email'],
      limit: 200,
      after: '0',
    });
    expect(search.total).toBeGreaterThan(200);
    expect(search.results).toHaveLength(200);

    const upsert = await hubspot.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'new.person@tandem-cli.test', idProperty: 'email', properties: { firstname: 'New' } },
        {
          id: String(page.results[0]?.properties['email']),
          idProperty: 'email',
          properties: { jobtitle: 'Head of RevOps' },
        },
      ],
    });
    const outcome = new Map(upsert.results.map((r) => [r.properties['email'], r._new]));
    expect(outcome.get('new.person@tandem-cli.test')).toBe(true);
    expect(outcome.get(String(page.results[0]?.properties['email']).toLowerCase())).toBe(false);
  });

  it('serves a world jsforce can query with paging, upsert through collections and describe', async () => {
    const sf = started.info.salesforce;
    const conn = new jsforce.Connection({
      loginUrl: sf.loginUrl,
      version: sf.apiVersion,
      oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId, clientSecret: sf.clientSecret },
    });
    await conn.login(sf.username, sf.password);

    // Salesforce's smallest batch size, so the world's leads take several pages: query, then queryMore
    // on nextRecordsUrl until done.
    const headers = { 'Sforce-Query-Options': 'batchSize=200' };
    let page = await conn.query<{ Id: string; Email: string | null }>(
      'SELECT Id, Email FROM Lead ORDER BY SystemModstamp, Id',
      { headers, autoFetch: false },
    );
    expect(page.done).toBe(false);
    expect(page.nextRecordsUrl).toMatch(/\/services\/data\/v[\d.]+\/query\/[^/]+-200$/);
    const pages = [page.records.length];
    const ids = new Set(page.records.map((r) => r.Id));
    while (!page.done && page.nextRecordsUrl !== undefined) {
      page = await conn.queryMore<{ Id: string; Email: string | null }>(page.nextRecordsUrl, {
        headers,
        autoFetch: false,
        maxFetch: 10_000,
        scanAll: false,
        responseTarget: 'QueryResult',
      });
      pages.push(page.records.length);
      for (const r of page.records) ids.add(r.Id);
    }
    expect(pages.length).toBe(Math.ceil(page.totalSize / 200));
    expect(pages.slice(0, -1).every((n) => n === 200)).toBe(true);
    expect(ids.size).toBe(page.totalSize);
    expect(page.totalSize).toBe(started.info.world.counts?.salesforce.Lead);

    const all = await conn.query<{ Id: string }>('SELECT Id FROM Contact', {
      autoFetch: true,
      maxFetch: 100_000,
    });
    expect(all.records.length).toBe(all.totalSize);

    // jsforce's own upsert of an array goes through sObject collections by external id.
    const upserted = await conn.sobject('Lead').upsert(
      [
        { HubSpot_Contact_ID__c: '990001', LastName: 'Cli', Company: 'Tandem' },
        { HubSpot_Contact_ID__c: '990002', LastName: 'Cli Two', Company: 'Tandem' },
      ],
      'HubSpot_Contact_ID__c',
      { allOrNone: false },
    );
    expect(upserted).toEqual([
      expect.objectContaining({ success: true, created: true }),
      expect.objectContaining({ success: true, created: true }),
    ]);
    const again = await conn
      .sobject('Lead')
      .upsert([{ HubSpot_Contact_ID__c: '990001', Title: 'Ops' }], 'HubSpot_Contact_ID__c');
    expect(again).toEqual([expect.objectContaining({ success: true, created: false })]);
    const stats = (await (await fetch(`${sf.loginUrl}/__sandbox/stats`)).json()) as {
      calls: Record<string, number>;
    };
    expect(
      Object.keys(stats.calls).filter((k) => k.startsWith('PATCH ') && k.includes('/composite/sobjects/')),
    ).not.toEqual([]);

    const describe = await conn.sobject('Lead').describe();
    const status = describe.fields.find((f) => f.name === 'Status');
    expect(status?.picklistValues?.map((v) => v.value)).toContain('Working - Contacted');
    expect(describe.fields.find((f) => f.name === 'HubSpot_Contact_ID__c')?.externalId).toBe(true);
  });

  it('saves its world to --state on exit and loads it on the next start', async () => {
    expect(await stopCli(started.child)).toBe(0);
    expect(existsSync(stateFile)).toBe(true);
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { hubspot: { contacts: unknown[] } };
    expect(saved.hubspot.contacts.length).toBe((started.info.world.counts?.hubspot.contacts ?? 0) + 1);

    started = await startCli(['--hubspot-port', '0', '--salesforce-port', '0', '--state', stateFile]);
    expect(started.info.world.source).toBe('state');
    const hubspot = new Client({
      basePath: started.info.hubspot.baseUrl,
      accessToken: started.info.hubspot.accessToken,
      numberOfApiCallRetries: 0,
    });
    const found = await hubspot.crm.contacts.basicApi.getById(
      'new.person@tandem-cli.test',
      ['firstname'],
      undefined,
      undefined,
      false,
      'email',
    );
    expect(found.properties['firstname']).toBe('New');
  });

  it('runs bench/sdk-tour.ts (the README SDK tour) against the running sandbox', async () => {
    expect(started.info.world.source).toBe('state');
    const tour = await runTour(JSON.stringify(started.info));
    expect({ code: tour.code, stderr: tour.stderr }).toEqual({ code: 0, stderr: '' });
    expect(tour.stdout).toMatch(/^hubspot list: 2 pages of 100 contacts/m);
    expect(tour.stdout).toMatch(/^hubspot batch upsert by email: 1 created, 1 updated$/m);
    expect(tour.stdout).toMatch(
      /^salesforce query: \d+ leads in [2-9]\d* pages of ≤ 200 \(query, then queryMore\)$/m,
    );
    expect(tour.stdout).toMatch(
      /^salesforce collections upsert by HubSpot_Contact_ID__c: 2 created, 1 updated$/m,
    );
    expect(tour.stdout).toMatch(/^salesforce describe Lead: \d+ fields; Status has \d+ values/m);
    expect(tour.stdout.trimEnd().split('\n').at(-1)).toBe('sdk tour: ok');
  });

  it('rejects a bad --faults spec with a usage error naming the problem', async () => {
    const child = spawn(
      process.execPath,
      ['bin/tandem.js', 'sandbox', '--faults', '5xx=2', '--hubspot-port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('5xx="2": expected a probability between 0 and 1');
  });
});

describe('tandem sandbox --seed FILE --hubspot-tier starter', () => {
  let started: Started;
  const world = JSON.parse(readFileSync('test/fixtures/worlds/tiny.json', 'utf8')) as {
    hubspot: { contacts: { id: string; properties: Record<string, string> }[] };
    salesforce: { records: Record<string, { Id: string; Name?: string }[]> };
  };

  beforeAll(async () => {
    started = await startCli([
      '--seed',
      'test/fixtures/worlds/tiny.json',
      '--hubspot-tier',
      'starter',
      '--hubspot-port',
      '0',
      '--salesforce-port',
      '0',
    ]);
  });
  afterAll(async () => {
    if (started !== undefined) await stopCli(started.child);
  });

  const connect = async (): Promise<jsforce.Connection> => {
    const sf = started.info.salesforce;
    const conn = new jsforce.Connection({ loginUrl: sf.loginUrl, version: sf.apiVersion });
    await conn.login(sf.username, sf.password);
    return conn;
  };

  it('serves exactly the records of the world file', async () => {
    expect(started.info.world).toEqual({
      source: 'file',
      counts: {
        hubspot: { contacts: 2, companies: 1, deals: 1 },
        salesforce: Object.fromEntries(
          Object.entries(world.salesforce.records).map(([name, rows]) => [name, rows.length]),
        ),
      },
    });
    const hubspot = new Client({
      basePath: started.info.hubspot.baseUrl,
      accessToken: started.info.hubspot.accessToken,
      numberOfApiCallRetries: 0,
    });
    const jane = world.hubspot.contacts[0];
    const found = await hubspot.crm.contacts.basicApi.getById(String(jane?.id), ['email', 'jobtitle']);
    expect(found.properties).toMatchObject({ email: jane?.properties['email'], jobtitle: 'VP Marketing' });
    const leads = await (await connect()).query<{ Id: string }>('SELECT Id FROM Lead ORDER BY Id');
    expect(leads.records.map((r) => r.Id)).toEqual(world.salesforce.records['Lead']?.map((r) => r.Id).sort());
  });

  it('applies the starter tier limits, visible in the rate-limit headers the SDK receives', async () => {
    const hubspot = new Client({
      basePath: started.info.hubspot.baseUrl,
      accessToken: started.info.hubspot.accessToken,
      numberOfApiCallRetries: 0,
    });
    expect(started.info.hubspot.tier).toBe('starter');
    const response = await hubspot.crm.contacts.basicApi.getPageWithHttpInfo(1);
    // The default tier (professional) would say 190 and 625000.
    expect(response.headers).toMatchObject({
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-daily': '250000',
    });
    expect(Number(response.headers['x-hubspot-ratelimit-remaining'])).toBeLessThan(100);
  });

  it('serves Campaign and CampaignMember to jsforce: query, relationship fields, and creating a member', async () => {
    const conn = await connect();
    const campaign = world.salesforce.records['Campaign']?.[0];
    const campaigns = await conn.query<{ Id: string; Name: string; Type: string; Status: string }>(
      'SELECT Id, Name, Type, Status FROM Campaign',
    );
    expect(campaigns.records).toEqual([
      expect.objectContaining({ Id: campaign?.Id, Name: 'Webinar: Attribution 101', Type: 'Webinar' }),
    ]);

    const openLead = '00Q000000000002EAA';
    const created = await conn
      .sobject('CampaignMember')
      .create({ CampaignId: campaign?.Id, LeadId: openLead, Status: 'Responded' });
    expect(created).toMatchObject({ success: true, id: expect.stringMatching(/^00v[a-zA-Z0-9]{15}$/) });

    const members = await conn.query<{
      Id: string;
      LeadId: string;
      Status: string;
      HasResponded: boolean;
      Campaign: { Name: string };
    }>(
      `SELECT Id, LeadId, Status, HasResponded, Campaign.Name FROM CampaignMember WHERE CampaignId = '${campaign?.Id}' ORDER BY CreatedDate`,
    );
    expect(members.totalSize).toBe(2);
    expect(members.records.at(-1)).toMatchObject({
      Id: created.id,
      LeadId: openLead,
      Status: 'Responded',
      Campaign: { Name: 'Webinar: Attribution 101' },
    });

    const describe = await conn.sobject('CampaignMember').describe();
    expect(describe.fields.find((f) => f.name === 'CampaignId')?.referenceTo).toEqual(['Campaign']);
  });
});
