import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import { Queue } from 'bullmq';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { TandemConfig } from '../config/index.js';
import { describeMapping } from '../domain/mapping/describe.js';
import { mappingVersion, validateMapping } from '../domain/mapping/check.js';
import { validateAgainstLiveSchema, type LiveSchema } from '../domain/mapping/live.js';
import type { MappingProblem } from '../domain/mapping/problem.js';
import { createLogger, type Logger } from '../logging.js';
import { ClusterMetrics } from '../observability/cluster-metrics.js';
import { metrics as sharedMetrics, type TandemMetrics } from '../observability/metrics.js';
import { ALL_QUEUES, bullPrefix } from '../queues/names.js';
import type { PersonView } from '../store/customer-view-types.js';
import { RedisKeys } from '../store/redis/keys.js';
import { TandemBoardAdapter } from './bull-board-adapter.js';
import { bearerToken, resolveTokens, roleForToken, SessionStore, type Role, type Session } from './auth.js';
import { recordUrl, type RecordLinkSettings } from './links.js';
import { buildOverview, type DashboardCustomerView } from './overview.js';
import {
  customerPage,
  errorPage,
  failuresPage,
  funnelPage,
  loginPage,
  mappingPage,
  overviewPage,
  replayPage,
  type MappingPageData,
  type PageContext,
} from './pages.js';
import { QueueBoard, ReplaySelectionError, type JobRef, type ReplaySelection } from './queues.js';

/** Checks that each CRM accepts Tandem's credentials (for `/readyz`), and optionally reads live schemas. */
export interface DashboardConnections {
  checkHubSpot(): Promise<boolean>;
  checkSalesforce(): Promise<boolean>;
  /** Both systems' schemas, for validating the mapping live on the Mapping page. */
  readLiveSchema?(): Promise<LiveSchema>;
}

export interface DashboardOptions {
  config: TandemConfig;
  /** Redis for checkpoints, budgets, login sessions, replay records and readiness; also the queues' connection when `queues` is not given. */
  redis: Redis;
  /** The BullMQ queues to show; by default every Tandem queue under `bullPrefix(config.redis.prefix)`. */
  queues?: readonly Queue[];
  customerView: DashboardCustomerView;
  mapping: { text: string; file: string };
  connections?: DashboardConnections;
  now?: () => Date;
  logger?: Logger;
  /** Defaults to the process-wide registry that workers and connectors also increment. */
  metrics?: TandemMetrics;
  /** The HubSpot account id, for links to records in HubSpot's UI. */
  hubspotPortalId?: string;
  /** Login attempts allowed per IP per window (default 10 per minute). */
  loginRateLimit?: { max: number; timeWindowMs: number };
  /** How long a login lasts (default 8 hours). */
  sessionTtlMs?: number;
  /** Failed jobs on one Failures page (default 100). */
  failuresPageSize?: number;
  /** Failed jobs read from Redis per call when listing or replaying them (default 1000). */
  failedReadPageSize?: number;
}

const SESSION_COOKIE = 'tandem_session';
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/login']);
const BOARD_BASE = '/admin/queues';
const VIEWER_BOARD_BASE = '/admin/queues-readonly';
const STATIC_DIR = new URL('./static/', import.meta.url);
const require = createRequire(import.meta.url);

declare module 'fastify' {
  interface FastifyRequest {
    tandemAuth?: { role: Role; via: 'bearer' | 'session'; session?: Session };
  }
}

type AppInstance = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

