import { asList } from '../values/value-map.js';
import type { FieldMapping, Mapping, SalesforceFieldRef, ValueType } from './schema.js';
import { LIFECYCLE_STAGES } from './schema.js';
import { ProblemList, salesforceNameOn, writebackTargets } from './check.js';
import type { MappingProblem, Severity } from './problem.js';
import { sortProblems } from './problem.js';
import { sourceOf } from './source-map.js';
import type { MappingPath, MappingSource } from './source-map.js';
import { closest } from './suggest.js';

/**
 * Validation of a mapping against the live schemas of the two systems (HubSpot properties, Salesforce
 * describe), collecting every problem like cal.com's validate-field-mappings: names exist (exact case),
 * targets are writable, types fit, picklist values are covered both ways, writeback and cross-reference
 * fields exist, and every field Salesforce needs to create a record is mapped.
 */

/** What Tandem needs of a HubSpot property definition (`GET /crm/v3/properties/{objectType}`). */
export interface HubSpotPropertySummary {
  name: string;
  /** string | number | date | datetime | enumeration | bool */
  type: string;
  /** text, textarea, select, radio, checkbox, booleancheckbox, number, date, phonenumber, calculation_… */
  fieldType: string;
  /** Option values of an enumeration. */
  options: string[];
  readOnlyValue: boolean;
  calculated: boolean;
}

/** What Tandem needs of a Salesforce field describe (`GET /sobjects/{T}/describe`). */
export interface SalesforceFieldSummary {
  name: string;
  /** string, textarea, email, phone, url, picklist, multipicklist, boolean, int, double, currency, date, … */
  type: string;
  updateable: boolean;
  createable: boolean;
  nillable: boolean;
  defaultedOnCreate: boolean;
  length?: number;
  /** Active picklist values only. */
  picklistValues: string[];
  restrictedPicklist: boolean;
  externalId: boolean;
}

export const HUBSPOT_OBJECTS = ['contacts', 'companies', 'deals'] as const;
export const SALESFORCE_OBJECTS = ['Lead', 'Contact', 'Account', 'Opportunity'] as const;
export type HubSpotObject = (typeof HUBSPOT_OBJECTS)[number];
export type SalesforceObject = (typeof SALESFORCE_OBJECTS)[number];

export interface LiveSchema {
  hubspot: Record<HubSpotObject, HubSpotPropertySummary[]>;
  salesforce: Record<SalesforceObject, SalesforceFieldSummary[]>;
}

type Kind = 'person' | 'company' | 'deal';
type LiveKind = 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'enum' | 'multi_enum';

const HUBSPOT_OBJECT_OF: Record<Kind, HubSpotObject> = {
  person: 'contacts',
  company: 'companies',
  deal: 'deals',
};

function salesforceObjectsOf(mapping: Mapping, kind: Kind): SalesforceObject[] {
  if (kind === 'person') return [...mapping.objects.person.salesforce.objects];
  return [kind === 'company' ? 'Account' : 'Opportunity'];
}

function hubspotKind(p: HubSpotPropertySummary): LiveKind {
  switch (p.type) {
    case 'number':
      return 'number';
    case 'bool':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'enumeration':
      return p.fieldType === 'checkbox'
        ? 'multi_enum'
        : p.fieldType === 'booleancheckbox'
          ? 'boolean'
          : 'enum';
    default:
      return 'text';
  }
}

function salesforceKind(f: SalesforceFieldSummary): LiveKind {
  switch (f.type) {
    case 'picklist':
    case 'combobox':
      return 'enum';
    case 'multipicklist':
      return 'multi_enum';
    case 'boolean':
      return 'boolean';
    case 'int':
    case 'double':
    case 'currency':
    case 'percent':
    case 'long':
      return 'number';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    default:
      return 'text';
  }
}

/** How a unified type fits a live kind: ok, a warning (works, loses something), or an error. */
const FIT: Record<ValueType, Partial<Record<LiveKind, Severity | 'ok'>>> = {
  string: { text: 'ok', enum: 'warning', multi_enum: 'warning' },
  email: { text: 'ok' },
  phone: { text: 'ok' },
  number: { number: 'ok', text: 'warning' },
  integer: { number: 'ok', text: 'warning' },
  boolean: { boolean: 'ok', text: 'warning', enum: 'warning' },
  date: { date: 'ok', datetime: 'warning', text: 'warning' },
  datetime: { datetime: 'ok', date: 'warning', text: 'warning' },
  enum: { enum: 'ok', text: 'ok', multi_enum: 'warning', boolean: 'warning' },
  multi_enum: { multi_enum: 'ok', text: 'ok', enum: 'warning' },
};

