import { emptyMess, type MessManifest } from './manifest.js';
import type { ResolvedWorldOptions } from './options.js';
import type {
  HubSpotAssociation,
  HubSpotRecord,
  SalesforceObjectName,
  SalesforceRecord,
  World,
} from './schema.js';
import { SALESFORCE_KEY_PREFIXES, salesforceId } from './salesforce-id.js';
import { Dice } from './dice.js';
import { hubspotDateTime, salesforceDateTime } from './time.js';

type HubSpotHistory = NonNullable<HubSpotRecord['propertiesWithHistory']>[string];

/** The property HubSpot keeps as each object's last-modified time. */
const MODIFIED_PROPERTY = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

/** Collects the records of both CRMs while the phases run, hands out ids and keeps the mess manifest. */
export class WorldBuilder {
  readonly dice: Dice;
  readonly now: number;
  readonly hubspot = {
    contacts: [] as HubSpotRecord[],
    companies: [] as HubSpotRecord[],
    deals: [] as HubSpotRecord[],
    associations: [] as HubSpotAssociation[],
  };
  readonly salesforce: Record<SalesforceObjectName, SalesforceRecord[]> = {
    Account: [],
    Contact: [],
    Lead: [],
    Opportunity: [],
    OpportunityContactRole: [],
    Campaign: [],
    CampaignMember: [],
  };
  readonly salesforceDeleted: World['salesforce']['deleted'] = [];
  readonly mess: MessManifest = emptyMess();
  /** Records a mess case already changed: later cases and the mass import leave them alone. */
  readonly claimed = new Set<object>();
  private nextHubSpotId = 101;
  private nextSalesforceSequence = 1;

  constructor(readonly options: ResolvedWorldOptions) {
    this.dice = new Dice(options.seed);
    this.now = options.now;
  }

  /** Adds a HubSpot record; `properties` becomes the record's own (not copied). */
  hubspotRecord(
    type: 'contacts' | 'companies' | 'deals',
    properties: Record<string, string | null>,
    createdAt: number,
    modifiedAt: number,
  ): HubSpotRecord {
    const id = String(this.nextHubSpotId);
    this.nextHubSpotId += 1;
    const created = hubspotDateTime(createdAt);
    const modified = hubspotDateTime(modifiedAt);
    properties.hs_object_id = id;
    properties.createdate = created;
    properties[MODIFIED_PROPERTY[type]] = modified;
    const record: HubSpotRecord = {
      id,
      properties,
      createdAt: created,
      updatedAt: modified,
      archived: false,
    };
    this.hubspot[type].push(record);
    return record;
  }

  associate(
    fromType: HubSpotAssociation['fromType'],
    fromId: string,
    toType: HubSpotAssociation['toType'],
    toId: string,
    typeId: number,
  ): void {
    this.hubspot.associations.push({ fromType, fromId, toType, toId, typeId });
  }

  salesforceRow(
    object: SalesforceObjectName,
    fields: Record<string, string | number | boolean | null>,
    createdAt: number,
    modifiedAt: number,
  ): SalesforceRecord {
    const modified = salesforceDateTime(modifiedAt);
    const row: SalesforceRecord = Object.assign(
      { Id: salesforceId(SALESFORCE_KEY_PREFIXES[object], this.nextSalesforceSequence) },
      fields,
    );
    row.CreatedDate = salesforceDateTime(createdAt);
    row.LastModifiedDate = modified;
    row.SystemModstamp = modified;
    row.IsDeleted = false;
    this.nextSalesforceSequence += 1;
    this.salesforce[object].push(row);
    return row;
  }

  toWorld(description: string): World {
    return {
      version: 1,
      description,
      hubspot: {
        ...this.hubspot,
        customProperties: { contacts: [], companies: [], deals: [] },
        nextId: this.nextHubSpotId,
      },
      salesforce: {
        records: this.salesforce,
        deleted: this.salesforceDeleted,
        nextSequence: this.nextSalesforceSequence,
      },
    };
  }
}

/** Sets a HubSpot record's last-modified time (record and property). */
export function touchHubSpot(
  record: HubSpotRecord,
  type: keyof typeof MODIFIED_PROPERTY,
  modifiedAt: number,
): void {
  record.updatedAt = hubspotDateTime(modifiedAt);
  record.properties[MODIFIED_PROPERTY[type]] = hubspotDateTime(modifiedAt);
}

export function touchSalesforce(row: SalesforceRecord, modifiedAt: number): void {
  row.LastModifiedDate = salesforceDateTime(modifiedAt);
  row.SystemModstamp = salesforceDateTime(modifiedAt);
}

/** Records a property's history, newest first, as HubSpot's `propertiesWithHistory` returns it. */
export function setHistory(
  record: HubSpotRecord,
  property: string,
  entries: { value: string; at: number; sourceType: string }[],
): void {
  const history: HubSpotHistory = entries
    .slice()
    .sort((a, b) => b.at - a.at)
    .map((entry) => ({
      value: entry.value,
      timestamp: hubspotDateTime(entry.at),
      sourceType: entry.sourceType,
    }));
  record.propertiesWithHistory ??= {};
  record.propertiesWithHistory[property] = history;
}

export const epochOf = (timestamp: unknown): number =>
  typeof timestamp === 'string' ? Date.parse(timestamp.replace(/\+0000$/, 'Z')) : Number.NaN;
