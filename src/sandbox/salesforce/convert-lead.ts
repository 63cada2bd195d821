import { z } from 'zod';
import { RecordError } from './record-error.js';
import type { SalesforceStore } from './store.js';
import { formatDate } from './values.js';

export const ConvertLeadRequestSchema = z.object({
  leadId: z.string(),
  accountId: z.string().optional(),
  contactId: z.string().optional(),
  /** SOAP's `doNotCreateOpportunity` inverted; SOAP creates one unless told not to. */
  createOpportunity: z.boolean().default(true),
  opportunityName: z.string().optional(),
  convertedStatus: z.string().default('Closed - Converted'),
});
export type ConvertLeadRequest = z.input<typeof ConvertLeadRequestSchema>;

export interface ConvertLeadResult {
  leadId: string;
  accountId: string;
  contactId: string;
  opportunityId: string | null;
  success: true;
}

/** Lead fields the standard lead-field mapping copies to the new Contact. */
const CONTACT_MAPPING: ReadonlyArray<[lead: string, contact: string]> = [
  ['FirstName', 'FirstName'],
  ['LastName', 'LastName'],
  ['Salutation', 'Salutation'],
  ['Title', 'Title'],
  ['Email', 'Email'],
  ['Phone', 'Phone'],
  ['MobilePhone', 'MobilePhone'],
  ['LeadSource', 'LeadSource'],
  ['Description', 'Description'],
  ['HasOptedOutOfEmail', 'HasOptedOutOfEmail'],
  ['Street', 'MailingStreet'],
  ['City', 'MailingCity'],
  ['State', 'MailingState'],
  ['PostalCode', 'MailingPostalCode'],
  ['Country', 'MailingCountry'],
  ['HubSpot_Contact_ID__c', 'HubSpot_Contact_ID__c'],
  ['Tandem_Lifecycle_Stage__c', 'Tandem_Lifecycle_Stage__c'],
  ['Tandem_Lead_Score__c', 'Tandem_Lead_Score__c'],
  ['Tandem_Original_Source__c', 'Tandem_Original_Source__c'],
  ['Tandem_Latest_Source__c', 'Tandem_Latest_Source__c'],
  ['Tandem_Stage_Reason__c', 'Tandem_Stage_Reason__c'],
];

const ACCOUNT_MAPPING: ReadonlyArray<[lead: string, account: string]> = [
  ['Company', 'Name'],
  ['Industry', 'Industry'],
  ['AnnualRevenue', 'AnnualRevenue'],
  ['NumberOfEmployees', 'NumberOfEmployees'],
  ['Website', 'Website'],
  ['Phone', 'Phone'],
  ['Rating', 'Rating'],
  ['LeadSource', 'AccountSource'],
  ['Street', 'BillingStreet'],
  ['City', 'BillingCity'],
  ['State', 'BillingState'],
  ['PostalCode', 'BillingPostalCode'],
  ['Country', 'BillingCountry'],
];

/** What SOAP `convertLead` does: Account + Contact (+ Opportunity and its contact role), lead marked converted. */
export function convertLead(store: SalesforceStore, input: ConvertLeadRequest): ConvertLeadResult {
  const request = ConvertLeadRequestSchema.parse(input);
  const lead = store.liveRow('Lead', request.leadId);
  if (lead['IsConverted'] === true) {
    throw new RecordError('INVALID_STATUS', `convertLead: lead ${String(lead['Id'])} is already converted`, [
      'Id',
    ]);
  }
  const copy = (mapping: ReadonlyArray<[string, string]>) =>
    Object.fromEntries(
      mapping
        .filter(([from]) => lead[from] !== null && lead[from] !== undefined)
        .map(([from, to]) => [to, lead[from]]),
    );

  const accountId =
    request.accountId === undefined
      ? (store.create('Account', copy(ACCOUNT_MAPPING))['Id'] as string)
      : (store.liveRow('Account', request.accountId)['Id'] as string);

  const contactId =
    request.contactId === undefined
      ? (store.create('Contact', { ...copy(CONTACT_MAPPING), AccountId: accountId }, undefined, {
          duplicateRules: false,
        })['Id'] as string)
      : (store.liveRow('Contact', request.contactId)['Id'] as string);

  let opportunityId: string | null = null;
  if (request.createOpportunity) {
    const accountName = String(store.liveRow('Account', accountId)['Name']);
    const opportunity = store.create('Opportunity', {
      Name: request.opportunityName ?? `${accountName}-`,
      AccountId: accountId,
      StageName: 'Prospecting',
      CloseDate: formatDate(store.now() + 30 * 86_400_000),
      LeadSource: lead['LeadSource'],
    });
    opportunityId = opportunity['Id'] as string;
    store.create('OpportunityContactRole', {
      OpportunityId: opportunityId,
      ContactId: contactId,
      IsPrimary: true,
    });
  }

  store.systemUpdate('Lead', lead['Id'] as string, {
    IsConverted: true,
    ConvertedDate: formatDate(store.now()),
    ConvertedAccountId: accountId,
    ConvertedContactId: contactId,
    ConvertedOpportunityId: opportunityId,
    Status: request.convertedStatus,
  });
  return { leadId: lead['Id'] as string, accountId, contactId, opportunityId, success: true };
}
