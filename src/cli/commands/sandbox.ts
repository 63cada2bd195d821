import { type Command, InvalidArgumentError, Option } from 'commander';
import { FaultSpecError } from '../../sandbox/common/faults.js';
import { startSandbox, WorldFileError, type RunningSandbox } from '../../sandbox/index.js';
import { CliError, ExitCode } from '../exit-codes.js';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError(`expected a port number 0–65535 (0 picks a free one), got "${value}"`);
  }
  return port;
}

export function parsePositiveInteger(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

interface SandboxCommandOptions {
  host: string;
  hubspotPort: number;
  salesforcePort: number;
  seed?: string;
  persons: number;
  hubspotTier: 'free' | 'starter' | 'professional' | 'enterprise';
  faults?: string;
  faultSeed: string;
  state?: string;
  json?: boolean;
}

function describeForHumans(sandbox: RunningSandbox): string {
  const { hubspot, salesforce } = sandbox.credentials;
  const { source, persons, counts } = sandbox.world;
  const world =
    counts === undefined
      ? 'empty (load one with --seed demo or --seed FILE)'
      : [
          `${persons === undefined ? '' : `${persons} persons, `}${source}: HubSpot ${counts.hubspot.contacts} contacts, ${counts.hubspot.companies} companies, ${counts.hubspot.deals} deals;`,
          `Salesforce ${Object.entries(counts.salesforce)
            .map(([name, n]) => `${n} ${name}`)
            .join(', ')}`,
        ].join('\n             ');
  return [
    'Tandem sandbox is running. Point the official SDKs at it:',
    '',
    `HubSpot      new Client({ basePath: '${hubspot.baseUrl}', accessToken: '${hubspot.accessToken}' })`,
    `             tier ${hubspot.tier}`,
    `Salesforce   new jsforce.Connection({ loginUrl: '${salesforce.loginUrl}', version: '${salesforce.apiVersion}' })`,
    `             login('${salesforce.username}', '${salesforce.password}')`,
    `             OAuth2 client id ${salesforce.clientId}, secret ${salesforce.clientSecret}`,
    `             refresh token ${salesforce.refreshToken}; JWT key ${salesforce.jwtPrivateKeyFile}`,
    '',
    `World        ${world}`,
    `Controls     ${hubspot.baseUrl}/__sandbox/stats and ${salesforce.loginUrl}/__sandbox/stats`,
    '',
    'Ctrl-C stops it.',
  ].join('\n');
}

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description('Start HubSpot- and Salesforce-compatible servers on loopback, with a demo world')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--hubspot-port <port>', 'HubSpot sandbox port (0 = any free port)', parsePort, 4010)
    .option('--salesforce-port <port>', 'Salesforce sandbox port (0 = any free port)', parsePort, 4020)
    .option(
      '--seed <demo|FILE>',
      'generate a world from this seed word, or load a world JSON file (docs/WORLD.md)',
    )
    .option('--persons <n>', 'persons in a generated world', parsePositiveInteger, 2_000)
    .addOption(
      new Option('--hubspot-tier <tier>', 'HubSpot subscription tier, which sets the rate limits')
        .choices(['free', 'starter', 'professional', 'enterprise'])
        .default('professional'),
    )
    .option('--faults <spec>', 'inject faults, e.g. "5xx=0.05,429=0.02,timeout=0.01,latency=20-200ms"')
    .option('--fault-seed <seed>', 'seed for repeatable fault injection', 'faults')
    .option('--state <file>', 'load the world from FILE if it exists and save it there on exit')
    .option('--json', 'print one JSON line with URLs and credentials first, for scripts')
    .action(async (options: SandboxCommandOptions) => {
      let sandbox: RunningSandbox;
      try {
        sandbox = await startSandbox({
          host: options.host,
          hubspotPort: options.hubspotPort,
          salesforcePort: options.salesforcePort,
          ...(options.seed === undefined ? {} : { seed: options.seed }),
          persons: options.persons,
          hubspotTier: options.hubspotTier,
          ...(options.faults === undefined ? {} : { faults: options.faults }),
          faultSeed: options.faultSeed,
          ...(options.state === undefined ? {} : { stateFile: options.state }),
        });
      } catch (error) {
        if (error instanceof FaultSpecError || error instanceof WorldFileError) {
          throw new CliError(error.message, ExitCode.Usage);
        }
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new CliError(
            `${(error as Error).message}: a port is taken; choose others with --hubspot-port/--salesforce-port (0 = any free port)`,
            ExitCode.Unavailable,
          );
        }
        throw error;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...sandbox.credentials, world: sandbox.world })}\n`);
      } else {
        process.stdout.write(`${describeForHumans(sandbox)}\n`);
      }
      const autosave = options.state === undefined ? undefined : setInterval(() => sandbox.save(), 30_000);
      autosave?.unref();
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          if (autosave !== undefined) clearInterval(autosave);
          void sandbox.stop().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
