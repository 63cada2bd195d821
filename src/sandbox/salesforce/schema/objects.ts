import type { PicklistValue, SalesforceField, SalesforceFieldType, SalesforceObjectSchema } from './types.js';

/**
 * The standard objects of a new Enterprise org, with the standard fields and picklists Tandem touches,
 * plus the custom fields Tandem's default mapping writes (see src/sandbox/README.md).
 */

type FieldOptions = Partial<Omit<SalesforceField, 'name' | 'label' | 'type' | 'picklistValues'>> & {
  values?: readonly string[];
  defaultPick?: string;
};

function field(
  name: string,
  label: string,
  type: SalesforceFieldType,
  options: FieldOptions = {},
): SalesforceField {
  const { values, defaultPick, ...rest } = options;
  const picklistValues: PicklistValue[] = (values ?? []).map((value) => ({
    value,
    label: value,
    active: true,
    defaultValue: value === defaultPick,
  }));
  const isText = ['string', 'email', 'phone', 'picklist', 'textarea', 'url'].includes(type);
  return {
    name,
    label,
    type,
    length: isText ? 255 : type === 'id' || type === 'reference' ? 18 : 0,
    precision: 0,
    scale: 0,
    createable: true,
    updateable: true,
    nillable: true,
    externalId: false,
    unique: false,
    custom: name.endsWith('__c'),
    restrictedPicklist: false,
    picklistValues,
    referenceTo: [],
    relationshipName: null,
    defaultValue: defaultPick ?? null,
    ...rest,
  };
}

const text = (name: string, label: string, length: number, options: FieldOptions = {}) =>
  field(name, label, 'string', { length, ...options });
const picklist = (name: string, label: string, values: readonly string[], options: FieldOptions = {}) =>
  field(name, label, 'picklist', { values, ...options });
const readOnly: FieldOptions = { createable: false, updateable: false };
const reference = (
  name: string,
  label: string,
  to: string,
  relationshipName: string,
  options: FieldOptions = {},
) => field(name, label, 'reference', { referenceTo: [to], relationshipName, ...options });
const checkbox = (name: string, label: string, options: FieldOptions = {}) =>
  field(name, label, 'boolean', { nillable: false, defaultValue: false, ...options });
const number = (
  name: string,
  label: string,
  type: 'double' | 'currency' | 'int' | 'percent',
  precision: number,
  scale = 0,
) => field(name, label, type, { precision, scale });

function systemFields(options: { owned: boolean }): SalesforceField[] {
  return [
    field('Id', 'Record ID', 'id', { ...readOnly, nillable: false }),
    checkbox('IsDeleted', 'Deleted', readOnly),
    field('CreatedDate', 'Created Date', 'datetime', { ...readOnly, nillable: false }),
    reference('CreatedById', 'Created By ID', 'User', 'CreatedBy', { ...readOnly, nillable: false }),
    field('LastModifiedDate', 'Last Modified Date', 'datetime', { ...readOnly, nillable: false }),
    reference('LastModifiedById', 'Last Modified By ID', 'User', 'LastModifiedBy', {
      ...readOnly,
      nillable: false,
    }),
    field('SystemModstamp', 'System Modstamp', 'datetime', { ...readOnly, nillable: false }),
    ...(options.owned ? [reference('OwnerId', 'Owner ID', 'User', 'Owner', { nillable: false })] : []),
  ];
}

/** Set on the records a merge deleted: the record they were merged into (Lead, Contact and Account only). */
const masterRecord = (objectName: string): SalesforceField =>
  reference('MasterRecordId', 'Master Record ID', objectName, 'MasterRecord', readOnly);

export const LEAD_STATUSES = [
  'Open - Not Contacted',
  'Working - Contacted',
  'Closed - Converted',
  'Closed - Not Converted',
] as const;
export const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'] as const;
export const INDUSTRIES = [
  'Agriculture',
  'Apparel',
  'Banking',
  'Biotechnology',
  'Chemicals',
  'Communications',
  'Construction',
  'Consulting',
  'Education',
  'Electronics',
  'Energy',
  'Engineering',
  'Entertainment',
  'Environmental',
  'Finance',
  'Food & Beverage',
  'Government',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Machinery',
  'Manufacturing',
  'Media',
  'Not For Profit',
  'Other',
  'Recreation',
  'Retail',
  'Shipping',
  'Technology',
  'Telecommunications',
  'Transportation',
  'Utilities',
] as const;
export const RATINGS = ['Hot', 'Warm', 'Cold'] as const;
export const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'] as const;
export const TANDEM_LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'mql',
  'sal',
  'sql',
  'opportunity',
  'customer',
  'disqualified',
] as const;

