import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { liveConnectionsFromOptions, type LiveConnectionOptions } from '../../src/cli/commands/mappings.js';
import { parseFaultSpec } from '../../src/sandbox/common/faults.js';
import { createHubSpotSandbox } from '../../src/sandbox/hubspot/server.js';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.js';
import { createSalesforceSandbox } from '../../src/sandbox/salesforce/server.js';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.js';

/** `tandem mappings validate --live` through the real SDKs against both sandboxes. */

let hubspot: HubSpotSandbox;
let salesforce: SalesforceSandbox;
let connection: string[];
let environment: Record<string, string>;

beforeAll(async () => {
  hubspot = await createHubSpotSandbox({});
  salesforce = await createSalesforceSandbox({});
  const hubspotUrl = await hubspot.app.listen({ port: 0, host: '127.0.0.1' });
  const salesforceUrl = await salesforce.app.listen({ port: 0, host: '127.0.0.1' });
  connection = [
    '--hubspot-token=pat-sandbox-tandem',
    `--hubspot-base-url=${hubspotUrl}`,
    `--salesforce-login-url=${salesforceUrl}`,
    '--salesforce-username=admin@tandem.sandbox',
    '--salesforce-password=tandem-sandbox',
    '--salesforce-client-id=tandem-sandbox-client',
    '--salesforce-client-secret=tandem-sandbox-secret',
  ];
  environment = {
    HUBSPOT_ACCESS_TOKEN: 'pat-sandbox-tandem',
    HUBSPOT_BASE_URL: hubspotUrl,
    SALESFORCE_LOGIN_URL: salesforceUrl,
    SALESFORCE_AUTH_FLOW: 'password',
    SALESFORCE_USERNAME: 'admin@tandem.sandbox',
    SALESFORCE_PASSWORD: 'tandem-sandbox',
    SALESFORCE_CLIENT_ID: 'tandem-sandbox-client',
    SALESFORCE_CLIENT_SECRET: 'tandem-sandbox-secret',
  };
});

afterAll(async () => {
  await hubspot?.app.close();
  await salesforce?.app.close();
});

