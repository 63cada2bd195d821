import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig, type TandemConfig } from '../../config/index.js';
import { isLoopbackHost } from '../../dashboard/auth.js';
import { connectionsFrom } from '../../dashboard/connections.js';
import { createDashboard } from '../../dashboard/server.js';
import { createLogger } from '../../logging.js';
import { CustomerView } from '../../store/customer-view.js';
import { openDatabase } from '../../store/database.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { parsePort } from './sandbox.js';

interface DashboardCommandOptions {
  port?: number;
  host?: string;
  hubspotPortalId?: string;
}

async function dashboardCommand(options: DashboardCommandOptions): Promise<void> {
  let config: TandemConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.Usage);
    throw error;
  }
  const host = options.host ?? config.dashboard.host;
  const port = options.port ?? config.dashboard.port;
  let adminToken = config.dashboard.adminToken;
  if (adminToken === undefined) {
    if (!isLoopbackHost(host)) {
      throw new CliError(
        `refusing to listen on ${host} without TANDEM_ADMIN_TOKEN: set one, or listen on 127.0.0.1`,
        ExitCode.Usage,
      );
    }
    // Loopback only, and no token configured: one for this run, shown to whoever started it (not logged).
    adminToken = randomBytes(24).toString('base64url');
    process.stderr.write(
      `TANDEM_ADMIN_TOKEN is not set; log in with this one-off admin token: ${adminToken}\n`,
    );
  }
  config = { ...config, dashboard: { ...config.dashboard, host, port, adminToken } };

  const log = createLogger(config);
  let mappingText: string;
  try {
    mappingText = await readFile(config.mappingPath, 'utf8');
  } catch {
    throw new CliError(`cannot read the mapping file ${config.mappingPath} (TANDEM_MAPPING)`, ExitCode.Usage);
  }
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  const database = await openDatabase({
    databaseUrl: config.database.kind === 'postgres' ? config.database.url : undefined,
    dataDir: config.dataDir,
    onIdleConnectionError: (error) => log.warn({ err: error }, 'database connection dropped'),
  }).catch((error: unknown) => {
    redis.disconnect();
    throw new CliError(
      `cannot open the customer view: ${error instanceof Error ? error.message : String(error)}`,
      ExitCode.Unavailable,
    );
  });

  const app = await createDashboard({
    config,
    redis,
    customerView: new CustomerView(database.db),
    mapping: { text: mappingText, file: config.mappingPath },
    connections: connectionsFrom(config),
    logger: log,
    ...(options.hubspotPortalId === undefined ? {} : { hubspotPortalId: options.hubspotPortalId }),
  });
  const shutdown = async (): Promise<void> => {
    await app.close();
    await database.close();
    await redis.quit();
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  const address = await app.listen({ host, port });
  process.stderr.write(`Tandem dashboard on ${address}\n`);
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description(
      'Serve the admin dashboard: syncs, failures and replay, customers, funnel, mapping, /metrics',
    )
    .option('--port <port>', 'port to listen on (default TANDEM_DASHBOARD_PORT, 4280)', parsePort)
    .option('--host <host>', 'address to listen on (default TANDEM_DASHBOARD_HOST, 127.0.0.1)')
    .option('--hubspot-portal-id <id>', 'HubSpot account id, for links to records in HubSpot')
    .action(async (options: DashboardCommandOptions) => dashboardCommand(options));
}
