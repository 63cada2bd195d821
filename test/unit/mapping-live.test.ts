import { describe, expect, it } from '@jest/globals';
import { parseMapping } from '../../src/domain/mapping/load.js';
import { requiredForCreate, validateAgainstLiveSchema } from '../../src/domain/mapping/live.js';
import type {
  HubSpotPropertySummary,
  LiveSchema,
  SalesforceFieldSummary,
} from '../../src/domain/mapping/live.js';

const STAGES = ['subscriber', 'lead', 'mql', 'sal', 'sql', 'opportunity', 'customer', 'disqualified'];

/** Line 9 is email's `salesforce: Email`, 11 last_name's `hubspot`, 24 the first lead_status value, 31 `create`. */
const MAPPING = `version: 1
name: Live test
objects:
  person:
    fields:
      - name: email
        type: email
        hubspot: email
        salesforce: Email
      - name: last_name
        hubspot: lastname
        salesforce: LastName
        required_on_create: [salesforce]
      - name: company_name
        hubspot: company
        salesforce: { Lead: Company }
        default_on_create: { salesforce: '[not provided]' }
      - name: lead_status
        type: enum
        hubspot: hs_lead_status
        salesforce: { Lead: Status }
        direction: to_hubspot
        values:
          new: { hubspot: NEW, salesforce: Open - Not Contacted }
          working: { hubspot: IN_PROGRESS, salesforce: Working - Contacted }
    salesforce: { objects: [Lead] }
    identity:
      cross_reference:
        hubspot_property_for_lead_id: salesforce_lead_id
        salesforce_field_for_hubspot_id: HubSpot_Contact_ID__c
    create: { in_hubspot: true, in_salesforce: Lead }
lifecycle:
  definitions:
    mql: { score: { gte: 50 } }
    sal: { field: lead_status, in: [working] }
    sql: { converted: true }
  writeback:
    hubspot_property: tandem_lifecycle_stage
    salesforce_field: Tandem_Lifecycle_Stage__c
attribution:
  sources:
    other: { hubspot: [OTHER_CAMPAIGNS], salesforce: [Other] }
`;

const hs = (name: string, more: Partial<HubSpotPropertySummary> = {}): HubSpotPropertySummary => ({
  name,
  type: 'string',
  fieldType: 'text',
  options: [],
  readOnlyValue: false,
  calculated: false,
  ...more,
});
const sf = (name: string, more: Partial<SalesforceFieldSummary> = {}): SalesforceFieldSummary => ({
  name,
  type: 'string',
  updateable: true,
  createable: true,
  nillable: true,
  defaultedOnCreate: false,
  length: 255,
  picklistValues: [],
  restrictedPicklist: false,
  externalId: false,
  ...more,
});

/** A portal and an org that fit MAPPING exactly. */
function liveSchema(): LiveSchema {
  return {
    hubspot: {
      contacts: [
        hs('email'),
        hs('lastname'),
        hs('company'),
        hs('hs_lead_status', { type: 'enumeration', fieldType: 'select', options: ['NEW', 'IN_PROGRESS'] }),
        hs('salesforce_lead_id'),
        hs('tandem_lifecycle_stage', { type: 'enumeration', fieldType: 'select', options: STAGES }),
        hs('hs_analytics_source', { type: 'enumeration', fieldType: 'select', options: ['OTHER_CAMPAIGNS'] }),
        hs('hs_analytics_source_data_1', { readOnlyValue: true }),
        hs('hs_latest_source', { type: 'enumeration', fieldType: 'select', options: ['OTHER_CAMPAIGNS'] }),
        hs('hs_latest_source_timestamp', { type: 'datetime', fieldType: 'date', readOnlyValue: true }),
      ],
      companies: [],
      deals: [],
    },
    salesforce: {
      Lead: [
        sf('Id', {
          type: 'id',
          updateable: false,
          createable: false,
          nillable: false,
          defaultedOnCreate: true,
        }),
        sf('Email', { type: 'email' }),
        sf('LastName', { nillable: false }),
        sf('Company', { nillable: false }),
        sf('Status', {
          type: 'picklist',
          nillable: false,
          defaultedOnCreate: true,
          picklistValues: ['Open - Not Contacted', 'Working - Contacted'],
        }),
        sf('IsConverted', { type: 'boolean', nillable: false, updateable: false, defaultedOnCreate: true }),
        sf('HubSpot_Contact_ID__c', { externalId: true, length: 32 }),
        sf('Tandem_Lifecycle_Stage__c', {
          type: 'picklist',
          picklistValues: STAGES,
          restrictedPicklist: true,
        }),
        sf('LeadSource', { type: 'picklist', picklistValues: ['Other'] }),
      ],
      Contact: [],
      Account: [],
      Opportunity: [],
    },
  };
}

function check(text: string, change: (live: LiveSchema) => void = () => undefined) {
  const live = liveSchema();
  change(live);
  return validateAgainstLiveSchema(parseMapping(text, 'mappings/live.yaml'), live);
}

const contacts = (live: LiveSchema, name: string): HubSpotPropertySummary =>
  live.hubspot.contacts.find((p) => p.name === name)!;
const lead = (live: LiveSchema, name: string): SalesforceFieldSummary =>
  live.salesforce.Lead.find((f) => f.name === name)!;

