import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { MAPPING_SCHEMA_ID, mappingJsonSchema } from '../../src/domain/mapping/json-schema.js';

const committed = JSON.parse(readFileSync('mappings/mapping.schema.json', 'utf8')) as Record<string, unknown>;
const defaultMapping = parse(readFileSync('mappings/default.yaml', 'utf8')) as Record<string, unknown>;

describe('mappings/mapping.schema.json', () => {
  it('is in step with the zod schema (regenerate with `npm run mapping:schema`)', () => {
    expect(committed).toEqual(mappingJsonSchema());
  });

  it('carries an id, a title and descriptions for editors', () => {
    expect(committed).toMatchObject({ $id: MAPPING_SCHEMA_ID, title: 'Tandem mapping' });
    expect(JSON.stringify(committed)).toContain('Who wins when the systems disagree');
  });

  const validate = new Ajv({ allErrors: true, strict: false }).compile(committed);

  it('accepts the default mapping', () => {
    expect(validate(defaultMapping)).toBe(true);
  });

  const withPerson = (change: (person: Record<string, unknown>) => void): Record<string, unknown> => {
    const copy = structuredClone(defaultMapping);
    change((copy.objects as Record<string, Record<string, unknown>>).person!);
    return copy;
  };
  const firstField = (person: Record<string, unknown>): Record<string, unknown> =>
    (person.fields as Array<Record<string, unknown>>)[0]!;

  it.each([
    ['a misspelt conflict rule', withPerson((p) => (firstField(p).conflict = 'newst')), '/conflict'],
    ['an unknown field key', withPerson((p) => (firstField(p).confict = 'newest')), 'additionalProperties'],
    ['a missing lifecycle', (({ lifecycle: _, ...rest }) => rest)(defaultMapping), 'lifecycle'],
    [
      'a misspelt stage in a condition',
      {
        ...defaultMapping,
        lifecycle: {
          definitions: {
            mql: { stage: { at_least: 'mqll' } },
            sal: { converted: true },
            sql: { converted: true },
          },
        },
      },
      'definitions',
    ],
    ['a number where a list goes', withPerson((p) => (p.fields = 3)), '/fields'],
  ])('rejects %s', (_, mapping, fragment) => {
    expect(validate(mapping)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain(fragment);
  });
});
