import type { FastifyInstance } from 'fastify';
import type { SandboxStats } from '../common/stats.js';
import type { HubSpotObjectType } from '../world/schema.js';
import { associationType, defaultAssociationType } from './associations.js';
import { batchError, objectNotFound, validationError, type BatchError } from './errors.js';
import { OBJECT_TYPE_INFO } from './object-types.js';
import type { HubSpotPortal } from './portal.js';
import { batchInputs, bodyObject, objectTypeParam, singleParam, type Query } from './request.js';
import { associatedLive } from './serialize.js';

export const ASSOCIATION_BATCH_READ_MAX = 1_000;
export const ASSOCIATION_BATCH_CREATE_MAX = 2_000;
const ASSOCIATION_PAGE_DEFAULT = 500;

interface Context {
  portal: HubSpotPortal;
  stats: SandboxStats;
  now: () => number;
}

function idOfRef(raw: unknown, where: string): string {
  const id = (raw as { id?: unknown } | null)?.id;
  if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
    throw validationError(`${where}: "id" is required`);
  }
  return String(id);
}

export function registerAssociationRoutes(app: FastifyInstance, { portal, stats, now }: Context): void {
  const iso = () => new Date(now()).toISOString();
  const requireLive = (type: HubSpotObjectType, id: string) => {
    if (portal.stores[type].getLive(id) === undefined) {
      throw objectNotFound(`No ${OBJECT_TYPE_INFO[type].singular} with id ${id}`);
    }
  };
  const typesFor = (from: HubSpotObjectType, to: HubSpotObjectType, typeIds: number[]) =>
    typeIds.map((typeId) => {
      const definition = associationType(from, to, typeId);
      const spec: Record<string, unknown> = { category: 'HUBSPOT_DEFINED', typeId };
      if (definition?.label) spec['label'] = definition.label;
      return spec;
    });
  const labelsBetween = (from: HubSpotObjectType, fromId: string, to: HubSpotObjectType, toId: string) => {
    const typeIds = portal.associations.list(from, fromId, to).find((a) => a.toId === toId)?.typeIds ?? [];
    return {
      fromObjectTypeId: OBJECT_TYPE_INFO[from].typeId,
      fromObjectId: fromId,
      toObjectTypeId: OBJECT_TYPE_INFO[to].typeId,
      toObjectId: toId,
      labels: typeIds.flatMap((t) => {
        const label = associationType(from, to, t)?.label;
        return label ? [label] : [];
      }),
    };
  };
  const createDefault = (from: HubSpotObjectType, fromId: string, to: HubSpotObjectType, toId: string) => {
    const definition = defaultAssociationType(from, to);
    if (definition === undefined) {
      throw validationError(`There is no default association type from ${from} to ${to}`);
    }
    requireLive(from, fromId);
    requireLive(to, toId);
    portal.associations.add(from, fromId, to, toId, definition.typeId);
    return [
      {
        from: { id: fromId },
        to: { id: toId },
        associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: definition.typeId },
      },
      {
        from: { id: toId },
        to: { id: fromId },
        associationSpec: {
          associationCategory: 'HUBSPOT_DEFINED',
          associationTypeId: definition.reverseTypeId,
        },
      },
    ];
  };
  const parseTypes = (from: HubSpotObjectType, to: HubSpotObjectType, raw: unknown, where: string) => {
    if (!Array.isArray(raw) || raw.length === 0)
      throw validationError(`${where}: "types" must be a non-empty array`);
    return raw.map((t: unknown, i) => {
      const spec = t as { associationCategory?: unknown; associationTypeId?: unknown } | null;
      const typeId = Number(spec?.associationTypeId);
      if (
        spec?.associationCategory !== 'HUBSPOT_DEFINED' ||
        associationType(from, to, typeId) === undefined
      ) {
        throw validationError(
          `${where}[${i}]: ${String(spec?.associationCategory)} association type ${String(spec?.associationTypeId)} is not valid from ${from} to ${to}`,
        );
      }
      return typeId;
    });
  };

  app.put(
    '/crm/v4/objects/:objectType/:objectId/associations/default/:toObjectType/:toObjectId',
    async (request) => {
      const startedAt = iso();
      const from = objectTypeParam(request);
      const to = objectTypeParam(request, 'toObjectType');
      const { objectId, toObjectId } = request.params as { objectId: string; toObjectId: string };
      const results = createDefault(from, objectId, to, toObjectId);
      stats.recordsWritten += 1;
      return { status: 'COMPLETE', results, startedAt, completedAt: iso() };
    },
  );

  app.put(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId',
    async (request, reply) => {
      const from = objectTypeParam(request);
      const to = objectTypeParam(request, 'toObjectType');
      const { objectId, toObjectId } = request.params as { objectId: string; toObjectId: string };
      const typeIds = parseTypes(from, to, request.body, 'body');
      requireLive(from, objectId);
      requireLive(to, toObjectId);
      for (const typeId of typeIds) portal.associations.add(from, objectId, to, toObjectId, typeId);
      stats.recordsWritten += 1;
      return reply.code(201).send(labelsBetween(from, objectId, to, toObjectId));
    },
  );

  app.delete(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId',
    async (request, reply) => {
      const from = objectTypeParam(request);
      const to = objectTypeParam(request, 'toObjectType');
      const { objectId, toObjectId } = request.params as { objectId: string; toObjectId: string };
      portal.associations.remove(from, objectId, to, toObjectId);
      stats.recordsWritten += 1;
      return reply.code(204).send();
    },
  );

  app.get('/crm/v4/objects/:objectType/:objectId/associations/:toObjectType', async (request) => {
    const from = objectTypeParam(request);
    const to = objectTypeParam(request, 'toObjectType');
    const { objectId } = request.params as { objectId: string };
    const query = request.query as Query;
    const limit = Number(singleParam(query, 'limit') ?? ASSOCIATION_PAGE_DEFAULT);
    const offset = Number(singleParam(query, 'after') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > ASSOCIATION_PAGE_DEFAULT) {
      throw validationError(`limit must be between 1 and ${ASSOCIATION_PAGE_DEFAULT}`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw validationError('after is not a valid paging cursor');
    const record = portal.stores[from].getLive(objectId);
    const all = record === undefined ? [] : associatedLive(portal, from, record.id, to);
    const page = all.slice(offset, offset + limit);
    stats.recordsRead += page.length;
    const answer: Record<string, unknown> = {
      results: page.map((a) => ({ toObjectId: a.toId, associationTypes: typesFor(from, to, a.typeIds) })),
    };
    if (offset + limit < all.length) answer['paging'] = { next: { after: String(offset + limit) } };
    return answer;
  });

  app.post('/crm/v4/associations/:objectType/:toObjectType/batch/read', async (request, reply) => {
    const startedAt = iso();
    const from = objectTypeParam(request);
    const to = objectTypeParam(request, 'toObjectType');
    const inputs = batchInputs(bodyObject(request), ASSOCIATION_BATCH_READ_MAX);
    const results: unknown[] = [];
    const errors: BatchError[] = [];
    inputs.forEach((input, i) => {
      const id = idOfRef(input, `inputs[${i}]`);
      const record = portal.stores[from].getLive(id);
      const associated = record === undefined ? [] : associatedLive(portal, from, record.id, to);
      if (associated.length === 0) {
        errors.push(
          batchError(
            'OBJECT_NOT_FOUND',
            `No ${OBJECT_TYPE_INFO[to].singular} is associated with ${OBJECT_TYPE_INFO[from].singular} ${id}.`,
            { fromObjectId: [id] },
          ),
        );
        return;
      }
      stats.recordsRead += associated.length;
      results.push({
        from: { id },
        to: associated.map((a) => ({ toObjectId: a.toId, associationTypes: typesFor(from, to, a.typeIds) })),
      });
    });
    const answer: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: iso() };
    if (errors.length > 0) Object.assign(answer, { numErrors: errors.length, errors });
    return reply.code(errors.length > 0 ? 207 : 200).send(answer);
  });

  app.post('/crm/v4/associations/:objectType/:toObjectType/batch/create', async (request, reply) => {
    const startedAt = iso();
    const from = objectTypeParam(request);
    const to = objectTypeParam(request, 'toObjectType');
    const inputs = batchInputs(bodyObject(request), ASSOCIATION_BATCH_CREATE_MAX);
    const results: unknown[] = [];
    const errors: BatchError[] = [];
    for (const [i, input] of inputs.entries()) {
      const fromId = idOfRef(input['from'], `inputs[${i}].from`);
      const toId = idOfRef(input['to'], `inputs[${i}].to`);
      const typeIds = parseTypes(from, to, input['types'], `inputs[${i}].types`);
      const missing = [
        ...(portal.stores[from].getLive(fromId) ? [] : [fromId]),
        ...(portal.stores[to].getLive(toId) ? [] : [toId]),
      ];
      if (missing.length > 0) {
        errors.push(
          batchError('OBJECT_NOT_FOUND', `Object ids not found: ${missing.join(', ')}`, { ids: missing }),
        );
        continue;
      }
      for (const typeId of typeIds) portal.associations.add(from, fromId, to, toId, typeId);
      results.push(labelsBetween(from, fromId, to, toId));
    }
    stats.recordsWritten += results.length;
    const answer: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: iso() };
    if (errors.length > 0) Object.assign(answer, { numErrors: errors.length, errors });
    return reply.code(errors.length > 0 ? 207 : 201).send(answer);
  });

  app.post('/crm/v4/associations/:objectType/:toObjectType/batch/associate/default', async (request) => {
    const startedAt = iso();
    const from = objectTypeParam(request);
    const to = objectTypeParam(request, 'toObjectType');
    const inputs = batchInputs(bodyObject(request), ASSOCIATION_BATCH_CREATE_MAX);
    const results = inputs.flatMap((input, i) =>
      createDefault(
        from,
        idOfRef(input['from'], `inputs[${i}].from`),
        to,
        idOfRef(input['to'], `inputs[${i}].to`),
      ),
    );
    stats.recordsWritten += inputs.length;
    return { status: 'COMPLETE', results, startedAt, completedAt: iso() };
  });

  app.post('/crm/v4/associations/:objectType/:toObjectType/batch/archive', async (request, reply) => {
    const from = objectTypeParam(request);
    const to = objectTypeParam(request, 'toObjectType');
    const inputs = batchInputs(bodyObject(request), ASSOCIATION_BATCH_CREATE_MAX);
    inputs.forEach((input, i) => {
      const fromId = idOfRef(input['from'], `inputs[${i}].from`);
      const targets = Array.isArray(input['to']) ? input['to'] : [];
      targets.forEach((t, j) =>
        portal.associations.remove(from, fromId, to, idOfRef(t, `inputs[${i}].to[${j}]`)),
      );
    });
    stats.recordsWritten += inputs.length;
    return reply.code(204).send();
  });
}
