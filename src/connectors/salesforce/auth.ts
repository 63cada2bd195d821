// A jsforce Connection for any of the four configured OAuth flows, that gets a fresh token by itself when
// Salesforce answers 401 INVALID_SESSION_ID. jsforce refreshes only when it has a refresh path: the
// refresh_token flow has one built in; for client_credentials and JWT we hand it a `refreshFn` that re-runs
// the grant (those grants issue no refresh token); `conn.login()` installs its own re-login for password.
import jsforce, { type Connection } from 'jsforce';
import { sign } from 'node:crypto';
import type { SalesforceAuth, SalesforceConnectionConfig } from '../../config/index.js';

export const DEFAULT_SALESFORCE_API_VERSION = '62.0';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Salesforce accepts JWT assertions valid for at most 3 minutes. */
const JWT_LIFETIME_S = 180;

interface TokenResponse {
  access_token: string;
  instance_url: string;
  id: string;
  refresh_token?: string;
}

export interface ConnectOptions {
  /** Epoch ms, for the JWT `exp` claim. */
  now?: () => number;
}

/**
 * Authorises against `config.loginUrl` (client_credentials: the My Domain / instance URL) and returns a
 * connection whose 401s trigger one re-authorisation and a replay of the request.
 *
 * @example
 * const conn = await connectSalesforce(requireSalesforce(loadConfig()));
 */
export async function connectSalesforce(
  config: SalesforceConnectionConfig,
  options: ConnectOptions = {},
): Promise<Connection> {
  const version = config.apiVersion || DEFAULT_SALESFORCE_API_VERSION;
  const auth = config.auth;
  const now = options.now ?? Date.now;
  // The client credentials grant must go to the org's own domain, never login.salesforce.com.
  const tokenUrl =
    auth.flow === 'client_credentials' ? (config.instanceUrl ?? config.loginUrl) : config.loginUrl;
  const oauth2 = oauth2Of(auth, tokenUrl);

  if (auth.flow === 'password') {
    const conn = new jsforce.Connection({
      loginUrl: config.loginUrl,
      version,
      ...(oauth2 !== undefined ? { oauth2 } : {}),
    });
    disableJsforceRetries(conn);
    await conn.login(auth.username, auth.password + (auth.securityToken ?? ''));
    return conn;
  }

  const conn: Connection = new jsforce.Connection({
    loginUrl: tokenUrl,
    version,
    ...(oauth2 !== undefined ? { oauth2 } : {}),
    refreshFn: (c, callback) => {
      grant(c, auth, tokenUrl, now).then(
        (token) => {
          c.instanceUrl = token.instance_url;
          callback(null, token.access_token, token as never);
        },
        (error: unknown) => callback(error as Error),
      );
    },
  });
  disableJsforceRetries(conn);
  const token = await grant(conn, auth, tokenUrl, now);
  conn.accessToken = token.access_token;
  conn.instanceUrl = token.instance_url;
  return conn;
}

function oauth2Of(
  auth: SalesforceAuth,
  loginUrl: string,
): { loginUrl: string; clientId: string; clientSecret?: string } | undefined {
  if (auth.clientId === undefined) return undefined;
  const secret = 'clientSecret' in auth ? auth.clientSecret : undefined;
  return { loginUrl, clientId: auth.clientId, ...(secret !== undefined ? { clientSecret: secret } : {}) };
}

async function grant(
  conn: Connection,
  auth: Exclude<SalesforceAuth, { flow: 'password' }>,
  tokenUrl: string,
  now: () => number,
): Promise<TokenResponse> {
  switch (auth.flow) {
    case 'client_credentials':
      return (await conn.oauth2.requestToken({ grant_type: 'client_credentials' })) as TokenResponse;
    case 'refresh_token':
      return (await conn.oauth2.refreshToken(auth.refreshToken)) as TokenResponse;
    case 'jwt':
      return (await conn.oauth2.requestToken({
        grant_type: JWT_BEARER_GRANT,
        assertion: jwtAssertion(auth, tokenUrl, now()),
      })) as TokenResponse;
  }
}

/** RS256 JWT bearer assertion: iss = consumer key, sub = username, aud = login URL, exp ≤ 3 minutes. */
export function jwtAssertion(
  auth: { clientId: string; privateKey: string; subject: string },
  audience: string,
  nowMs: number,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    iss: auth.clientId,
    sub: auth.subject,
    aud: audience,
    exp: Math.floor(nowMs / 1000) + JWT_LIFETIME_S,
  };
  const unsigned = `${encode({ alg: 'RS256' })}.${encode(claims)}`;
  const signature = sign('RSA-SHA256', Buffer.from(unsigned), auth.privateKey).toString('base64url');
  return `${unsigned}.${signature}`;
}

interface RetryableTransport {
  httpRequest(request: unknown, options?: { retry?: Record<string, unknown> }): unknown;
}

/**
 * jsforce retries GET/PUT/DELETE 5 times on 420/429/5xx and network errors (0.5 s × 2^n, about 15 s before
 * the error surfaces) but never POST/PATCH. Tandem retries every call itself (classify → p-retry with
 * jitter), so jsforce's own retry is turned off for this connection's transport only.
 */
export function disableJsforceRetries(conn: Connection): void {
  const transport = (conn as unknown as { _transport: RetryableTransport })._transport;
  const original = transport.httpRequest.bind(transport);
  transport.httpRequest = (request, options = {}) =>
    original(request, { ...options, retry: { ...options.retry, maxRetries: 0 } });
}
