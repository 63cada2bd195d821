import {
  Migrator,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
} from 'kysely';
import * as customerView from './001-customer-view.js';
import * as sourceSnapshots from './002-source-snapshots.js';
import * as sourceRecordLookups from './003-source-record-lookups.js';
import * as viewFingerprints from './004-view-fingerprints.js';
import * as reconciledHash from './005-reconciled-hash.js';
import * as personReevaluation from './006-person-reevaluation.js';

/** Every migration, in order, listed in code so nothing is globbed from disk at runtime. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '001-customer-view': customerView,
  '002-source-snapshots': sourceSnapshots,
  '003-source-record-lookups': sourceRecordLookups,
  '004-view-fingerprints': viewFingerprints,
  '005-reconciled-hash': reconciledHash,
  '006-person-reevaluation': personReevaluation,
};

class InCodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS };
  }
}

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    options: { cause: unknown },
  ) {
    super(`customer view migration ${migration ?? '(setup)'} failed: ${String(options.cause)}`, options);
    this.name = 'MigrationError';
  }
}

/** Kysely keeps its bookkeeping tables in the `tandem` schema too. */
export function customerViewMigrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider: new InCodeMigrationProvider(),
    migrationTableSchema: 'tandem',
  });
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationResultSet> {
  const result = await customerViewMigrator(db).migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, { cause: result.error });
  }
  return result;
}
