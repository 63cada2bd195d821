import type { Classification } from '../connectors/classify.js';
import { metrics as sharedMetrics, type TandemMetrics } from './metrics.js';

/**
 * Counts one attempt of a CRM call in `tandem_api_calls_total` (and a refusal in
 * `tandem_api_rate_limited_total`), from the place each connector's caller already sees every response:
 * `HubSpotCaller.call` and `SalesforceCaller.call`, retries included. `failure` is the attempt's
 * classification (none: it succeeded). A success counts `calls` requests (a Bulk job step's cost); a
 * failure counts the one request that failed, so a refusal is one 429 whatever the step would have cost.
 *
 * @example
 * countApiCall('salesforce', 'Lead'); // ok
 * countApiCall('hubspot', 'contacts', classification); // `429` when it was rate-limited, else `error`
 */
export function countApiCall(
  system: 'hubspot' | 'salesforce',
  object: string | undefined,
  failure?: Pick<Classification, 'kind'>,
  calls = 1,
  metrics: TandemMetrics = sharedMetrics,
): void {
  const labels = { system, object: object ?? 'none' };
  if (failure === undefined) {
    metrics.apiCalls.inc({ ...labels, outcome: 'ok' }, calls);
  } else if (failure.kind === 'rate_limited') {
    metrics.apiCalls.inc({ ...labels, outcome: '429' });
    metrics.rateLimited.inc(labels);
  } else {
    metrics.apiCalls.inc({ ...labels, outcome: 'error' });
  }
}
