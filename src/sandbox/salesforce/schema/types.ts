/** The describe-level schema of a Salesforce object, kept as data so describe, validation and SOQL agree. */
export type SalesforceFieldType =
  | 'id'
  | 'string'
  | 'email'
  | 'phone'
  | 'picklist'
  | 'reference'
  | 'boolean'
  | 'double'
  | 'currency'
  | 'date'
  | 'datetime'
  | 'textarea'
  | 'url'
  | 'int'
  | 'percent';

export interface PicklistValue {
  value: string;
  label: string;
  active: boolean;
  defaultValue: boolean;
}

export interface SalesforceField {
  name: string;
  label: string;
  type: SalesforceFieldType;
  /** Characters for text types; 0 otherwise. */
  length: number;
  precision: number;
  scale: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  externalId: boolean;
  unique: boolean;
  custom: boolean;
  restrictedPicklist: boolean;
  picklistValues: PicklistValue[];
  referenceTo: string[];
  relationshipName: string | null;
  /** Value the server fills in on create when none is given. */
  defaultValue: string | number | boolean | null;
}

export interface SalesforceObjectSchema {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  /** Writable through the REST API (User is read-only in the sandbox). */
  writable: boolean;
  /** Fields a create must carry (beyond those with defaults), as REQUIRED_FIELD_MISSING names them. */
  requiredOnCreate: string[];
  fields: SalesforceField[];
}
