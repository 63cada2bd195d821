import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxStats } from '../common/stats.js';
import { isSalesforceId, toCaseSafeId } from '../world/salesforce-id.js';
import { describeGlobal, describeObject, objectBasicInfo } from './describe.js';
import { batchSizeFrom, type QueryCursor, type QueryCursors } from './query-cursors.js';
import { RecordError } from './record-error.js';
import type { SalesforceCatalog, SalesforceObjectInfo } from './schema/catalog.js';
import { compileQuery, projectRecord, runQuery } from './soql/evaluator.js';
import type { Journal, SalesforceStore } from './store.js';
import { formatDateTime, parseDateTime, type SalesforceRow } from './values.js';

export interface RestContext {
  store: SalesforceStore;
  catalog: SalesforceCatalog;
  cursors: QueryCursors;
  stats: SandboxStats;
  limits: () => { max: number; used: number };
  /** The identity URL (`…/id/{orgId}/{userId}`) on the server the request reached. */
  identityUrl: (request: FastifyRequest) => string;
}

/** Most records one sObject collections call takes. */
export const COLLECTION_LIMIT = 200;

type Params = { version: string; type: string; id: string; field: string; value: string; locator: string };
type Req = FastifyRequest<{ Params: Params; Querystring: Record<string, string | undefined>; Body: unknown }>;

export function sendErrors(
  reply: FastifyReply,
  status: number,
  errorCode: string,
  message: string,
  fields?: string[],
): FastifyReply {
  return reply.code(status).send([{ message, errorCode, ...(fields === undefined ? {} : { fields }) }]);
}

function objectOrThrow(ctx: RestContext, name: string): SalesforceObjectInfo {
  const info = ctx.catalog.object(name);
  if (info === undefined) {
    throw new RecordError('NOT_FOUND', `The requested resource does not exist`, [], 404);
  }
  return info;
}

function fieldsFilter(
  info: SalesforceObjectInfo,
  fields: string | undefined,
): (row: SalesforceRow) => SalesforceRow {
  if (fields === undefined || fields.trim() === '') return (row) => row;
  const names = fields.split(',').map((name) => {
    const field = info.field(name.trim());
    if (field === undefined) {
      throw new RecordError(
        'INVALID_FIELD',
        `No such column '${name.trim()}' on sobject of type ${info.name}`,
        [name],
      );
    }
    return field.name;
  });
  return (row) => Object.fromEntries(names.map((name) => [name, row[name] ?? null]));
}

function withAttributes(
  info: SalesforceObjectInfo,
  row: SalesforceRow,
  version: string,
): Record<string, unknown> {
  return {
    attributes: {
      type: info.name,
      url: `/services/data/v${version}/sobjects/${info.name}/${String(row['Id'])}`,
    },
    ...row,
  };
}

function asRecord(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RecordError('JSON_PARSER_ERROR', 'The request body must be a JSON object', []);
  }
  return body as Record<string, unknown>;
}

interface CollectionBody {
  allOrNone: boolean;
  records: Array<Record<string, unknown>>;
}