function underBase(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`);
}

function isBoardPath(path: string): boolean {
  return underBase(path, BOARD_BASE) || underBase(path, VIEWER_BOARD_BASE);
}

function isApiPath(path: string): boolean {
  return (
    path.startsWith('/api/') ||
    path === '/metrics' ||
    path.startsWith(`${BOARD_BASE}/api/`) ||
    path.startsWith(`${VIEWER_BOARD_BASE}/api/`)
  );
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/';
}

function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : '/';
}

/**
 * The admin dashboard: Tandem's own pages and JSON API, the bull-board queue inspector at `/admin/queues`,
 * `/metrics`, `/healthz` and `/readyz`. Everything but the health checks needs a login (or a bearer token
 * for the API and `/metrics`); viewers read, admins also replay.
 *
 * @example
 * const app = await createDashboard({ config, redis, customerView, mapping: { text, file } });
 * await app.listen({ host: config.dashboard.host, port: config.dashboard.port });
 */
export async function createDashboard(options: DashboardOptions): Promise<FastifyInstance> {
  const { config, customerView } = options;
  const now = options.now ?? (() => new Date());
  const tokens = resolveTokens(config.dashboard.host, config.dashboard);
  const log = options.logger ?? createLogger(config);
  const metrics = options.metrics ?? sharedMetrics;
  const redis = options.redis;
  const sessions = new SessionStore(
    redis,
    new RedisKeys(config.redis.prefix),
    options.sessionTtlMs ?? 8 * 3_600_000,
    () => now().getTime(),
  );
  const ownQueues = options.queues === undefined;
  const queues =
    options.queues ??
    ALL_QUEUES.map((name) => new Queue(name, { connection: redis, prefix: bullPrefix(config.redis.prefix) }));
  const links: RecordLinkSettings = {
    hubspotBaseUrl: config.hubspot.baseUrl,
    ...(options.hubspotPortalId === undefined ? {} : { hubspotPortalId: options.hubspotPortalId }),
    ...(config.salesforce.instanceUrl === undefined
      ? {}
      : { salesforceInstanceUrl: config.salesforce.instanceUrl }),
  };
  const clusterMetrics = new ClusterMetrics(metrics, redis, new RedisKeys(config.redis.prefix));
  const board = new QueueBoard({
    queues,
    redis,
    prefix: config.redis.prefix,
    links,
    now,
    ...(options.failedReadPageSize === undefined ? {} : { failedPageSize: options.failedReadPageSize }),
  });
  const failuresPageSize = Math.max(1, options.failuresPageSize ?? 100);
  const mapping = mappingState(options.mapping, options.connections);

  const app: AppInstance = Fastify({ loggerInstance: log, disableRequestLogging: true, trustProxy: false });
  if (ownQueues) app.addHook('onClose', async () => void (await Promise.all(queues.map((q) => q.close()))));

  await app.register(fastifyCookie, { secret: sessionCookieSecret(tokens.adminToken) });
  await app.register(fastifyFormbody);
  await app.register(fastifyRateLimit, { global: false });

  // --- security headers and authentication -----------------------------------------------------------
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    const path = pathOf(request);
    if (!isBoardPath(path)) {
      reply.header(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
    }
    if (request.tandemAuth !== undefined) reply.header('cache-control', 'no-store');
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request);
    if (PUBLIC_PATHS.has(path) || path.startsWith('/static/')) return;

    const bearer = bearerToken(request.headers.authorization);
    if (bearer !== undefined && isApiPath(path)) {
      const role = roleForToken(tokens, bearer);
      if (role === undefined) return reply.code(401).send({ error: 'invalid token' });
      request.tandemAuth = { role, via: 'bearer' };
    } else {
      const signed = request.cookies[SESSION_COOKIE];
      const unsigned = signed === undefined ? undefined : request.unsignCookie(signed);
      const session = unsigned?.valid === true ? await sessions.get(unsigned.value ?? undefined) : undefined;
      if (session === undefined) {
        if (isApiPath(path)) return reply.code(401).send({ error: 'login required' });
        if (request.method !== 'GET')
          return reply
            .code(401)
            .type('text/html')
            .send(errorPage(undefined, 401, 'Log in first.'));
        return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
      }
      request.tandemAuth = { role: session.role, via: 'session', session };
    }

    const auth = request.tandemAuth;
    if (auth.role === 'viewer' && underBase(path, BOARD_BASE)) {
      // Viewers get the read-only queue board.
      if (
        request.method === 'GET' &&
        !path.startsWith(`${BOARD_BASE}/api/`) &&
        !path.startsWith(`${BOARD_BASE}/static/`)
      ) {
        return reply.redirect(VIEWER_BOARD_BASE + request.url.slice(BOARD_BASE.length), 303);
      }
    }
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      if (auth.role !== 'admin' && path !== '/logout') {
        return sendError(request, reply, 403, 'read-only access: only an admin can change anything');
      }
      // bull-board's own UI cannot carry our CSRF token; its requests must come from this origin.
      // (Tandem's own forms and API are checked for the token in preHandler, once the body is parsed.)
      if (auth.via === 'session' && isBoardPath(path) && !sameOrigin(request)) {
        return sendError(request, reply, 403, 'cross-site request refused');
      }
    }
  });
  // Form and JSON bodies are parsed after onRequest: check CSRF for session requests in preHandler too.
  app.addHook('preHandler', async (request, reply) => {
    const auth = request.tandemAuth;
    const path = pathOf(request);
    if (auth?.via !== 'session' || auth.session === undefined || isBoardPath(path)) return;
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return;
    const body = request.body as Record<string, unknown> | undefined;
    const given = headerValue(request.headers['x-csrf-token']) ?? fieldValue(body?.['_csrf']);
    if (!sessions.checkCsrf(auth.session, given))
      return sendError(request, reply, 403, 'missing or invalid CSRF token');
  });

  function ctxOf(request: FastifyRequest): PageContext {
    const auth = request.tandemAuth;
    if (auth === undefined) throw new HttpError(401, 'login required');
    return {
      role: auth.role,
      path: pathOf(request),
      ...(auth.session === undefined ? {} : { csrfToken: sessions.csrfToken(auth.session) }),
    };
  }

  function sendError(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    message: string,
  ): FastifyReply {
    if (isApiPath(pathOf(request)) || request.headers.accept?.includes('application/json') === true) {
      return reply.code(status).send({ error: message });
    }
    const ctx = request.tandemAuth === undefined ? undefined : ctxOf(request);
    return reply
      .code(status)
      .type('text/html')
      .send(errorPage(ctx, status, message));
  }

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error, path: pathOf(request) }, 'dashboard request failed');
    const message =
      status >= 500 ? 'Something went wrong; the details are in the server log.' : error.message;
    return sendError(request, reply, status, message);
  });

  // --- health --------------------------------------------------------------------------------------------
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    const check = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        const ok = await withTimeout(fn(), 5_000);
        checks[name] = ok === false ? 'not authenticated' : 'ok';
      } catch (error) {
        checks[name] =
          `unreachable: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
      }
    };
    const connections = options.connections;
    await Promise.all([
      check('redis', async () => (await redis.ping()) === 'PONG'),
      connections === undefined
        ? Promise.resolve(void (checks['hubspot'] = 'not configured'))
        : check('hubspot', () => connections.checkHubSpot()),
      connections === undefined
        ? Promise.resolve(void (checks['salesforce'] = 'not configured'))
        : check('salesforce', () => connections.checkSalesforce()),
    ]);
    const failed = Object.entries(checks)
      .filter(([, v]) => v !== 'ok')
      .map(([k]) => k);
    return reply
      .code(failed.length === 0 ? 200 : 503)
      .send({ status: failed.length === 0 ? 'ready' : 'not ready', checks, failed });
  });

  // --- login -----------------------------------------------------------------------------------------------
  const loginLimit = options.loginRateLimit ?? { max: 10, timeWindowMs: 60_000 };
  app.get('/login', async (request, reply) =>
    reply
      .type('text/html')
      .send(loginPage({ next: safeNext((request.query as Record<string, unknown>)['next']) })),
  );
  app.post(
    '/login',
    { config: { rateLimit: { max: loginLimit.max, timeWindow: loginLimit.timeWindowMs } } },
    async (request, reply) => {
      if (!sameOrigin(request)) return sendError(request, reply, 403, 'cross-site login refused');
      const body = (request.body ?? {}) as Record<string, unknown>;
      const token = fieldValue(body['token']) ?? '';
      const next = safeNext(fieldValue(body['next']));
      const role = token === '' ? undefined : roleForToken(tokens, token);
      if (role === undefined) {
        request.log.warn({ ip: request.ip }, 'dashboard login refused');
        return reply
          .code(401)
          .type('text/html')
          .send(loginPage({ next, error: 'That token is not valid.' }));
      }
      const session = await sessions.create(role);
      request.log.info({ role }, 'dashboard login');
      return reply
        .setCookie(SESSION_COOKIE, session.id, {
          signed: true,
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
          path: '/',
          maxAge: Math.floor((session.expiresAt - now().getTime()) / 1000),
        })
        .redirect(next, 303);
    },
  );
  app.post('/logout', async (request, reply) => {
    await sessions.destroy(request.tandemAuth?.session?.id);
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).redirect('/login', 303);
  });

  // --- static files -------------------------------------------------------------------------------------
  // chart.js exports no subpath for its UMD build; it sits beside the CommonJS entry.
  const chartJsPath = join(dirname(require.resolve('chart.js')), 'chart.umd.js');
  const statics: Record<string, { file: string | URL; type: string }> = {
    'dashboard.css': { file: new URL('dashboard.css', STATIC_DIR), type: 'text/css; charset=utf-8' },
    'dashboard.js': { file: new URL('dashboard.js', STATIC_DIR), type: 'text/javascript; charset=utf-8' },
    'chart.umd.js': { file: chartJsPath, type: 'text/javascript; charset=utf-8' },
  };
  const staticCache = new Map<string, Buffer>();
  app.get('/static/:file', async (request, reply) => {
    const name = (request.params as { file: string }).file;
    const entry = Object.hasOwn(statics, name) ? statics[name] : undefined;
    if (entry === undefined) return reply.code(404).send({ error: 'not found' });
    let content = staticCache.get(name);
    if (content === undefined) {
      content = await readFile(entry.file);
      staticCache.set(name, content);
    }
    return reply.type(entry.type).header('cache-control', 'public, max-age=300').send(content);
  });

  // --- overview -------------------------------------------------------------------------------------------
  const overview = () => buildOverview({ customerView, redis, config, now: now(), queues });
  app.get('/api/overview', async () => ({ ...(await overview()), queues: await board.depths() }));
  app.get('/api/queues', async () => ({ queues: await board.depths() }));
  app.get('/', async (request, reply) => {
    const [o, depths] = await Promise.all([overview(), board.depths()]);
    return reply.type('text/html').send(overviewPage(ctxOf(request), o, depths));
  });

  // --- failures and replays ---------------------------------------------------------------------------
  app.get('/api/failures', async (request) => {
    const offset = wholeNumber(queryString(request, 'offset'), 'offset') ?? 0;
    const limit = Math.max(1, Math.min(wholeNumber(queryString(request, 'limit'), 'limit') ?? 1000, 5000));
    return board.failurePage(offset, limit);
  });
  const failuresPageOf = async (request: FastifyRequest) => {
    const page = Math.max(1, wholeNumber(queryString(request, 'page'), 'page') ?? 1);
    return board.failurePage((page - 1) * failuresPageSize, failuresPageSize);
  };
  app.get('/failures', async (request, reply) => {
    const [failures, replays] = await Promise.all([failuresPageOf(request), board.recentReplays(10)]);
    return reply.type('text/html').send(failuresPage(ctxOf(request), failures, replays));
  });
  const startReplay = async (selection: ReplaySelection, request: FastifyRequest) => {
    const replay = await board.replay(selection, request.tandemAuth?.role ?? 'unknown');
    for (const ref of replay.jobs) metrics.replays.inc({ queue: ref.queue });
    request.log.info(
      { replay: replay.id, jobs: replay.jobs.length, errors: replay.errors.length },
      'replay started',
    );
    return replay;
  };
  app.post('/api/replays', async (request, reply) => {
    const selection = parseJsonSelection(request.body);
    try {
      return reply.code(202).send(await startReplay(selection, request));
    } catch (error) {
      if (error instanceof ReplaySelectionError) throw new HttpError(400, error.message);
      throw error;
    }
  });
  app.post('/failures/replay', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const replay = await startReplay(parseFormSelection(body), request);
      return reply.redirect(`/replays/${replay.id}`, 303);
    } catch (error) {
      if (!(error instanceof ReplaySelectionError)) throw error;
      const [failures, replays] = await Promise.all([
        board.failurePage(0, failuresPageSize),
        board.recentReplays(10),
      ]);
      return reply
        .code(400)
        .type('text/html')
        .send(failuresPage(ctxOf(request), failures, replays, error.message));
    }
  });
  app.get('/api/replays', async () => ({ replays: await board.recentReplays(50) }));
  app.get('/api/replays/:id', async (request) => {
    const replay = await board.replayStatus((request.params as { id: string }).id);
    if (replay === undefined) throw new HttpError(404, 'no such replay');
    return replay;
  });
  app.get('/replays/:id', async (request, reply) => {
    const replay = await board.replayStatus((request.params as { id: string }).id);
    if (replay === undefined) throw new HttpError(404, 'no such replay');
    return reply.type('text/html').send(replayPage(ctxOf(request), replay));
  });

  // --- customer -------------------------------------------------------------------------------------------
  app.get('/api/customer', async (request) => {
    const q = queryString(request, 'q');
    if (q === '') throw new HttpError(400, 'give q: an email, a HubSpot or Salesforce id, or a Tandem id');
    const auditOffset = wholeNumber(queryString(request, 'auditOffset'), 'auditOffset') ?? 0;
    const auditLimit = Math.min(
      wholeNumber(queryString(request, 'auditLimit'), 'auditLimit') ?? AUDIT_PAGE,
      1000,
    );
    const view = await findCustomer(customerView, q, { auditOffset, auditLimit: Math.max(1, auditLimit) });
    if (view === undefined) throw new HttpError(404, 'no person found');
    return {
      ...view,
      links: view.links.map((l) => ({ ...l, url: recordUrl(links, l.system, l.object, l.recordId) ?? null })),
    };
  });
  app.get('/customer', async (request, reply) => {
    const q = queryString(request, 'q');
    const auditPage = Math.max(1, wholeNumber(queryString(request, 'auditPage'), 'auditPage') ?? 1);
    const view =
      q === ''
        ? undefined
        : await findCustomer(customerView, q, {
            auditOffset: (auditPage - 1) * AUDIT_PAGE,
            auditLimit: AUDIT_PAGE,
          });
    return reply
      .code(q !== '' && view === undefined ? 404 : 200)
      .type('text/html')
      .send(customerPage(ctxOf(request), q, view, links, { auditPageSize: AUDIT_PAGE }));
  });

  // --- funnel ---------------------------------------------------------------------------------------------
  const funnelQuery = (request: FastifyRequest) => {
    const today = now();
    const to =
      parseDay(queryString(request, 'to'), 'to') ??
      new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
    const from = parseDay(queryString(request, 'from'), 'from') ?? new Date(to.getTime() - 90 * 86_400_000);
    const groupBy =
      queryString(request, 'groupBy') === 'month' ? ('month' as const) : ('original_source' as const);
    if (from >= to) throw new HttpError(400, '"from" must be before "to"');
    return { from, to, groupBy };
  };
  const slaQuery = (request: FastifyRequest) => {
    const raw = queryString(request, 'hours');
    const hours = raw === '' ? mapping.slaHours : Number(raw);
    if (!Number.isFinite(hours) || hours <= 0) throw new HttpError(400, '"hours" must be a positive number');
    const limit = Math.min(Number(queryString(request, 'limit') || 500), 5000);
    return { hours, now: now(), limit: Number.isFinite(limit) && limit > 0 ? limit : 500 };
  };
  app.get('/api/funnel', async (request) => {
    const q = funnelQuery(request);
    return {
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      groupBy: q.groupBy,
      ...(await customerView.funnel(q)),
    };
  });
  app.get('/api/sla', async (request) => {
    const q = slaQuery(request);
    return { hours: q.hours, ...(await customerView.slaBreaches(q)) };
  });
  app.get('/funnel', async (request, reply) => {
    const q = funnelQuery(request);
    const s = slaQuery(request);
    const [report, sla] = await Promise.all([customerView.funnel(q), customerView.slaBreaches(s)]);
    return reply.type('text/html').send(
      funnelPage(ctxOf(request), {
        from: q.from.toISOString().slice(0, 10),
        to: q.to.toISOString().slice(0, 10),
        groupBy: q.groupBy,
        report,
        sla,
        slaHours: s.hours,
      }),
    );
  });

  // --- mapping --------------------------------------------------------------------------------------------
  app.get('/api/mapping', async () => mapping.status());
  app.get('/mapping', async (request, reply) =>
    reply.type('text/html').send(mappingPage(ctxOf(request), await mapping.status())),
  );

  // --- metrics --------------------------------------------------------------------------------------------
  app.get('/metrics', async (_request, reply) => {
    for (const depth of await board.depths()) {
      for (const [state, count] of Object.entries(depth)) {
        if (state !== 'queue') metrics.queueDepth.set({ queue: depth.queue, state }, count as number);
      }
    }
    return reply.type(clusterMetrics.contentType).send(await clusterMetrics.text());
  });

  // --- bull-board -----------------------------------------------------------------------------------------
  await mountBoard(app, BOARD_BASE, queues, links, false);
  await mountBoard(app, VIEWER_BOARD_BASE, queues, links, true);

  return app as unknown as FastifyInstance;
}

