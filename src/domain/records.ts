import type { System } from './mapping/schema.js';

/**
 * What the connectors hand the domain: one CRM record as read, untouched. HubSpot values are strings on
 * the wire; Salesforce values keep their JSON types. Salesforce Lead conversion fields (`IsConverted`,
 * `ConvertedContactId`, …) are ordinary fields.
 */
export type HubSpotObjectName = 'contacts' | 'companies' | 'deals';
export type SalesforceObjectName = 'Lead' | 'Contact' | 'Account' | 'Opportunity';
export type ObjectName = HubSpotObjectName | SalesforceObjectName;

export type RawValue = string | number | boolean | null;

export interface SourceRecord {
  system: System;
  object: ObjectName;
  id: string;
  fields: Record<string, RawValue>;
  /** Per-field change time (ISO), e.g. from HubSpot `propertiesWithHistory`. */
  fieldChangedAt?: Record<string, string>;
  /**
   * Per field, the value its latest change replaced and when that value was set (HubSpot property history):
   * how Tandem notices that one of its writes landed on an edit it never read.
   */
  fieldPrevious?: Record<string, { value: RawValue; at: string }>;
  createdAt: string;
  modifiedAt: string;
  archived?: boolean;
}

/** A link Tandem stored between the records of one unified entity. */
export interface StoredLink {
  unifiedId: string;
  hubspotId?: string;
  salesforceLeadId?: string;
  salesforceContactId?: string;
  /** Account or Opportunity id, for companies and deals. */
  salesforceId?: string;
  /**
   * Records found to be duplicates of this entity in their own system: kept out of sync (and out of other
   * entities) until someone merges them, even after Tandem's own writes change the keys that showed it.
   */
  duplicates?: Array<{ system: System; id: string }>;
}

/** A Salesforce CampaignMember, flattened with its Campaign. */
export interface CampaignMembership {
  campaignId: string;
  campaignName: string;
  campaignType: string;
  status: string;
  hasResponded: boolean;
  firstRespondedDate?: string;
  createdDate: string;
  /** The Lead or Contact id of the member. */
  personId: string;
}

export type DealOutcome = 'open' | 'won' | 'lost';

/** What the person side needs to know about a deal: who is on it, how big, how it ended. */
export interface DealFact {
  dealUnifiedId?: string;
  hubspotDealId?: string;
  salesforceOpportunityId?: string;
  amount: number;
  outcome: DealOutcome;
  closeDate?: string;
  createdAt: string;
  contactIds: { hubspot?: string[]; salesforce?: string[] };
}

export function recordKey(record: Pick<SourceRecord, 'system' | 'id'>): string {
  return `${record.system}:${record.id}`;
}

export function isBlank(value: unknown): value is null | undefined | '' {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** When a field of a record last changed: its own change time when known, else the record's. */
export function fieldChangedAt(record: SourceRecord, field: string): string {
  return record.fieldChangedAt?.[field] ?? record.modifiedAt;
}
