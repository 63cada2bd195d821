import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type CustomerViewConnection } from '../../src/store/database.js';

/**
 * The customer view is tested on embedded PGlite always, and also on a real PostgreSQL server when one
 * answers: a fresh `tandem_test_<random>` database is created for the run and dropped afterwards.
 */
export interface DatabaseVariant {
  kind: 'pglite' | 'postgres';
  open(): Promise<CustomerViewConnection>;
  /** Drops the run's server database; nothing to do for PGlite. */
  dispose(): Promise<void>;
}

const ADMIN_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function adminClient(): Promise<pg.Client | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return client;
  } catch {
    await client.end().catch(() => undefined);
    return undefined;
  }
}

export const pgliteVariant: DatabaseVariant = {
  kind: 'pglite',
  open: () => openDatabase({ dataDir: ':memory:' }),
  dispose: async () => undefined,
};

async function serverVariant(): Promise<DatabaseVariant | undefined> {
  const probe = await adminClient();
  if (probe === undefined) return undefined;
  await probe.end();
  const name = `tandem_test_${randomBytes(6).toString('hex')}`;
  let created = false;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    async open() {
      if (!created) {
        const admin = await adminClient();
        if (admin === undefined) throw new Error(`PostgreSQL at ${ADMIN_URL} stopped answering`);
        await admin.query(`create database ${name}`);
        await admin.end();
        created = true;
      }
      return openDatabase({ databaseUrl: url.toString(), dataDir: ':memory:' });
    },
    async dispose() {
      if (!created) return;
      const admin = await adminClient();
      if (admin === undefined) return;
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** PGlite, plus the server when one answers (with a console note when it does not). */
export async function databaseVariants(): Promise<DatabaseVariant[]> {
  const server = await serverVariant();
  if (server === undefined) {
    console.warn(
      `[store tests] no PostgreSQL server answered at ${ADMIN_URL}: running on PGlite only (set TEST_DATABASE_URL to include a server)`,
    );
    return [pgliteVariant];
  }
  return [pgliteVariant, server];
}
