import type { FastifyInstance } from 'fastify';
import type { SandboxStats } from '../common/stats.js';
import type { HubSpotObjectType } from '../world/schema.js';
import { ASSOCIATION_TYPES } from './associations.js';
import {
  batchError,
  objectNotFound,
  propertyValuesInvalid,
  validationError,
  type BatchError,
  type PropertyProblem,
} from './errors.js';
import { OBJECT_TYPE_INFO } from './object-types.js';
import type { HubSpotPortal } from './portal.js';
import type { StoredRecord } from './record-store.js';
import {
  batchInputs,
  bodyObject,
  boolParam,
  idOf,
  listParam,
  objectTypeList,
  objectTypeParam,
  singleParam,
  type Query,
} from './request.js';
import { search } from './search.js';
import { toPublicObject, type ReadShape } from './serialize.js';

export const BATCH_MAX = 100;
export const BATCH_READ_WITH_HISTORY_MAX = 50;
export const LIST_MAX = 100;

interface Context {
  portal: HubSpotPortal;
  stats: SandboxStats;
  now: () => number;
  /** Search sees a change only some time (up to `lagMs`) after it was made. */
  searchIndex?: { lagMs: number };
}

type AssociationInput = { toType: HubSpotObjectType; toId: string; typeId: number };

/** `associations` of a create input: `[{to:{id}, types:[{associationCategory, associationTypeId}]}]`. */
function parseCreateAssociations(
  portal: HubSpotPortal,
  type: HubSpotObjectType,
  raw: unknown,
  where: string,
): AssociationInput[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw validationError(`${where}.associations must be an array`);
  return raw.flatMap((entry: unknown, i) => {
    const e = entry as { to?: { id?: unknown }; types?: { associationTypeId?: unknown }[] } | null;
    const toId = String(e?.to?.id ?? '');
    return (e?.types ?? []).map((t) => {
      const typeId = Number(t.associationTypeId);
      const definition = ASSOCIATION_TYPES.find((d) => d.from === type && d.typeId === typeId);
      if (definition === undefined) {
        throw validationError(
          `${where}.associations[${i}]: association type ${typeId} is not valid from ${type}`,
        );
      }
      if (portal.stores[definition.to].getLive(toId) === undefined) {
        throw validationError(`${where}.associations[${i}]: ${definition.to} ${toId} does not exist`);
      }
      return { toType: definition.to, toId, typeId };
    });
  });
}

function readShape(query: Query): ReadShape {
  const shape: ReadShape = {};
  const properties = listParam(query, 'properties');
  const withHistory = listParam(query, 'propertiesWithHistory');
  const associations = objectTypeList(listParam(query, 'associations'));
  if (properties !== undefined) shape.properties = properties;
  if (withHistory !== undefined) shape.propertiesWithHistory = withHistory;
  if (associations !== undefined) shape.associations = associations;
  return shape;
}

function bodyShape(body: Record<string, unknown>): ReadShape {
  const shape: ReadShape = {};
  const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : undefined);
  const properties = strings(body['properties']);
  const withHistory = strings(body['propertiesWithHistory']);
  if (properties !== undefined) shape.properties = properties;
  if (withHistory !== undefined) shape.propertiesWithHistory = withHistory;
  return shape;
}

function duplicateIds(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of ids) (seen.has(id) ? duplicates : seen).add(id);
  return [...duplicates];
}

