// `/readyz` and the Mapping page's live validation with the connections `tandem dashboard` and `tandem
// demo` build from the configuration (connectionsFrom), against Tandem's own sandboxes through the real
// SDKs: ready for every Salesforce auth flow, still ready once the sandbox has expired every token, and the
// mapping checked against the live schemas.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { SALESFORCE_AUTH_FLOWS, type SalesforceAuthFlow } from '../../src/config/schema.js';
import { connectionsFrom } from '../../src/dashboard/connections.js';
import { createDashboard } from '../../src/dashboard/server.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import { CustomerView } from '../../src/store/customer-view.js';
import { openDatabase, type CustomerViewConnection } from '../../src/store/database.js';
import { ADMIN_TOKEN, defaultMapping, randomPrefix, testConfig } from './dashboard-support.js';

describe('dashboard connections against the sandboxes', () => {
  let sandbox: RunningSandbox;
  let redis: Redis;
  let database: CustomerViewConnection;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ dataDir: mkdtempSync(join(tmpdir(), 'tandem-readyz-')) });
    redis = new Redis(process.env['TEST_REDIS_URL'] ?? '');
    database = await openDatabase({ dataDir: ':memory:' });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await database.close();
    redis.disconnect();
    await sandbox.stop();
  });

  function envFor(flow: SalesforceAuthFlow): Record<string, string> {
    const { hubspot, salesforce } = sandbox.credentials;
    const common = {
      HUBSPOT_BASE_URL: hubspot.baseUrl,
      HUBSPOT_ACCESS_TOKEN: hubspot.accessToken,
      SALESFORCE_LOGIN_URL: salesforce.loginUrl,
      SALESFORCE_INSTANCE_URL: salesforce.instanceUrl,
      SALESFORCE_API_VERSION: salesforce.apiVersion,
      SALESFORCE_AUTH_FLOW: flow,
      SALESFORCE_CLIENT_ID: salesforce.clientId,
    };
    switch (flow) {
      case 'client_credentials':
        return { ...common, SALESFORCE_CLIENT_SECRET: salesforce.clientSecret };
      case 'refresh_token':
        return {
          ...common,
          SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
          SALESFORCE_REFRESH_TOKEN: salesforce.refreshToken,
        };
      case 'jwt':
        return {
          ...common,
          SALESFORCE_JWT_PRIVATE_KEY_FILE: salesforce.jwtPrivateKeyFile,
          SALESFORCE_JWT_SUBJECT: salesforce.username,
        };
      case 'password':
        return {
          ...common,
          SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
          SALESFORCE_USERNAME: salesforce.username,
          SALESFORCE_PASSWORD: salesforce.password,
        };
    }
  }

  /** The dashboard listening on a free loopback port (light-my-request's inject does not load under Jest's ESM). */
  async function dashboardFor(flow: SalesforceAuthFlow): Promise<string> {
    const config = testConfig(randomPrefix(), envFor(flow));
    const app = await createDashboard({
      config,
      redis,
      customerView: new CustomerView(database.db),
      mapping: await defaultMapping(),
      connections: connectionsFrom(config),
    });
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  it('jsforce identity() finds the identity URL on the sandbox, as on Salesforce', async () => {
    const { salesforce } = sandbox.credentials;
    const conn = new jsforce.Connection({
      loginUrl: salesforce.instanceUrl,
      version: salesforce.apiVersion,
      oauth2: {
        loginUrl: salesforce.instanceUrl,
        clientId: salesforce.clientId,
        clientSecret: salesforce.clientSecret,
      },
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    const identity = await conn.identity();
    expect(identity).toMatchObject({
      id: `${salesforce.instanceUrl}/id/${identity.organization_id}/${identity.user_id}`,
      username: salesforce.username,
    });
    expect(identity.organization_id).toMatch(/^00D/);
    expect(identity.user_id).toMatch(/^005/);
    const bad = await fetch(`${identity.id}?format=json&oauth_token=not-a-token`);
    expect(bad.status).toBe(403);
  });

  it.each(SALESFORCE_AUTH_FLOWS)(
    '/readyz is ready with the %s flow, and after every token expired',
    async (flow) => {
      const base = await dashboardFor(flow);
      const first = await fetch(`${base}/readyz`);
      expect(await first.json()).toEqual({
        status: 'ready',
        checks: { redis: 'ok', hubspot: 'ok', salesforce: 'ok' },
        failed: [],
      });
      expect(first.status).toBe(200);
      sandbox.salesforce.expireAllTokens();
      const again = await fetch(`${base}/readyz`);
      expect(await again.json()).toMatchObject({ status: 'ready', checks: { salesforce: 'ok' } });
    },
  );

  it('the mapping is validated against the live schemas', async () => {
    const base = await dashboardFor('client_credentials');
    const api = await fetch(`${base}/api/mapping`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { valid: boolean; live: { checked: boolean; problems: unknown[] } };
    // The default mapping has warnings against the live schemas (a picklist copied unchanged…), no errors.
    expect(body).toMatchObject({ valid: true, live: { checked: true } });
    expect(body.live.problems).not.toContainEqual(expect.objectContaining({ severity: 'error' }));
  });
});
