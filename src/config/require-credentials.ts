// Credentials are optional as a whole (`sandbox` and `mappings validate` need none); commands that talk to
// a CRM call these first and get a complete, typed connection config or a list of what is missing.
// Commands that talk to both CRMs call `requireCredentials`, which lists both systems' problems at once.
import { ConfigError, type ConfigProblem } from './config-error.js';
import { SALESFORCE_AUTH_FLOWS, type TandemConfig } from './schema.js';

export interface HubSpotConnectionConfig {
  accessToken: string;
  baseUrl: string;
  limits: { perTenSeconds: number; perDay: number };
  dailyBudgetPercent: number;
  tenSecondSharePercent: number;
}

export type SalesforceAuth =
  | { flow: 'client_credentials'; clientId: string; clientSecret: string }
  | { flow: 'refresh_token'; clientId: string; clientSecret?: string; refreshToken: string }
  | { flow: 'jwt'; clientId: string; privateKey: string; subject: string }
  | {
      flow: 'password';
      username: string;
      password: string;
      securityToken?: string;
      clientId?: string;
      clientSecret?: string;
    };

export interface SalesforceConnectionConfig {
  loginUrl: string;
  instanceUrl?: string;
  apiVersion: string;
  auth: SalesforceAuth;
}

export interface ConnectionConfigs {
  hubspot: HubSpotConnectionConfig;
  salesforce: SalesforceConnectionConfig;
}

/** A connection config, or every problem that keeps it from being one. */
type Checked<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

/**
 * Both systems' connection configs, for commands that talk to both CRMs (`worker`, `sync`,
 * `mappings validate --live`). Throws one ConfigError listing what is missing for HubSpot and for
 * Salesforce together, so a first run shows every variable to set at once.
 *
 * @example
 * const { hubspot, salesforce } = requireCredentials(loadConfig());
 */
export function requireCredentials(config: TandemConfig): ConnectionConfigs {
  const hubspot = checkHubSpot(config);
  const salesforce = checkSalesforce(config);
  if (hubspot.ok && salesforce.ok) return { hubspot: hubspot.value, salesforce: salesforce.value };
  throw missing([...(hubspot.ok ? [] : hubspot.problems), ...(salesforce.ok ? [] : salesforce.problems)]);
}

/** HubSpot's connection config alone (the dashboard checks each system on its own). */
export function requireHubSpot(config: TandemConfig): HubSpotConnectionConfig {
  return valueOrThrow(checkHubSpot(config));
}

/** Salesforce's connection config alone. */
export function requireSalesforce(config: TandemConfig): SalesforceConnectionConfig {
  return valueOrThrow(checkSalesforce(config));
}

function valueOrThrow<T>(checked: Checked<T>): T {
  if (!checked.ok) throw missing(checked.problems);
  return checked.value;
}

function checkHubSpot(config: TandemConfig): Checked<HubSpotConnectionConfig> {
  const { accessToken, baseUrl, limits, dailyBudgetPercent, tenSecondSharePercent } = config.hubspot;
  if (accessToken === undefined) {
    return {
      ok: false,
      problems: [
        {
          variable: 'HUBSPOT_ACCESS_TOKEN',
          message: 'expected a HubSpot private app access token (Settings → Integrations → Private Apps)',
          origin: { kind: 'unset' },
        },
      ],
    };
  }
  return {
    ok: true,
    value: { accessToken, baseUrl, limits: { ...limits }, dailyBudgetPercent, tenSecondSharePercent },
  };
}

const GENERIC_LOGIN_HOSTS = new Set(['login.salesforce.com', 'test.salesforce.com']);

function checkSalesforce(config: TandemConfig): Checked<SalesforceConnectionConfig> {
  const sf = config.salesforce;
  const c = sf.credentials;
  const problems: ConfigProblem[] = [];
  const need = (variable: string, value: string | undefined, what: string): string | undefined => {
    if (value === undefined)
      problems.push({ variable, message: `expected ${what}`, origin: { kind: 'unset' } });
    return value;
  };
  const consumerKey = (): string | undefined =>
    need('SALESFORCE_CLIENT_ID', c.clientId, 'the connected app consumer key');

  let auth: SalesforceAuth | undefined;
  switch (sf.authFlow) {
    case undefined:
      problems.push({
        variable: 'SALESFORCE_AUTH_FLOW',
        message: `expected one of ${SALESFORCE_AUTH_FLOWS.join(', ')}`,
        origin: { kind: 'unset' },
      });
      break;
    case 'client_credentials': {
      const clientId = consumerKey();
      const clientSecret = need(
        'SALESFORCE_CLIENT_SECRET',
        c.clientSecret,
        'the connected app consumer secret',
      );
      // Salesforce refuses the client credentials grant on login.salesforce.com: it needs the My Domain URL.
      const host = new URL(sf.loginUrl).host;
      if (GENERIC_LOGIN_HOSTS.has(host) && sf.instanceUrl === undefined) {
        problems.push({
          variable: 'SALESFORCE_INSTANCE_URL',
          message: `expected your My Domain URL (e.g. https://acme.my.salesforce.com): the client_credentials flow does not work through ${host}`,
          origin: { kind: 'unset' },
        });
      }
      if (clientId !== undefined && clientSecret !== undefined) {
        auth = { flow: 'client_credentials', clientId, clientSecret };
      }
      break;
    }
    case 'refresh_token': {
      const clientId = consumerKey();
      const refreshToken = need('SALESFORCE_REFRESH_TOKEN', c.refreshToken, 'an OAuth refresh token');
      if (clientId !== undefined && refreshToken !== undefined) {
        auth = {
          flow: 'refresh_token',
          clientId,
          refreshToken,
          ...(c.clientSecret !== undefined ? { clientSecret: c.clientSecret } : {}),
        };
      }
      break;
    }
    case 'jwt': {
      const clientId = consumerKey();
      const privateKey = need(
        'SALESFORCE_JWT_PRIVATE_KEY or SALESFORCE_JWT_PRIVATE_KEY_FILE',
        c.jwtPrivateKey,
        'the PEM private key whose certificate is uploaded to the connected app',
      );
      const subject = need('SALESFORCE_JWT_SUBJECT', c.jwtSubject, 'the username of the integration user');
      if (clientId !== undefined && privateKey !== undefined && subject !== undefined) {
        auth = { flow: 'jwt', clientId, privateKey, subject };
      }
      break;
    }
    case 'password': {
      const username = need('SALESFORCE_USERNAME', c.username, 'the integration user’s username');
      const password = need('SALESFORCE_PASSWORD', c.password, 'the integration user’s password');
      if (username !== undefined && password !== undefined) {
        auth = {
          flow: 'password',
          username,
          password,
          ...(c.securityToken !== undefined ? { securityToken: c.securityToken } : {}),
          ...(c.clientId !== undefined ? { clientId: c.clientId } : {}),
          ...(c.clientSecret !== undefined ? { clientSecret: c.clientSecret } : {}),
        };
      }
      break;
    }
  }

  if (auth === undefined || problems.length > 0) return { ok: false, problems };
  const result: SalesforceConnectionConfig = { loginUrl: sf.loginUrl, apiVersion: sf.apiVersion, auth };
  if (sf.instanceUrl !== undefined) result.instanceUrl = sf.instanceUrl;
  return { ok: true, value: result };
}

function missing(problems: ConfigProblem[]): ConfigError {
  return new ConfigError(problems, 'Missing credentials');
}
