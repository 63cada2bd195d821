import type { AddressInfo } from 'node:net';
import { Client } from '@hubspot/api-client';
import { checkCapturedResponse } from './openapi.js';
import {
  createHubSpotSandbox,
  DEFAULT_HUBSPOT_TOKEN,
  type HubSpotSandbox,
  type HubSpotSandboxOptions,
} from '../../src/sandbox/hubspot/server.js';

/** One answer the sandbox sent, as raw JSON, for checking against HubSpot's OpenAPI specs. */
export interface CapturedResponse {
  method: string;
  path: string;
  statusCode: number;
  headers: Record<string, unknown>;
  body: unknown;
}

export interface HubSpotSandboxHarness {
  sandbox: HubSpotSandbox;
  baseUrl: string;
  /** The official SDK pointed at the sandbox, with its own retries off. */
  client: Client;
  clientWithToken(token: string): Client;
  responses: CapturedResponse[];
  /**
   * Every captured response checked against HubSpot's OpenAPI specs: one line per response that does not
   * conform (or has no documented operation). `close()` fails with these, so each test file that starts
   * a sandbox validates all the answers it got, not only the ones it looked at.
   */
  nonConforming(): string[];
  /** The last captured answer to `method` on a path matching `path`. */
  last(method: string, path: RegExp): CapturedResponse;
  /** Calls a `/__sandbox/*` control (the only hand-written HTTP the tests make). */
  control<T = unknown>(
    path: string,
    body?: unknown,
    method?: 'GET' | 'POST',
  ): Promise<{ status: number; body: T }>;
  /** Stops the server; throws if any captured response is off the spec (see `nonConforming`). */
  close(): Promise<void>;
}

function specProblems(responses: readonly CapturedResponse[]): string[] {
  const problems: string[] = [];
  for (const r of responses) {
    try {
      const { specPath, errors } = checkCapturedResponse(r.method, r.path, r.statusCode, r.body);
      if (errors.length > 0)
        problems.push(
          `${r.method} ${r.path} ${r.statusCode} (${specPath ?? 'no spec'}): ${errors.join('; ')}`,
        );
    } catch (error) {
      problems.push(`${r.method} ${r.path} ${r.statusCode}: ${(error as Error).message}`);
    }
  }
  return problems;
}

export async function startHubSpotSandbox(
  options: HubSpotSandboxOptions = {},
): Promise<HubSpotSandboxHarness> {
  const sandbox = await createHubSpotSandbox(options);
  const responses: CapturedResponse[] = [];
  sandbox.app.addHook('onSend', async (request, reply, payload) => {
    const path = request.url.split('?')[0] ?? request.url;
    if (path.startsWith('/__sandbox/')) return payload;
    let body: unknown = payload;
    if (typeof payload === 'string' && payload !== '') {
      try {
        body = JSON.parse(payload);
      } catch {
        body = payload;
      }
    }
    responses.push({
      method: request.method,
      path,
      statusCode: reply.statusCode,
      headers: reply.getHeaders(),
      body,
    });
    return payload;
  });
  await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = sandbox.app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const clientWithToken = (token: string) =>
    new Client({ accessToken: token, basePath: baseUrl, numberOfApiCallRetries: 0 });
  return {
    sandbox,
    baseUrl,
    client: clientWithToken(options.accessToken ?? DEFAULT_HUBSPOT_TOKEN),
    clientWithToken,
    responses,
    nonConforming: () => specProblems(responses),
    last(method, path) {
      const found = [...responses].reverse().find((r) => r.method === method && path.test(r.path));
      if (found === undefined) throw new Error(`no captured ${method} response for ${String(path)}`);
      return found;
    },
    async control(path, body, method = body === undefined ? 'GET' : 'POST') {
      const init: RequestInit = { method };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      const response = await fetch(`${baseUrl}${path}`, init);
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as never };
    },
    async close() {
      await sandbox.app.close();
      const problems = specProblems(responses);
      if (problems.length > 0) {
        throw new Error(
          `${problems.length} of ${responses.length} HubSpot sandbox responses are off the OpenAPI specs:\n${problems.slice(0, 20).join('\n')}`,
        );
      }
    },
  };
}
