import { z } from 'zod';
import { MappingSchema } from './schema.js';

export const MAPPING_SCHEMA_ID = 'https://tandem.local/schemas/mapping.schema.json';

/**
 * The JSON Schema of a mapping file, generated from the zod schema (the single source of truth) so editors
 * (yaml-language-server) autocomplete and flag mistakes as RevOps types. Draft-07: the draft editors
 * support best. It accepts the file as written (`io: 'input'`), defaults included as hints.
 */
export function mappingJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(MappingSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = nameDefinitions(generated);
  return {
    $schema,
    $id: MAPPING_SCHEMA_ID,
    title: 'Tandem mapping',
    description:
      'How Tandem keeps HubSpot and Salesforce in step: objects and fields, conflict rules, lifecycle stages, lead score and attribution. Generated from src/domain/mapping/schema.ts by `npm run mapping:schema`; do not edit by hand.',
    ...rest,
  };
}

/** The schema as committed in `mappings/mapping.schema.json`. */
export function mappingJsonSchemaText(): string {
  return `${JSON.stringify(mappingJsonSchema(), null, 2)}\n`;
}

/** zod names recursive definitions `__schema0`…; give the condition its own name for people reading it. */
function nameDefinitions(schema: Record<string, unknown>): Record<string, unknown> {
  const definitions = (schema.definitions ?? {}) as Record<string, { description?: string }>;
  let text = JSON.stringify(schema);
  for (const [id, definition] of Object.entries(definitions)) {
    if (id.startsWith('__schema') && definition.description?.startsWith('A condition') === true) {
      text = text
        .replaceAll(`"${id}"`, '"Condition"')
        .replaceAll(`/definitions/${id}"`, '/definitions/Condition"');
    }
  }
  return JSON.parse(text) as Record<string, unknown>;
}