const KIND_NAMES: Record<LiveKind, string> = {
  text: 'a text field',
  number: 'a number field',
  boolean: 'a checkbox (boolean)',
  date: 'a date field',
  datetime: 'a date-time field',
  enum: 'a picklist',
  multi_enum: 'a multi-select picklist',
};

const writesHubSpot = (f: FieldMapping): boolean => f.direction === 'both' || f.direction === 'to_hubspot';
const writesSalesforce = (f: FieldMapping): boolean =>
  f.direction === 'both' || f.direction === 'to_salesforce';
/** The sides whose values are read and translated: the source of each direction (both for `none`). */
const readsHubSpot = (f: FieldMapping): boolean => f.direction !== 'to_hubspot';
const readsSalesforce = (f: FieldMapping): boolean => f.direction !== 'to_salesforce';

interface Target<T> {
  found?: T;
  /** Message and hint when it was not found. */
  missing?: { message: string; hint?: string };
}

function find<T extends { name: string }>(list: readonly T[], name: string, where: string): Target<T> {
  const exact = list.find((x) => x.name === name);
  if (exact !== undefined) return { found: exact };
  const sameCase = list.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (sameCase !== undefined) {
    return {
      missing: {
        message: `${where} has no field "${name}"; it is spelt "${sameCase.name}"`,
        hint: `API names are case-sensitive: write "${sameCase.name}"`,
      },
    };
  }
  const near = closest(
    name,
    list.map((x) => x.name),
  );
  return {
    missing: {
      message: `${where} has no field "${name}"`,
      ...(near === undefined ? {} : { hint: `did you mean "${near}"?` }),
    },
  };
}

export function validateAgainstLiveSchema(
  mapping: Mapping,
  live: LiveSchema,
  source: MappingSource | undefined = sourceOf(mapping),
): MappingProblem[] {
  const report = new ProblemList(source);
  const kinds: Kind[] = ['person', 'company', 'deal'];
  for (const kind of kinds) {
    const object = mapping.objects[kind];
    if (object === undefined) continue;
    object.fields.forEach((field, i) =>
      checkField(mapping, live, kind, field, ['objects', kind, 'fields', i], report),
    );
    checkCrossReferences(mapping, live, kind, report);
    checkRequiredForCreate(mapping, live, kind, report);
  }
  checkDealStages(mapping, live, report);
  checkWritebacks(mapping, live, report);
  checkTouchpoints(mapping, live, report);
  return sortProblems(report.problems);
}

