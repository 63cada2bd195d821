import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type {
  AppControllerRoute,
  AppViewRoute,
  BullBoardQueues,
  ControllerHandlerReturnType,
  IServerAdapter,
  UIConfig,
} from '@bull-board/api/typings/app';
import type { FastifyInstance } from 'fastify';
import { escapeHtml } from './html.js';

/**
 * bull-board's core API mounted on Fastify, like `@bull-board/fastify` but without `@fastify/static` and
 * `@fastify/view`: those pull in ESM-only dependencies that Jest's module loader cannot `require`, and the
 * board needs only a handful of files and one five-variable template. Static paths are confined to the UI
 * directory; the template's `<%= %>` values are HTML-escaped, `<%- uiConfig %>` is bull-board's own
 * script-safe JSON.
 */
export class TandemBoardAdapter implements IServerAdapter {
  private queues: BullBoardQueues | undefined;
  private viewsPath = '';
  private statics: { route: string; path: string } | undefined;
  private entry: AppViewRoute | undefined;
  private errorHandler: ((error: Error) => ControllerHandlerReturnType) | undefined;
  private apiRoutes: AppControllerRoute[] = [];
  private uiConfig: UIConfig = {};

  constructor(private readonly basePath: string) {}

  setQueues(queues: BullBoardQueues): this {
    this.queues = queues;
    return this;
  }
  setViewsPath(path: string): this {
    this.viewsPath = path;
    return this;
  }
  setStaticPath(route: string, path: string): this {
    this.statics = { route, path };
    return this;
  }
  setEntryRoute(route: AppViewRoute): this {
    this.entry = route;
    return this;
  }
  setErrorHandler(handler: (error: Error) => ControllerHandlerReturnType): this {
    this.errorHandler = handler;
    return this;
  }
  setApiRoutes(routes: AppControllerRoute[]): this {
    this.apiRoutes = routes;
    return this;
  }
  setUIConfig(config: UIConfig = {}): this {
    this.uiConfig = config;
    return this;
  }

  /** Registers the board under `basePath` (call after `createBullBoard`). */
  async register(app: FastifyInstance): Promise<void> {
    const { entry, statics, queues, errorHandler } = this;
    if (entry === undefined || statics === undefined || queues === undefined || errorHandler === undefined) {
      throw new Error('createBullBoard must configure the adapter before it is registered');
    }
    await app.register(
      async (board) => {
        board.setErrorHandler(async (error: Error, _request, reply) => {
          const response = errorHandler(error);
          return reply.code(response.status ?? 500).send(response.body);
        });

        const template = await readFile(join(this.viewsPath, 'index.ejs'), 'utf8');
        const routes = Array.isArray(entry.route) ? entry.route : [entry.route];
        for (const url of routes) {
          board.get(url, async (_request, reply) => {
            const { params } = entry.handler({ basePath: this.basePath, uiConfig: this.uiConfig });
            const page = template.replace(/<%([=-])\s*(\w+)\s*%>/g, (_m, kind: string, name: string) => {
              const value = (params as Record<string, unknown>)[name];
              const text = value === undefined || value === null ? '' : String(value);
              return kind === '=' ? escapeHtml(text) : text;
            });
            return reply.type('text/html; charset=utf-8').send(page);
          });
        }

        const root = normalize(statics.path);
        board.get(`${statics.route}/*`, async (request, reply) => {
          const rest = (request.params as { '*': string })['*'];
          const file = normalize(join(root, rest));
          if (!file.startsWith(root + sep)) return reply.code(404).send({ error: 'not found' });
          try {
            const content = await readFile(file);
            return reply
              .type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream')
              .header('cache-control', 'public, max-age=3600')
              .send(content);
          } catch {
            return reply.code(404).send({ error: 'not found' });
          }
        });

        for (const route of this.apiRoutes) {
          const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) =>
            m.toUpperCase(),
          );
          const urls = Array.isArray(route.route) ? route.route : [route.route];
          for (const url of urls) {
            board.route({
              method: methods as never,
              url,
              handler: async (request, reply) => {
                const response = await route.handler({
                  queues,
                  uiConfig: this.uiConfig,
                  params: request.params as Record<string, string>,
                  query: request.query as Record<string, string>,
                  body: request.body as Record<string, unknown>,
                  headers: request.headers as Record<string, string>,
                } as never);
                return reply.code(response.status ?? 200).send(response.body);
              },
            });
          }
        }
      },
      { prefix: this.basePath },
    );
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json',
};
