import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZodError } from 'zod';
import { FaultInjector, NO_FAULTS, parseFaultSpec, type FaultSpec } from '../common/faults.js';
import { sendRecordPage } from '../common/record-page.js';
import { SandboxStats } from '../common/stats.js';
import type { SalesforceWorld } from '../world/schema.js';
import { DEFAULT_SALESFORCE_CREDENTIALS, SalesforceAuth, type SalesforceSandboxCredentials } from './auth.js';
import { Bulk2Jobs } from './bulk2.js';
import { registerBulk2Routes } from './bulk2-routes.js';
import { convertLead } from './convert-lead.js';
import { mergeRecords } from './merge.js';
import { QueryCursors } from './query-cursors.js';
import { RecordError } from './record-error.js';
import { registerRestRoutes, sendErrors } from './rest-routes.js';
import { SalesforceCatalog } from './schema/catalog.js';
import { SoqlError } from './soql/errors.js';
import { SalesforceStore } from './store.js';

export type { SalesforceSandboxCredentials } from './auth.js';

export interface SalesforceSandboxOptions {
  credentials?: Partial<SalesforceSandboxCredentials>;
  /** Versions `/services/data/` lists and serves; default 20.0 … 62.0. */
  apiVersions?: string[];
  /** Daily API requests; default 100,000 + 1,000 per licence for 15 licences. */
  dailyApiLimit?: number;
  /** Default 2 hours. */
  accessTokenTtlMs?: number;
  faults?: FaultSpec;
  faultSeed?: string;
  /** How long an injected timeout holds a request before dropping the connection; default 30 s. */
  faultTimeoutMs?: number;
  now?: () => number;
  logger?: boolean;
  /** Bulk API 2.0: status checks answering InProgress before a job completes (default 1). */
  bulkChecksBeforeComplete?: number;
  /** Bulk API 2.0: query result rows per page when the client sends no `maxRecords` (default 10,000). */
  bulkQueryPageSize?: number;
}

export interface SalesforceSandbox {
  app: FastifyInstance;
  loadWorld(world: SalesforceWorld): void;
  exportWorld(): SalesforceWorld;
  reset(): void;
  stats: SandboxStats;
  faults: FaultInjector;
  jwtPublicKeyPem: string;
  jwtPrivateKeyPem: string;
  expireAllTokens(): void;
  /** API requests counted against the daily limit so far. */
  apiUsage: { used: number; max: number };
}

export const DEFAULT_DAILY_API_LIMIT = 100_000 + 1_000 * 15;
const DEFAULT_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;

/** Release labels by API version: 60.0 was Spring '24, and each year has three releases. */
function releaseLabel(version: string): string {
  const major = Math.floor(Number(version));
  const offset = major - 60;
  const season = ['Spring', 'Summer', 'Winter'][((offset % 3) + 3) % 3] as string;
  const year = 24 + Math.floor(offset / 3) + (season === 'Winter' ? 1 : 0);
  return `${season} '${String(((year % 100) + 100) % 100).padStart(2, '0')}`;
}

