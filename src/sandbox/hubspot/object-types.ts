import type { HubSpotObjectType } from '../world/schema.js';

export const OBJECT_TYPES: readonly HubSpotObjectType[] = ['contacts', 'companies', 'deals'];

interface ObjectTypeInfo {
  /** HubSpot's object type id, e.g. `0-1` for contacts. */
  typeId: string;
  singular: string;
  /** The property HubSpot maintains as the last-modified timestamp (contacts differ from the rest). */
  modifiedProperty: string;
  /** What a read returns when the caller names no `properties`. */
  defaultProperties: readonly string[];
  /** Properties the free-text `query` of a search looks at. */
  queryProperties: readonly string[];
}

export const OBJECT_TYPE_INFO: Record<HubSpotObjectType, ObjectTypeInfo> = {
  contacts: {
    typeId: '0-1',
    singular: 'contact',
    modifiedProperty: 'lastmodifieddate',
    defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
    queryProperties: [
      'firstname',
      'lastname',
      'email',
      'hs_additional_emails',
      'phone',
      'mobilephone',
      'company',
    ],
  },
  companies: {
    typeId: '0-2',
    singular: 'company',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
    queryProperties: ['name', 'domain', 'website', 'phone'],
  },
  deals: {
    typeId: '0-3',
    singular: 'deal',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [
      'amount',
      'closedate',
      'createdate',
      'dealname',
      'dealstage',
      'hs_lastmodifieddate',
      'hs_object_id',
      'pipeline',
    ],
    queryProperties: ['dealname'],
  },
};

/** Resolves `contacts`, `contact`, `0-1` (any case) to the object type, as HubSpot's paths accept all three. */
export function resolveObjectType(raw: string): HubSpotObjectType | undefined {
  const name = raw.toLowerCase();
  for (const type of OBJECT_TYPES) {
    const info = OBJECT_TYPE_INFO[type];
    if (name === type || name === info.singular || name === info.typeId) return type;
  }
  return undefined;
}