async function validateLive(
  file: string,
  settings: 'options' | 'environment' = 'options',
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'node',
      [
        'bin/tandem.js',
        'mappings',
        'validate',
        file,
        '--live',
        '--json',
        ...(settings === 'options' ? connection : []),
      ],
      { encoding: 'utf8', env: settings === 'options' ? process.env : { ...process.env, ...environment } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Output {
  valid: boolean;
  problems: Array<{
    line: number;
    column: number;
    path: string;
    severity: string;
    message: string;
    hint?: string;
  }>;
}

describe('tandem mappings validate --live', () => {
  it.each(['mappings/default.yaml', 'test/fixtures/mappings/full.yaml'])(
    'passes %s against the sandbox schemas (warnings allowed)',
    async (file) => {
      const { code, stdout, stderr } = await validateLive(file);
      const output = JSON.parse(stdout) as Output;
      expect({ code, stderr, errors: output.problems.filter((p) => p.severity === 'error') }).toEqual({
        code: 0,
        stderr: '',
        errors: [],
      });
      expect(output.valid).toBe(true);
    },
  );

  it('reads the connection settings from the environment when no option is given', async () => {
    const { code, stdout, stderr } = await validateLive('mappings/default.yaml', 'environment');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(stdout) as Output).valid).toBe(true);
  });

  it('leaves retries to Tandem: the Salesforce connection built from options makes one request per call', async () => {
    const options = Object.fromEntries(
      connection.map((arg) => {
        const [flag, value] = arg.replace(/^--/, '').split('=') as [string, string];
        return [flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), value];
      }),
    ) as LiveConnectionOptions;
    const { salesforce: conn } = await liveConnectionsFromOptions(options);
    const { salesforceUsername: _user, salesforcePassword: _password, ...rest } = options;
    const byToken = await liveConnectionsFromOptions({
      ...rest,
      salesforceInstanceUrl: conn.instanceUrl,
      salesforceAccessToken: conn.accessToken ?? '',
    });
    salesforce.faults.spec = parseFaultSpec('5xx=1');
    try {
      for (const c of [conn, byToken.salesforce]) {
        salesforce.stats.reset();
        await expect(c.sobject('Lead').describe()).rejects.toThrow();
        expect(salesforce.stats.snapshot().faults['5xx']).toBe(1);
      }
    } finally {
      salesforce.faults.spec = parseFaultSpec('');
    }
  });

  it('locates a misspelt Salesforce field and suggests the real one', async () => {
    const text = readFileSync('mappings/default.yaml', 'utf8').replace(
      '        salesforce: Title\n',
      '        salesforce: Titel\n',
    );
    const file = join(mkdtempSync(join(tmpdir(), 'tandem-mapping-')), 'misspelt.yaml');
    writeFileSync(file, text);
    const { code, stdout } = await validateLive(file);
    expect(code).toBe(1);
    const output = JSON.parse(stdout) as Output;
    expect(output.valid).toBe(false);
    const line = text.split('\n').findIndex((l) => l.includes('salesforce: Titel')) + 1;
    expect(output.problems).toContainEqual(
      expect.objectContaining({
        line,
        column: 21,
        path: 'objects.person.fields[4].salesforce',
        severity: 'error',
        message: 'Salesforce Lead has no field "Titel"',
        hint: 'did you mean "Title"?',
      }),
    );
  });

  it('refuses a HubSpot property that HubSpot only writes itself', async () => {
    const text = readFileSync('mappings/default.yaml', 'utf8').replace(
      '        hubspot: jobtitle\n',
      '        hubspot: hs_analytics_first_touch_converting_campaign\n',
    );
    const file = writeMapping('read-only.yaml', text);
    const { code, stdout } = await validateLive(file);
    expect(code).toBe(1);
    const output = JSON.parse(stdout) as Output;
    expect(output.problems).toContainEqual(
      expect.objectContaining({
        line: lineOf(text, 'hubspot: hs_analytics_first_touch_converting_campaign'),
        path: 'objects.person.fields[4].hubspot',
        severity: 'error',
        message:
          'HubSpot contacts.hs_analytics_first_touch_converting_campaign is read-only, but direction "both" writes to it',
      }),
    );
  });

  it('lists the Salesforce picklist values a values map leaves uncovered, and fails', async () => {
    const text = readFileSync('mappings/default.yaml', 'utf8').replace(
      '          new: { hubspot: NEW, salesforce: Open - Not Contacted }\n',
      '',
    );
    const file = writeMapping('uncovered.yaml', text);
    const { code, stdout } = await validateLive(file);
    expect(code).toBe(1);
    const output = JSON.parse(stdout) as Output;
    const leadStatus = output.problems.filter((p) => p.path.endsWith('.values') && p.severity === 'error');
    expect(leadStatus).toEqual([
      expect.objectContaining({
        path: 'objects.person.fields[7].values',
        line: lineOf(text, '          working:'), // the map's first entry
        message:
          'Salesforce Lead.Status values with no entry in the values map: "Open - Not Contacted" (records with them fail)',
      }),
    ]);
  });

  it('keeps uncovered values a warning where the mapping says to skip the field for them', async () => {
    const text = readFileSync('mappings/default.yaml', 'utf8')
      .replace('          new: { hubspot: NEW, salesforce: Open - Not Contacted }\n', '')
      .replace(
        '        conflict: salesforce\n        values:\n',
        '        conflict: salesforce\n        on_unmapped_value: skip_field\n        values:\n',
      );
    const file = writeMapping('skipped.yaml', text);
    const { code, stdout } = await validateLive(file);
    const output = JSON.parse(stdout) as Output;
    expect({ code, valid: output.valid }).toEqual({ code: 0, valid: true });
    expect(output.problems).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        message:
          'Salesforce Lead.Status values with no entry in the values map: "Open - Not Contacted" (the field is skipped for them)',
      }),
    );
  });
});

function writeMapping(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tandem-mapping-')), name);
  writeFileSync(file, text);
  return file;
}

/** 1-based line of the first line containing `needle` after line `after`. */
function lineOf(text: string, needle: string, after = 0): number {
  return text.split('\n').findIndex((l, i) => i >= after && l.includes(needle)) + 1;
}
