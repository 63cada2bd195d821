import { createHmac, generateKeyPairSync, randomBytes, verify } from 'node:crypto';

export interface SalesforceSandboxCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  refreshToken: string;
}

export const DEFAULT_SALESFORCE_CREDENTIALS: SalesforceSandboxCredentials = {
  clientId: 'tandem-sandbox-client',
  clientSecret: 'tandem-sandbox-secret',
  username: 'admin@tandem.sandbox',
  password: 'tandem-sandbox',
  refreshToken: 'tandem-sandbox-refresh',
};

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface TokenResponse {
  access_token: string;
  instance_url: string;
  id: string;
  token_type: 'Bearer';
  issued_at: string;
  signature: string;
  scope?: string;
}

export type TokenOutcome =
  | { ok: true; body: TokenResponse }
  | { ok: false; status: number; body: { error: string; error_description: string } };

/**
 * Access tokens and the grants that issue them, as the Salesforce token endpoint answers
 * (`/services/oauth2/token`) and as SOAP `login` issues session ids.
 */
export class SalesforceAuth {
  readonly jwtPublicKeyPem: string;
  readonly jwtPrivateKeyPem: string;
  private readonly tokens = new Map<string, number>();

  constructor(
    readonly credentials: SalesforceSandboxCredentials,
    private readonly ids: { orgId: string; userId: string },
    private readonly accessTokenTtlMs: number,
    private readonly now: () => number,
  ) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    this.jwtPublicKeyPem = publicKey;
    this.jwtPrivateKeyPem = privateKey;
  }

  issueAccessToken(): string {
    const token = `${this.ids.orgId.slice(0, 15)}!AQ${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, this.now() + this.accessTokenTtlMs);
    return token;
  }

  isValid(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.tokens.delete(token);
      return false;
    }
    return true;
  }

  expireAll(): void {
    this.tokens.clear();
  }

  /** The identity URL `…/id/{orgId}/{userId}` jsforce parses the ids from. */
  identityUrl(baseUrl: string): string {
    return `${baseUrl}/id/${this.ids.orgId}/${this.ids.userId}`;
  }

  /** One POST to the token endpoint, form fields already parsed. */
  token(params: Record<string, string | undefined>, baseUrl: string): TokenOutcome {
    const grant = params['grant_type'];
    const fail = (error: string, description: string, status = 400): TokenOutcome => ({
      ok: false,
      status,
      body: { error, error_description: description },
    });
    const { clientId, clientSecret, username, password, refreshToken } = this.credentials;
    switch (grant) {
      case 'password':
        if (params['client_id'] !== clientId) return fail('invalid_client_id', 'client identifier invalid');
        if (params['client_secret'] !== clientSecret)
          return fail('invalid_client', 'invalid client credentials');
        if (params['username'] !== username || params['password'] !== password) {
          return fail('invalid_grant', 'authentication failure');
        }
        return this.success(baseUrl);
      case 'refresh_token':
        if (params['client_id'] !== clientId) return fail('invalid_client_id', 'client identifier invalid');
        if (params['client_secret'] !== undefined && params['client_secret'] !== clientSecret) {
          return fail('invalid_client', 'invalid client credentials');
        }
        if (params['refresh_token'] !== refreshToken)
          return fail('invalid_grant', 'expired access/refresh token');
        return this.success(baseUrl);
      case 'client_credentials':
        if (params['client_id'] !== clientId) return fail('invalid_client_id', 'client identifier invalid');
        if (params['client_secret'] !== clientSecret)
          return fail('invalid_client', 'invalid client credentials');
        return this.success(baseUrl);
      case JWT_BEARER_GRANT: {
        const problem = this.jwtProblem(params['assertion']);
        return problem === null ? this.success(baseUrl) : fail(problem.error, problem.description);
      }
      default:
        return fail('unsupported_grant_type', 'grant type not supported');
    }
  }

  private success(baseUrl: string): TokenOutcome {
    const issuedAt = String(this.now());
    const id = this.identityUrl(baseUrl);
    const signature = createHmac('sha256', this.credentials.clientSecret)
      .update(id + issuedAt)
      .digest('base64');
    return {
      ok: true,
      body: {
        access_token: this.issueAccessToken(),
        instance_url: baseUrl,
        id,
        token_type: 'Bearer',
        issued_at: issuedAt,
        signature,
        scope: 'api refresh_token',
      },
    };
  }

  /** RS256 JWT: signed by the sandbox's key, iss = client id, sub = username, exp in the future. */
  private jwtProblem(assertion: string | undefined): { error: string; description: string } | null {
    const invalid = { error: 'invalid_grant', description: 'invalid assertion' };
    const parts = assertion?.split('.');
    if (parts?.length !== 3) return invalid;
    const [header, payload, signature] = parts as [string, string, string];
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; exp?: unknown };
    try {
      const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
      if (head.alg !== 'RS256') return invalid;
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return invalid;
    }
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${payload}`),
      this.jwtPublicKeyPem,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return invalid;
    if (claims.iss !== this.credentials.clientId) {
      return { error: 'invalid_client_id', description: 'client identifier invalid' };
    }
    if (claims.sub !== this.credentials.username) {
      return { error: 'invalid_grant', description: 'user hasn\u2019t approved this consumer' };
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) {
      return { error: 'invalid_grant', description: 'expired authorization code' };
    }
    return null;
  }

  /** SOAP `login`: the envelope jsforce reads sessionId, serverUrl, userId and organizationId from. */
  soapLogin(xml: string, baseUrl: string, version: string): { status: number; xml: string } {
    const username = unescapeXml(/<username>([^<]*)<\/username>/.exec(xml)?.[1] ?? '');
    const password = unescapeXml(/<password>([^<]*)<\/password>/.exec(xml)?.[1] ?? '');
    const envelope = (body: string) =>
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
    if (username !== this.credentials.username || password !== this.credentials.password) {
      return {
        status: 500,
        xml: envelope(
          '<soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault xmlns:sf="urn:fault.partner.soap.sforce.com" xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>',
        ),
      };
    }
    const { orgId, userId } = this.ids;
    const sessionId = this.issueAccessToken();
    return {
      status: 200,
      xml: envelope(
        `<loginResponse><result><metadataServerUrl>${baseUrl}/services/Soap/m/${version}/${orgId}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>true</sandbox><serverUrl>${baseUrl}/services/Soap/u/${version}/${orgId}</serverUrl><sessionId>${sessionId}</sessionId><userId>${userId}</userId><userInfo><organizationId>${orgId}</organizationId><organizationName>Tandem Sandbox</organizationName><sessionSecondsValid>${Math.floor(this.accessTokenTtlMs / 1000)}</sessionSecondsValid><userEmail>${this.credentials.username}</userEmail><userId>${userId}</userId><userName>${this.credentials.username}</userName></userInfo></result></loginResponse>`,
      ),
    };
  }
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
