import { readFileSync } from 'node:fs';
import type { HubSpotObjectType, HubSpotPropertyDefinition } from '../world/schema.js';
import { conflict, validationError, type PropertyProblem } from './errors.js';
import { OBJECT_TYPES } from './object-types.js';

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

/** A property definition as `GET /crm/v3/properties/{objectType}` returns it. */
export interface PropertyDefinition {
  name: string;
  label: string;
  type: HubSpotPropertyDefinition['type'];
  fieldType: string;
  description: string;
  groupName: string;
  options: PropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  modificationMetadata: {
    archivable: boolean;
    readOnlyDefinition: boolean;
    readOnlyValue: boolean;
    readOnlyOptions?: boolean;
  };
  formField: boolean;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
}

const DEFINITIONS_DATE = '2020-06-30T15:57:35.997Z';

function optionsOf(values: readonly (string | [value: string, label: string])[]): PropertyOption[] {
  return values.map((entry, index) => {
    const [value, label] = typeof entry === 'string' ? [entry, entry] : entry;
    return { label, value, displayOrder: index, hidden: false };
  });
}

interface DefinitionExtras {
  options?: PropertyOption[];
  readOnly?: boolean;
  calculated?: boolean;
  unique?: boolean;
  externalOptions?: boolean;
  hubspotDefined?: boolean;
  groupName?: string;
  description?: string;
}

function define(
  name: string,
  label: string,
  type: PropertyDefinition['type'],
  fieldType: string,
  extras: DefinitionExtras = {},
): PropertyDefinition {
  const hubspotDefined = extras.hubspotDefined ?? true;
  return {
    updatedAt: DEFINITIONS_DATE,
    createdAt: DEFINITIONS_DATE,
    name,
    label,
    type,
    fieldType,
    description: extras.description ?? '',
    groupName: extras.groupName ?? (hubspotDefined ? 'information' : 'tandem'),
    options: extras.options ?? [],
    displayOrder: -1,
    calculated: extras.calculated ?? false,
    externalOptions: extras.externalOptions ?? false,
    hasUniqueValue: extras.unique ?? false,
    hidden: false,
    hubspotDefined,
    modificationMetadata: {
      archivable: !hubspotDefined,
      readOnlyDefinition: hubspotDefined,
      readOnlyValue: extras.readOnly ?? false,
    },
    formField: !(extras.readOnly ?? false),
  };
}

export const LIFECYCLE_STAGES = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
] as const satisfies readonly [string, string][];

const LEAD_STATUSES = [
  'NEW',
  'OPEN',
  'IN_PROGRESS',
  'OPEN_DEAL',
  'UNQUALIFIED',
  'ATTEMPTED_TO_CONTACT',
  'CONNECTED',
  'BAD_TIMING',
];

export const TANDEM_LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'mql',
  'sal',
  'sql',
  'opportunity',
  'customer',
  'disqualified',
];

/** The default deal pipeline's stages: id, label, probability, closed? */
export const DEFAULT_DEAL_STAGES = [
  { id: 'appointmentscheduled', label: 'Appointment Scheduled', probability: 0.2, closed: false },
  { id: 'qualifiedtobuy', label: 'Qualified To Buy', probability: 0.4, closed: false },
  { id: 'presentationscheduled', label: 'Presentation Scheduled', probability: 0.6, closed: false },
  { id: 'decisionmakerboughtin', label: 'Decision Maker Bought-In', probability: 0.8, closed: false },
  { id: 'contractsent', label: 'Contract Sent', probability: 0.9, closed: false },
  { id: 'closedwon', label: 'Closed Won', probability: 1, closed: true },
  { id: 'closedlost', label: 'Closed Lost', probability: 0, closed: true },
] as const;

