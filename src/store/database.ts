import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type Migrator } from 'kysely';
import pg from 'pg';
import { customerViewMigrator, migrateToLatest } from './migrations/index.js';
import { PgliteDialect } from './pglite-dialect.js';
import { lockDataDir } from './pglite-lock.js';
import type { CustomerViewDatabase } from './schema.js';

export const CUSTOMER_VIEW_SCHEMA = 'tandem';

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; without one Tandem runs embedded PGlite. */
  databaseUrl?: string | undefined;
  /** Where Tandem keeps local state (PGlite lives in `<dataDir>/pglite`); `':memory:'` keeps it in RAM. */
  dataDir: string;
  /** Bring the schema to the latest migration on open (default true). */
  migrate?: boolean;
  /** Pool size for a server (default 10). */
  maxConnections?: number;
  /** Told when the server drops an idle pooled connection (otherwise ignored). */
  onIdleConnectionError?: (error: Error) => void;
}

export interface CustomerViewConnection {
  /** Scoped to the `tandem` schema: `db.selectFrom('persons')` reads `tandem.persons`. */
  db: Kysely<CustomerViewDatabase>;
  kind: 'postgres' | 'pglite';
  /** Kysely's migrator over the unscoped connection (status, up, down). */
  migrator: Migrator;
  close(): Promise<void>;
}

// Both drivers parse values the same way, so the repository never sees a driver-specific shape:
// bigint counts and numerics become numbers, dates stay 'YYYY-MM-DD' (no local-midnight Date).
const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082 } as const;
const toNumber = (text: string): number => Number(text);
const keepText = (text: string): string => text;

function pgTypes(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
      if (oid === OID.INT8 || oid === OID.NUMERIC) return toNumber;
      if (oid === OID.DATE) return keepText;
      return format === 'binary'
        ? pg.types.getTypeParser(oid, 'binary')
        : pg.types.getTypeParser(oid, 'text');
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * PGlite runs PostgreSQL inside the process, so its buffer pool is the worker's own memory, and
 * WebAssembly memory never shrinks: at the default 128 MB a worker's peak grew by ~110 MB once the view
 * outgrew it (a 5,000-person back-fill: 524 → 417 MB peak at 16 MB, records/s unchanged). Pages outside
 * the pool are still read from the operating system's page cache, and large scans use a small ring anyway.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';
const pgliteStartParams = (): string[] => [
  ...PGlite.defaultStartParams,
  '-c',
  `shared_buffers=${PGLITE_SHARED_BUFFERS}`,
];

const INITIALISE = `
const [moduleUrl, dataDir] = process.argv.slice(1);
const { PGlite } = await import(moduleUrl);
const db = await PGlite.create({ dataDir });
await db.close();
`;

/**
 * Creates a PGlite data directory in a child process. PGlite's initdb runs in its own WebAssembly
 * instance whose memory a process never gives back: a worker that created its directory itself kept
 * ~830 MB resident for its whole life, one that opens an existing directory ~170 MB.
 */
async function initialiseDataDir(dir: string): Promise<void> {
  const moduleUrl = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  try {
    await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '--eval', INITIALISE, moduleUrl, dir],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`could not create the PGlite data directory ${dir}${stderr ? `: ${stderr}` : ''}`, {
      cause: error,
    });
  }
}

/**
 * Opens the customer view: a `pg` pool when a URL is given, else embedded PGlite. One query layer
 * (Kysely) serves both, and the schema is migrated to the latest version unless told otherwise.
 *
 * @example
 * const { db, close } = await openDatabase({ dataDir: '.tandem' });
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<CustomerViewConnection> {
  let root: Kysely<CustomerViewDatabase>;
  let kind: CustomerViewConnection['kind'];
  let unlock: (() => void) | undefined;
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.maxConnections ?? 10,
      types: pgTypes(),
    });
    // A client dropped by the server (restart, admin termination) must not crash the process. Idle, the pool
    // discards it and reports it here. Checked out, pg rejects its queries (classified as transient, so the
    // job retries) but also emits 'error' on the client, which pg-pool listens to only while it is idle —
    // without a listener of its own for that moment, the process dies of an unhandled 'error' event.
    pool.on('error', (error) => options.onIdleConnectionError?.(error));
    pool.on('connect', (client) => client.on('error', () => undefined));
    root = new Kysely<CustomerViewDatabase>({ dialect: new PostgresDialect({ pool }) });
    kind = 'postgres';
  } else {
    const parsers = {
      [pgliteTypes.INT8]: toNumber,
      [pgliteTypes.NUMERIC]: toNumber,
      [pgliteTypes.DATE]: keepText,
    };
    let pglite: PGlite;
    if (options.dataDir === ':memory:') {
      pglite = await PGlite.create({ parsers, startParams: pgliteStartParams() });
    } else {
      const dir = join(options.dataDir, 'pglite');
      mkdirSync(dir, { recursive: true });
      unlock = lockDataDir(dir);
      try {
        if (!existsSync(join(dir, 'PG_VERSION'))) await initialiseDataDir(dir);
        pglite = await PGlite.create({ dataDir: dir, parsers, startParams: pgliteStartParams() });
      } catch (error) {
        unlock();
        throw error;
      }
    }
    root = new Kysely<CustomerViewDatabase>({ dialect: new PgliteDialect(pglite) });
    kind = 'pglite';
  }
  const close = async (): Promise<void> => {
    try {
      await root.destroy();
    } finally {
      unlock?.();
      unlock = undefined;
    }
  };

  try {
    if (options.migrate ?? true) await migrateToLatest(root as Kysely<unknown>);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    db: root.withSchema(CUSTOMER_VIEW_SCHEMA),
    kind,
    migrator: customerViewMigrator(root as Kysely<unknown>),
    close,
  };
}