function checkField(
  mapping: Mapping,
  live: LiveSchema,
  kind: Kind,
  field: FieldMapping,
  at: MappingPath,
  report: ProblemList,
): void {
  const dealStage = kind === 'deal' && (field.hubspot === 'dealstage' || field.salesforce === 'StageName');
  if (field.hubspot !== undefined) {
    const hubspotObject = HUBSPOT_OBJECT_OF[kind];
    const path = [...at, 'hubspot'];
    const target = find(live.hubspot[hubspotObject], field.hubspot, `HubSpot ${hubspotObject}`);
    if (target.missing !== undefined) report.add(path, target.missing.message, { hint: target.missing.hint });
    const property = target.found;
    if (property !== undefined) {
      if (writesHubSpot(field) && (property.readOnlyValue || property.calculated)) {
        report.add(
          path,
          `HubSpot ${hubspotObject}.${property.name} is ${property.calculated ? 'calculated' : 'read-only'}, but direction "${field.direction}" writes to it`,
          {
            hint: 'set direction to to_salesforce or none',
          },
        );
      }
      checkType(field, hubspotKind(property), `HubSpot ${hubspotObject}.${property.name}`, path, report);
      if (!dealStage && hubspotKind(property) !== 'text' && property.options.length > 0) {
        checkValues(
          field,
          'hubspot',
          property.options,
          true,
          `HubSpot ${hubspotObject}.${property.name}`,
          at,
          report,
        );
      }
    }
  }
  for (const sfObject of salesforceObjectsOf(mapping, kind)) {
    const name = salesforceNameOn(field.salesforce, sfObject);
    if (name === undefined) continue;
    const path =
      typeof field.salesforce === 'object' ? [...at, 'salesforce', sfObject] : [...at, 'salesforce'];
    const target = find(live.salesforce[sfObject], name, `Salesforce ${sfObject}`);
    if (target.missing !== undefined) report.add(path, target.missing.message, { hint: target.missing.hint });
    const sf = target.found;
    if (sf === undefined) continue;
    if (writesSalesforce(field) && !sf.updateable) {
      if (!sf.createable) {
        report.add(
          path,
          `Salesforce ${sfObject}.${sf.name} is read-only, but direction "${field.direction}" writes to it`,
          {
            hint: 'set direction to to_hubspot or none',
          },
        );
      } else {
        report.add(
          path,
          `Salesforce ${sfObject}.${sf.name} can be set on create only; later changes will not be written`,
          {
            severity: 'warning',
          },
        );
      }
    }
    checkType(field, salesforceKind(sf), `Salesforce ${sfObject}.${sf.name}`, path, report);
    if (!dealStage && (salesforceKind(sf) === 'enum' || salesforceKind(sf) === 'multi_enum')) {
      checkValues(
        field,
        'salesforce',
        sf.picklistValues,
        sf.restrictedPicklist,
        `Salesforce ${sfObject}.${sf.name}`,
        at,
        report,
      );
    }
  }
}

function checkType(
  field: FieldMapping,
  kind: LiveKind,
  where: string,
  path: MappingPath,
  report: ProblemList,
): void {
  const fit = FIT[field.type][kind] ?? 'error';
  if (fit === 'ok') return;
  const hint =
    (field.type === 'string' || field.type === 'boolean') && (kind === 'enum' || kind === 'multi_enum')
      ? 'give the field type enum and a values map'
      : `give the field the type that fits ${where}`;
  report.add(path, `${where} is ${KIND_NAMES[kind]}, but the field's type is ${field.type}`, {
    hint,
    severity: fit,
  });
}

/**
 * Picklist coverage both ways: every live value the field reads has an entry in the value map, and every
 * value the map writes exists in the target (an error when the target rejects unknown values).
 */
function checkValues(
  field: FieldMapping,
  system: 'hubspot' | 'salesforce',
  options: readonly string[],
  restricted: boolean,
  where: string,
  at: MappingPath,
  report: ProblemList,
): void {
  const writes = system === 'hubspot' ? writesHubSpot(field) : writesSalesforce(field);
  const reads = system === 'hubspot' ? readsHubSpot(field) : readsSalesforce(field);
  if (field.values === undefined) {
    if (field.type === 'enum' || field.type === 'multi_enum') {
      report.add(at, `${where} is a picklist but the field has no values map; values are copied unchanged`, {
        severity: 'warning',
        hint: 'add a values map so each side gets its own value',
      });
    }
    return;
  }
  const optionSet = new Set(options);
  const listed = new Set<string>();
  for (const [unified, entry] of Object.entries(field.values)) {
    const values = asList(entry[system]);
    values.forEach((value, i) => {
      listed.add(value);
      if (optionSet.has(value)) return;
      const path = Array.isArray(entry[system])
        ? [...at, 'values', unified, system, i]
        : [...at, 'values', unified, system];
      const near = closest(value, options);
      const hint =
        near === undefined ? `${where} has: ${options.slice(0, 12).join(', ')}` : `did you mean "${near}"?`;
      if (i === 0 && writes) {
        report.add(path, `"${value}" (written for ${unified}) is not a value of ${where}`, {
          hint,
          severity: restricted ? 'error' : 'warning',
        });
      } else {
        report.add(path, `"${value}" is not a value of ${where}; it will never be read`, {
          hint,
          severity: 'warning',
        });
      }
    });
  }
  if (!reads) return;
  const uncovered = options.filter((o) => !listed.has(o));
  if (uncovered.length > 0) {
    // With `on_unmapped_value: error` every record holding one of them would fail, so the file is wrong;
    // `skip_field` is RevOps saying they accept it, which stays a warning.
    const fails = field.on_unmapped_value === 'error';
    report.add(
      [...at, 'values'],
      `${where} values with no entry in the values map: ${uncovered.map((v) => `"${v}"`).join(', ')} (${fails ? 'records with them fail' : 'the field is skipped for them'})`,
      {
        severity: fails ? 'error' : 'warning',
        hint: fails
          ? 'add them under a unified value, or set on_unmapped_value: skip_field to leave the field alone for them'
          : 'add them under a unified value, or accept that the field is skipped for these records',
      },
    );
  }
}

