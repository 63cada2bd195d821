import type { FastifyInstance } from 'fastify';
import { objectNotFound, validationError } from './errors.js';
import type { HubSpotPortal } from './portal.js';
import { DEFAULT_DEAL_STAGES } from './property-schema.js';
import { bodyObject, objectTypeParam } from './request.js';

interface Context {
  portal: HubSpotPortal;
  now: () => number;
}

const PIPELINE_DATE = '2020-06-30T15:57:35.997Z';

/** The default deal pipeline as `GET /crm/v3/pipelines/deals` returns it. */
export function defaultDealPipeline() {
  return {
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    archived: false,
    createdAt: PIPELINE_DATE,
    updatedAt: PIPELINE_DATE,
    stages: DEFAULT_DEAL_STAGES.map((stage, index) => ({
      id: stage.id,
      label: stage.label,
      displayOrder: index,
      metadata: { isClosed: String(stage.closed), probability: String(stage.probability) },
      archived: false,
      createdAt: PIPELINE_DATE,
      updatedAt: PIPELINE_DATE,
      writePermissions: 'CRUD_PERMITTED',
    })),
  };
}

export function registerPropertyRoutes(app: FastifyInstance, { portal, now }: Context): void {
  app.get('/crm/v3/properties/:objectType', async (request) => {
    const type = objectTypeParam(request);
    return { results: portal.schema.list(type) };
  });

  app.get('/crm/v3/properties/:objectType/:propertyName', async (request) => {
    const type = objectTypeParam(request);
    const { propertyName } = request.params as { propertyName: string };
    const definition = portal.schema.get(type, propertyName);
    if (definition === undefined) throw objectNotFound(`Unable to find property ${propertyName} for ${type}`);
    return definition;
  });

  app.post('/crm/v3/properties/:objectType', async (request, reply) => {
    const type = objectTypeParam(request);
    const definition = portal.schema.create(type, bodyObject(request), new Date(now()).toISOString());
    return reply.code(201).send(definition);
  });

  app.get('/crm/v3/pipelines/:objectType', async (request) => {
    const type = objectTypeParam(request);
    if (type !== 'deals') return { results: [] };
    return { results: [defaultDealPipeline()] };
  });

  app.get('/crm/v3/pipelines/:objectType/:pipelineId', async (request) => {
    const type = objectTypeParam(request);
    const { pipelineId } = request.params as { pipelineId: string };
    if (type !== 'deals')
      throw validationError(`Pipelines are available for deals only in the sandbox, not ${type}`);
    if (pipelineId !== 'default') throw objectNotFound(`Unable to find pipeline ${pipelineId}`);
    return defaultDealPipeline();
  });
}
