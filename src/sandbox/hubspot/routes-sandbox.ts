import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FaultSpecError, parseFaultSpec, type FaultInjector } from '../common/faults.js';
import { sendRecordPage } from '../common/record-page.js';
import type { SandboxStats } from '../common/stats.js';
import { HubSpotWorldSchema, type HubSpotObjectType, type HubSpotWorld } from '../world/schema.js';
import { recordFormSubmission, recordPageView, type FormSubmission, type PageView } from './analytics.js';
import { validationError } from './errors.js';
import type { HubSpotPortal } from './portal.js';
import { TIER_LIMITS, type HubSpotTier, type RateLimiter, type RateLimitOverrides } from './rate-limits.js';
import { OBJECT_TYPE_INFO, OBJECT_TYPES } from './object-types.js';
import { bodyObject } from './request.js';
import { toPublicObject } from './serialize.js';

interface Context {
  portal: HubSpotPortal;
  limiter: RateLimiter;
  stats: SandboxStats;
  faults: FaultInjector;
  now: () => number;
  reset: () => void;
  loadWorld: (world: HubSpotWorld) => void;
}

/** `/__sandbox/*`: test and demo controls, never faulted, rate-limited or authenticated. */
export function registerSandboxRoutes(app: FastifyInstance, context: Context): void {
  const { portal, stats, faults, now } = context;

  app.post('/__sandbox/reset', async () => {
    context.reset();
    return { ok: true };
  });

  app.get('/__sandbox/world', async () => portal.exportWorld());

  app.post('/__sandbox/world', async (request) => {
    const parsed = HubSpotWorldSchema.safeParse(request.body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw validationError(`Invalid HubSpot world: ${problems.slice(0, 20).join('; ')}`);
    }
    context.loadWorld(parsed.data);
    const w = parsed.data;
    return {
      ok: true,
      loaded: { contacts: w.contacts.length, companies: w.companies.length, deals: w.deals.length },
    };
  });

  app.get('/__sandbox/stats', async () => stats.snapshot());

  /** A record as a read-only HTML page (`contacts`, `contact` or `0-1`…), for the dashboard's record links. */
  app.get(
    '/__sandbox/records/:object/:id',
    async (request: FastifyRequest<{ Params: { object: string; id: string } }>, reply) =>
      sendRecordPage(request, reply, () => {
        const wanted = request.params.object.toLowerCase();
        const type = OBJECT_TYPES.find(
          (t: HubSpotObjectType) =>
            t === wanted || OBJECT_TYPE_INFO[t].singular === wanted || OBJECT_TYPE_INFO[t].typeId === wanted,
        );
        const record = type === undefined ? undefined : portal.find(type, request.params.id);
        if (type === undefined || record === undefined) return undefined;
        return {
          system: 'HubSpot',
          object: type,
          id: record.id,
          fields: toPublicObject(portal, type, record, { properties: 'all' }).properties,
        };
      }),
  );

  app.post('/__sandbox/stats/reset', async () => {
    stats.reset();
    return { ok: true };
  });

  app.post('/__sandbox/faults', async (request) => {
    const spec = bodyObject(request)['spec'];
    if (spec !== undefined && typeof spec !== 'string') throw validationError('"spec" must be a string');
    try {
      faults.spec = parseFaultSpec(spec);
    } catch (error) {
      if (error instanceof FaultSpecError) throw validationError(error.message);
      throw error;
    }
    return { ok: true, faults: faults.spec };
  });

  app.get('/__sandbox/limits', async () => context.limiter.limits);

  /** `{tier?, tenSecondly?, daily?, searchPerSecond?}`: benchmarks lift the limits, tests shrink them. */
  app.post('/__sandbox/limits', async (request) => {
    const body = bodyObject(request);
    const overrides: RateLimitOverrides = {};
    for (const key of ['tenSecondly', 'daily', 'searchPerSecond'] as const) {
      const value = body[key];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw validationError(`"${key}" must be a positive whole number`);
      }
      overrides[key] = value;
    }
    const tier = body['tier'];
    if (tier !== undefined) {
      if (typeof tier !== 'string' || !(tier in TIER_LIMITS)) {
        throw validationError(`"tier" must be one of ${Object.keys(TIER_LIMITS).join(', ')}`);
      }
      context.limiter.setTier(tier as HubSpotTier);
    }
    context.limiter.setOverrides(overrides);
    return { ok: true, limits: context.limiter.limits };
  });

  app.post('/__sandbox/page-view', async (request) => {
    const contact = recordPageView(portal, bodyObject(request) as unknown as PageView, now());
    return toPublicObject(portal, 'contacts', contact, { properties: 'all' });
  });

  app.post('/__sandbox/form-submission', async (request) => {
    const { contact, created } = recordFormSubmission(
      portal,
      bodyObject(request) as unknown as FormSubmission,
      now(),
    );
    return { created, contact: toPublicObject(portal, 'contacts', contact, { properties: 'all' }) };
  });
}
