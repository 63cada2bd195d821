import type { Connection } from 'jsforce';
import type { LiveSchema, SalesforceFieldSummary, SalesforceObject } from '../../domain/mapping/live.js';
import { SALESFORCE_OBJECTS } from '../../domain/mapping/live.js';

interface PicklistEntry {
  value: string;
  active: boolean;
}

/** The field describes of Lead, Contact, Account and Opportunity, as live mapping validation needs them. */
export async function readSalesforceSchema(conn: Connection): Promise<LiveSchema['salesforce']> {
  const entries = await Promise.all(
    SALESFORCE_OBJECTS.map(async (object): Promise<[SalesforceObject, SalesforceFieldSummary[]]> => {
      const describe = await conn.sobject(object).describe();
      return [
        object,
        describe.fields.map((f) => ({
          name: f.name,
          type: f.type,
          updateable: f.updateable,
          createable: f.createable,
          nillable: f.nillable,
          defaultedOnCreate: f.defaultedOnCreate,
          length: f.length,
          picklistValues: ((f.picklistValues ?? []) as PicklistEntry[])
            .filter((v) => v.active)
            .map((v) => v.value),
          restrictedPicklist: f.restrictedPicklist,
          externalId: f.externalId,
        })),
      ];
    }),
  );
  return Object.fromEntries(entries) as LiveSchema['salesforce'];
}
