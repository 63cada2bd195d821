// Everything the pipeline needs, built from the configuration: connectors with auth and budgets, the
// customer view, Redis stores and the mapping file.

import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { requireCredentials, type TandemConfig } from '../config/index.js';
import { ApiBudget, hubSpotBudgetOptions } from '../connectors/budget.js';
import { HubSpotConnector } from '../connectors/hubspot/connector.js';
import { connectSalesforce } from '../connectors/salesforce/auth.js';
import { SalesforceConnector, type SalesforceConnectorOptions } from '../connectors/salesforce/connector.js';
import { MappingError } from '../domain/mapping/problem.js';
import { mappingVersion, validateMapping } from '../domain/mapping/check.js';
import type { Mapping } from '../domain/mapping/schema.js';
import { openDatabase, type CustomerViewConnection } from '../store/database.js';
import { RedisKeys } from '../store/redis/keys.js';
import { hubspotPullProperties, salesforcePullFields } from './fields.js';
import { createSyncPipeline, type SyncPipelineImpl } from './pipeline.js';

/**
 * Salesforce daily requests until the org has told us (Enterprise base allowance): the budget's cap follows the
 * max of the first `Sforce-Limit-Info: api-usage=N/M` it sees.
 */
export const DEFAULT_SALESFORCE_DAILY_QUOTA = 100_000;

export interface OpenSyncPipelineOptions {
  /** Use this mapping file instead of `config.mappingPath`. */
  mappingPath?: string;
  /** Override the database (tests: `{ dataDir: ':memory:' }`, or a server URL). */
  database?: { databaseUrl?: string; dataDir: string };
  /** An open customer-view connection to use instead (the caller keeps it and closes it). */
  connection?: CustomerViewConnection;
  /** Override the Redis key prefix (tests: a random one). */
  redisPrefix?: string;
  logger?: Logger;
  /** Passed to the Salesforce connector (e.g. `windowLagMs: 0` against a sandbox). */
  salesforce?: Partial<SalesforceConnectorOptions>;
  /** HubSpot pull settings (e.g. `safetyMarginMs`, or `searchLagMs: 0` against a sandbox without index lag). */
  hubspot?: { safetyMarginMs?: number; searchLagMs?: number };
  now?: () => Date;
}

export async function loadMapping(
  path: string,
): Promise<{ mapping: Mapping; text: string; version: string }> {
  const text = await readFile(path, 'utf8');
  const validation = validateMapping(text, path);
  if (validation.mapping === undefined || !validation.valid) {
    throw new MappingError(validation.problems.filter((p) => p.severity === 'error'));
  }
  return { mapping: validation.mapping, text, version: mappingVersion(validation.mapping, text) };
}

/**
 * Opens the pipeline from configuration; `close()` releases the database, Redis and nothing else.
 *
 * @example
 * const pipeline = await openSyncPipeline(loadConfig());
 * try { for await (const page of pipeline.pull('salesforce', 'Lead', { mode: 'incremental' })) … }
 * finally { await pipeline.close(); }
 */
export async function openSyncPipeline(
  config: TandemConfig,
  options: OpenSyncPipelineOptions = {},
): Promise<SyncPipelineImpl> {
  const { hubspot: hubspotConfig, salesforce: salesforceConfig } = requireCredentials(config);
  const { mapping, text, version } = await loadMapping(options.mappingPath ?? config.mappingPath);
  const prefix = options.redisPrefix ?? config.redis.prefix;
  const keys = new RedisKeys(prefix);
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 3 });
  const cleanup: Array<() => Promise<unknown>> = [() => redis.quit().catch(() => redis.disconnect())];
  const close = async (): Promise<void> => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const database =
      options.database ??
      (config.database.kind === 'postgres'
        ? { databaseUrl: config.database.url, dataDir: config.dataDir }
        : { dataDir: config.dataDir });
    let connection = options.connection;
    if (connection === undefined) {
      const opened = await openDatabase(database);
      cleanup.push(() => opened.close());
      connection = opened;
    }
    const hubspotFields = hubspotPullProperties(mapping);
    const hubspot = new HubSpotConnector({
      accessToken: hubspotConfig.accessToken,
      baseUrl: hubspotConfig.baseUrl,
      budget: new ApiBudget({ redis, prefix, system: 'hubspot', ...hubSpotBudgetOptions(hubspotConfig) }),
      properties: hubspotFields.properties,
      historyProperties: hubspotFields.history,
      deletionScanIntervalMs: config.hubspot.deletionScanIntervalMs,
      searchLagMs: options.hubspot?.searchLagMs ?? config.hubspot.searchLagMs,
      ...(options.hubspot?.safetyMarginMs !== undefined
        ? { safetyMarginMs: options.hubspot.safetyMarginMs }
        : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    const conn = await connectSalesforce(salesforceConfig);
    const salesforce = new SalesforceConnector(conn, {
      budget: new ApiBudget({
        redis,
        prefix,
        system: 'salesforce',
        daily: {
          quota: DEFAULT_SALESFORCE_DAILY_QUOTA,
          budgetPercent: config.salesforce.dailyBudgetPercent,
          resets: 'rolling-24h',
        },
      }),
      bulkThreshold: config.salesforce.bulkThreshold,
      windowLagMs: config.salesforce.windowLagMs,
      fields: salesforcePullFields(mapping),
      ...options.salesforce,
    });
    return createSyncPipeline({
      mapping,
      mappingVersion: version,
      mappingText: text,
      hubspot,
      salesforce,
      db: connection.db,
      redis,
      keys,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
      onClose: close,
    });
  } catch (error) {
    await close();
    throw error;
  }
}