async function mountBoard(
  app: AppInstance,
  basePath: string,
  queues: readonly Queue[],
  links: RecordLinkSettings,
  readOnly: boolean,
): Promise<void> {
  const serverAdapter = new TandemBoardAdapter(basePath);
  createBullBoard({
    queues: queues.map(
      (queue) =>
        new BullMQAdapter(queue, {
          readOnlyMode: readOnly,
          allowRetries: !readOnly,
          externalJobUrl: (job) => {
            const failure = (
              job.data as { failure?: { system?: string; object?: string; recordId?: string } } | undefined
            )?.failure;
            const href = recordUrl(links, failure?.system, failure?.object, failure?.recordId);
            return href === undefined
              ? (undefined as never)
              : {
                  href,
                  displayText: `Open ${failure?.object ?? 'record'} in ${failure?.system ?? 'the CRM'}`,
                };
          },
        }),
    ),
    serverAdapter,
    options: {
      uiBasePath: dirname(require.resolve('@bull-board/ui/package.json')),
      uiConfig: { boardTitle: readOnly ? 'Tandem queues (read only)' : 'Tandem queues' },
    },
  });
  await serverAdapter.register(app as unknown as FastifyInstance);
}

function sessionCookieSecret(adminToken: string): string {
  // Cookie signatures change whenever the admin token does, so rotating it logs everyone out.
  return `tandem-dashboard-session:${adminToken}`;
}

