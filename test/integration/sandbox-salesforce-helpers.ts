import jsforce from 'jsforce';
import type { Connection } from 'jsforce';
import {
  createSalesforceSandbox,
  type SalesforceSandbox,
  type SalesforceSandboxOptions,
} from '../../src/sandbox/salesforce/server.js';

export const CREDENTIALS = {
  clientId: 'tandem-sandbox-client',
  clientSecret: 'tandem-sandbox-secret',
  username: 'admin@tandem.sandbox',
  password: 'tandem-sandbox',
  refreshToken: 'tandem-sandbox-refresh',
};

export interface RunningSalesforceSandbox {
  sandbox: SalesforceSandbox;
  url: string;
  close(): Promise<void>;
  /** A jsforce connection logged in with the OAuth2 password grant. */
  connect(): Promise<Connection>;
  /** POST to a `/__sandbox/*` control. */
  control(path: string, body?: unknown): Promise<unknown>;
}

export async function startSalesforceSandbox(
  options: SalesforceSandboxOptions = {},
): Promise<RunningSalesforceSandbox> {
  const sandbox = await createSalesforceSandbox(options);
  await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = sandbox.app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    sandbox,
    url,
    close: () => sandbox.app.close(),
    async connect() {
      const conn = new jsforce.Connection({
        loginUrl: url,
        version: '62.0',
        oauth2: { loginUrl: url, clientId: CREDENTIALS.clientId, clientSecret: CREDENTIALS.clientSecret },
      });
      await conn.login(CREDENTIALS.username, CREDENTIALS.password);
      return conn;
    },
    async control(path, body) {
      const response = await fetch(`${url}/__sandbox/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      return response.json();
    },
  };
}

/** The error a jsforce call rejects with (fails the test when it resolves). */
export async function rejection(
  promise: PromiseLike<unknown>,
): Promise<Error & { errorCode?: string; data?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { errorCode?: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
