import type { HubSpotObjectType } from '../world/schema.js';
import { associationType } from './associations.js';
import { OBJECT_TYPE_INFO } from './object-types.js';
import { historyOf, type HubSpotPortal } from './portal.js';
import type { StoredRecord } from './record-store.js';

export interface ReadShape {
  /** Properties to return; undefined → the type's default set. `'all'` → every non-empty value (write answers). */
  properties?: readonly string[] | 'all';
  propertiesWithHistory?: readonly string[];
  associations?: readonly HubSpotObjectType[];
}

export interface PublicObject {
  id: string;
  properties: Record<string, string | null>;
  propertiesWithHistory?: Record<
    string,
    { value: string; timestamp: string; sourceType: string; sourceId?: string }[]
  >;
  associations?: Record<string, { results: { id: string; type: string }[] }>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** A record as the CRM v3 API returns it: every value a string (or null when asked for but empty). */
export function toPublicObject(
  portal: HubSpotPortal,
  type: HubSpotObjectType,
  record: StoredRecord,
  shape: ReadShape = {},
): PublicObject {
  const info = OBJECT_TYPE_INFO[type];
  const properties: Record<string, string | null> = {};
  if (shape.properties === 'all') {
    for (const [name, value] of Object.entries(record.properties)) if (value !== '') properties[name] = value;
  } else {
    const names = shape.properties ?? info.defaultProperties;
    for (const name of [...names, ...(shape.propertiesWithHistory ?? [])]) {
      const value = record.properties[name];
      properties[name] = value === undefined || value === '' ? null : value;
    }
    for (const name of ['createdate', info.modifiedProperty, 'hs_object_id']) {
      properties[name] = record.properties[name] ?? null;
    }
  }
  const out: PublicObject = {
    id: record.id,
    properties,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
  };
  if (record.archivedAt !== undefined) out.archivedAt = new Date(record.archivedAt).toISOString();
  if (shape.propertiesWithHistory !== undefined && shape.propertiesWithHistory.length > 0) {
    out.propertiesWithHistory = Object.fromEntries(
      shape.propertiesWithHistory.map((name) => [name, historyOf(record, name).map((e) => ({ ...e }))]),
    );
  }
  if (shape.associations !== undefined) {
    const associations: NonNullable<PublicObject['associations']> = {};
    for (const toType of shape.associations) {
      const results = associatedLive(portal, type, record.id, toType).flatMap(({ toId, typeIds }) =>
        typeIds.map((typeId) => ({
          id: toId,
          type: associationType(type, toType, typeId)?.name ?? String(typeId),
        })),
      );
      if (results.length > 0) associations[toType] = { results };
    }
    if (Object.keys(associations).length > 0) out.associations = associations;
  }
  return out;
}

/** Associations whose other end is a live record (archived ones are hidden, as in HubSpot). */
export function associatedLive(
  portal: HubSpotPortal,
  type: HubSpotObjectType,
  id: string,
  toType: HubSpotObjectType,
): { toId: string; typeIds: number[] }[] {
  return portal.associations
    .list(type, id, toType)
    .filter(({ toId }) => portal.stores[toType].getLive(toId) !== undefined);
}
