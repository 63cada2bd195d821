import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', ['bin/tandem.js', 'mappings', ...args], {
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe('tandem mappings validate', () => {
  it('passes the default mapping (the default FILE) with exit 0', async () => {
    const { code, stdout } = await run('validate');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^✓ mappings\/default\.yaml is valid \(version 1\+[0-9a-f]{8}, 0 warnings\)$/m);
  });

  it('lists every problem at file:line:col with exit 1', async () => {
    const { code, stdout } = await run('validate', 'test/fixtures/mappings/invalid.yaml');
    expect(code).toBe(1);
    expect(stdout.trim().split('\n')).toEqual([
      'test/fixtures/mappings/invalid.yaml:7:15 error objects.person.fields[0].type: "emial" is not a value type (expected one of string, email, phone, number, integer, boolean, date, datetime, …) (did you mean "email"?)',
      'test/fixtures/mappings/invalid.yaml:12:26 error lifecycle.definitions.mql.score.gte: expected a number, got "fifty"',
      '✗ test/fixtures/mappings/invalid.yaml: 2 errors, 0 warnings',
    ]);
  });

  it('prints { valid, version, problems } with --json', async () => {
    const bad = await run('validate', 'test/fixtures/mappings/invalid.yaml', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      valid: false,
      version: null,
      problems: [
        { line: 7, column: 15, path: 'objects.person.fields[0].type', severity: 'error' },
        { line: 12 },
      ],
    });
    const good = await run('validate', 'test/fixtures/mappings/minimal.yaml', '--json');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({
      valid: true,
      version: expect.stringMatching(/^1\+/),
      problems: [],
    });
  });

  it('exits 2 for a file that does not exist', async () => {
    const { code, stderr } = await run('validate', 'mappings/nope.yaml');
    expect(code).toBe(2);
    expect(stderr).toContain('no mapping file at mappings/nope.yaml');
  });

  it('exits 2 when --live has no connection settings', async () => {
    const { code, stderr } = await run('validate', '--live');
    expect(code).toBe(2);
    expect(stderr).toContain('--live needs connection settings (command-line options or the environment)');
    expect(stderr).toContain('HUBSPOT_ACCESS_TOKEN');
    expect(stderr).toContain('SALESFORCE_AUTH_FLOW');
  });
});

describe('tandem mappings show and schema', () => {
  it('shows objects, fields with direction arrows, and stage definitions', async () => {
    const { code, stdout } = await run('show');
    expect(code).toBe(0);
    expect(stdout).toContain('person: HubSpot contacts ⇄ Salesforce Lead, Contact');
    expect(stdout).toMatch(/lead_status +hs_lead_status +← Lead\.Status/);
    expect(stdout).toMatch(/mql +when score ≥ 50 and email matches/);
  });

  it('prints the committed JSON Schema', async () => {
    const { code, stdout } = await run('schema');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(JSON.parse(readFileSync('mappings/mapping.schema.json', 'utf8')));
  });
});
