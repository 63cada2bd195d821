import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseFaultSpec } from './common/faults.js';
import {
  createHubSpotSandbox,
  DEFAULT_HUBSPOT_TOKEN,
  type HubSpotSandbox,
  type HubSpotTier,
} from './hubspot/server.js';
import { DEFAULT_SALESFORCE_CREDENTIALS } from './salesforce/auth.js';
import { createSalesforceSandbox, type SalesforceSandbox } from './salesforce/server.js';
import { generateWorld } from './world/generate.js';
import { WorldSchema, type SalesforceObjectName, type World } from './world/schema.js';

export interface SandboxOptions {
  host?: string;
  /** 0 picks a free port. */
  hubspotPort?: number;
  salesforcePort?: number;
  /** `demo` (or any word) generates a world from that seed; a path ending in .json loads that file. */
  seed?: string;
  persons?: number;
  hubspotTier?: HubSpotTier;
  faults?: string;
  faultSeed?: string;
  /** Load the world from this file when it exists, and save it there on `save()` and `stop()`. */
  stateFile?: string;
  /** Where the JWT private key is written so clients can use the JWT-bearer flow. */
  dataDir?: string;
}

export interface SandboxCredentials {
  hubspot: { baseUrl: string; accessToken: string; tier: HubSpotTier };
  salesforce: {
    loginUrl: string;
    instanceUrl: string;
    apiVersion: string;
    clientId: string;
    clientSecret: string;
    username: string;
    password: string;
    refreshToken: string;
    jwtPrivateKeyFile: string;
  };
}

export interface RunningSandbox {
  hubspot: HubSpotSandbox;
  salesforce: SalesforceSandbox;
  credentials: SandboxCredentials;
  world: SandboxWorldSummary;
  save(): void;
  stop(): Promise<void>;
}

/**
 * What the sandbox started with: where the world came from, the persons asked for (`--persons`, generated
 * worlds only; a person may be a HubSpot contact, a Salesforce Lead/Contact or both) and the records each
 * system holds per object.
 */
export interface SandboxWorldSummary {
  source: 'state' | 'file' | 'generated' | 'empty';
  persons?: number;
  counts?: {
    hubspot: { contacts: number; companies: number; deals: number };
    salesforce: Record<SalesforceObjectName, number>;
  };
}

function countsOf(world: World): NonNullable<SandboxWorldSummary['counts']> {
  const { contacts, companies, deals } = world.hubspot;
  const salesforce = Object.fromEntries(
    Object.entries(world.salesforce.records).map(([name, rows]) => [name, rows.length]),
  ) as Record<SalesforceObjectName, number>;
  return {
    hubspot: { contacts: contacts.length, companies: companies.length, deals: deals.length },
    salesforce,
  };
}

export class WorldFileError extends Error {
  override name = 'WorldFileError';
}

/** Reads and validates a World JSON file; errors name the file and each bad path. */
export function readWorldFile(file: string): World {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new WorldFileError(`${file}: cannot read a JSON world: ${(error as Error).message}`);
  }
  const parsed = WorldSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 20)
      .map((issue) => `  ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    const more = parsed.error.issues.length > 20 ? `\n  … and ${parsed.error.issues.length - 20} more` : '';
    throw new WorldFileError(
      `${file} is not a valid world (see docs/WORLD.md):\n${problems.join('\n')}${more}`,
    );
  }
  return parsed.data;
}

function isWorldFile(seed: string): boolean {
  return seed.endsWith('.json') || seed.includes('/');
}

function chooseWorld(options: SandboxOptions): {
  world: World | null;
  source: RunningSandbox['world']['source'];
} {
  if (options.stateFile !== undefined && existsSync(options.stateFile)) {
    return { world: readWorldFile(options.stateFile), source: 'state' };
  }
  if (options.seed === undefined) return { world: null, source: 'empty' };
  if (isWorldFile(options.seed)) return { world: readWorldFile(options.seed), source: 'file' };
  return {
    world: generateWorld({ seed: options.seed, persons: options.persons ?? 2_000 }),
    source: 'generated',
  };
}

/** Starts the HubSpot and Salesforce sandboxes on loopback (or `host`) with a world loaded. */
export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1';
  const faults = parseFaultSpec(options.faults);
  const tier = options.hubspotTier ?? 'professional';
  const faultSeed = options.faultSeed ?? 'faults';
  const { world, source } = chooseWorld(options);

  const hubspot = await createHubSpotSandbox({ tier, faults, faultSeed: `${faultSeed}:hubspot` });
  const salesforce = await createSalesforceSandbox({ faults, faultSeed: `${faultSeed}:salesforce` });
  if (world !== null) {
    hubspot.loadWorld(world.hubspot);
    salesforce.loadWorld(world.salesforce);
  }

  const hubspotUrl = await hubspot.app.listen({ host, port: options.hubspotPort ?? 0 });
  let salesforceUrl: string;
  try {
    salesforceUrl = await salesforce.app.listen({ host, port: options.salesforcePort ?? 0 });
  } catch (error) {
    await hubspot.app.close();
    throw error;
  }

  const dataDir = resolve(options.dataDir ?? '.tandem/sandbox');
  mkdirSync(dataDir, { recursive: true });
  const jwtPrivateKeyFile = join(dataDir, 'salesforce-jwt.key');
  writeFileSync(jwtPrivateKeyFile, salesforce.jwtPrivateKeyPem, { mode: 0o600 });

  const save = (): void => {
    if (options.stateFile === undefined) return;
    const snapshot: World = {
      version: 1,
      description: 'Saved by tandem sandbox --state',
      hubspot: hubspot.exportWorld(),
      salesforce: salesforce.exportWorld(),
    };
    mkdirSync(dirname(resolve(options.stateFile)), { recursive: true });
    const temporary = `${options.stateFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(snapshot));
    renameSync(temporary, options.stateFile);
  };

  const credentials: SandboxCredentials = {
    hubspot: { baseUrl: hubspotUrl, accessToken: DEFAULT_HUBSPOT_TOKEN, tier },
    salesforce: {
      loginUrl: salesforceUrl,
      instanceUrl: salesforceUrl,
      apiVersion: '62.0',
      ...DEFAULT_SALESFORCE_CREDENTIALS,
      jwtPrivateKeyFile,
    },
  };

  return {
    hubspot,
    salesforce,
    credentials,
    world:
      world === null
        ? { source }
        : {
            source,
            ...(source === 'generated' ? { persons: options.persons ?? 2_000 } : {}),
            counts: countsOf(world),
          },
    save,
    async stop() {
      save();
      await Promise.all([hubspot.app.close(), salesforce.app.close()]);
    },
  };
}
