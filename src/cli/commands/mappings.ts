import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Client } from '@hubspot/api-client';
import type { Connection } from 'jsforce';
import { CliError, ExitCode } from '../exit-codes.js';
import { registerMappingsPreview } from './preview.js';
import { mappingVersion, validateMapping } from '../../domain/mapping/check.js';
import { describeMapping } from '../../domain/mapping/describe.js';
import type { MappingSummary } from '../../domain/mapping/describe.js';
import { mappingJsonSchemaText } from '../../domain/mapping/json-schema.js';
import { validateAgainstLiveSchema } from '../../domain/mapping/live.js';
import type { LiveSchema } from '../../domain/mapping/live.js';
import { hasErrors, sortProblems } from '../../domain/mapping/problem.js';
import type { MappingProblem } from '../../domain/mapping/problem.js';

const DEFAULT_MAPPING = 'mappings/default.yaml';

/** Connection settings for `--live`, straight from the command line. */
export interface LiveConnectionOptions {
  hubspotToken?: string;
  hubspotBaseUrl?: string;
  salesforceLoginUrl?: string;
  salesforceInstanceUrl?: string;
  salesforceAccessToken?: string;
  salesforceUsername?: string;
  salesforcePassword?: string;
  salesforceClientId?: string;
  salesforceClientSecret?: string;
}

/**
 * The two SDK clients for `--live`: from the command-line options when any is given, else from the
 * environment (and `TANDEM_CONFIG` file) through the same config the workers use.
 */
export async function liveConnectionsFromOptions(
  options: LiveConnectionOptions,
): Promise<{ hubspot: Client; salesforce: Connection }> {
  const connectionKeys: Array<keyof LiveConnectionOptions> = [
    'hubspotToken',
    'hubspotBaseUrl',
    'salesforceLoginUrl',
    'salesforceInstanceUrl',
    'salesforceAccessToken',
    'salesforceUsername',
    'salesforcePassword',
    'salesforceClientId',
    'salesforceClientSecret',
  ];
  const fromOptions = connectionKeys.some((key) => options[key] !== undefined);
  if (!fromOptions) return liveConnectionsFromConfig();
  if (options.hubspotToken === undefined) {
    throw new CliError('--live needs --hubspot-token (a HubSpot private-app token)', ExitCode.Usage);
  }
  const { Client: HubSpotClient } = await import('@hubspot/api-client');
  const hubspot = new HubSpotClient({
    accessToken: options.hubspotToken,
    ...(options.hubspotBaseUrl === undefined ? {} : { basePath: options.hubspotBaseUrl.replace(/\/+$/, '') }),
    numberOfApiCallRetries: 0,
  });
  const { Connection: SalesforceConnection } = await import('jsforce');
  const { disableJsforceRetries } = await import('../../connectors/salesforce/auth.js');
  if (options.salesforceAccessToken !== undefined) {
    if (options.salesforceInstanceUrl === undefined) {
      throw new CliError('--salesforce-access-token needs --salesforce-instance-url', ExitCode.Usage);
    }
    const salesforce = new SalesforceConnection({
      instanceUrl: options.salesforceInstanceUrl,
      accessToken: options.salesforceAccessToken,
    });
    disableJsforceRetries(salesforce);
    return { hubspot, salesforce };
  }
  if (options.salesforceUsername === undefined || options.salesforcePassword === undefined) {
    throw new CliError(
      '--live needs Salesforce settings: --salesforce-instance-url with --salesforce-access-token, or --salesforce-username and --salesforce-password (with --salesforce-login-url, --salesforce-client-id, --salesforce-client-secret)',
      ExitCode.Usage,
    );
  }
  const loginUrl = options.salesforceLoginUrl ?? 'https://login.salesforce.com';
  const salesforce = new SalesforceConnection({
    loginUrl,
    ...(options.salesforceClientId === undefined
      ? {}
      : {
          oauth2: {
            loginUrl,
            clientId: options.salesforceClientId,
            ...(options.salesforceClientSecret === undefined
              ? {}
              : { clientSecret: options.salesforceClientSecret }),
          },
        }),
  });
  disableJsforceRetries(salesforce);
  try {
    await salesforce.login(options.salesforceUsername, options.salesforcePassword);
  } catch (error) {
    throw new CliError(`Salesforce login at ${loginUrl} failed: ${messageOf(error)}`, ExitCode.Unavailable);
  }
  return { hubspot, salesforce };
}

