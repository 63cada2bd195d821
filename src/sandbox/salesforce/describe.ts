import type { SalesforceObjectInfo } from './schema/catalog.js';
import type { SalesforceField } from './schema/types.js';

const SOAP_TYPES: Record<SalesforceField['type'], string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  picklist: 'xsd:string',
  textarea: 'xsd:string',
  url: 'xsd:string',
  boolean: 'xsd:boolean',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

function objectUrls(info: SalesforceObjectInfo, version: string): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${info.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

function objectSummary(info: SalesforceObjectInfo, version: string): Record<string, unknown> {
  const { schema } = info;
  return {
    name: schema.name,
    label: schema.label,
    labelPlural: schema.labelPlural,
    keyPrefix: schema.keyPrefix,
    custom: false,
    createable: schema.writable,
    updateable: schema.writable,
    deletable: schema.writable,
    queryable: true,
    retrieveable: true,
    searchable: true,
    layoutable: true,
    replicateable: true,
    triggerable: true,
    urls: objectUrls(info, version),
  };
}

export function describeField(field: SalesforceField): Record<string, unknown> {
  return {
    name: field.name,
    label: field.label,
    type: field.type,
    soapType: SOAP_TYPES[field.type],
    length: field.length,
    byteLength: field.length * 3,
    precision: field.precision,
    scale: field.scale,
    digits: field.type === 'int' ? field.precision : 0,
    createable: field.createable,
    updateable: field.updateable,
    nillable: field.nillable,
    externalId: field.externalId,
    unique: field.unique,
    idLookup: field.name === 'Id' || field.externalId || field.type === 'email',
    custom: field.custom,
    calculated: false,
    defaultedOnCreate:
      field.defaultValue !== null || ['Id', 'OwnerId'].includes(field.name) || !field.createable,
    defaultValue: field.type === 'boolean' ? field.defaultValue : null,
    restrictedPicklist: field.restrictedPicklist,
    picklistValues: field.picklistValues.map((p) => ({ ...p, validFor: null })),
    referenceTo: field.referenceTo,
    relationshipName: field.relationshipName,
    filterable: field.type !== 'textarea' || field.length <= 255,
    sortable: field.type !== 'textarea' || field.length <= 255,
    groupable: field.type !== 'double' && field.type !== 'currency' && field.type !== 'percent',
    nameField: field.name === 'Name',
  };
}

/** `GET /sobjects/{T}/describe` */
export function describeObject(info: SalesforceObjectInfo, version: string): Record<string, unknown> {
  return {
    ...objectSummary(info, version),
    fields: info.schema.fields.map(describeField),
    childRelationships: [],
    recordTypeInfos: [],
  };
}

/** `GET /sobjects` */
export function describeGlobal(objects: SalesforceObjectInfo[], version: string): Record<string, unknown> {
  return {
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: objects.map((info) => objectSummary(info, version)),
  };
}

/** `GET /sobjects/{T}` */
export function objectBasicInfo(info: SalesforceObjectInfo, version: string): Record<string, unknown> {
  return { objectDescribe: objectSummary(info, version), recentItems: [] };
}
