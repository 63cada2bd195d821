import type { Client } from '@hubspot/api-client';
import type { HubSpotObject, HubSpotPropertySummary, LiveSchema } from '../../domain/mapping/live.js';
import { HUBSPOT_OBJECTS } from '../../domain/mapping/live.js';

/** The property definitions of contacts, companies and deals, as live mapping validation needs them. */
export async function readHubSpotSchema(
  client: Client,
  /** Runs each API call (the connector passes its budgeted, retrying caller). */
  call?: <T>(fn: (client: Client) => Promise<{ data: T }>) => Promise<T>,
): Promise<LiveSchema['hubspot']> {
  const entries = await Promise.all(
    HUBSPOT_OBJECTS.map(async (objectType): Promise<[HubSpotObject, HubSpotPropertySummary[]]> => {
      const response = call
        ? await call((c) => c.crm.properties.coreApi.getAllWithHttpInfo(objectType))
        : await client.crm.properties.coreApi.getAll(objectType);
      return [
        objectType,
        response.results.map((p) => ({
          name: p.name,
          type: p.type,
          fieldType: p.fieldType,
          options: (p.options ?? []).map((o) => o.value),
          readOnlyValue: p.modificationMetadata?.readOnlyValue ?? false,
          calculated: p.calculated ?? false,
        })),
      ];
    }),
  );
  return Object.fromEntries(entries) as LiveSchema['hubspot'];
}
