// The sandboxes' read-only record pages (`/__sandbox/records/<object>/<id>`), where the dashboard's record
// links point when the CRMs are Tandem's sandboxes: each record's fields, HTML-escaped; 404 otherwise.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackAddress } from '../../src/sandbox/common/record-page.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';

const HOSTILE = '<script>alert(1)</script> Zoë & "co"';

describe('sandbox record pages', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ dataDir: mkdtempSync(join(tmpdir(), 'tandem-record-pages-')) });
  });
  afterAll(async () => sandbox.stop());

  const page = async (base: string, path: string) => {
    const response = await fetch(`${base}/__sandbox/records/${path}`);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  };

  it('HubSpot: a contact, by plural, singular or type id, escaped', async () => {
    const { baseUrl, accessToken } = sandbox.credentials.hubspot;
    const created = await fetch(`${baseUrl}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { email: 'page@example.com', firstname: HOSTILE } }),
    });
    const { id } = (await created.json()) as { id: string };
    for (const object of ['contacts', 'contact', '0-1']) {
      const { status, type, text } = await page(baseUrl, `${object}/${id}`);
      expect(status).toBe(200);
      expect(type).toMatch(/^text\/html/);
      expect(text).toContain('page@example.com');
      expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Zoë &amp; &quot;co&quot;');
      expect(text).not.toContain('<script>');
    }
    expect((await page(baseUrl, 'contacts/999999999')).status).toBe(404);
    expect((await page(baseUrl, 'tickets/1')).status).toBe(404);
  });

  it('Salesforce: a Lead, escaped; a wrong object or id is 404', async () => {
    const { instanceUrl, clientId, clientSecret, apiVersion } = sandbox.credentials.salesforce;
    const token = (await (
      await fetch(`${instanceUrl}/services/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
        }),
      })
    ).json()) as { access_token: string };
    const created = await fetch(`${instanceUrl}/services/data/v${apiVersion}/sobjects/Lead`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ LastName: HOSTILE, Company: 'Acme', Email: 'lead-page@example.com' }),
    });
    const { id } = (await created.json()) as { id: string };
    const { status, text } = await page(instanceUrl, `Lead/${id}`);
    expect(status).toBe(200);
    expect(text).toContain('lead-page@example.com');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).not.toContain('<script>');
    expect((await page(instanceUrl, `Contact/${id}`)).status).toBe(404);
    expect((await page(instanceUrl, 'Lead/not-an-id')).status).toBe(404);
    expect((await page(instanceUrl, `Nope/${id}`)).status).toBe(404);
  });

  it('answers loopback clients only', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('10.0.0.7')).toBe(false);
    expect(isLoopbackAddress(undefined)).toBe(false);
  });
});
