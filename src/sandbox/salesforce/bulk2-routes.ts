import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Bulk2Jobs } from './bulk2.js';
import { RecordError } from './record-error.js';

type Req = FastifyRequest<{
  Params: { version: string; id: string };
  Querystring: Record<string, string | undefined>;
  Body: unknown;
}>;

function body(request: Req): Record<string, unknown> {
  const value = request.body;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RecordError('JSON_PARSER_ERROR', 'The request body must be a JSON object', []);
  }
  return value as Record<string, unknown>;
}

/** `/jobs/query` and `/jobs/ingest` under `/services/data/vXX.X`, registered inside the REST API plugin. */
export function registerBulk2Routes(app: FastifyInstance, jobs: Bulk2Jobs): void {
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, text, done) => {
    done(null, text);
  });

  app.get('/jobs/query', async () => jobs.list('query'));
  app.post('/jobs/query', async (request: Req) => jobs.createQuery(body(request), request.params.version));
  app.get('/jobs/query/:id', async (request: Req) => jobs.check('query', request.params.id));
  app.patch('/jobs/query/:id', async (request: Req) =>
    jobs.setState('query', request.params.id, body(request)['state']),
  );
  app.delete('/jobs/query/:id', async (request: Req, reply) => {
    jobs.delete('query', request.params.id);
    return reply.code(204).send();
  });
  app.get('/jobs/query/:id/results', async (request: Req, reply) => {
    const page = jobs.queryResults(request.params.id, request.query['locator'], request.query['maxRecords']);
    return reply
      .header('Sforce-Locator', page.locator)
      .header('Sforce-NumberOfRecords', String(page.count))
      .type('text/csv')
      .send(page.csv);
  });

  app.get('/jobs/ingest', async () => jobs.list('ingest'));
  app.post('/jobs/ingest', async (request: Req) => jobs.createIngest(body(request), request.params.version));
  // Salesforce takes up to 150 MB of CSV per job upload.
  app.put('/jobs/ingest/:id/batches', { bodyLimit: 150 * 1024 * 1024 }, async (request: Req, reply) => {
    if (typeof request.body !== 'string') {
      throw new RecordError('INVALIDBATCH', 'Upload the job data as text/csv', [], 400);
    }
    jobs.upload(request.params.id, request.body);
    return reply.code(201).send();
  });
  app.get('/jobs/ingest/:id', async (request: Req) => jobs.check('ingest', request.params.id));
  app.patch('/jobs/ingest/:id', async (request: Req) =>
    jobs.setState('ingest', request.params.id, body(request)['state']),
  );
  app.delete('/jobs/ingest/:id', async (request: Req, reply) => {
    jobs.delete('ingest', request.params.id);
    return reply.code(204).send();
  });
  for (const [path, which] of [
    ['successfulResults', 'successful'],
    ['failedResults', 'failed'],
    ['unprocessedrecords', 'unprocessed'],
  ] as const) {
    app.get(`/jobs/ingest/:id/${path}`, async (request: Req, reply) =>
      reply.type('text/csv').send(jobs.ingestResults(request.params.id, which)),
    );
  }
}
