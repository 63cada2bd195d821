import { SALESFORCE_OBJECTS } from './objects.js';
import type { SalesforceField, SalesforceObjectSchema } from './types.js';

/** Case-insensitive lookups over the object schemas, as Salesforce resolves API names. */
export class SalesforceObjectInfo {
  private readonly fieldsByName = new Map<string, SalesforceField>();
  private readonly relationships = new Map<string, SalesforceField>();

  constructor(readonly schema: SalesforceObjectSchema) {
    for (const f of schema.fields) {
      this.fieldsByName.set(f.name.toLowerCase(), f);
      if (f.relationshipName !== null) this.relationships.set(f.relationshipName.toLowerCase(), f);
    }
  }

  get name(): string {
    return this.schema.name;
  }

  field(name: string): SalesforceField | undefined {
    return this.fieldsByName.get(name.toLowerCase());
  }

  /** The reference field behind a relationship name (`Account` → `AccountId`). */
  relationship(name: string): SalesforceField | undefined {
    return this.relationships.get(name.toLowerCase());
  }
}

export class SalesforceCatalog {
  private readonly byName = new Map<string, SalesforceObjectInfo>();
  private readonly byPrefix = new Map<string, SalesforceObjectInfo>();

  constructor(objects: readonly SalesforceObjectSchema[] = SALESFORCE_OBJECTS) {
    for (const schema of objects) {
      const info = new SalesforceObjectInfo(schema);
      this.byName.set(schema.name.toLowerCase(), info);
      this.byPrefix.set(schema.keyPrefix, info);
    }
  }

  object(name: string): SalesforceObjectInfo | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** The object an id belongs to, by its 3-character key prefix. */
  objectForId(id: string): SalesforceObjectInfo | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }

  all(): SalesforceObjectInfo[] {
    return [...this.byName.values()];
  }
}