const INDUSTRIES = [
  'ACCOUNTING',
  'APPAREL_FASHION',
  'BANKING',
  'BIOTECHNOLOGY',
  'CHEMICALS',
  'COMPUTER_SOFTWARE',
  'CONSTRUCTION',
  'CONSUMER_ELECTRONICS',
  'CONSUMER_GOODS',
  'EDUCATION_MANAGEMENT',
  'ENTERTAINMENT',
  'ENVIRONMENTAL_SERVICES',
  'FARMING',
  'FINANCIAL_SERVICES',
  'FOOD_BEVERAGES',
  'GOVERNMENT_ADMINISTRATION',
  'HIGHER_EDUCATION',
  'HOSPITALITY',
  'HOSPITAL_HEALTH_CARE',
  'INFORMATION_TECHNOLOGY_AND_SERVICES',
  'INSURANCE',
  'INTERNET',
  'LOGISTICS_AND_SUPPLY_CHAIN',
  'MACHINERY',
  'MANAGEMENT_CONSULTING',
  'MARITIME',
  'MARKETING_AND_ADVERTISING',
  'MECHANICAL_OR_INDUSTRIAL_ENGINEERING',
  'MEDIA_PRODUCTION',
  'NON_PROFIT_ORGANIZATION_MANAGEMENT',
  'OIL_ENERGY',
  'ONLINE_MEDIA',
  'REAL_ESTATE',
  'RECREATIONAL_FACILITIES_AND_SERVICES',
  'RETAIL',
  'TELECOMMUNICATIONS',
  'TRANSPORTATIONTRUCKINGRAILROAD',
  'UTILITIES',
  'WIRELESS',
];

function tandemContactProperties(): PropertyDefinition[] {
  const custom = { hubspotDefined: false };
  return [
    define('salesforce_lead_id', 'Salesforce Lead ID', 'string', 'text', custom),
    define('salesforce_contact_id', 'Salesforce Contact ID', 'string', 'text', custom),
    define('tandem_lifecycle_stage', 'Tandem lifecycle stage', 'enumeration', 'select', {
      ...custom,
      options: optionsOf(TANDEM_LIFECYCLE_STAGES),
    }),
    define('tandem_lead_score', 'Tandem lead score', 'number', 'number', custom),
    define('tandem_original_source', 'Tandem original source', 'string', 'text', custom),
    define('tandem_latest_source', 'Tandem latest source', 'string', 'text', custom),
    define('tandem_stage_reason', 'Tandem stage reason', 'string', 'text', custom),
  ];
}

function commonProperties(): PropertyDefinition[] {
  return [
    define('hs_object_id', 'Record ID', 'number', 'number', { readOnly: true }),
    define('createdate', 'Create Date', 'datetime', 'date', { readOnly: true }),
    define('hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date', { readOnly: true }),
    define('hubspot_owner_id', 'Owner', 'enumeration', 'select', { externalOptions: true }),
    define('description', 'Description', 'string', 'textarea'),
  ];
}

function companyProperties(): PropertyDefinition[] {
  return [
    ...commonProperties(),
    define('name', 'Company name', 'string', 'text'),
    define('domain', 'Company Domain Name', 'string', 'text'),
    define('website', 'Website URL', 'string', 'text'),
    define('industry', 'Industry', 'enumeration', 'select', { options: optionsOf(INDUSTRIES) }),
    define('numberofemployees', 'Number of Employees', 'number', 'number'),
    define('annualrevenue', 'Annual Revenue', 'number', 'number'),
    define('country', 'Country/Region', 'string', 'text'),
    define('state', 'State/Region', 'string', 'text'),
    define('city', 'City', 'string', 'text'),
    define('zip', 'Postal Code', 'string', 'text'),
    define('address', 'Street Address', 'string', 'text'),
    define('phone', 'Phone Number', 'string', 'phonenumber'),
    define('type', 'Type', 'enumeration', 'select', {
      options: optionsOf(['PROSPECT', 'PARTNER', 'RESELLER', 'VENDOR', 'OTHER']),
    }),
    define('lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', {
      options: optionsOf(LIFECYCLE_STAGES),
    }),
    define('hs_lead_status', 'Lead Status', 'enumeration', 'select', { options: optionsOf(LEAD_STATUSES) }),
    define('num_associated_contacts', 'Number of Associated Contacts', 'number', 'number', {
      readOnly: true,
      calculated: true,
    }),
    define('num_associated_deals', 'Number of Associated Deals', 'number', 'number', {
      readOnly: true,
      calculated: true,
    }),
    define('salesforce_account_id', 'Salesforce Account ID', 'string', 'text', { hubspotDefined: false }),
  ];
}