export function registerObjectRoutes(
  app: FastifyInstance,
  { portal, stats, now, searchIndex }: Context,
): void {
  const iso = () => new Date(now()).toISOString();
  const batchAnswer = <T>(startedAt: string, results: T[], errors: BatchError[]) => {
    const answer: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: iso() };
    if (errors.length > 0) {
      answer['numErrors'] = errors.length;
      answer['errors'] = errors;
    }
    return answer;
  };
  const validateAll = (type: HubSpotObjectType, inputs: Record<string, unknown>[]) => {
    const problems: PropertyProblem[] = [];
    const values = inputs.map((input) => {
      const checked = portal.check(type, input['properties']);
      problems.push(...checked.problems);
      return checked.values;
    });
    if (problems.length > 0) throw propertyValuesInvalid(problems);
    return values;
  };
  const addAssociations = (type: HubSpotObjectType, id: string, list: AssociationInput[]) => {
    for (const a of list) portal.associations.add(type, id, a.toType, a.toId, a.typeId);
  };

  app.get('/crm/v3/objects/:objectType', async (request) => {
    const type = objectTypeParam(request);
    const query = request.query as Query;
    const shape = readShape(query);
    const rawLimit = singleParam(query, 'limit');
    const limit = rawLimit === undefined ? 10 : Number(rawLimit);
    const max = shape.propertiesWithHistory ? BATCH_READ_WITH_HISTORY_MAX : LIST_MAX;
    if (!Number.isInteger(limit) || limit < 1 || limit > max) {
      throw validationError(`limit ${rawLimit ?? ''} is out of range: expected 1 to ${max}`);
    }
    const rawAfter = singleParam(query, 'after');
    const after = rawAfter === undefined || rawAfter === '' ? 0 : Number(rawAfter);
    if (!Number.isInteger(after))
      throw validationError(`after "${rawAfter ?? ''}" is not a valid paging cursor`);
    const page = portal.stores[type].page(after, limit, boolParam(query, 'archived'));
    stats.recordsRead += page.records.length;
    const answer: Record<string, unknown> = {
      results: page.records.map((r) => toPublicObject(portal, type, r, shape)),
    };
    if (page.nextId !== undefined) {
      const next = String(page.nextId);
      answer['paging'] = {
        next: { after: next, link: `${request.url.split('?')[0] ?? ''}?after=${next}&limit=${limit}` },
      };
    }
    return answer;
  });

  app.get('/crm/v3/objects/:objectType/:objectId', async (request) => {
    const type = objectTypeParam(request);
    const { objectId } = request.params as { objectId: string };
    const query = request.query as Query;
    const idProperty = singleParam(query, 'idProperty');
    portal.checkIdProperty(type, idProperty);
    let record: StoredRecord | undefined;
    if (boolParam(query, 'archived')) {
      const found = portal.stores[type].get(objectId);
      record = found?.archived === true ? found : undefined;
    } else {
      record = portal.find(type, objectId, idProperty);
    }
    if (record === undefined) throw objectNotFound();
    stats.recordsRead += 1;
    return toPublicObject(portal, type, record, readShape(query));
  });

  app.post('/crm/v3/objects/:objectType', async (request, reply) => {
    const type = objectTypeParam(request);
    const body = bodyObject(request);
    const values = portal.validate(type, body['properties']);
    const associations = parseCreateAssociations(portal, type, body['associations'], 'input');
    const record = portal.create(type, values);
    addAssociations(type, record.id, associations);
    stats.recordsWritten += 1;
    return reply.code(201).send(toPublicObject(portal, type, record, { properties: 'all' }));
  });

  app.patch('/crm/v3/objects/:objectType/:objectId', async (request) => {
    const type = objectTypeParam(request);
    const { objectId } = request.params as { objectId: string };
    const idProperty = singleParam(request.query as Query, 'idProperty');
    portal.checkIdProperty(type, idProperty);
    const values = portal.validate(type, bodyObject(request)['properties']);
    const record = portal.find(type, objectId, idProperty);
    if (record === undefined) throw objectNotFound();
    portal.update(type, record, values);
    stats.recordsWritten += 1;
    return toPublicObject(portal, type, record, { properties: 'all' });
  });

  app.delete('/crm/v3/objects/:objectType/:objectId', async (request, reply) => {
    const type = objectTypeParam(request);
    portal.archive(type, (request.params as { objectId: string }).objectId);
    stats.recordsWritten += 1;
    return reply.code(204).send();
  });

  app.post('/crm/v3/objects/:objectType/merge', async (request) => {
    const type = objectTypeParam(request);
    const body = bodyObject(request);
    const primaryId = String(body['primaryObjectId'] ?? '');
    const mergeId = String(body['objectIdToMerge'] ?? '');
    if (primaryId === '' || mergeId === '') {
      throw validationError('Invalid input JSON: "primaryObjectId" and "objectIdToMerge" are required');
    }
    const survivor = portal.merge(type, primaryId, mergeId);
    stats.recordsWritten += 2;
    return toPublicObject(portal, type, survivor, { properties: 'all' });
  });

  app.post('/crm/v3/objects/:objectType/gdpr-delete', async (request, reply) => {
    const type = objectTypeParam(request);
    if (type !== 'contacts') throw validationError(`GDPR delete is only available for contacts, not ${type}`);
    const body = bodyObject(request);
    const idProperty = typeof body['idProperty'] === 'string' ? body['idProperty'] : undefined;
    portal.checkIdProperty(type, idProperty);
    portal.gdprDelete(type, String(body['objectId'] ?? ''), idProperty);
    stats.recordsWritten += 1;
    return reply.code(204).send();
  });

  app.post('/crm/v3/objects/:objectType/batch/read', async (request, reply) => {
    const startedAt = iso();
    const type = objectTypeParam(request);
    const body = bodyObject(request);
    const shape = bodyShape(body);
    const max = shape.propertiesWithHistory?.length ? BATCH_READ_WITH_HISTORY_MAX : BATCH_MAX;
    const inputs = batchInputs(body, max);
    const idProperty = typeof body['idProperty'] === 'string' ? body['idProperty'] : undefined;
    portal.checkIdProperty(type, idProperty);
    const archived = boolParam(request.query as Query, 'archived');
    const seen = new Set<string>();
    const results: StoredRecord[] = [];
    const missing: string[] = [];
    inputs.forEach((input, i) => {
      const id = idOf(input, `inputs[${i}]`);
      const found = archived ? portal.stores[type].get(id) : portal.find(type, id, idProperty);
      if (found === undefined || found.archived !== archived) missing.push(id);
      else if (!seen.has(found.id)) {
        seen.add(found.id);
        results.push(found);
      }
    });
    stats.recordsRead += results.length;
    const errors = missing.length
      ? [
          batchError(
            'OBJECT_NOT_FOUND',
            `Could not get some ${OBJECT_TYPE_INFO[type].singular.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
            { ids: missing },
          ),
        ]
      : [];
    const answer = batchAnswer(
      startedAt,
      results.map((r) => toPublicObject(portal, type, r, shape)),
      errors,
    );
    return reply.code(errors.length ? 207 : 200).send(answer);
  });

  app.post('/crm/v3/objects/:objectType/batch/create', async (request, reply) => {
    const startedAt = iso();
    const type = objectTypeParam(request);
    const inputs = batchInputs(bodyObject(request), BATCH_MAX);
    const values = validateAll(type, inputs);
    const associations = inputs.map((input, i) =>
      parseCreateAssociations(portal, type, input['associations'], `inputs[${i}]`),
    );
    if (type === 'contacts') {
      const duplicates = duplicateIds(values.flatMap((v) => (v['email'] ? [v['email'].toLowerCase()] : [])));
      if (duplicates.length > 0) {
        throw validationError(`Duplicate email addresses in batch input: [${duplicates.join(', ')}]`);
      }
    }
    // Check every unique value before writing any, so a conflict leaves nothing half-created.
    for (const v of values) portal.assertUnique(type, v, undefined);
    const created = values.map((v, i) => {
      const record = portal.create(type, v);
      addAssociations(type, record.id, associations[i] ?? []);
      return record;
    });
    stats.recordsWritten += created.length;
    return reply.code(201).send(
      batchAnswer(
        startedAt,
        created.map((r) => toPublicObject(portal, type, r, { properties: 'all' })),
        [],
      ),
    );
  });

  app.post('/crm/v3/objects/:objectType/batch/update', async (request, reply) => {
    const startedAt = iso();
    const type = objectTypeParam(request);
    const inputs = batchInputs(bodyObject(request), BATCH_MAX);
    const ids = inputs.map((input, i) => {
      const idProperty = input['idProperty'];
      if (idProperty !== undefined && idProperty !== 'hs_object_id') {
        throw validationError(
          `inputs[${i}]: batch update takes record ids only (idProperty "${String(idProperty)}")`,
        );
      }
      return idOf(input, `inputs[${i}]`);
    });
    const duplicates = duplicateIds(ids);
    if (duplicates.length > 0)
      throw validationError(`Duplicate IDs found in batch input: [${duplicates.join(', ')}]`);
    const values = validateAll(type, inputs);
    const results: StoredRecord[] = [];
    const missing: string[] = [];
    const errors: BatchError[] = [];
    ids.forEach((id, i) => {
      const record = portal.find(type, id);
      if (record === undefined) {
        missing.push(id);
        return;
      }
      try {
        results.push(portal.update(type, record, values[i] ?? {}));
      } catch (error) {
        const body = (error as { body?: { category?: string; message?: string } }).body;
        errors.push(
          batchError(body?.category ?? 'VALIDATION_ERROR', body?.message ?? String(error), { ids: [id] }),
        );
      }
    });
    if (missing.length > 0) {
      errors.unshift(batchError('OBJECT_NOT_FOUND', 'resource not found', { ids: missing }));
    }
    stats.recordsWritten += results.length;
    const answer = batchAnswer(
      startedAt,
      results.map((r) => toPublicObject(portal, type, r, { properties: 'all' })),
      errors,
    );
    return reply.code(errors.length ? 207 : 200).send(answer);
  });

  app.post('/crm/v3/objects/:objectType/batch/upsert', async (request, reply) => {
    const startedAt = iso();
    const type = objectTypeParam(request);
    const inputs = batchInputs(bodyObject(request), BATCH_MAX);
    const keys = inputs.map((input, i) => {
      const idProperty = typeof input['idProperty'] === 'string' ? input['idProperty'] : 'hs_object_id';
      portal.checkIdProperty(type, idProperty);
      const id = idOf(input, `inputs[${i}]`);
      return { id, idProperty, key: `${idProperty}:${idProperty === 'email' ? id.toLowerCase() : id}` };
    });
    const duplicates = duplicateIds(keys.map((k) => k.key));
    if (duplicates.length > 0) {
      throw validationError(`Duplicate IDs found in batch input: [${duplicates.join(', ')}]`);
    }
    const values = validateAll(type, inputs);
    const results: (ReturnType<typeof toPublicObject> & { new: boolean })[] = [];
    const errors: BatchError[] = [];
    keys.forEach(({ id, idProperty }, i) => {
      const v = values[i] ?? {};
      try {
        const existing = portal.find(type, id, idProperty);
        if (existing !== undefined) {
          portal.update(type, existing, v);
          results.push({ ...toPublicObject(portal, type, existing, { properties: 'all' }), new: false });
        } else if (idProperty === 'hs_object_id') {
          errors.push(batchError('OBJECT_NOT_FOUND', 'resource not found', { ids: [id] }));
        } else {
          const created = portal.create(type, {
            ...v,
            [idProperty]: portal.validate(type, { [idProperty]: id })[idProperty] ?? id,
          });
          results.push({ ...toPublicObject(portal, type, created, { properties: 'all' }), new: true });
        }
      } catch (error) {
        const body = (error as { body?: { category?: string; message?: string } }).body;
        errors.push(
          batchError(body?.category ?? 'VALIDATION_ERROR', body?.message ?? String(error), { ids: [id] }),
        );
      }
    });
    stats.recordsWritten += results.length;
    return reply.code(errors.length ? 207 : 200).send(batchAnswer(startedAt, results, errors));
  });

  app.post('/crm/v3/objects/:objectType/batch/archive', async (request, reply) => {
    const type = objectTypeParam(request);
    const inputs = batchInputs(bodyObject(request), BATCH_MAX);
    inputs.forEach((input, i) => portal.archive(type, idOf(input, `inputs[${i}]`)));
    stats.recordsWritten += inputs.length;
    return reply.code(204).send();
  });

  app.post('/crm/v3/objects/:objectType/search', async (request) => {
    const type = objectTypeParam(request);
    const body = bodyObject(request);
    const lagMs = searchIndex?.lagMs ?? 0;
    const outcome = search(portal, type, body, lagMs > 0 ? { now: now(), lagMs } : undefined);
    const shape: ReadShape = {};
    if (Array.isArray(body['properties']) && body['properties'].length > 0) {
      shape.properties = body['properties'].map(String);
    }
    stats.recordsRead += outcome.records.length;
    const answer: Record<string, unknown> = {
      total: outcome.total,
      results: outcome.records.map((r) => toPublicObject(portal, type, r, shape)),
    };
    if (outcome.nextAfter !== undefined) answer['paging'] = { next: { after: outcome.nextAfter } };
    return answer;
  });
}
