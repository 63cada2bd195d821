import type { Connection } from 'jsforce';
import { ConfigError, requireHubSpot, requireSalesforce, type TandemConfig } from '../config/index.js';
import type { DashboardConnections } from './server.js';

/**
 * Connection checks for `/readyz` and live mapping validation, built from the configured credentials (as
 * `tandem dashboard` and `tandem demo` both serve them). A system without credentials reports "not
 * authenticated" rather than failing the start. The connectors are imported on first use only.
 *
 * Salesforce readiness is one authenticated REST call, `GET /services/data/vXX.X/limits`: it works the same
 * for every auth flow, and a 401 there makes jsforce get a fresh token (jsforce's `identity()` instead
 * reads the identity URL, which answers an expired token with a 403 that no flow refreshes on).
 */
export function connectionsFrom(config: TandemConfig): DashboardConnections {
  let salesforce: Promise<Connection> | undefined;
  const salesforceConnection = async (): Promise<Connection> => {
    const { connectSalesforce } = await import('../connectors/salesforce/auth.js');
    salesforce ??= connectSalesforce(requireSalesforce(config)).catch((error: unknown) => {
      salesforce = undefined;
      throw error;
    });
    return salesforce;
  };
  const hubspotClient = async () => {
    const { createHubSpotClient } = await import('../connectors/hubspot/client.js');
    const hubspot = requireHubSpot(config);
    return createHubSpotClient({ accessToken: hubspot.accessToken, baseUrl: hubspot.baseUrl });
  };
  return {
    async checkHubSpot() {
      if (config.hubspot.accessToken === undefined) return false;
      const response = await fetch(
        `${config.hubspot.baseUrl.replace(/\/+$/, '')}/crm/v3/objects/contacts?limit=1`,
        { headers: { authorization: `Bearer ${config.hubspot.accessToken}` } },
      );
      return response.ok;
    },
    async checkSalesforce() {
      try {
        requireSalesforce(config);
      } catch (error) {
        if (error instanceof ConfigError) return false;
        throw error;
      }
      const conn = await salesforceConnection();
      await conn.limits();
      return true;
    },
    async readLiveSchema() {
      const { readHubSpotSchema } = await import('../connectors/hubspot/schema.js');
      const { readSalesforceSchema } = await import('../connectors/salesforce/schema.js');
      const [hubspot, salesforce] = await Promise.all([
        readHubSpotSchema(await hubspotClient()),
        readSalesforceSchema(await salesforceConnection()),
      ]);
      return { hubspot, salesforce };
    },
  };
}
