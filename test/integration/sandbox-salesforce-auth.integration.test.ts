import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jsforce from 'jsforce';
import { sign } from 'node:crypto';
import {
  CREDENTIALS,
  rejection,
  startSalesforceSandbox,
  type RunningSalesforceSandbox,
} from './sandbox-salesforce-helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

function jwt(privateKeyPem: string, claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKeyPem).toString('base64url')}`;
}

describe('Salesforce sandbox: authentication through jsforce', () => {
  let running: RunningSalesforceSandbox;
  let clock = Date.parse('2024-06-01T00:00:00Z');

  beforeAll(async () => {
    running = await startSalesforceSandbox({ now: () => clock, accessTokenTtlMs: 60_000 });
  });
  afterAll(async () => {
    await running.close();
  });

  const countLeads = (conn: jsforce.Connection) =>
    conn.query('SELECT COUNT() FROM Lead').then((r) => r.totalSize);

  it('SOAP login (no OAuth2 client) yields a session whose instance URL is the server itself', async () => {
    const conn = new jsforce.Connection({ loginUrl: running.url, version: '62.0' });
    const info = await conn.login(CREDENTIALS.username, CREDENTIALS.password);
    expect(info.organizationId).toMatch(/^00D[a-zA-Z0-9]{15}$/);
    expect(info.id).toMatch(/^005[a-zA-Z0-9]{15}$/);
    expect(conn.instanceUrl).toBe(running.url);
    expect(await countLeads(conn)).toBe(0);
  });

  it('SOAP login with a wrong password fails with INVALID_LOGIN', async () => {
    const conn = new jsforce.Connection({ loginUrl: running.url, version: '62.0' });
    const error = await rejection(conn.login(CREDENTIALS.username, 'wrong'));
    expect(error.message).toMatch(/^INVALID_LOGIN: Invalid username, password/);
  });

  it('OAuth2 password grant returns the token response jsforce expects', async () => {
    const conn = await running.connect();
    expect(conn.instanceUrl).toBe(running.url);
    expect(conn.userInfo?.organizationId).toMatch(/^00D/);
    expect(await countLeads(conn)).toBe(0);
  });

  it('OAuth2 password grant with a wrong password fails with invalid_grant', async () => {
    const oauth2 = new jsforce.OAuth2({
      loginUrl: running.url,
      clientId: CREDENTIALS.clientId,
      clientSecret: CREDENTIALS.clientSecret,
    });
    const error = await rejection(oauth2.authenticate(CREDENTIALS.username, 'nope'));
    expect(error.name).toBe('invalid_grant');
    expect(error.message).toBe('authentication failure');
  });

  it('client_credentials grant', async () => {
    const conn = new jsforce.Connection({
      loginUrl: running.url,
      version: '62.0',
      oauth2: {
        loginUrl: running.url,
        clientId: CREDENTIALS.clientId,
        clientSecret: CREDENTIALS.clientSecret,
      },
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    expect(await countLeads(conn)).toBe(0);
    const wrong = new jsforce.Connection({
      loginUrl: running.url,
      oauth2: { loginUrl: running.url, clientId: CREDENTIALS.clientId, clientSecret: 'bad' },
    });
    expect((await rejection(wrong.authorize({ grant_type: 'client_credentials' }))).name).toBe(
      'invalid_client',
    );
  });

  it('JWT bearer grant with an assertion signed by the sandbox key; a foreign signature is refused', async () => {
    const claims = {
      iss: CREDENTIALS.clientId,
      sub: CREDENTIALS.username,
      aud: running.url,
      exp: clock / 1000 + 300,
    };
    const conn = new jsforce.Connection({
      loginUrl: running.url,
      version: '62.0',
      oauth2: { loginUrl: running.url },
    });
    await conn.authorize({
      grant_type: JWT_BEARER,
      assertion: jwt(running.sandbox.jwtPrivateKeyPem, claims),
    });
    expect(conn.instanceUrl).toBe(running.url);
    expect(await countLeads(conn)).toBe(0);

    const { generateKeyPairSync } = await import('node:crypto');
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const error = await rejection(
      conn.authorize({ grant_type: JWT_BEARER, assertion: jwt(String(foreign), claims) }),
    );
    expect(error.name).toBe('invalid_grant');
    const expired = { ...claims, exp: clock / 1000 - 1 };
    const expiredError = await rejection(
      conn.authorize({ grant_type: JWT_BEARER, assertion: jwt(running.sandbox.jwtPrivateKeyPem, expired) }),
    );
    expect(expiredError.name).toBe('invalid_grant');
  });

  it('after expireAllTokens(), jsforce refreshes with its refresh token and retries', async () => {
    const conn = new jsforce.Connection({
      version: '62.0',
      instanceUrl: running.url,
      accessToken: 'stale',
      refreshToken: CREDENTIALS.refreshToken,
      oauth2: {
        loginUrl: running.url,
        clientId: CREDENTIALS.clientId,
        clientSecret: CREDENTIALS.clientSecret,
      },
    });
    const refreshed: string[] = [];
    conn.on('refresh', (token: string) => refreshed.push(token));
    expect(await countLeads(conn)).toBe(0);
    expect(refreshed).toHaveLength(1);
    running.sandbox.expireAllTokens();
    expect(await countLeads(conn)).toBe(0);
    expect(refreshed).toHaveLength(2);
  });

  it('a password-login connection logs in again after its token expires by time', async () => {
    const conn = await running.connect();
    const firstToken = conn.accessToken;
    clock += 61_000;
    expect(await countLeads(conn)).toBe(0);
    expect(conn.accessToken).not.toBe(firstToken);
  });

  it('without a refresh path an expired token is INVALID_SESSION_ID (401)', async () => {
    const conn = new jsforce.Connection({
      version: '62.0',
      instanceUrl: running.url,
      accessToken: 'unknown-token',
    });
    const error = await rejection(countLeads(conn));
    expect(error.errorCode).toBe('INVALID_SESSION_ID');
    expect(error.message).toBe('Session expired or invalid');
  });

  it('a wrong refresh token is refused with invalid_grant', async () => {
    const oauth2 = new jsforce.OAuth2({
      loginUrl: running.url,
      clientId: CREDENTIALS.clientId,
      clientSecret: CREDENTIALS.clientSecret,
    });
    const error = await rejection(oauth2.refreshToken('not-the-token'));
    expect(error.name).toBe('invalid_grant');
  });
});
