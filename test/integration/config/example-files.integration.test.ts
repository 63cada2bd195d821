import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) env[match[1]] = (match[2] ?? '').replace(/\s+#.*$/, '');
  }
  return env;
}

describe('shipped config files', () => {
  it('config/defaults.yaml says exactly what the schema defaults are', () => {
    expect(loadConfig({ TANDEM_CONFIG: 'config/defaults.yaml' }, { cwd: repo })).toEqual({
      ...loadConfig({}, { cwd: repo }),
      configFile: `${repo}config/defaults.yaml`,
    });
  });

  it('config/tandem.example.env loads', () => {
    const env = parseEnvFile(readFileSync(`${repo}config/tandem.example.env`, 'utf8'));
    const config = loadConfig(env, { cwd: repo });
    expect(config.salesforce.authFlow).toBe('jwt');
    expect(config.schedules.deals).toEqual({ kind: 'cron', pattern: '*/5 * * * *' });
  });
});
