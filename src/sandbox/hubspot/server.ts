import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FaultInjector, type FaultSpec } from '../common/faults.js';
import { createPrng } from '../common/prng.js';
import { SandboxStats } from '../common/stats.js';
import type { HubSpotWorld } from '../world/schema.js';
import {
  HubSpotApiError,
  invalidAuthentication,
  rateLimited,
  serviceUnavailable,
  validationError,
} from './errors.js';
import { HubSpotPortal } from './portal.js';
import { RateLimiter, type HubSpotTier, type RateLimitOverrides } from './rate-limits.js';
import { registerAssociationRoutes } from './routes-associations.js';
import { registerObjectRoutes } from './routes-objects.js';
import { registerPropertyRoutes } from './routes-properties.js';
import { registerSandboxRoutes } from './routes-sandbox.js';

export type { HubSpotTier, RateLimitOverrides } from './rate-limits.js';

export const DEFAULT_HUBSPOT_TOKEN = 'pat-sandbox-tandem';
export const DEFAULT_TIMEOUT_HANG_MS = 30_000;

export interface HubSpotSandboxOptions {
  /** The private-app token callers must send as `Authorization: Bearer …` (default `pat-sandbox-tandem`). */
  accessToken?: string;
  /** Subscription tier, which sets the rate limits (default professional). */
  tier?: HubSpotTier;
  faults?: FaultSpec;
  faultSeed?: string;
  now?: () => number;
  logger?: boolean;
  /** Replace the tier's limits (e.g. a tiny daily quota in tests). */
  limits?: RateLimitOverrides;
  /** How long a `timeout` fault holds a request before answering 504 (default 30 s); the client may hang up first. */
  timeoutHangMs?: number;
  /**
   * Search index lag (default 0): each create or change becomes searchable after its own delay of up to
   * this long, as real HubSpot's search index trails writes unevenly. List and reads see it at once.
   */
  searchIndexLagMs?: number;
}

export interface HubSpotSandbox {
  app: FastifyInstance;
  loadWorld(world: HubSpotWorld): void;
  exportWorld(): HubSpotWorld;
  reset(): void;
  stats: SandboxStats;
  faults: FaultInjector;
  setTier(tier: HubSpotTier): void;
  /** The search index lag in force (`searchIndexLagMs`); change `lagMs` at any time. */
  searchIndex: { lagMs: number };
  /** The in-memory account, for tests and tools that need more than the HTTP API. */
  portal: HubSpotPortal;
}

const SANDBOX_PREFIX = '/__sandbox/';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A HubSpot CRM v3/v4 stand-in that `@hubspot/api-client` cannot tell from the real thing (paths, shapes,
 * errors, limits). Not listening yet: call `app.listen({ host: '127.0.0.1', port })`.
 */
export async function createHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const now = options.now ?? Date.now;
  const token = options.accessToken ?? DEFAULT_HUBSPOT_TOKEN;
  const hangMs = options.timeoutHangMs ?? DEFAULT_TIMEOUT_HANG_MS;
  const portal = new HubSpotPortal(now);
  const stats = new SandboxStats();
  const faults = new FaultInjector(options.faults, options.faultSeed ?? 'faults');
  const serverErrorRandom = createPrng(`${options.faultSeed ?? 'faults'}:5xx`);
  const limiter = new RateLimiter(now, options.tier ?? 'professional', options.limits);
  const hanging = new Set<() => void>();
  const searchIndex = { lagMs: options.searchIndexLagMs ?? 0 };

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 512 * 1024 * 1024 });

  const reset = () => {
    portal.reset();
    limiter.reset();
  };
  const loadWorld = (world: HubSpotWorld) => {
    portal.loadWorld(world);
    limiter.reset();
  };

  const hang = (request: FastifyRequest) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        hanging.delete(done);
        request.raw.socket.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, hangMs);
      hanging.add(done);
      request.raw.socket.once('close', done);
    });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url.startsWith(SANDBOX_PREFIX)) return;
    const params = request.params as Record<string, string> | undefined;
    const route = (request.routeOptions.url ?? 'unmatched')
      .replace(':objectType', params?.['objectType'] ?? ':objectType')
      .replace(':toObjectType', params?.['toObjectType'] ?? ':toObjectType');
    stats.recordCall(request.method, route);

    if (request.headers.authorization !== `Bearer ${token}`) throw invalidAuthentication();

    const decision = faults.next();
    if (decision.kind === '5xx') {
      stats.faults['5xx'] += 1;
      throw serviceUnavailable(serverErrorRandom() < 0.5 ? 502 : 503);
    }
    if (decision.kind === '429') {
      stats.faults['429'] += 1;
      throw rateLimited('TEN_SECONDLY_ROLLING');
    }
    if (decision.kind === 'timeout') {
      stats.faults.timeout += 1;
      await hang(request);
      throw serviceUnavailable(504);
    }
    const latency = faults.latency();
    if (latency > 0) await sleep(latency);

    const isSearch = request.method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/search/.test(request.url);
    const rate = limiter.take(isSearch ? 'search' : 'standard');
    void reply.headers(rate.headers);
    if (!rate.allowed) {
      stats.rateLimited += 1;
      throw rateLimited(rate.policy);
    }
  });

  app.addHook('preClose', async () => {
    for (const release of [...hanging]) release();
  });

  app.setErrorHandler(async (error: unknown, request, reply) => {
    if (error instanceof HubSpotApiError) return reply.code(error.statusCode).send(error.body);
    const fastifyError = error as { statusCode?: number; message?: string; code?: string };
    if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
      const apiError = validationError(
        `Invalid input JSON: ${fastifyError.message ?? 'unreadable request body'}`,
      );
      return reply.code(400).send(apiError.body);
    }
    request.log.error(error);
    const internal = new HubSpotApiError(500, {
      message: `Internal sandbox error: ${fastifyError.message ?? String(error)}`,
      category: 'INTERNAL_ERROR',
    });
    return reply.code(500).send(internal.body);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const error = new HubSpotApiError(404, {
      message: `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
      category: 'OBJECT_NOT_FOUND',
    });
    return reply.code(404).send(error.body);
  });

  registerObjectRoutes(app, { portal, stats, now, searchIndex });
  registerAssociationRoutes(app, { portal, stats, now });
  registerPropertyRoutes(app, { portal, now });
  registerSandboxRoutes(app, { portal, limiter, stats, faults, now, reset, loadWorld });

  return {
    app,
    portal,
    stats,
    searchIndex,
    faults,
    reset,
    loadWorld,
    exportWorld: () => portal.exportWorld(),
    setTier: (tier) => limiter.setTier(tier),
  };
}