function dealProperties(): PropertyDefinition[] {
  return [
    ...commonProperties(),
    define('dealname', 'Deal Name', 'string', 'text'),
    define('amount', 'Amount', 'number', 'number'),
    define('dealstage', 'Deal Stage', 'enumeration', 'radio', {
      options: DEFAULT_DEAL_STAGES.map((s, i) => ({
        label: s.label,
        value: s.id,
        displayOrder: i,
        hidden: false,
      })),
    }),
    define('pipeline', 'Pipeline', 'enumeration', 'select', {
      options: [{ label: 'Sales Pipeline', value: 'default', displayOrder: 0, hidden: false }],
    }),
    define('closedate', 'Close Date', 'datetime', 'date'),
    define('dealtype', 'Deal Type', 'enumeration', 'radio', {
      options: optionsOf([
        ['newbusiness', 'New Business'],
        ['existingbusiness', 'Existing Business'],
      ]),
    }),
    define('closed_lost_reason', 'Closed Lost Reason', 'string', 'textarea'),
    define('closed_won_reason', 'Closed Won Reason', 'string', 'textarea'),
    define('hs_is_closed', 'Is Deal Closed?', 'bool', 'booleancheckbox', {
      readOnly: true,
      calculated: true,
    }),
    define('hs_is_closed_won', 'Is Closed Won', 'bool', 'booleancheckbox', {
      readOnly: true,
      calculated: true,
    }),
    define('hs_deal_stage_probability', 'Deal probability', 'number', 'number', {
      readOnly: true,
      calculated: true,
    }),
    define('num_associated_contacts', 'Number of Associated Contacts', 'number', 'number', {
      readOnly: true,
      calculated: true,
    }),
    define('salesforce_opportunity_id', 'Salesforce Opportunity ID', 'string', 'text', {
      hubspotDefined: false,
    }),
  ];
}

let contactDefinitionsCache: PropertyDefinition[] | undefined;

/** The 324 contact properties of a real portal (public HubSpot data), read once. */
function contactProperties(): PropertyDefinition[] {
  if (contactDefinitionsCache === undefined) {
    const url = new URL('./data/contact-properties.json', import.meta.url);
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { results: PropertyDefinition[] };
    contactDefinitionsCache = [...parsed.results, ...tandemContactProperties()];
  }
  return contactDefinitionsCache.map((d) => structuredClone(d));
}

function defaultDefinitions(type: HubSpotObjectType): PropertyDefinition[] {
  if (type === 'contacts') return contactProperties();
  if (type === 'companies') return companyProperties();
  return dealProperties();
}

