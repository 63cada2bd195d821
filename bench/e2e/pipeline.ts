/**
 * The real sync pipeline (`openSyncPipeline`), opened the way `tandem worker` opens it, with two settings
 * the environment cannot express and that only make sense against a sandbox on loopback:
 *
 * - `BENCH_HUBSPOT_TEN_SECONDLY` / `BENCH_HUBSPOT_DAILY`: the account limits Tandem paces itself to (the
 *   "unlimited" runs lift the sandbox's limits and must lift Tandem's own pacing to match);
 * - `BENCH_SALESFORCE_WINDOW_LAG_MS`: the Salesforce pull window lag (60 s in production, because a real
 *   org's SystemModstamp can commit late; the sandbox commits at once, so 0 is exact there).
 *
 * Loaded by `tandem worker --pipeline-module bench/e2e/pipeline.ts`.
 */
import type { TandemConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging.js';
import { openSyncPipeline } from '../../src/pipeline/open.js';
import type { SyncPipeline } from '../../src/pipeline/contract.js';

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export async function openPipeline(config: TandemConfig): Promise<SyncPipeline> {
  const tenSecondly = envNumber('BENCH_HUBSPOT_TEN_SECONDLY');
  const daily = envNumber('BENCH_HUBSPOT_DAILY');
  const lag = envNumber('BENCH_SALESFORCE_WINDOW_LAG_MS');
  const effective: TandemConfig = {
    ...config,
    hubspot: {
      ...config.hubspot,
      limits: {
        perTenSeconds: tenSecondly ?? config.hubspot.limits.perTenSeconds,
        perDay: daily ?? config.hubspot.limits.perDay,
      },
    },
  };
  return openSyncPipeline(effective, {
    logger: createLogger(config),
    ...(lag === undefined ? {} : { salesforce: { windowLagMs: lag } }),
  });
}