function defaultVersions(): string[] {
  const versions: string[] = [];
  for (let v = 20; v <= 62; v += 1) versions.push(`${v}.0`);
  return versions;
}

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? 'localhost'}`;
}

/**
 * A Salesforce org over HTTP that jsforce cannot tell from the real one: OAuth2 and SOAP login,
 * REST query/sObjects/collections/describe/limits, per-request faults and a daily API quota.
 */
export async function createSalesforceSandbox(
  options: SalesforceSandboxOptions = {},
): Promise<SalesforceSandbox> {
  const credentials: SalesforceSandboxCredentials = {
    ...DEFAULT_SALESFORCE_CREDENTIALS,
    ...options.credentials,
  };
  const now = options.now ?? Date.now;
  const versions = options.apiVersions ?? defaultVersions();
  const catalog = new SalesforceCatalog();
  const store = new SalesforceStore({ catalog, now, username: credentials.username });
  const auth = new SalesforceAuth(
    credentials,
    { orgId: store.orgId, userId: store.userId },
    options.accessTokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
    now,
  );
  const stats = new SandboxStats();
  const faults = new FaultInjector(options.faults ?? NO_FAULTS, options.faultSeed ?? 'faults');
  const cursors = new QueryCursors();
  const apiUsage = { used: 0, max: options.dailyApiLimit ?? DEFAULT_DAILY_API_LIMIT };
  const faultTimeoutMs = options.faultTimeoutMs ?? 30_000;
  const bulk2 = new Bulk2Jobs({
    store,
    catalog,
    checksBeforeComplete: options.bulkChecksBeforeComplete ?? 1,
    defaultPageSize: options.bulkQueryPageSize ?? 10_000,
    onRecordsRead: (n) => {
      stats.recordsRead += n;
    },
    onRecordsWritten: (n) => {
      stats.recordsWritten += n;
    },
  });

  const app = Fastify({ logger: options.logger ?? false });
  await app.register(formbody);
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof RecordError) {
      return reply.code(error.httpStatus).send([error.toRestError()]);
    }
    if (error instanceof SoqlError) return sendErrors(reply, 400, error.errorCode, error.message);
    if (error instanceof ZodError) {
      return sendErrors(
        reply,
        400,
        'INVALID_INPUT',
        error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    const fastifyError = error as { statusCode?: number; message?: string; code?: string };
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyError.statusCode === 400) {
      return sendErrors(reply, 400, 'JSON_PARSER_ERROR', fastifyError.message ?? 'invalid JSON');
    }
    return sendErrors(reply, 500, 'UNKNOWN_EXCEPTION', fastifyError.message ?? String(error));
  });
  app.setNotFoundHandler((_request, reply) =>
    sendErrors(reply, 404, 'NOT_FOUND', 'The requested resource does not exist'),
  );

  // ---- Login ------------------------------------------------------------------------------------

  app.post('/services/oauth2/token', async (request, reply) => {
    const params = (request.body ?? {}) as Record<string, string | undefined>;
    const outcome = auth.token(params, baseUrlOf(request));
    return reply.code(outcome.ok ? 200 : outcome.status).send(outcome.body);
  });

  app.post('/services/oauth2/revoke', async (_request, reply) => reply.code(200).send());

  app.post(
    '/services/Soap/u/:version',
    async (request: FastifyRequest<{ Params: { version: string } }>, reply) => {
      const result = auth.soapLogin(String(request.body ?? ''), baseUrlOf(request), request.params.version);
      return reply.code(result.status).type('text/xml; charset=utf-8').send(result.xml);
    },
  );

  app.get('/services/data', async (_request, reply) => reply.redirect('/services/data/'));
  app.get('/services/data/', async () =>
    versions.map((version) => ({ label: releaseLabel(version), url: `/services/data/v${version}`, version })),
  );

  // ---- The identity service (the `id` of a token response, `identity` of /services/data/vXX.X) -----

  app.get(
    '/id/:orgId/:userId',
    async (
      request: FastifyRequest<{
        Params: { orgId: string; userId: string };
        Querystring: Record<string, string | undefined>;
      }>,
      reply,
    ) => {
      stats.recordCall('GET', '/id/{orgId}/{userId}');
      const token =
        /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ??
        request.query['oauth_token'] ??
        request.query['access_token'];
      // Salesforce answers a bad token here with a bare 403 "Bad_OAuth_Token", not the REST error list.
      if (token === undefined || !auth.isValid(token)) {
        return reply.code(403).type('text/plain; charset=utf-8').send('Bad_OAuth_Token');
      }
      const { orgId, userId } = request.params;
      if (orgId !== store.orgId || userId !== store.userId) {
        return reply.code(404).type('text/plain; charset=utf-8').send('Bad_Id');
      }
      const baseUrl = baseUrlOf(request);
      return identityOf(store, baseUrl, auth.identityUrl(baseUrl), request.query['version']);
    },
  );

  // ---- The REST API: auth, quota, faults, then the routes -------------------------------------

  await app.register(
    async (api) => {
      api.addHook(
        'onRequest',
        async (request: FastifyRequest<{ Params: { version?: string } }>, reply: FastifyReply) => {
          stats.recordCall(
            request.method,
            `/services/data/vXX.X${stripPrefix(request.routeOptions.url ?? request.url)}`,
          );
          reply.header('Sforce-Limit-Info', `api-usage=${apiUsage.used}/${apiUsage.max}`);
          const latency = faults.latency();
          if (latency > 0) await sleep(latency);
          const fault = faults.next();
          if (fault.kind === '5xx') {
            stats.faults['5xx'] += 1;
            return sendErrors(
              reply,
              503,
              'SERVER_UNAVAILABLE',
              'Server is unavailable at this time. Please try again later.',
            );
          }
          if (fault.kind === '429') {
            stats.faults['429'] += 1;
            stats.rateLimited += 1;
            return sendErrors(
              reply,
              403,
              'REQUEST_LIMIT_EXCEEDED',
              'ConcurrentPerOrgLongTxn Limit exceeded.',
            );
          }
          if (fault.kind === 'timeout') {
            stats.faults.timeout += 1;
            reply.hijack();
            await sleep(faultTimeoutMs);
            request.raw.socket.destroy();
            return reply;
          }
          const version = request.params.version ?? '';
          if (!versions.includes(version)) {
            return sendErrors(reply, 404, 'NOT_FOUND', 'The requested resource does not exist');
          }
          const token = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
          if (token === undefined || !auth.isValid(token)) {
            return sendErrors(reply, 401, 'INVALID_SESSION_ID', 'Session expired or invalid');
          }
          if (apiUsage.used >= apiUsage.max) {
            stats.rateLimited += 1;
            return sendErrors(reply, 403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
          }
          apiUsage.used += 1;
          reply.header('Sforce-Limit-Info', `api-usage=${apiUsage.used}/${apiUsage.max}`);
          return undefined;
        },
      );
      registerRestRoutes(api, {
        store,
        catalog,
        cursors,
        stats,
        limits: () => ({ ...apiUsage }),
        identityUrl: (request) => auth.identityUrl(baseUrlOf(request)),
      });
      registerBulk2Routes(api, bulk2);
    },
    { prefix: '/services/data/v:version' },
  );

  // ---- /__sandbox controls ------------------------------------------------------------------------

  const reset = () => {
    store.reset();
    cursors.clear();
    bulk2.clear();
    stats.reset();
    auth.expireAll();
    apiUsage.used = 0;
  };

  app.post('/__sandbox/reset', async () => {
    reset();
    return { ok: true };
  });
  app.post('/__sandbox/world', async (request) => {
    store.loadWorld(request.body as SalesforceWorld);
    cursors.clear();
    return { ok: true };
  });
  app.get('/__sandbox/world', async () => store.exportWorld());
  /** A record as a read-only HTML page (`Lead`, `Contact`, `Account`, `Opportunity`…), for record links. */
  app.get(
    '/__sandbox/records/:object/:id',
    async (request: FastifyRequest<{ Params: { object: string; id: string } }>, reply) =>
      sendRecordPage(request, reply, () => {
        const info = catalog.object(request.params.object);
        if (info === undefined) return undefined;
        let row: Record<string, unknown>;
        try {
          row = store.liveRow(info.name, request.params.id);
        } catch (error) {
          if (error instanceof RecordError) return undefined;
          throw error;
        }
        return { system: 'Salesforce', object: info.name, id: String(row['Id']), fields: row };
      }),
  );
  app.get('/__sandbox/stats', async () => ({ ...stats.snapshot(), apiUsage: { ...apiUsage } }));
  app.post('/__sandbox/stats/reset', async () => {
    stats.reset();
    return { ok: true };
  });
  app.post('/__sandbox/faults', async (request) => {
    const spec = (request.body as { spec?: string } | undefined)?.spec;
    faults.spec = parseFaultSpec(spec);
    return { ok: true, faults: faults.spec };
  });
  app.post('/__sandbox/expire-tokens', async () => {
    auth.expireAll();
    return { ok: true };
  });
  /** Sets the API requests used today (e.g. near the limit, to test quota handling). */
  app.post('/__sandbox/api-usage', async (request) => {
    const used = (request.body as { used?: unknown } | undefined)?.used;
    if (typeof used !== 'number' || !Number.isInteger(used) || used < 0) {
      throw new RecordError('INVALID_INPUT', 'body.used: expected a non-negative integer', ['used']);
    }
    apiUsage.used = used;
    return { ...apiUsage };
  });
  app.post('/__sandbox/convert-lead', async (request) => convertLead(store, request.body as never));
  app.post('/__sandbox/merge', async (request) => mergeRecords(store, request.body as never));

  return {
    app,
    loadWorld: (world) => {
      store.loadWorld(world);
      cursors.clear();
    },
    exportWorld: () => store.exportWorld(),
    reset,
    stats,
    faults,
    jwtPublicKeyPem: auth.jwtPublicKeyPem,
    jwtPrivateKeyPem: auth.jwtPrivateKeyPem,
    expireAllTokens: () => auth.expireAll(),
    apiUsage,
  };
}

/** The identity service's answer about the sandbox's one user, in Salesforce's shape. */
function identityOf(store: SalesforceStore, baseUrl: string, id: string, version: string | undefined) {
  const user: Record<string, unknown> = store.byId(store.userId) ?? {};
  const text = (key: string): string | null => {
    const value = user[key];
    return typeof value === 'string' ? value : null;
  };
  const v = version === undefined || version === '' ? '{version}' : version === 'latest' ? '62.0' : version;
  const services = (path: string) => `${baseUrl}/services/${path}`;
  return {
    id,
    asserted_user: true,
    user_id: store.userId,
    organization_id: store.orgId,
    username: text('Username'),
    nick_name: text('Alias'),
    display_name: text('Name'),
    email: text('Email'),
    email_verified: true,
    first_name: text('FirstName'),
    last_name: text('LastName'),
    timezone: 'GMT',
    status: { created_date: null, body: null },
    urls: {
      enterprise: services(`Soap/c/${v}/${store.orgId}`),
      metadata: services(`Soap/m/${v}/${store.orgId}`),
      partner: services(`Soap/u/${v}/${store.orgId}`),
      rest: services(`data/v${v}/`),
      sobjects: services(`data/v${v}/sobjects/`),
      search: services(`data/v${v}/search/`),
      query: services(`data/v${v}/query/`),
      recent: services(`data/v${v}/recent/`),
      profile: `${baseUrl}/${store.userId}`,
      custom_domain: baseUrl,
    },
    active: user['IsActive'] !== false,
    user_type: 'STANDARD',
    language: 'en_US',
    locale: 'en_US',
    utcOffset: 0,
    last_modified_date: text('LastModifiedDate'),
    is_app_installed: true,
  };
}

function stripPrefix(url: string): string {
  return url.replace(/^\/services\/data\/v[^/]+/, '');
}
