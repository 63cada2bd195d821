import type { SalesforceObjectName } from './schema.js';

/** Which record of which system a manifest entry means. */
export interface SalesforceRef {
  object: SalesforceObjectName;
  id: string;
}

export type Presence = 'both' | 'hubspot' | 'salesforce';

/** The records that are one real person (ground truth for identity matching). */
export interface PersonTruth {
  presence: Presence;
  hubspotContactId?: string;
  /** The Lead; for a converted person, the converted Lead. */
  leadId?: string;
  contactId?: string;
}

export interface CompanyTruth {
  presence: Presence;
  hubspotCompanyId?: string;
  accountId?: string;
}

export interface DealTruth {
  presence: Presence;
  hubspotDealId?: string;
  opportunityId?: string;
}

export interface FieldConflict {
  hubspotProperty: string;
  salesforceField: string;
  hubspotValue: string;
  salesforceValue: string;
}

/** Every deliberately planted piece of CRM mess, by kind, with the ids of the records involved. */
export interface MessManifest {
  /** Same person; the email differs only by case and surrounding whitespace between the systems. */
  emailCaseMismatch: {
    hubspotContactId: string;
    salesforce: SalesforceRef;
    hubspotEmail: string;
    salesforceEmail: string;
  }[];
  /** The second contact holds the first one's primary email in `hs_additional_emails`. */
  hubspotAdditionalEmailDuplicates: {
    hubspotContactIds: [original: string, duplicate: string];
    email: string;
  }[];
  salesforceDuplicateLeads: { leadIds: [original: string, duplicate: string]; email: string }[];
  leadContactDuplicates: { leadId: string; contactId: string; email: string }[];
  blanks: { system: 'hubspot' | 'salesforce'; object: string; id: string; fields: string[] }[];
  conflictingEdits: {
    hubspotContactId: string;
    salesforce: SalesforceRef;
    fields: FieldConflict[];
    hubspotModifiedAt: string;
    salesforceModifiedAt: string;
    newer: 'hubspot' | 'salesforce';
  }[];
  unmappedPicklistValues: {
    system: 'hubspot' | 'salesforce';
    object: string;
    id: string;
    field: string;
    value: string;
  }[];
  convertedLeads: {
    leadId: string;
    contactId: string;
    accountId: string;
    opportunityId: string | null;
    hubspotContactId: string | null;
    /** The HubSpot contact carries `salesforce_lead_id` but no `salesforce_contact_id`. */
    hubspotKnowsOnlyLeadId: boolean;
  }[];
  /** Cross-reference ids already stored: on the HubSpot contact, on the Salesforce row, or both. */
  crossReferences: {
    hubspotContactId: string;
    salesforce: SalesforceRef;
    storedOn: 'hubspot' | 'salesforce' | 'both';
  }[];
  /** The HubSpot contact points at the Salesforce row, whose `HubSpot_Contact_ID__c` names another contact. */
  conflictingCrossReferences: {
    hubspotContactId: string;
    salesforce: SalesforceRef;
    salesforcePointsTo: string;
  }[];
  deleted: { hubspotContactIds: string[]; salesforce: SalesforceRef[] };
  /** Records whose last-modified time is exactly `at`. */
  massImport: { at: string; hubspotContactIds: string[]; salesforce: SalesforceRef[] };
  /** Records whose name holds HTML-like markup (the dashboard must escape it). */
  markupInNames: { system: 'hubspot' | 'salesforce'; object: string; id: string; name: string }[];
}

export interface WorldManifest {
  seed: string;
  now: string;
  people: PersonTruth[];
  companies: CompanyTruth[];
  deals: DealTruth[];
  mess: MessManifest;
}

export function emptyMess(): MessManifest {
  return {
    emailCaseMismatch: [],
    hubspotAdditionalEmailDuplicates: [],
    salesforceDuplicateLeads: [],
    leadContactDuplicates: [],
    blanks: [],
    conflictingEdits: [],
    unmappedPicklistValues: [],
    convertedLeads: [],
    crossReferences: [],
    conflictingCrossReferences: [],
    deleted: { hubspotContactIds: [], salesforce: [] },
    massImport: { at: '', hubspotContactIds: [], salesforce: [] },
    markupInNames: [],
  };
}
