import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomerView } from '../../src/store/customer-view.js';
import { openDatabase } from '../../src/store/database.js';

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