function sameOrigin(request: FastifyRequest): boolean {
  const site = headerValue(request.headers['sec-fetch-site']);
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = headerValue(request.headers.origin);
  if (origin === undefined) return true; // not a browser-initiated cross-site request
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function fieldValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function queryString(request: FastifyRequest, name: string): string {
  const value = (request.query as Record<string, unknown>)[name];
  return (fieldValue(value) ?? '').trim();
}

function parseDay(value: string, what: string): Date | undefined {
  if (value === '') return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new HttpError(400, `"${what}" is not a date: ${value}`);
  return new Date(ms);
}

function toRef(value: string): JobRef {
  const at = value.indexOf('|');
  if (at <= 0) throw new ReplaySelectionError(`"${value}" is not queue|jobId`);
  return { queue: value.slice(0, at), id: value.slice(at + 1) };
}

function parseFormSelection(body: Record<string, unknown>): ReplaySelection {
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x) => typeof x === 'string') : typeof v === 'string' ? [v] : [];
  const one = fieldValue(body['one']);
  if (one !== undefined) return { jobs: [toRef(one)] };
  const selection: ReplaySelection = {};
  const jobs = list(body['job']).map(toRef);
  if (jobs.length > 0) selection.jobs = jobs;
  const code = fieldValue(body['code']);
  if (code !== undefined && code !== '') selection.code = code;
  // datetime-local inputs carry no zone; the form says they are UTC.
  const utc = (v: string | undefined) =>
    v === undefined || v === '' ? undefined : /Z|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`;
  const from = utc(fieldValue(body['from']));
  const to = utc(fieldValue(body['to']));
  if (from !== undefined) selection.from = from;
  if (to !== undefined) selection.to = to;
  return selection;
}

function parseJsonSelection(body: unknown): ReplaySelection {
  if (typeof body !== 'object' || body === null)
    throw new HttpError(400, 'send a JSON body: { jobs?, code?, from?, to? }');
  const b = body as Record<string, unknown>;
  const selection: ReplaySelection = {};
  if (b['jobs'] !== undefined) {
    if (!Array.isArray(b['jobs'])) throw new HttpError(400, '"jobs" must be a list of { queue, id }');
    selection.jobs = b['jobs'].map((j: unknown) => {
      const r = j as Record<string, unknown>;
      if (typeof r?.['queue'] !== 'string' || (typeof r['id'] !== 'string' && typeof r['id'] !== 'number')) {
        throw new HttpError(400, '"jobs" must be a list of { queue, id }');
      }
      return { queue: r['queue'], id: String(r['id']) };
    });
  }
  for (const key of ['code', 'from', 'to'] as const) {
    const v = b[key];
    if (v !== undefined) {
      if (typeof v !== 'string') throw new HttpError(400, `"${key}" must be a string`);
      selection[key] = v;
    }
  }
  return selection;
}

/** Writes in one page of the Customer page's "why did this change" table. */
const AUDIT_PAGE = 200;

function wholeNumber(value: string, what: string): number | undefined {
  if (value === '') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new HttpError(400, `"${what}" must be a whole number`);
  return Number(value);
}

async function findCustomer(
  customerView: DashboardCustomerView,
  q: string,
  audit: { auditOffset: number; auditLimit: number },
): Promise<PersonView | undefined> {
  if (q.includes('@')) return customerView.findPerson({ email: q }, audit);
  const byId = await customerView.findPerson({ unifiedId: q }, audit);
  if (byId !== undefined) return byId;
  if (/^\d+$/.test(q)) return customerView.findPerson({ system: 'hubspot', recordId: q }, audit);
  if (/^[A-Za-z0-9]{15,18}$/.test(q))
    return customerView.findPerson({ system: 'salesforce', recordId: q }, audit);
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface MappingState {
  slaHours: number;
  status(): Promise<MappingPageData>;
}

function mappingState(
  source: { text: string; file: string },
  connections: DashboardConnections | undefined,
): MappingState {
  const validation = validateMapping(source.text, source.file);
  const m = validation.mapping;
  const summary = m === undefined ? undefined : describeMapping(m);
  const version = m === undefined ? null : mappingVersion(m, source.text);
  let live: { at: number; result: MappingPageData['live'] } | undefined;
  const LIVE_TTL_MS = 5 * 60_000;
  return {
    slaHours: summary?.lifecycle.slaHours ?? 24,
    async status() {
      let liveResult: MappingPageData['live'] = {
        checked: false,
        problems: [],
        error: 'no connections to the CRMs',
      };
      if (m !== undefined && !validation.valid) {
        liveResult = { checked: false, problems: [], error: 'the file itself has errors' };
      } else if (m !== undefined && connections?.readLiveSchema !== undefined) {
        if (live === undefined || Date.now() - live.at > LIVE_TTL_MS) {
          try {
            const schema = await connections.readLiveSchema();
            const problems: MappingProblem[] = validateAgainstLiveSchema(m, schema, validation.source);
            live = { at: Date.now(), result: { checked: true, problems } };
          } catch (error) {
            live = {
              at: Date.now(),
              result: {
                checked: false,
                problems: [],
                error: error instanceof Error ? error.message : String(error),
              },
            };
          }
        }
        liveResult = live.result;
      }
      return {
        file: source.file,
        version,
        valid: validation.valid && !liveResult.problems.some((p) => p.severity === 'error'),
        problems: validation.problems,
        ...(summary === undefined ? {} : { summary }),
        live: liveResult,
      };
    },
  };
}
