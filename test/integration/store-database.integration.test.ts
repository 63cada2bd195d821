import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { classify } from '../../src/connectors/classify.js';
import { CustomerView } from '../../src/store/customer-view.js';
import { openDatabase, PGLITE_SHARED_BUFFERS } from '../../src/store/database.js';
import { CustomerViewInUseError } from '../../src/store/pglite-lock.js';
import { databaseVariants } from './store-databases.js';

// PGlite start-up and large batches can outlast Jest's 5 s default on a busy machine.
jest.setTimeout(120_000);

describe('openDatabase on embedded PGlite with a data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-store-'));
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the customer view under <dataDir>/pglite across restarts, migrating only once', async () => {
    const first = await openDatabase({ dataDir });
    expect(first.kind).toBe('pglite');
    const created = new Date('2025-01-01T00:00:00Z');
    await new CustomerView(first.db).upsertPersons([
      { id: 'keep-1', email: 'keep@example.com', fields: {}, createdAt: created, updatedAt: created },
    ]);
    await first.close();
    expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);

    const second = await openDatabase({ dataDir });
    try {
      const again = await second.migrator.migrateToLatest();
      expect(again.results).toEqual([]);
      const found = await new CustomerView(second.db).findPerson({ email: 'keep@example.com' });
      expect(found?.person.id).toBe('keep-1');
    } finally {
      await second.close();
    }
  }, 120_000);

  it('creates a new data directory in a child process, so the memory initdb takes is not kept by this one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-init-'));
    const before = process.memoryUsage().external;
    const opened = await openDatabase({ dataDir: dir });
    try {
      expect(existsSync(join(dir, 'pglite', 'PG_VERSION'))).toBe(true);
      // initdb in this process grows its WebAssembly memory by ~650 MB (never given back); opening an
      // existing directory by ~150 MB.
      expect((process.memoryUsage().external - before) / 1e6).toBeLessThan(400);
      // And its buffer pool, which is this process's memory too, is kept small.
      const shown = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(opened.db);
      expect(shown.rows[0]?.shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
    } finally {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a second opener of the same data directory, naming it, and takes over from a killed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-lock-'));
    const script = join(dir, 'hold.mts');
    writeFileSync(
      script,
      `import { openDatabase } from ${JSON.stringify(resolve('src/store/database.ts'))};\n` +
        `await openDatabase({ dataDir: ${JSON.stringify(dir)} });\nconsole.log('open');\nsetInterval(() => {}, 1000);\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((done, fail) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('open') && done());
        child.once('exit', (code) => fail(new Error(`holder exited with ${code}`)));
      });
      const refused = openDatabase({ dataDir: dir });
      await expect(refused).rejects.toBeInstanceOf(CustomerViewInUseError);
      await expect(refused).rejects.toThrow(`pid ${child.pid}`);
      await expect(refused).rejects.toThrow(/DATABASE_URL/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((done) =>
        child.exitCode !== null || child.signalCode !== null ? done(null) : child.once('exit', done),
      );
    }
    // The killed holder left its lock file behind: it is stale and taken over.
    expect(existsSync(join(dir, 'pglite', 'tandem.lock'))).toBe(true);
    const after = await openDatabase({ dataDir: dir });
    try {
      // A second open in the same process would hang PGlite: refused as well.
      await expect(openDatabase({ dataDir: dir, migrate: false })).rejects.toThrow(
        /already open in this process/,
      );
    } finally {
      await after.close();
    }
    expect(existsSync(join(dir, 'pglite', 'tandem.lock'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('can open without migrating', async () => {
    const bare = await openDatabase({ dataDir: ':memory:', migrate: false });
    try {
      const pending = await bare.migrator.getMigrations();
      expect(pending.every((m) => m.executedAt === undefined)).toBe(true);
    } finally {
      await bare.close();
    }
  }, 60_000);
});

const server = (await databaseVariants()).find((v) => v.kind === 'postgres');

(server === undefined ? describe.skip : describe)('openDatabase on a PostgreSQL server', () => {
  afterAll(async () => {
    await server?.dispose();
  });

  it('survives the server dropping a connection held between two queries: the transaction fails (transient), the next query reconnects', async () => {
    const connection = await (server as NonNullable<typeof server>).open();
    try {
      const transaction = connection.db.transaction().execute(async (trx) => {
        const held = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        // Another pooled connection ends this one while it is checked out but has no query running
        // (as a server restart does): pg emits 'error' on the client, which must not crash the process.
        await sql`select pg_terminate_backend(${held.rows[0]?.pid})`.execute(connection.db);
        await sleep(300);
        await sql`select 1`.execute(trx);
      });
      const error = await transaction.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(classify(error).kind).toBe('transient');
      const after = await sql<{ one: number }>`select 1 as one`.execute(connection.db);
      expect(after.rows).toEqual([{ one: 1 }]);
    } finally {
      await connection.close();
    }
  }, 60_000);
});
