import { z } from 'zod';

/**
 * A sandbox world: the raw records each CRM holds, as the CRM itself would store them. `--seed FILE`
 * loads a JSON file of this shape; `--state FILE` saves and restores one. Records carry their own ids
 * and timestamps so a world is reproducible to the millisecond.
 */

const isoDateTime = z.iso.datetime({ offset: true });

export const HubSpotRecordSchema = z.object({
  id: z.string().regex(/^\d+$/, 'HubSpot ids are numeric strings'),
  properties: z.record(z.string(), z.string().nullable()),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  archived: z.boolean().default(false),
  archivedAt: isoDateTime.optional(),
  /** Per-property change history, newest first, as `propertiesWithHistory` returns it. */
  propertiesWithHistory: z
    .record(
      z.string(),
      z.array(
        z.object({
          value: z.string(),
          timestamp: isoDateTime,
          sourceType: z.string().default('CRM_UI'),
          sourceId: z.string().optional(),
        }),
      ),
    )
    .optional(),
  /** Ids this record was merged from (HubSpot keeps them on the survivor). */
  mergedObjectIds: z.array(z.string()).optional(),
});
export type HubSpotRecord = z.infer<typeof HubSpotRecordSchema>;

export const HubSpotObjectTypeSchema = z.enum(['contacts', 'companies', 'deals']);
export type HubSpotObjectType = z.infer<typeof HubSpotObjectTypeSchema>;

export const HubSpotAssociationSchema = z.object({
  fromType: HubSpotObjectTypeSchema,
  fromId: z.string(),
  toType: HubSpotObjectTypeSchema,
  toId: z.string(),
  /** HUBSPOT_DEFINED association type id, e.g. 279 contact→company, 1 primary; both directions are implied. */
  typeId: z.number().int(),
});
export type HubSpotAssociation = z.infer<typeof HubSpotAssociationSchema>;

export const HubSpotPropertyDefinitionSchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.enum(['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number']),
  fieldType: z.string(),
  groupName: z.string().default('contactinformation'),
  description: z.string().default(''),
  options: z
    .array(
      z.object({
        label: z.string(),
        value: z.string(),
        displayOrder: z.number().int().default(0),
        hidden: z.boolean().default(false),
      }),
    )
    .default([]),
  hasUniqueValue: z.boolean().default(false),
  calculated: z.boolean().default(false),
  readOnlyValue: z.boolean().default(false),
  hubspotDefined: z.boolean().default(false),
});
export type HubSpotPropertyDefinition = z.infer<typeof HubSpotPropertyDefinitionSchema>;

export const HubSpotWorldSchema = z.object({
  contacts: z.array(HubSpotRecordSchema).default([]),
  companies: z.array(HubSpotRecordSchema).default([]),
  deals: z.array(HubSpotRecordSchema).default([]),
  associations: z.array(HubSpotAssociationSchema).default([]),
  /** Custom properties beyond the sandbox's default schema, per object type. */
  customProperties: z
    .object({
      contacts: z.array(HubSpotPropertyDefinitionSchema).default([]),
      companies: z.array(HubSpotPropertyDefinitionSchema).default([]),
      deals: z.array(HubSpotPropertyDefinitionSchema).default([]),
    })
    .default({ contacts: [], companies: [], deals: [] }),
  /** Next id the sandbox hands out; ids already in the world are never reused. */
  nextId: z.number().int().positive().optional(),
});
export type HubSpotWorld = z.infer<typeof HubSpotWorldSchema>;

export const SalesforceObjectNameSchema = z.enum([
  'Account',
  'Contact',
  'Lead',
  'Opportunity',
  'OpportunityContactRole',
  'Campaign',
  'CampaignMember',
]);
export type SalesforceObjectName = z.infer<typeof SalesforceObjectNameSchema>;

/** A Salesforce row: `Id` plus field values as the REST API returns them (datetimes as ISO strings). */
export const SalesforceRecordSchema = z
  .object({ Id: z.string().regex(/^[a-zA-Z0-9]{18}$/, 'Salesforce ids are 18 characters') })
  .catchall(z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type SalesforceRecord = z.infer<typeof SalesforceRecordSchema>;

export const SalesforceWorldSchema = z.object({
  records: z
    .object({
      Account: z.array(SalesforceRecordSchema).default([]),
      Contact: z.array(SalesforceRecordSchema).default([]),
      Lead: z.array(SalesforceRecordSchema).default([]),
      Opportunity: z.array(SalesforceRecordSchema).default([]),
      OpportunityContactRole: z.array(SalesforceRecordSchema).default([]),
      Campaign: z.array(SalesforceRecordSchema).default([]),
      CampaignMember: z.array(SalesforceRecordSchema).default([]),
    })
    .default({
      Account: [],
      Contact: [],
      Lead: [],
      Opportunity: [],
      OpportunityContactRole: [],
      Campaign: [],
      CampaignMember: [],
    }),
  /** Deleted rows (IsDeleted = true), visible to queryAll and /deleted until purged. */
  deleted: z
    .array(
      z.object({
        object: SalesforceObjectNameSchema,
        record: SalesforceRecordSchema,
        deletedDate: isoDateTime,
      }),
    )
    .default([]),
  /** Next id sequence number per key prefix. */
  nextSequence: z.number().int().positive().optional(),
});
export type SalesforceWorld = z.infer<typeof SalesforceWorldSchema>;

export const WorldSchema = z.object({
  version: z.literal(1).default(1),
  description: z.string().optional(),
  hubspot: HubSpotWorldSchema.default(HubSpotWorldSchema.parse({})),
  salesforce: SalesforceWorldSchema.default(SalesforceWorldSchema.parse({})),
});
export type World = z.infer<typeof WorldSchema>;