describe('validateAgainstLiveSchema', () => {
  it('finds nothing wrong when the systems fit the mapping', () => {
    expect(check(MAPPING)).toEqual([]);
  });

  it.each([
    {
      name: 'a misspelt Salesforce field, with the nearest name',
      text: MAPPING.replace('salesforce: Email', 'salesforce: Emial'),
      change: undefined,
      expected: {
        line: 9,
        column: 21,
        path: 'objects.person.fields[0].salesforce',
        severity: 'error',
        message: 'Salesforce Lead has no field "Emial"',
        hint: 'did you mean "Email"?',
      },
    },
    {
      name: 'a field whose name differs only in case',
      text: MAPPING.replace('hubspot: lastname', 'hubspot: LastName'),
      change: undefined,
      expected: {
        line: 11,
        path: 'objects.person.fields[1].hubspot',
        severity: 'error',
        message: 'it is spelt "lastname"',
      },
    },
    {
      name: 'a read-only HubSpot target written by direction both',
      text: MAPPING,
      change: (live: LiveSchema) => (contacts(live, 'lastname').readOnlyValue = true),
      expected: {
        line: 11,
        path: 'objects.person.fields[1].hubspot',
        severity: 'error',
        message: 'HubSpot contacts.lastname is read-only, but direction "both" writes to it',
      },
    },
    {
      name: 'a Salesforce field that is neither updateable nor createable',
      text: MAPPING,
      change: (live: LiveSchema) =>
        Object.assign(lead(live, 'Email'), { updateable: false, createable: false }),
      expected: {
        line: 9,
        path: 'objects.person.fields[0].salesforce',
        severity: 'error',
        message: 'Salesforce Lead.Email is read-only',
      },
    },
    {
      name: 'a source picklist value with no entry in the value map',
      text: MAPPING,
      change: (live: LiveSchema) =>
        lead(live, 'Status').picklistValues.push('Nurturing', 'Closed - Converted'),
      expected: {
        line: 24,
        path: 'objects.person.fields[3].values',
        severity: 'error',
        message:
          'Salesforce Lead.Status values with no entry in the values map: "Nurturing", "Closed - Converted" (records with them fail)',
      },
    },
    {
      name: 'a written value missing from the target options (HubSpot enumerations reject it)',
      text: MAPPING.replace('working: { hubspot: IN_PROGRESS,', 'working: { hubspot: IN_PROGRES,'),
      change: undefined,
      expected: {
        line: 25,
        path: 'objects.person.fields[3].values.working.hubspot',
        severity: 'error',
        message: '"IN_PROGRES" (written for working) is not a value of HubSpot contacts.hs_lead_status',
        hint: 'did you mean "IN_PROGRESS"?',
      },
    },
    {
      name: 'a field Salesforce needs to create a Lead that nothing writes',
      text: MAPPING,
      change: (live: LiveSchema) => live.salesforce.Lead.push(sf('Region__c', { nillable: false })),
      expected: {
        line: 31,
        path: 'objects.person.create.in_salesforce',
        severity: 'error',
        message: 'creating a Salesforce Lead needs Region__c, but no field writes it',
      },
    },
    {
      name: 'a number mapped into a picklist',
      text: MAPPING.replace(
        '        hubspot: company\n',
        '        type: integer\n        hubspot: company\n',
      ),
      change: (live: LiveSchema) =>
        Object.assign(contacts(live, 'company'), {
          type: 'enumeration',
          fieldType: 'select',
          options: ['A'],
        }),
      expected: {
        path: 'objects.person.fields[2].hubspot',
        severity: 'error',
        message: "HubSpot contacts.company is a picklist, but the field's type is integer",
      },
    },
    {
      name: 'a writeback target that does not exist',
      text: MAPPING,
      change: (live: LiveSchema) =>
        (live.hubspot.contacts = live.hubspot.contacts.filter((p) => p.name !== 'tandem_lifecycle_stage')),
      expected: {
        path: 'lifecycle.writeback.hubspot_property',
        severity: 'error',
        message: 'HubSpot contacts has no field "tandem_lifecycle_stage"',
        hint: 'create the custom property "tandem_lifecycle_stage" in HubSpot',
      },
    },
    {
      name: 'a restricted stage picklist without a stage value',
      text: MAPPING,
      change: (live: LiveSchema) =>
        (lead(live, 'Tandem_Lifecycle_Stage__c').picklistValues = STAGES.filter((s) => s !== 'disqualified')),
      expected: {
        path: 'lifecycle.writeback.salesforce_field',
        severity: 'error',
        message: 'without the values Tandem writes: "disqualified"',
      },
    },
    {
      name: 'a missing cross-reference field',
      text: MAPPING,
      change: (live: LiveSchema) =>
        (live.salesforce.Lead = live.salesforce.Lead.filter((f) => f.name !== 'HubSpot_Contact_ID__c')),
      expected: {
        path: 'objects.person.identity.cross_reference.salesforce_field_for_hubspot_id',
        severity: 'error',
        message: 'Salesforce Lead has no field "HubSpot_Contact_ID__c"',
      },
    },
  ])('reports $name', ({ text, change, expected }) => {
    const problems = check(text, change);
    expect(problems).toContainEqual(
      expect.objectContaining({
        file: 'mappings/live.yaml',
        ...expected,
        message: expect.stringContaining(expected.message),
      }),
    );
  });

  it('collects every problem instead of stopping at the first', () => {
    const text = MAPPING.replace('salesforce: Email', 'salesforce: Emial').replace(
      'hubspot: lastname',
      'hubspot: last_name',
    );
    const problems = check(text, (live) => (contacts(live, 'company').readOnlyValue = true));
    expect(problems.filter((p) => p.severity === 'error').map((p) => p.path)).toEqual([
      'objects.person.fields[0].salesforce',
      'objects.person.fields[1].hubspot',
      'objects.person.fields[2].hubspot',
    ]);
  });
});

describe('requiredForCreate', () => {
  it('is the createable, non-nillable fields with no default, booleans aside', () => {
    expect(requiredForCreate(liveSchema().salesforce.Lead).map((f) => f.name)).toEqual([
      'LastName',
      'Company',
    ]);
  });
});