function checkCrossReferences(mapping: Mapping, live: LiveSchema, kind: Kind, report: ProblemList): void {
  const object = mapping.objects[kind];
  if (object === undefined) return;
  const base: MappingPath = ['objects', kind, 'identity'];
  const { cross_reference: xref, secondary_emails: secondary } = object.identity;
  const hubspotObject = HUBSPOT_OBJECT_OF[kind];
  const hubspotNames: Array<[string, string | undefined]> = [
    ['hubspot_property_for_lead_id', xref.hubspot_property_for_lead_id],
    ['hubspot_property_for_contact_id', xref.hubspot_property_for_contact_id],
    ['hubspot_property_for_account_id', xref.hubspot_property_for_account_id],
    ['hubspot_property_for_opportunity_id', xref.hubspot_property_for_opportunity_id],
  ];
  for (const [key, name] of hubspotNames) {
    if (name !== undefined)
      hubspotTarget(live, hubspotObject, name, [...base, 'cross_reference', key], true, report);
  }
  if (secondary.hubspot !== undefined) {
    hubspotTarget(
      live,
      hubspotObject,
      secondary.hubspot,
      [...base, 'secondary_emails', 'hubspot'],
      false,
      report,
    );
  }
  for (const sfObject of salesforceObjectsOf(mapping, kind)) {
    if (xref.salesforce_field_for_hubspot_id !== undefined) {
      salesforceTarget(
        live,
        sfObject,
        xref.salesforce_field_for_hubspot_id,
        [...base, 'cross_reference', 'salesforce_field_for_hubspot_id'],
        true,
        report,
      );
    }
  }
  (secondary.salesforce ?? []).forEach((name, i) => {
    const objects = salesforceObjectsOf(mapping, kind);
    if (!objects.some((o) => live.salesforce[o].some((f) => f.name === name))) {
      salesforceTarget(
        live,
        objects[0] ?? 'Lead',
        name,
        [...base, 'secondary_emails', 'salesforce', i],
        false,
        report,
      );
    }
  });
}

function hubspotTarget(
  live: LiveSchema,
  object: HubSpotObject,
  name: string,
  path: MappingPath,
  written: boolean,
  report: ProblemList,
): HubSpotPropertySummary | undefined {
  const target = find(live.hubspot[object], name, `HubSpot ${object}`);
  if (target.missing !== undefined) {
    report.add(path, target.missing.message, {
      hint: target.missing.hint ?? (written ? `create the custom property "${name}" in HubSpot` : undefined),
    });
  }
  const property = target.found;
  if (property !== undefined && written && (property.readOnlyValue || property.calculated)) {
    report.add(
      path,
      `HubSpot ${object}.${name} is ${property.calculated ? 'calculated' : 'read-only'}, but Tandem writes it`,
      {
        hint: 'use a custom property Tandem may write',
      },
    );
  }
  return property;
}

function salesforceTarget(
  live: LiveSchema,
  object: SalesforceObject,
  name: string,
  path: MappingPath,
  written: boolean,
  report: ProblemList,
): SalesforceFieldSummary | undefined {
  const target = find(live.salesforce[object], name, `Salesforce ${object}`);
  if (target.missing !== undefined) {
    report.add(path, target.missing.message, {
      hint: target.missing.hint ?? (written ? `create the custom field ${object}.${name}` : undefined),
    });
  }
  const field = target.found;
  if (field !== undefined && written && !field.updateable) {
    report.add(path, `Salesforce ${object}.${name} is not updateable, but Tandem writes it`, {
      hint: "check the field's field-level security for the integration user",
    });
  }
  return field;
}