const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;
const FIELD_TYPES_BY_TYPE: Record<PropertyDefinition['type'], readonly string[]> = {
  string: ['text', 'textarea', 'html', 'phonenumber', 'file'],
  number: ['number', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  enumeration: ['select', 'radio', 'checkbox', 'booleancheckbox'],
  bool: ['booleancheckbox'],
  phone_number: ['phonenumber'],
};

/** The property definitions of each object type: HubSpot's defaults plus custom ones. */
export class PropertySchema {
  private readonly byType = new Map<HubSpotObjectType, Map<string, PropertyDefinition>>();
  private readonly custom = new Map<HubSpotObjectType, Set<string>>();

  constructor() {
    this.reset();
  }

  reset(): void {
    this.byType.clear();
    for (const type of OBJECT_TYPES) this.custom.set(type, new Set());
  }

  list(type: HubSpotObjectType): PropertyDefinition[] {
    return [...this.definitions(type).values()];
  }

  get(type: HubSpotObjectType, name: string): PropertyDefinition | undefined {
    return this.definitions(type).get(name);
  }

  /** `POST /crm/v3/properties/{objectType}`: validates the body as HubSpot does and adds the property. */
  create(type: HubSpotObjectType, input: Record<string, unknown>, nowIso: string): PropertyDefinition {
    const name = typeof input['name'] === 'string' ? input['name'] : '';
    const problems: string[] = [];
    if (!PROPERTY_NAME.test(name)) problems.push(`name "${name}" must be lower-case letters, digits and _`);
    for (const field of ['label', 'type', 'fieldType', 'groupName']) {
      if (typeof input[field] !== 'string' || input[field] === '') problems.push(`${field} is required`);
    }
    const propertyType = input['type'] as PropertyDefinition['type'];
    const allowedFieldTypes = FIELD_TYPES_BY_TYPE[propertyType];
    if (typeof input['type'] === 'string' && allowedFieldTypes === undefined) {
      problems.push(
        `type "${String(input['type'])}" is not one of ${Object.keys(FIELD_TYPES_BY_TYPE).join(', ')}`,
      );
    } else if (allowedFieldTypes !== undefined && !allowedFieldTypes.includes(String(input['fieldType']))) {
      problems.push(`fieldType "${String(input['fieldType'])}" is not valid for type "${propertyType}"`);
    }
    const rawOptions = Array.isArray(input['options']) ? (input['options'] as Record<string, unknown>[]) : [];
    if (propertyType === 'enumeration' && rawOptions.length === 0 && input['externalOptions'] !== true) {
      problems.push('enumeration properties need at least one option');
    }
    if (problems.length > 0) throw validationError(`Invalid input JSON on line 1: ${problems.join('; ')}`);
    if (this.definitions(type).has(name)) {
      const error = conflict(`Property named '${name}' already exists.`);
      error.body.category = 'OBJECT_ALREADY_EXISTS';
      throw error;
    }
    const definition = define(name, String(input['label']), propertyType, String(input['fieldType']), {
      hubspotDefined: false,
      groupName: String(input['groupName']),
      description: typeof input['description'] === 'string' ? input['description'] : '',
      unique: input['hasUniqueValue'] === true,
      externalOptions: input['externalOptions'] === true,
      options: rawOptions.map((o, i) => ({
        label: String(o['label'] ?? o['value']),
        value: String(o['value'] ?? o['label']),
        displayOrder: typeof o['displayOrder'] === 'number' ? o['displayOrder'] : i,
        hidden: o['hidden'] === true,
      })),
    });
    definition.createdAt = nowIso;
    definition.updatedAt = nowIso;
    this.add(type, definition);
    return definition;
  }

  add(type: HubSpotObjectType, definition: PropertyDefinition): void {
    this.definitions(type).set(definition.name, definition);
    this.custom.get(type)?.add(definition.name);
  }

  /** Custom properties added since the last reset, in the World file's shape. */
  exportCustom(type: HubSpotObjectType): HubSpotPropertyDefinition[] {
    const names = [...(this.custom.get(type) ?? [])];
    return names.flatMap((name) => {
      const d = this.get(type, name);
      if (d === undefined) return [];
      return [
        {
          name: d.name,
          label: d.label,
          type: d.type,
          fieldType: d.fieldType,
          groupName: d.groupName,
          description: d.description,
          options: d.options.map((o) => ({
            label: o.label,
            value: o.value,
            displayOrder: o.displayOrder,
            hidden: o.hidden,
          })),
          hasUniqueValue: d.hasUniqueValue,
          calculated: d.calculated,
          readOnlyValue: d.modificationMetadata.readOnlyValue,
          hubspotDefined: d.hubspotDefined,
        },
      ];
    });
  }

  importCustom(type: HubSpotObjectType, w: HubSpotPropertyDefinition): void {
    this.add(
      type,
      define(w.name, w.label, w.type, w.fieldType, {
        hubspotDefined: w.hubspotDefined,
        groupName: w.groupName,
        description: w.description,
        options: w.options,
        unique: w.hasUniqueValue,
        calculated: w.calculated,
        readOnly: w.readOnlyValue,
      }),
    );
  }

  uniqueProperties(type: HubSpotObjectType): string[] {
    return this.list(type)
      .filter((d) => d.hasUniqueValue)
      .map((d) => d.name);
  }

  /** Loaded on first use, so a portal that never touches contacts never reads their 324 definitions. */
  private definitions(type: HubSpotObjectType): Map<string, PropertyDefinition> {
    let map = this.byType.get(type);
    if (map === undefined) {
      map = new Map(defaultDefinitions(type).map((d) => [d.name, d]));
      this.byType.set(type, map);
    }
    return map;
  }
}

export interface WriteOptions {
  /** Server-side writers (tracking, calculations) may set read-only values; API callers may not. */
  allowReadOnly?: boolean;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Parses the ways HubSpot accepts a date/datetime value (epoch ms, ISO-8601) into epoch ms. */
export function parseTimestamp(raw: string): number | undefined {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(DATE_ONLY.test(raw) ? `${raw}T00:00:00Z` : raw);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Checks and normalises property values the way HubSpot's CRM API does: every value becomes a string, ""
 * or null clears, dates and datetimes accept epoch ms or ISO and come back as ISO. Returns the
 * normalised values and every problem found (HubSpot reports them all at once).
 */
export function normalizePropertyWrite(
  schema: PropertySchema,
  type: HubSpotObjectType,
  input: Record<string, unknown>,
  options: WriteOptions = {},
): { values: Record<string, string>; problems: PropertyProblem[] } {
  const values: Record<string, string> = {};
  const problems: PropertyProblem[] = [];
  for (const [name, rawValue] of Object.entries(input)) {
    const definition = schema.get(type, name);
    if (definition === undefined) {
      problems.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (definition.modificationMetadata.readOnlyValue && options.allowReadOnly !== true) {
      problems.push({
        name,
        error: 'READ_ONLY_VALUE',
        message: `"${name}" is a read only property; its value cannot be set.`,
      });
      continue;
    }
    if (rawValue === null || rawValue === undefined || rawValue === '') {
      values[name] = '';
      continue;
    }
    if (typeof rawValue === 'object') {
      problems.push({
        name,
        error: 'INVALID_VALUE',
        message: `${JSON.stringify(rawValue)} is not a valid value`,
      });
      continue;
    }
    const value = String(rawValue);
    const result = normalizeValue(definition, type, value);
    if (typeof result === 'string') values[name] = result;
    else problems.push({ name, ...result });
  }
  return { values, problems };
}

function normalizeValue(
  definition: PropertyDefinition,
  type: HubSpotObjectType,
  value: string,
): string | { error: string; message: string } {
  if (definition.type !== 'string' && value !== value.trim()) {
    return {
      error: 'LEADING_TRAILING_WHITESPACE',
      message: `"${value}" includes leading or trailing whitespace.`,
    };
  }
  switch (definition.type) {
    case 'number':
      return NUMBER.test(value)
        ? value
        : { error: 'INVALID_DECIMAL', message: `${value} was not a valid number.` };
    case 'bool': {
      const lower = value.toLowerCase();
      return lower === 'true' || lower === 'false'
        ? lower
        : { error: 'INVALID_BOOLEAN', message: `${value} was not a valid boolean (expected true or false).` };
    }
    case 'date': {
      const ms = parseTimestamp(value);
      if (ms === undefined) return { error: 'INVALID_DATE', message: `${value} was not a valid date.` };
      if (ms % 86_400_000 !== 0) {
        return {
          error: 'INVALID_DATE',
          message: `${value} is at ${new Date(ms).toISOString().slice(11, 19)} UTC; date properties must be set to midnight UTC.`,
        };
      }
      return new Date(ms).toISOString().slice(0, 10);
    }
    case 'datetime': {
      const ms = parseTimestamp(value);
      return ms === undefined
        ? {
            error: 'INVALID_DATE',
            message: `${value} was not a valid datetime (epoch milliseconds or ISO-8601).`,
          }
        : new Date(ms).toISOString();
    }
    case 'enumeration': {
      // Options fed from elsewhere (owners, teams) arrive empty and are not checked; lifecyclestage is
      // externalOptions too but lists its options, and HubSpot does check those.
      if (definition.options.length === 0) return value;
      const allowed = new Set(definition.options.map((o) => o.value));
      const parts = definition.fieldType === 'checkbox' ? value.split(';') : [value];
      const bad = parts.find((p) => !allowed.has(p));
      if (bad === undefined) return value;
      return {
        error: 'INVALID_OPTION',
        message: `${bad} was not one of the allowed options: [${[...allowed].join(', ')}]`,
      };
    }
    default:
      if (type === 'contacts' && definition.name === 'email' && !EMAIL.test(value)) {
        return { error: 'INVALID_EMAIL', message: `Email address ${value} is invalid` };
      }
      return value;
  }
}