async function liveConnectionsFromConfig(): Promise<{ hubspot: Client; salesforce: Connection }> {
  const { ConfigError, loadConfig, requireCredentials } = await import('../../config/index.js');
  const { createHubSpotClient } = await import('../../connectors/hubspot/client.js');
  const { connectSalesforce } = await import('../../connectors/salesforce/auth.js');
  let hubspotSettings;
  let salesforceSettings;
  try {
    ({ hubspot: hubspotSettings, salesforce: salesforceSettings } = requireCredentials(loadConfig()));
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliError(
        `--live needs connection settings (command-line options or the environment):\n${error.message}`,
        ExitCode.Usage,
      );
    }
    throw error;
  }
  const hubspot = createHubSpotClient(hubspotSettings);
  try {
    return { hubspot, salesforce: await connectSalesforce(salesforceSettings) };
  } catch (error) {
    throw new CliError(`Salesforce sign-in failed: ${messageOf(error)}`, ExitCode.Unavailable);
  }
}

async function readLiveSchema(options: LiveConnectionOptions): Promise<LiveSchema> {
  const { hubspot, salesforce } = await liveConnectionsFromOptions(options);
  const { readHubSpotSchema } = await import('../../connectors/hubspot/schema.js');
  const { readSalesforceSchema } = await import('../../connectors/salesforce/schema.js');
  const [hubspotSchema, salesforceSchema] = await Promise.all([
    readHubSpotSchema(hubspot).catch((error: unknown) => {
      throw new CliError(`could not read HubSpot properties: ${messageOf(error)}`, ExitCode.Unavailable);
    }),
    readSalesforceSchema(salesforce).catch((error: unknown) => {
      throw new CliError(`could not describe Salesforce objects: ${messageOf(error)}`, ExitCode.Unavailable);
    }),
  ]);
  return { hubspot: hubspotSchema, salesforce: salesforceSchema };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}

async function readMappingText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `no mapping file at ${file}` : `cannot read ${file}: ${messageOf(error)}`,
      ExitCode.Usage,
    );
  }
}

/** `file:line:col severity path: message (hint)` */
export function problemLine(problem: MappingProblem): string {
  const path = problem.path === '' ? '' : ` ${problem.path}:`;
  const hint = problem.hint === undefined ? '' : ` (${problem.hint})`;
  return `${problem.file}:${problem.line}:${problem.column} ${problem.severity}${path} ${problem.message}${hint}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

interface ValidateOptions extends LiveConnectionOptions {
  live?: boolean;
  json?: boolean;
}

async function validateCommand(file: string, options: ValidateOptions): Promise<void> {
  const text = await readMappingText(file);
  const validation = validateMapping(text, file);
  let problems = validation.problems;
  if (options.live === true && validation.mapping !== undefined && validation.valid) {
    const live = await readLiveSchema(options);
    problems = sortProblems([
      ...problems,
      ...validateAgainstLiveSchema(validation.mapping, live, validation.source),
    ]);
  }
  const valid = !hasErrors(problems);
  const version = validation.mapping === undefined ? null : mappingVersion(validation.mapping, text);
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({ valid, version, problems }, null, 2)}\n`);
  } else {
    for (const problem of problems) process.stdout.write(`${problemLine(problem)}\n`);
    const errors = problems.filter((p) => p.severity === 'error').length;
    const warnings = problems.length - errors;
    const checked =
      options.live === true && validation.valid ? ' against the live HubSpot and Salesforce schemas' : '';
    process.stdout.write(
      valid
        ? `✓ ${file} is valid${checked} (version ${version ?? '?'}, ${count(warnings, 'warning')})\n`
        : `✗ ${file}: ${count(errors, 'error')}, ${count(warnings, 'warning')}${checked}\n`,
    );
    if (options.live === true && !validation.valid) {
      process.stdout.write('  (live checks skipped until the file itself is valid)\n');
    }
  }
  if (!valid) process.exitCode = ExitCode.Problems;
}