function checkWritebacks(mapping: Mapping, live: LiveSchema, report: ProblemList): void {
  const stages: string[] = [...LIFECYCLE_STAGES, 'disqualified'];
  const sources = Object.keys(mapping.attribution.sources);
  const personObjects = salesforceObjectsOf(mapping, 'person');
  for (const target of writebackTargets(mapping)) {
    const key =
      target.path.find((s): s is string => typeof s === 'string' && /stage|source|score|reason/.test(s)) ??
      '';
    const wanted =
      target.path[0] === 'lifecycle' && !/reason/.test(key)
        ? stages
        : target.path[0] === 'attribution'
          ? sources
          : [];
    if (target.system === 'hubspot') {
      const property = hubspotTarget(live, 'contacts', target.name, target.path, true, report);
      if (property === undefined) continue;
      if (target.name === 'lifecyclestage') {
        const map = mapping.lifecycle.writeback.hubspot_lifecyclestage ?? {};
        for (const [stage, value] of Object.entries(map)) {
          if (value !== undefined && !property.options.includes(value)) {
            report.add([...target.path, stage], `"${value}" is not a HubSpot lifecyclestage value`, {
              hint: didYouMeanOr(value, property.options),
            });
          }
        }
      } else if (hubspotKind(property) === 'enum') {
        missingOptions(
          wanted,
          property.options,
          true,
          `HubSpot contacts.${property.name}`,
          target.path,
          report,
        );
      }
      if (target.path[0] === 'score' && hubspotKind(property) !== 'number') {
        report.add(
          target.path,
          `HubSpot contacts.${property.name} is ${KIND_NAMES[hubspotKind(property)]}; the score is a number`,
          {
            severity: 'warning',
          },
        );
      }
    } else {
      const objects =
        target.object === undefined ? personObjects : personObjects.filter((o) => o === target.object);
      for (const object of objects) {
        const field = salesforceTarget(live, object, target.name, target.path, true, report);
        if (field === undefined) continue;
        if (salesforceKind(field) === 'enum') {
          missingOptions(
            wanted,
            field.picklistValues,
            field.restrictedPicklist,
            `Salesforce ${object}.${field.name}`,
            target.path,
            report,
          );
        }
        if (target.path[0] === 'score' && salesforceKind(field) !== 'number') {
          report.add(
            target.path,
            `Salesforce ${object}.${field.name} is ${KIND_NAMES[salesforceKind(field)]}; the score is a number`,
            {
              severity: 'warning',
            },
          );
        }
      }
    }
  }
}

function didYouMeanOr(value: string, options: readonly string[]): string {
  const near = closest(value, options);
  return near === undefined ? `it has: ${options.join(', ')}` : `did you mean "${near}"?`;
}

function missingOptions(
  wanted: readonly string[],
  options: readonly string[],
  restricted: boolean,
  where: string,
  path: MappingPath,
  report: ProblemList,
): void {
  const missing = wanted.filter((w) => !options.includes(w));
  if (missing.length === 0) return;
  report.add(
    path,
    `${where} is a picklist without the values Tandem writes: ${missing.map((v) => `"${v}"`).join(', ')}`,
    {
      severity: restricted ? 'error' : 'warning',
      hint: `add them to the picklist${restricted ? ' (it is restricted: writes would be rejected)' : ''}`,
    },
  );
}

function checkDealStages(mapping: Mapping, live: LiveSchema, report: ProblemList): void {
  const deal = mapping.objects.deal;
  if (deal === undefined) return;
  const stageName = live.salesforce.Opportunity.find((f) => f.name === 'StageName');
  const dealstage = live.hubspot.deals.find((p) => p.name === 'dealstage');
  deal.pipelines.forEach((pipeline, p) => {
    pipeline.stages.forEach((stage, s) => {
      const at: MappingPath = ['objects', 'deal', 'pipelines', p, 'stages', s];
      for (const value of asList(stage.salesforce)) {
        if (stageName !== undefined && !stageName.picklistValues.includes(value)) {
          report.add([...at, 'salesforce'], `"${value}" is not an active Opportunity StageName`, {
            hint: didYouMeanOr(value, stageName.picklistValues),
          });
        }
      }
      // HubSpot's dealstage options hold every pipeline's stage ids.
      if (
        dealstage !== undefined &&
        dealstage.options.length > 0 &&
        !dealstage.options.includes(stage.hubspot)
      ) {
        report.add([...at, 'hubspot'], `"${stage.hubspot}" is not a HubSpot deal stage`, {
          hint: didYouMeanOr(stage.hubspot, dealstage.options),
        });
      }
    });
  });
  if (stageName !== undefined) {
    const mapped = new Set(deal.pipelines.flatMap((pl) => pl.stages.flatMap((st) => asList(st.salesforce))));
    const uncovered = stageName.picklistValues.filter((v) => !mapped.has(v));
    if (uncovered.length > 0) {
      report.add(
        ['objects', 'deal', 'pipelines'],
        `Opportunity stages with no HubSpot stage: ${uncovered.map((v) => `"${v}"`).join(', ')}`,
        {
          severity: 'warning',
          hint: 'opportunities in these stages cannot be written to HubSpot',
        },
      );
    }
  }
}