/** Opportunity stages of a new org: probability and forecast category follow the stage. */
export const OPPORTUNITY_STAGES: ReadonlyArray<{
  name: string;
  probability: number;
  closed: boolean;
  won: boolean;
  forecastCategory: string;
}> = [
  { name: 'Prospecting', probability: 10, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Qualification', probability: 10, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Needs Analysis', probability: 20, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Value Proposition', probability: 50, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Id. Decision Makers', probability: 60, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Perception Analysis', probability: 70, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Proposal/Price Quote', probability: 75, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Negotiation/Review', probability: 90, closed: false, won: false, forecastCategory: 'Pipeline' },
  { name: 'Closed Won', probability: 100, closed: true, won: true, forecastCategory: 'Closed' },
  { name: 'Closed Lost', probability: 0, closed: true, won: false, forecastCategory: 'Omitted' },
];

function tandemPersonFields(): SalesforceField[] {
  return [
    text('HubSpot_Contact_ID__c', 'HubSpot Contact ID', 32, { externalId: true, unique: true }),
    picklist('Tandem_Lifecycle_Stage__c', 'Tandem Lifecycle Stage', TANDEM_LIFECYCLE_STAGES, {
      restrictedPicklist: true,
    }),
    number('Tandem_Lead_Score__c', 'Tandem Lead Score', 'double', 18, 0),
    text('Tandem_Original_Source__c', 'Tandem Original Source', 255),
    text('Tandem_Latest_Source__c', 'Tandem Latest Source', 255),
    text('Tandem_Stage_Reason__c', 'Tandem Stage Reason', 255),
  ];
}

const personName = (): SalesforceField[] => [
  text('LastName', 'Last Name', 80, { nillable: false }),
  text('FirstName', 'First Name', 40),
  picklist('Salutation', 'Salutation', SALUTATIONS),
  text('Name', 'Full Name', 121, readOnly),
  text('Title', 'Title', 128),
];

const address = (prefix: string, label: string): SalesforceField[] => [
  field(`${prefix}Street`, `${label} Street`, 'textarea', { length: 255 }),
  text(`${prefix}City`, `${label} City`, 40),
  text(`${prefix}State`, `${label} State/Province`, 80),
  text(`${prefix}PostalCode`, `${label} Zip/Postal Code`, 20),
  text(`${prefix}Country`, `${label} Country`, 80),
];

const LEAD: SalesforceObjectSchema = {
  name: 'Lead',
  label: 'Lead',
  labelPlural: 'Leads',
  keyPrefix: '00Q',
  writable: true,
  requiredOnCreate: ['LastName', 'Company'],
  fields: [
    ...systemFields({ owned: true }),
    masterRecord('Lead'),
    ...personName(),
    text('Company', 'Company', 255, { nillable: false }),
    ...address('', ''),
    field('Phone', 'Phone', 'phone', { length: 40 }),
    field('MobilePhone', 'Mobile Phone', 'phone', { length: 40 }),
    field('Email', 'Email', 'email', { length: 80 }),
    field('Website', 'Website', 'url', { length: 255 }),
    field('Description', 'Description', 'textarea', { length: 32000 }),
    picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    picklist('Status', 'Status', LEAD_STATUSES, { defaultPick: 'Open - Not Contacted', nillable: false }),
    picklist('Industry', 'Industry', INDUSTRIES),
    picklist('Rating', 'Rating', RATINGS),
    number('AnnualRevenue', 'Annual Revenue', 'currency', 18, 0),
    number('NumberOfEmployees', 'Employees', 'int', 8),
    checkbox('HasOptedOutOfEmail', 'Email Opt Out'),
    checkbox('IsConverted', 'Converted', readOnly),
    field('ConvertedDate', 'Converted Date', 'date', readOnly),
    reference('ConvertedAccountId', 'Converted Account ID', 'Account', 'ConvertedAccount', readOnly),
    reference('ConvertedContactId', 'Converted Contact ID', 'Contact', 'ConvertedContact', readOnly),
    reference(
      'ConvertedOpportunityId',
      'Converted Opportunity ID',
      'Opportunity',
      'ConvertedOpportunity',
      readOnly,
    ),
    checkbox('IsUnreadByOwner', 'Unread By Owner'),
    field('LastActivityDate', 'Last Activity', 'date', readOnly),
    ...tandemPersonFields(),
  ],
};

const CONTACT: SalesforceObjectSchema = {
  name: 'Contact',
  label: 'Contact',
  labelPlural: 'Contacts',
  keyPrefix: '003',
  writable: true,
  requiredOnCreate: ['LastName'],
  fields: [
    ...systemFields({ owned: true }),
    masterRecord('Contact'),
    reference('AccountId', 'Account ID', 'Account', 'Account'),
    ...personName(),
    text('Department', 'Department', 80),
    ...address('Mailing', 'Mailing'),
    field('Phone', 'Business Phone', 'phone', { length: 40 }),
    field('MobilePhone', 'Mobile Phone', 'phone', { length: 40 }),
    field('Email', 'Email', 'email', { length: 80 }),
    picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    field('Birthdate', 'Birthdate', 'date'),
    field('Description', 'Contact Description', 'textarea', { length: 32000 }),
    checkbox('HasOptedOutOfEmail', 'Email Opt Out'),
    reference('ReportsToId', 'Reports To ID', 'Contact', 'ReportsTo'),
    field('LastActivityDate', 'Last Activity', 'date', readOnly),
    ...tandemPersonFields(),
  ],
};

const ACCOUNT: SalesforceObjectSchema = {
  name: 'Account',
  label: 'Account',
  labelPlural: 'Accounts',
  keyPrefix: '001',
  writable: true,
  requiredOnCreate: ['Name'],
  fields: [
    ...systemFields({ owned: true }),
    masterRecord('Account'),
    text('Name', 'Account Name', 255, { nillable: false }),
    picklist('Type', 'Account Type', [
      'Prospect',
      'Customer - Direct',
      'Customer - Channel',
      'Channel Partner / Reseller',
      'Installation Partner',
      'Technology Partner',
      'Other',
    ]),
    reference('ParentId', 'Parent Account ID', 'Account', 'Parent'),
    ...address('Billing', 'Billing'),
    ...address('Shipping', 'Shipping'),
    field('Phone', 'Account Phone', 'phone', { length: 40 }),
    field('Fax', 'Account Fax', 'phone', { length: 40 }),
    field('Website', 'Website', 'url', { length: 255 }),
    picklist('Industry', 'Industry', INDUSTRIES),
    number('AnnualRevenue', 'Annual Revenue', 'currency', 18, 0),
    number('NumberOfEmployees', 'Employees', 'int', 8),
    picklist('Ownership', 'Ownership', ['Public', 'Private', 'Subsidiary', 'Other']),
    picklist('Rating', 'Account Rating', RATINGS),
    picklist('AccountSource', 'Account Source', LEAD_SOURCES),
    field('Description', 'Account Description', 'textarea', { length: 32000 }),
    text('HubSpot_Company_ID__c', 'HubSpot Company ID', 32, { externalId: true, unique: true }),
  ],
};

const OPPORTUNITY: SalesforceObjectSchema = {
  name: 'Opportunity',
  label: 'Opportunity',
  labelPlural: 'Opportunities',
  keyPrefix: '006',
  writable: true,
  requiredOnCreate: ['Name', 'StageName', 'CloseDate'],
  fields: [
    ...systemFields({ owned: true }),
    reference('AccountId', 'Account ID', 'Account', 'Account'),
    text('Name', 'Name', 120, { nillable: false }),
    field('Description', 'Description', 'textarea', { length: 32000 }),
    picklist(
      'StageName',
      'Stage',
      OPPORTUNITY_STAGES.map((s) => s.name),
      { nillable: false },
    ),
    number('Amount', 'Amount', 'currency', 18, 2),
    number('Probability', 'Probability (%)', 'percent', 3, 0),
    field('ExpectedRevenue', 'Expected Amount', 'currency', { ...readOnly, precision: 18, scale: 2 }),
    field('CloseDate', 'Close Date', 'date', { nillable: false }),
    picklist('Type', 'Opportunity Type', [
      'Existing Customer - Upgrade',
      'Existing Customer - Replacement',
      'Existing Customer - Downgrade',
      'New Customer',
    ]),
    text('NextStep', 'Next Step', 255),
    picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    checkbox('IsClosed', 'Closed', readOnly),
    checkbox('IsWon', 'Won', readOnly),
    picklist('ForecastCategoryName', 'Forecast Category', [
      'Omitted',
      'Pipeline',
      'Best Case',
      'Commit',
      'Closed',
    ]),
    reference('CampaignId', 'Campaign ID', 'Campaign', 'Campaign'),
    text('HubSpot_Deal_ID__c', 'HubSpot Deal ID', 32, { externalId: true, unique: true }),
  ],
};

const OPPORTUNITY_CONTACT_ROLE: SalesforceObjectSchema = {
  name: 'OpportunityContactRole',
  label: 'Opportunity Contact Role',
  labelPlural: 'Opportunity Contact Role',
  keyPrefix: '00K',
  writable: true,
  requiredOnCreate: ['OpportunityId', 'ContactId'],
  fields: [
    ...systemFields({ owned: false }),
    reference('OpportunityId', 'Opportunity ID', 'Opportunity', 'Opportunity', {
      updateable: false,
      nillable: false,
    }),
    reference('ContactId', 'Contact ID', 'Contact', 'Contact', { nillable: false }),
    picklist('Role', 'Role', [
      'Business User',
      'Decision Maker',
      'Economic Buyer',
      'Economic Decision Maker',
      'Evaluator',
      'Executive Sponsor',
      'Influencer',
      'Technical Buyer',
      'Other',
    ]),
    checkbox('IsPrimary', 'Primary'),
  ],
};

const CAMPAIGN: SalesforceObjectSchema = {
  name: 'Campaign',
  label: 'Campaign',
  labelPlural: 'Campaigns',
  keyPrefix: '701',
  writable: true,
  requiredOnCreate: ['Name'],
  fields: [
    ...systemFields({ owned: true }),
    text('Name', 'Name', 80, { nillable: false }),
    reference('ParentId', 'Parent Campaign ID', 'Campaign', 'Parent'),
    picklist('Type', 'Type', [
      'Conference',
      'Webinar',
      'Trade Show',
      'Public Relations',
      'Partners',
      'Referral Program',
      'Advertisement',
      'Banner Ads',
      'Direct Mail',
      'Email',
      'Telemarketing',
      'Other',
    ]),
    picklist('Status', 'Status', ['Planned', 'In Progress', 'Completed', 'Aborted'], {
      defaultPick: 'Planned',
    }),
    field('StartDate', 'Start Date', 'date'),
    field('EndDate', 'End Date', 'date'),
    number('ExpectedRevenue', 'Expected Revenue in Campaign', 'currency', 18, 0),
    number('BudgetedCost', 'Budgeted Cost in Campaign', 'currency', 18, 0),
    number('ActualCost', 'Actual Cost in Campaign', 'currency', 18, 0),
    number('ExpectedResponse', 'Expected Response (%)', 'percent', 8, 2),
    checkbox('IsActive', 'Active'),
    field('Description', 'Description', 'textarea', { length: 32000 }),
    field('NumberOfLeads', 'Leads in Campaign', 'int', readOnly),
    field('NumberOfContacts', 'Contacts in Campaign', 'int', readOnly),
  ],
};

const CAMPAIGN_MEMBER: SalesforceObjectSchema = {
  name: 'CampaignMember',
  label: 'Campaign Member',
  labelPlural: 'Campaign Members',
  keyPrefix: '00v',
  writable: true,
  requiredOnCreate: ['CampaignId'],
  fields: [
    ...systemFields({ owned: false }),
    reference('CampaignId', 'Campaign ID', 'Campaign', 'Campaign', { updateable: false, nillable: false }),
    reference('LeadId', 'Lead ID', 'Lead', 'Lead', { updateable: false }),
    reference('ContactId', 'Contact ID', 'Contact', 'Contact', { updateable: false }),
    picklist('Status', 'Status', ['Sent', 'Responded'], { defaultPick: 'Sent' }),
    checkbox('HasResponded', 'Responded', readOnly),
    field('FirstRespondedDate', 'First Responded Date', 'date', readOnly),
  ],
};

/** Read-only: the sandbox has one user, the integration user that owns and modifies every record. */
const USER: SalesforceObjectSchema = {
  name: 'User',
  label: 'User',
  labelPlural: 'Users',
  keyPrefix: '005',
  writable: false,
  requiredOnCreate: [],
  fields: [
    ...systemFields({ owned: false }).map((f) => ({ ...f, createable: false, updateable: false })),
    text('Username', 'Username', 80, readOnly),
    text('FirstName', 'First Name', 40, readOnly),
    text('LastName', 'Last Name', 80, readOnly),
    text('Name', 'Full Name', 121, readOnly),
    field('Email', 'Email', 'email', { ...readOnly, length: 128 }),
    text('Alias', 'Alias', 8, readOnly),
    checkbox('IsActive', 'Active', readOnly),
  ],
};

export const SALESFORCE_OBJECTS: readonly SalesforceObjectSchema[] = [
  ACCOUNT,
  CONTACT,
  LEAD,
  OPPORTUNITY,
  OPPORTUNITY_CONTACT_ROLE,
  CAMPAIGN,
  CAMPAIGN_MEMBER,
  USER,
];
