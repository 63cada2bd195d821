import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Client } from '@hubspot/api-client';
import type { SandboxCredentials } from '../../src/sandbox/index.js';

/**
 * The compiled build (`npm run build` → `dist/`), which the Docker image runs: plain Node with no tsx, so a
 * worker starts smaller. It must carry the files the sources read next to themselves.
 */
const run = promisify(execFile);
const CLI = 'dist/src/cli/main.js';

let sandbox: ChildProcess | undefined;

beforeAll(async () => {
  await run('npm', ['run', 'build'], { encoding: 'utf8' });
}, 180_000);

afterAll(async () => {
  if (sandbox && sandbox.exitCode === null) {
    const exited = new Promise((resolve) => sandbox?.once('exit', resolve));
    sandbox.kill('SIGINT');
    await exited;
  }
});

describe('the compiled build', () => {
  it('validates the default mapping', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'mappings', 'validate', 'mappings/default.yaml'], {
      encoding: 'utf8',
    });
    expect(stdout).toContain('is valid');
  });

  it('serves the sandbox with HubSpot’s contact properties (read from the data file beside it)', async () => {
    sandbox = spawn(
      process.execPath,
      [CLI, 'sandbox', '--json', '--persons', '50', '--hubspot-port', '0', '--salesforce-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    sandbox.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: sandbox!.stdout! }).once('line', resolve);
      sandbox!.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${stderr}`)));
    });
    const info = JSON.parse(first) as SandboxCredentials;
    const hubspot = new Client({
      accessToken: info.hubspot.accessToken,
      basePath: info.hubspot.baseUrl,
      numberOfApiCallRetries: 0,
    });
    const properties = await hubspot.crm.properties.coreApi.getAll('contacts');
    // The full default set comes from src/sandbox/hubspot/data/contact-properties.json.
    expect(properties.results.length).toBeGreaterThan(300);
    expect(properties.results.map((p) => p.name)).toEqual(
      expect.arrayContaining(['email', 'lifecyclestage', 'hs_lead_status']),
    );
  });
});