/** The summary as terminal text. */
export function formatSummary(summary: MappingSummary): string {
  const lines: string[] = [`${summary.name} (version ${summary.version})`];
  if (summary.description !== undefined) lines.push(`  ${summary.description.replace(/\s+/g, ' ')}`);
  for (const object of summary.objects) {
    lines.push('', `${object.kind}: HubSpot ${object.hubspot} ⇄ Salesforce ${object.salesforce.join(', ')}`);
    lines.push(`  match on: ${object.matchOn.join(' → ')}`);
    const create = [
      object.create.inHubSpot ? 'in HubSpot' : undefined,
      object.create.inSalesforce === false
        ? undefined
        : `in Salesforce${typeof object.create.inSalesforce === 'string' ? ` as ${object.create.inSalesforce}` : ''}`,
    ].filter((x) => x !== undefined);
    lines.push(
      `  create: ${create.join(', ') || 'never'}${object.create.onlyWhen === undefined ? '' : ` when ${object.create.onlyWhen}`}`,
    );
    const width = Math.max(...object.fields.map((f) => f.name.length));
    const hubspotWidth = Math.max(...object.fields.map((f) => (f.hubspot ?? '—').length));
    for (const f of object.fields) {
      const extras = [
        f.type === 'string' ? undefined : f.type,
        `wins: ${f.conflict}`,
        f.transforms.length > 0 ? `transforms: ${f.transforms.join(', ')}` : undefined,
        f.values === undefined ? undefined : `values: ${f.values.join(', ')}`,
        f.requiredOnCreate.length > 0 ? `required on create in ${f.requiredOnCreate.join(', ')}` : undefined,
      ].filter((x) => x !== undefined);
      lines.push(
        `  ${f.name.padEnd(width)}  ${(f.hubspot ?? '—').padEnd(hubspotWidth)} ${f.arrow} ${f.salesforce ?? '—'}  [${extras.join('; ')}]`,
      );
    }
    for (const pipeline of object.pipelines ?? []) {
      lines.push(`  pipeline ${pipeline.hubspotPipeline}:`);
      for (const s of pipeline.stages) {
        lines.push(
          `    ${s.hubspot} ⇄ ${s.salesforce.join(' | ')}${s.outcome === 'open' ? '' : ` (${s.outcome})`}`,
        );
      }
    }
  }
  lines.push('', 'lifecycle:');
  for (const s of summary.lifecycle.stages) lines.push(`  ${s.stage.padEnd(12)} when ${s.condition}`);
  for (const r of summary.lifecycle.recycle)
    lines.push(`  recycle to ${r.to ?? '?'} when ${r.condition} — ${r.reason ?? ''}`);
  for (const r of summary.lifecycle.disqualify) {
    lines.push(`  disqualify (${r.to ?? '?'}) when ${r.condition} — ${r.reason ?? ''}`);
  }
  lines.push(`  MQL → SAL SLA: ${summary.lifecycle.slaHours} h`);
  lines.push('', 'score:');
  for (const r of summary.score.fit)
    lines.push(`  fit ${signed(r.points)} ${r.label ?? ''} (${r.condition})`);
  for (const r of summary.score.engagement) lines.push(`  engagement ${r.label ?? ''}: ${r.condition}`);
  lines.push('', `attribution: ${summary.attribution.model}, unknown → ${summary.attribution.unknownSource}`);
  for (const s of summary.attribution.sources) {
    lines.push(`  ${s.name}: HubSpot [${s.hubspot.join(', ')}] · Salesforce [${s.salesforce.join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

function signed(n: number | undefined): string {
  return n === undefined ? '' : n >= 0 ? `+${n}` : String(n);
}

async function showCommand(file: string, options: { json?: boolean }): Promise<void> {
  const text = await readMappingText(file);
  const validation = validateMapping(text, file);
  if (validation.mapping === undefined) {
    for (const problem of validation.problems) process.stderr.write(`${problemLine(problem)}\n`);
    throw new CliError(
      `${file} is not a valid mapping; run \`tandem mappings validate ${file}\``,
      ExitCode.Problems,
    );
  }
  const summary = describeMapping(validation.mapping);
  process.stdout.write(
    options.json === true ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary),
  );
}

async function schemaCommand(options: { out?: string }): Promise<void> {
  const text = mappingJsonSchemaText();
  if (options.out === undefined) process.stdout.write(text);
  else await writeFile(options.out, text);
}

export function registerMappingsCommand(program: Command): void {
  const mappings = program.command('mappings').description('Check and inspect mapping files');

  mappings
    .command('validate')
    .description(
      'Check a mapping file: its shape, its rules and (with --live) the HubSpot and Salesforce schemas',
    )
    .argument('[file]', 'the mapping file', DEFAULT_MAPPING)
    .option('--live', 'also check field names, types and picklist values against the live systems')
    .option('--json', 'print { valid, version, problems } as JSON')
    .option('--hubspot-token <token>', 'HubSpot private-app access token')
    .option('--hubspot-base-url <url>', 'HubSpot API base URL (default https://api.hubapi.com)')
    .option('--salesforce-login-url <url>', 'Salesforce login URL (default https://login.salesforce.com)')
    .option('--salesforce-instance-url <url>', 'Salesforce instance URL (with --salesforce-access-token)')
    .option('--salesforce-access-token <token>', 'Salesforce access token')
    .option('--salesforce-username <user>', 'Salesforce username (password grant)')
    .option('--salesforce-password <password>', 'Salesforce password (with security token, if any)')
    .option('--salesforce-client-id <id>', 'connected app client id (OAuth password grant)')
    .option('--salesforce-client-secret <secret>', 'connected app client secret')
    .action(validateCommand);

  mappings
    .command('show')
    .description('Print a readable summary: objects, fields with direction and rules, stage definitions')
    .argument('[file]', 'the mapping file', DEFAULT_MAPPING)
    .option('--json', 'print the summary as JSON')
    .action(showCommand);

  mappings
    .command('schema')
    .description('Print the JSON Schema of mapping files (for editors)')
    .option('--out <file>', 'write it to a file instead')
    .action(schemaCommand);

  registerMappingsPreview(mappings);
}