function collectionBody(body: unknown): CollectionBody {
  const record = asRecord(body);
  const records = record['records'];
  if (!Array.isArray(records)) {
    throw new RecordError('JSON_PARSER_ERROR', "The request body needs a 'records' array", []);
  }
  if (records.length > COLLECTION_LIMIT) {
    throw new RecordError(
      'EXCEEDED_ID_LIMIT',
      `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
      [],
    );
  }
  return { allOrNone: record['allOrNone'] === true, records: records.map(asRecord) };
}

interface CollectionResult {
  id?: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  created?: boolean;
}

/**
 * Applies one operation per record. With allOrNone, the first failure undoes every applied record and the
 * others report ALL_OR_NONE_OPERATION_ROLLED_BACK, as Salesforce does.
 */
function applyCollection<T>(
  items: T[],
  allOrNone: boolean,
  apply: (item: T, journal: Journal) => CollectionResult,
  failedId: (item: T) => string | undefined,
): CollectionResult[] {
  const journal: Journal = [];
  const results = items.map((item): CollectionResult => {
    try {
      return apply(item, journal);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      const id = failedId(item);
      return { ...(id === undefined ? {} : { id }), success: false, errors: [error.toCollectionError()] };
    }
  });
  if (!allOrNone || results.every((r) => r.success)) return results;
  for (const undo of journal.reverse()) undo();
  return results.map((r) =>
    r.success
      ? {
          id: null,
          success: false,
          errors: [
            {
              statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              message:
                'Record rolled back because not all records were valid and the request was using AllOrNone header',
              fields: [],
            },
          ],
        }
      : r,
  );
}

function recordType(
  ctx: RestContext,
  record: Record<string, unknown>,
  fallback?: string,
): SalesforceObjectInfo {
  const attributes = record['attributes'] as { type?: unknown } | undefined;
  const type = typeof attributes?.type === 'string' ? attributes.type : fallback;
  if (type === undefined) {
    throw new RecordError('INVALID_TYPE', 'Must send a concrete entity type.', []);
  }
  const info = ctx.catalog.object(type);
  if (info === undefined)
    throw new RecordError('INVALID_TYPE', `sObject type '${type}' is not supported.`, []);
  return info;
}

function stripKeys(record: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const lower = new Set(keys.map((k) => k.toLowerCase()));
  return Object.fromEntries(Object.entries(record).filter(([k]) => !lower.has(k.toLowerCase())));
}

export function registerRestRoutes(app: FastifyInstance, ctx: RestContext): void {
  const { store, stats } = ctx;

  app.get('/', async (request: Req) => {
    // As Salesforce lists them: relative paths, but `identity` is absolute (jsforce's identity() reads it).
    const base = `/services/data/v${request.params.version}`;
    return {
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      identity: ctx.identityUrl(request),
      limits: `${base}/limits`,
      composite: `${base}/composite`,
      jobs: `${base}/jobs`,
    };
  });

  app.get('/limits', async () => {
    const { max, used } = ctx.limits();
    const pair = (Max: number, Remaining = Max) => ({ Max, Remaining });
    return {
      DailyApiRequests: pair(max, Math.max(0, max - used)),
      DailyAsyncApexExecutions: pair(250_000),
      DailyBulkApiBatches: pair(15_000),
      DailyBulkV2QueryFileStorageMB: pair(976_562),
      DailyBulkV2QueryJobs: pair(10_000),
      DataStorageMB: pair(5, 5),
      FileStorageMB: pair(20, 20),
      HourlyTimeBasedWorkflow: pair(1_000),
      SingleEmail: pair(5_000),
    };
  });

  app.get('/sobjects', async (request: Req) => describeGlobal(ctx.catalog.all(), request.params.version));

  app.get('/sobjects/:type', async (request: Req) =>
    objectBasicInfo(objectOrThrow(ctx, request.params.type), request.params.version),
  );

  app.get('/sobjects/:type/describe', async (request: Req) =>
    describeObject(objectOrThrow(ctx, request.params.type), request.params.version),
  );

  const dateRange = (request: Req): { start: string; end: string } => {
    const start = parseDateTime(request.query['start'] ?? '');
    const end = parseDateTime(request.query['end'] ?? '');
    if (start === null || end === null) {
      throw new RecordError(
        'MALFORMED_QUERY',
        'start and end must be dateTime values, e.g. 2024-01-01T00:00:00Z',
        ['start', 'end'],
      );
    }
    if (end < start)
      throw new RecordError('INVALID_REPLICATION_DATE', 'end date is before start date', ['end']);
    // Salesforce covers whole minutes: the end is truncated to the minute.
    return { start: formatDateTime(start), end: formatDateTime(Math.floor(end / 60_000) * 60_000) };
  };

  app.get('/sobjects/:type/updated', async (request: Req) => {
    const info = objectOrThrow(ctx, request.params.type);
    const { start, end } = dateRange(request);
    const ids: string[] = [];
    for (const row of store.rowsByModstamp(info.name)) {
      const stamp = String(row['SystemModstamp']);
      if (row['IsDeleted'] !== true && stamp >= start && stamp < end) ids.push(String(row['Id']));
    }
    return { ids, latestDateCovered: end };
  });

  app.get('/sobjects/:type/deleted', async (request: Req) => {
    const info = objectOrThrow(ctx, request.params.type);
    const { start, end } = dateRange(request);
    const deletedRecords: Array<{ id: string; deletedDate: string }> = [];
    let earliest: string | null = null;
    for (const row of store.rows(info.name)) {
      if (row['IsDeleted'] !== true) continue;
      const id = String(row['Id']);
      const deletedDate = store.deletedDate(id) ?? String(row['SystemModstamp']);
      if (earliest === null || deletedDate < earliest) earliest = deletedDate;
      if (deletedDate >= start && deletedDate < end) deletedRecords.push({ id, deletedDate });
    }
    return { deletedRecords, earliestDateAvailable: earliest ?? start, latestDateCovered: end };
  });

  app.post('/sobjects/:type', async (request: Req, reply) => {
    const info = objectOrThrow(ctx, request.params.type);
    const row = store.create(info.name, stripKeys(asRecord(request.body), 'attributes'));
    stats.recordsWritten += 1;
    return reply.code(201).send({ id: row['Id'], success: true, errors: [] });
  });

  app.get('/sobjects/:type/:id', async (request: Req) => {
    const info = objectOrThrow(ctx, request.params.type);
    const row = store.liveRow(info.name, request.params.id);
    stats.recordsRead += 1;
    return withAttributes(info, fieldsFilter(info, request.query['fields'])(row), request.params.version);
  });

  app.patch('/sobjects/:type/:id', async (request: Req, reply) => {
    const info = objectOrThrow(ctx, request.params.type);
    store.update(info.name, request.params.id, stripKeys(asRecord(request.body), 'attributes'));
    stats.recordsWritten += 1;
    return reply.code(204).send();
  });

  app.delete('/sobjects/:type/:id', async (request: Req, reply) => {
    const info = objectOrThrow(ctx, request.params.type);
    store.delete(info.name, request.params.id);
    stats.recordsWritten += 1;
    return reply.code(204).send();
  });

  const externalIdField = (info: SalesforceObjectInfo, name: string) => {
    const field = info.field(name);
    if (field === undefined || (!field.externalId && field.name !== 'Id')) {
      throw new RecordError(
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${name}`,
        [],
        404,
      );
    }
    return field;
  };

  const findByExternalId = (
    info: SalesforceObjectInfo,
    fieldName: string,
    value: string,
  ): SalesforceRow[] => {
    if (fieldName === 'Id') {
      if (!isSalesforceId(value)) return [];
      const row = store.byId(toCaseSafeId(value));
      return row !== undefined &&
        row['IsDeleted'] !== true &&
        String(row['Id']).startsWith(info.schema.keyPrefix)
        ? [row]
        : [];
    }
    return store.findByValue(info.name, fieldName, value);
  };

  app.get('/sobjects/:type/:field/:value', async (request: Req) => {
    const info = objectOrThrow(ctx, request.params.type);
    const field = externalIdField(info, request.params.field);
    const [row] = findByExternalId(info, field.name, request.params.value);
    if (row === undefined)
      throw new RecordError('NOT_FOUND', 'The requested resource does not exist', [], 404);
    stats.recordsRead += 1;
    return withAttributes(info, fieldsFilter(info, request.query['fields'])(row), request.params.version);
  });

  /** Upsert one record: 201 + created:true on insert; on update 200 + created:false (204 before v46). */
  const upsertOne = (
    info: SalesforceObjectInfo,
    fieldName: string,
    value: string,
    body: Record<string, unknown>,
    journal?: Journal,
  ) => {
    const field = externalIdField(info, fieldName);
    const fields = stripKeys(body, 'attributes', field.name);
    const matches = findByExternalId(info, field.name, value);
    if (matches.length > 1) {
      throw new RecordError(
        'MULTIPLE_CHOICES',
        `More than one record found for ${field.name} = ${value}`,
        [],
        300,
      );
    }
    const [existing] = matches;
    if (existing !== undefined) {
      const row = store.update(info.name, String(existing['Id']), fields, journal);
      return { row, created: false };
    }
    const row = store.create(
      info.name,
      field.name === 'Id' ? fields : { ...fields, [field.name]: value },
      journal,
    );
    return { row, created: true };
  };

  app.patch('/sobjects/:type/:field/:value', async (request: Req, reply) => {
    const info = objectOrThrow(ctx, request.params.type);
    const { row, created } = upsertOne(
      info,
      request.params.field,
      request.params.value,
      asRecord(request.body),
    );
    stats.recordsWritten += 1;
    if (!created && Number(request.params.version) < 46) return reply.code(204).send();
    return reply.code(created ? 201 : 200).send({ id: row['Id'], success: true, errors: [], created });
  });

  // ---- sObject collections ----------------------------------------------------------------------

  app.post('/composite/sobjects', async (request: Req) => {
    const { allOrNone, records } = collectionBody(request.body);
    const results = applyCollection(
      records,
      allOrNone,
      (record, journal) => {
        const info = recordType(ctx, record);
        const row = store.create(info.name, stripKeys(record, 'attributes'), journal);
        return { id: String(row['Id']), success: true, errors: [] };
      },
      () => undefined,
    );
    stats.recordsWritten += results.filter((r) => r.success).length;
    return results;
  });

  app.patch('/composite/sobjects', async (request: Req) => {
    const { allOrNone, records } = collectionBody(request.body);
    const idOf = (record: Record<string, unknown>) => {
      const id = record['id'] ?? record['Id'];
      return typeof id === 'string' ? id : undefined;
    };
    const results = applyCollection(
      records,
      allOrNone,
      (record, journal) => {
        const info = recordType(ctx, record);
        const id = idOf(record);
        if (id === undefined)
          throw new RecordError('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
        const row = store.update(info.name, id, stripKeys(record, 'attributes', 'id'), journal);
        return { id: String(row['Id']), success: true, errors: [] };
      },
      idOf,
    );
    stats.recordsWritten += results.filter((r) => r.success).length;
    return results;
  });

  app.patch('/composite/sobjects/:type/:field', async (request: Req) => {
    const info = objectOrThrow(ctx, request.params.type);
    const field = externalIdField(info, request.params.field);
    const { allOrNone, records } = collectionBody(request.body);
    const results = applyCollection(
      records,
      allOrNone,
      (record, journal) => {
        const value = Object.entries(record).find(([k]) => k.toLowerCase() === field.name.toLowerCase())?.[1];
        if (typeof value !== 'string' && typeof value !== 'number') {
          throw new RecordError('MISSING_ARGUMENT', `${field.name} not specified`, [field.name]);
        }
        const { row, created } = upsertOne(
          recordType(ctx, record, info.name),
          field.name,
          String(value),
          record,
          journal,
        );
        return { id: String(row['Id']), success: true, errors: [], created };
      },
      () => undefined,
    );
    stats.recordsWritten += results.filter((r) => r.success).length;
    return results;
  });

  app.delete('/composite/sobjects', async (request: Req) => {
    const ids = (request.query['ids'] ?? '').split(',').filter((id) => id !== '');
    if (ids.length > COLLECTION_LIMIT) {
      throw new RecordError(
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
        [],
      );
    }
    const results = applyCollection(
      ids,
      request.query['allOrNone'] === 'true',
      (id, journal) => {
        const info = isSalesforceId(id) ? ctx.catalog.objectForId(id) : undefined;
        if (info === undefined) throw new RecordError('MALFORMED_ID', `malformed id ${id}`, []);
        try {
          return { id: store.delete(info.name, id, journal), success: true, errors: [] };
        } catch (error) {
          if (error instanceof RecordError && error.statusCode === 'NOT_FOUND') {
            throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
          }
          throw error;
        }
      },
      (id) => id,
    );
    stats.recordsWritten += results.filter((r) => r.success).length;
    return results;
  });

  app.post('/composite/sobjects/:type', async (request: Req) => {
    const info = objectOrThrow(ctx, request.params.type);
    const body = asRecord(request.body);
    const ids = body['ids'];
    const fields = body['fields'];
    if (!Array.isArray(ids) || !Array.isArray(fields)) {
      throw new RecordError('JSON_PARSER_ERROR', "The request body needs 'ids' and 'fields' arrays", []);
    }
    if (ids.length > 2000) {
      throw new RecordError(
        'EXCEEDED_ID_LIMIT',
        'record limit reached. cannot submit more than 2000 records into this call',
        [],
      );
    }
    const pick = fieldsFilter(info, fields.map(String).join(','));
    return ids.map((id) => {
      const text = String(id);
      if (!isSalesforceId(text)) return null;
      const row = store.byId(toCaseSafeId(text));
      if (row === undefined || row['IsDeleted'] === true || !text.startsWith(info.schema.keyPrefix))
        return null;
      stats.recordsRead += 1;
      return withAttributes(info, pick(row), request.params.version);
    });
  });

  // ---- Query ------------------------------------------------------------------------------------

  const page = (cursor: QueryCursor, locator: string, offset: number, version: string, kind: string) => {
    const { compiled, rows, batchSize } = cursor;
    if (compiled.ast.select.kind === 'count') {
      return { totalSize: rows.length, done: true, records: [] };
    }
    const slice = rows.slice(offset, offset + batchSize);
    const next = offset + slice.length;
    const done = next >= rows.length;
    if (done) ctx.cursors.close(locator);
    stats.recordsRead += slice.length;
    return {
      totalSize: rows.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/${kind}/${locator}-${next}` }),
      records: slice.map((row) => projectRecord(row, compiled, store, version)),
    };
  };

  for (const kind of ['query', 'queryAll'] as const) {
    app.get(`/${kind}`, async (request: Req) => {
      const soql = request.query['q'];
      if (soql === undefined || soql.trim() === '') {
        throw new RecordError('MALFORMED_QUERY', 'A query string has to be specified', []);
      }
      const compiled = compileQuery(soql, ctx.catalog, () => store.now());
      const rows = runQuery(compiled, store, { includeDeleted: kind === 'queryAll' });
      const cursor: QueryCursor = {
        compiled,
        rows,
        batchSize: batchSizeFrom(request.headers['sforce-query-options']),
      };
      const locator = ctx.cursors.open(cursor);
      return page(cursor, locator, 0, request.params.version, kind);
    });

    app.get(`/${kind}/:locator`, async (request: Req) => {
      const match = /^([a-zA-Z0-9]{18})-(\d+)$/.exec(request.params.locator);
      const cursor = match === null ? undefined : ctx.cursors.get(match[1] as string);
      if (match === null || cursor === undefined) {
        throw new RecordError('INVALID_QUERY_LOCATOR', 'invalid query locator', [], 400);
      }
      return page(cursor, match[1] as string, Number(match[2]), request.params.version, kind);
    });
  }
}
