import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';

/**
 * The short chaos run (`npm run chaos -- --short`) as CI runs it: its own Redis and PostgreSQL (both
 * restarted once), workers SIGKILLed, faults injected while people edit; exit 0 and the printed counts.
 */

interface ChaosResult {
  violations: string[];
  counts: Record<string, number | string>;
}

function runChaos(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/chaos.ts', '--short'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run chaos -- --short', () => {
  it('survives kills, restarts and faults with nothing lost, duplicated or failing unexpectedly', async () => {
    const run = await runChaos();
    const line = run.stdout.split('\n').find((l) => l.startsWith('CHAOS-RESULT '));
    expect(line).toBeDefined();
    const result = JSON.parse((line ?? '').slice('CHAOS-RESULT '.length)) as ChaosResult;
    const c = result.counts;
    expect({ violations: result.violations, output: result.violations.length > 0 ? run.stdout : '' }).toEqual(
      {
        violations: [],
        output: '',
      },
    );
    expect(c['lost updates']).toBe(0);
    expect(c['disagreements (HubSpot / view / Salesforce)']).toBe(0);
    expect(c['duplicates created in HubSpot']).toBe(0);
    expect(c['duplicates created in Salesforce']).toBe(0);
    expect(c['unexpected failed jobs']).toBe(0);
    expect(c['planted errors failed with their reason']).toBe(c['planted permanent errors']);
    expect(Number(c['worker SIGKILLs'])).toBeGreaterThan(0);
    expect(c['Redis restarts']).toBe(1);
    expect(Number(c['edits made'])).toBeGreaterThan(0);
    expect(run.code).toBe(0);
  }, 180_000);
});