function checkTouchpoints(mapping: Mapping, live: LiveSchema, report: ProblemList): void {
  const touchpoints = mapping.attribution.touchpoints;
  const base: MappingPath = ['attribution', 'touchpoints'];
  for (const key of [
    'hubspot_original_source',
    'hubspot_original_source_detail',
    'hubspot_latest_source',
    'hubspot_latest_source_timestamp',
  ] as const) {
    hubspotTarget(live, 'contacts', touchpoints[key], [...base, key], false, report);
  }
  if (mapping.objects.person.salesforce.objects.includes('Lead')) {
    salesforceTarget(
      live,
      'Lead',
      touchpoints.salesforce_lead_source,
      [...base, 'salesforce_lead_source'],
      false,
      report,
    );
  }
}

/** Salesforce fields that must have a value to create a record: not nillable, createable, no default. */
export function requiredForCreate(fields: readonly SalesforceFieldSummary[]): SalesforceFieldSummary[] {
  return fields.filter((f) => f.createable && !f.nillable && !f.defaultedOnCreate && f.type !== 'boolean');
}

/** HubSpot needs these to create a record through the API (deals need a name and a stage). */
const HUBSPOT_REQUIRED_ON_CREATE: Record<HubSpotObject, string[]> = {
  contacts: [],
  companies: [],
  deals: ['dealname', 'dealstage'],
};

function checkRequiredForCreate(mapping: Mapping, live: LiveSchema, kind: Kind, report: ProblemList): void {
  const object = mapping.objects[kind];
  if (object === undefined) return;
  const create = object.create;
  const createPath: MappingPath = ['objects', kind, 'create'];
  if (create.in_salesforce !== false) {
    const sfObject: SalesforceObject =
      kind === 'person'
        ? create.in_salesforce === 'Contact'
          ? 'Contact'
          : 'Lead'
        : salesforceObjectsOf(mapping, kind)[0]!;
    for (const required of requiredForCreate(live.salesforce[sfObject])) {
      const index = object.fields.findIndex(
        (f) => salesforceNameOn(f.salesforce as SalesforceFieldRef | undefined, sfObject) === required.name,
      );
      const field = object.fields[index];
      if (
        field === undefined ||
        (!writesSalesforce(field) && field.default_on_create?.salesforce === undefined)
      ) {
        report.add(
          [...createPath, 'in_salesforce'],
          `creating a Salesforce ${sfObject} needs ${required.name}, but no field writes it`,
          {
            hint: `map a field to ${sfObject}.${required.name} with direction both or to_salesforce (and a default_on_create)`,
          },
        );
      } else if (
        !field.required_on_create.includes('salesforce') &&
        field.default_on_create?.salesforce === undefined
      ) {
        report.add(
          ['objects', kind, 'fields', index],
          `${sfObject}.${required.name} is required to create a ${sfObject}; "${field.name}" has neither required_on_create nor a default`,
          {
            severity: 'warning',
            hint: 'add `required_on_create: [salesforce]` or `default_on_create: { salesforce: … }`',
          },
        );
      }
    }
  }
  if (create.in_hubspot) {
    const hubspotObject = HUBSPOT_OBJECT_OF[kind];
    for (const name of HUBSPOT_REQUIRED_ON_CREATE[hubspotObject]) {
      const field = object.fields.find((f) => f.hubspot === name);
      if (field === undefined || !writesHubSpot(field)) {
        report.add(
          [...createPath, 'in_hubspot'],
          `creating a HubSpot ${hubspotObject} record needs ${name}, but no field writes it`,
          {
            hint: `map a field to ${name} with direction both or to_hubspot`,
          },
        );
      }
    }
  }
}
