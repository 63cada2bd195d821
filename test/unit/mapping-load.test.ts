import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseMapping, parseMappingSource } from '../../src/domain/mapping/load.js';
import { MappingError, formatProblem } from '../../src/domain/mapping/problem.js';
import { validateMapping } from '../../src/domain/mapping/check.js';

const fixture = (name: string): string => readFileSync(`test/fixtures/mappings/${name}`, 'utf8');
const minimal = fixture('minimal.yaml');

/** Edits `minimal.yaml` (17 lines; line 6 is `- name: email`, line 12 `mql:`, 13 `sal:`, 14 `sql:`). */
function edit(from: string, to: string): string {
  if (!minimal.includes(from)) throw new Error(`fixture has no ${JSON.stringify(from)}`);
  return minimal.replace(from, to);
}

describe('parseMapping: valid files', () => {
  it.each([
    ['the default mapping', readFileSync('mappings/default.yaml', 'utf8')],
    ['a copy of it as a fixture', fixture('full.yaml')],
    ['a minimal mapping', minimal],
    ['a version given as text', edit('version: 1', "version: '2024.1'")],
  ])('%s parses with no problems', (_, text) => {
    const result = validateMapping(text, 'm.yaml');
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.mapping?.objects.person.fields.length).toBeGreaterThan(0);
  });

  it('applies defaults the engine relies on', () => {
    const mapping = parseMapping(minimal, 'm.yaml');
    expect(mapping.version).toBe('1');
    expect(mapping.objects.person.fields[0]).toMatchObject({
      direction: 'both',
      conflict: 'newest',
      transforms: [],
    });
    expect(mapping.lifecycle.definitions.customer).toEqual({ has_won_deal: true });
  });
});

interface InvalidCase {
  name: string;
  text: string;
  line: number;
  column: number;
  path: string;
  message: string;
  hint?: string;
}

const invalid: InvalidCase[] = [
  {
    name: 'misspelt value type',
    text: edit('type: email', 'type: emial'),
    line: 7,
    column: 15,
    path: 'objects.person.fields[0].type',
    message: '"emial" is not a value type',
    hint: 'did you mean "email"?',
  },
  {
    name: 'misspelt conflict rule',
    text: edit('        hubspot: email\n', '        hubspot: email\n        conflict: newst\n'),
    line: 9,
    column: 19,
    path: 'objects.person.fields[0].conflict',
    message: '"newst" is not a conflict rule (expected one of hubspot, salesforce, newest',
    hint: 'did you mean "newest"?',
  },
  {
    name: 'misspelt key',
    text: edit('hubspot: email', 'hubspott: email'),
    line: 8,
    column: 9,
    path: 'objects.person.fields[0].hubspott',
    message: 'unknown key "hubspott"',
    hint: 'did you mean "hubspot"?',
  },
  {
    name: 'unknown condition key',
    text: edit('mql: { score:', 'mql: { scor:'),
    line: 12,
    column: 12,
    path: 'lifecycle.definitions.mql.scor',
    message: 'unknown key "scor" (expected one of all, any, converted,',
    hint: 'did you mean "score"?',
  },
  {
    name: 'text where a number goes',
    text: edit('gte: 50', 'gte: fifty'),
    line: 12,
    column: 26,
    path: 'lifecycle.definitions.mql.score.gte',
    message: 'expected a number, got "fifty"',
  },
  {
    name: 'field condition without operator',
    text: edit('{ field: email, is_blank: false }', '{ field: email }'),
    line: 13,
    column: 10,
    path: 'lifecycle.definitions.sal',
    message: 'a field condition needs an operator',
  },
  {
    name: 'misspelt operator',
    text: edit('is_blank: false', 'is_blnk: false'),
    line: 13,
    column: 26,
    path: 'lifecycle.definitions.sal.is_blnk',
    message: 'unknown key "is_blnk"',
    hint: 'did you mean "is_blank"?',
  },
  {
    name: 'empty all',
    text: edit('{ field: email, is_blank: false }', '{ all: [] }'),
    line: 13,
    column: 17,
    path: 'lifecycle.definitions.sal.all',
    message: 'needs at least 1 item',
  },
  {
    name: 'nested boolean',
    text: edit('{ field: email, is_blank: false }', '{ any: [{ converted: yes }] }'),
    line: 13,
    column: 31,
    path: 'lifecycle.definitions.sal.any[0].converted',
    message: 'expected true or false, got "yes"',
  },
  {
    name: 'misspelt stage',
    text: edit('{ field: email, is_blank: false }', '{ stage: { at_least: mqll } }'),
    line: 13,
    column: 31,
    path: 'lifecycle.definitions.sal.stage.at_least',
    message: '"mqll" is not a lifecycle stage',
    hint: 'did you mean "mql"?',
  },
  {
    name: 'condition as plain text',
    text: edit('{ field: email, is_blank: false }', 'just words'),
    line: 13,
    column: 10,
    path: 'lifecycle.definitions.sal',
    message: 'expected a mapping (key: value), got "just words"',
  },
  {
    name: 'deep in not',
    text: edit('mql: { score: { gte: 50 } }', 'mql: { not: { fied: email, eq: x } }'),
    line: 12,
    column: 19,
    path: 'lifecycle.definitions.mql.not.fied',
    message: 'unknown key "fied"',
    hint: 'did you mean "field"?',
  },
  {
    name: 'missing stage definition',
    text: edit('    sql: { converted: true }\n', ''),
    line: 11,
    column: 3,
    path: 'lifecycle.definitions.sql',
    message: '"sql" is missing',
  },
  {
    name: 'missing version',
    text: edit('version: 1\n', ''),
    line: 1,
    column: 1,
    path: 'version',
    message: '"version" is missing',
  },
  {
    name: 'list as version',
    text: edit('version: 1', 'version: [1]'),
    line: 1,
    column: 10,
    path: 'version',
    message: 'expected text or a number, got a list',
  },
  {
    name: 'misspelt transform',
    text: edit('        type: email\n', '        type: email\n        transforms: [trimm]\n'),
    line: 8,
    column: 22,
    path: 'objects.person.fields[0].transforms[0]',
    message: '"trimm" is not a transform',
    hint: 'did you mean "trim"?',
  },
  {
    name: 'bad transform argument',
    text: edit(
      '        type: email\n',
      '        type: email\n        transforms: [{ e164: { default_country: USA } }]\n',
    ),
    line: 8,
    column: 49,
    path: 'objects.person.fields[0].transforms[0].e164.default_country',
    message: 'must have exactly 2 characters, got "USA"',
  },
  {
    name: 'misspelt Salesforce object',
    text: edit('salesforce: Email', 'salesforce: { Lead: Email, Contatc: Email }'),
    line: 9,
    column: 36,
    path: 'objects.person.fields[0].salesforce.Contatc',
    message: 'unknown key "Contatc"',
    hint: 'did you mean "Contact"?',
  },
  {
    name: 'upper-case unified name',
    text: edit('- name: email', '- name: Email'),
    line: 6,
    column: 15,
    path: 'objects.person.fields[0].name',
    message: 'unified names start with a lower-case letter',
  },
  {
    name: 'duplicate key (YAML)',
    text: edit('name: Minimal\n', 'name: Minimal\nname: Twice\n'),
    line: 3,
    column: 1,
    path: '',
    message: 'YAML syntax: Map keys must be unique',
  },
  {
    name: 'unclosed flow map (YAML)',
    text: edit('is_blank: false }', 'is_blank: false'),
    line: 14,
    column: 5,
    path: '',
    message: 'YAML syntax: Flow map',
  },
  {
    name: 'tab indentation (YAML)',
    text: edit('        type: email', '\ttype: email'),
    line: 7,
    column: 1,
    path: '',
    message: 'YAML syntax: Tabs are not allowed',
  },
  { name: 'empty file', text: '', line: 1, column: 1, path: '', message: 'the file is empty' },
  {
    name: 'a list at the top',
    text: '- a\n- b\n',
    line: 1,
    column: 1,
    path: '',
    message: 'the file holds a list',
  },
];

describe('parseMapping: invalid files are reported at file:line:column', () => {
  it.each(invalid)('$name', ({ text, line, column, path, message, hint }) => {
    const { mapping, problems } = parseMappingSource(text, 'mappings/x.yaml');
    expect(mapping).toBeUndefined();
    expect(problems).toContainEqual(
      expect.objectContaining({
        file: 'mappings/x.yaml',
        line,
        column,
        path,
        message: expect.stringContaining(message),
        severity: 'error',
        ...(hint === undefined ? {} : { hint }),
      }),
    );
  });
});

describe('MappingError', () => {
  it('lists every problem at once, in file order, formatted for terminals', () => {
    const text = edit('type: email', 'type: emial').replace('gte: 50', 'gte: fifty');
    let caught: unknown;
    try {
      parseMapping(text, 'mappings/x.yaml');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MappingError);
    const error = caught as MappingError;
    expect(error.problems.map((p) => p.line)).toEqual([7, 12]);
    expect(error.format().split('\n')).toEqual([
      'mappings/x.yaml:7:15 objects.person.fields[0].type: "emial" is not a value type (expected one of string, email, phone, number, integer, boolean, date, datetime, …) — did you mean "email"?',
      'mappings/x.yaml:12:26 lifecycle.definitions.mql.score.gte: expected a number, got "fifty"',
    ]);
    expect(error.message).toContain('2 problems in mappings/x.yaml');
  });

  it('formats a problem with its severity when asked', () => {
    const [problem] = parseMappingSource(edit('type: email', 'type: emial'), 'x.yaml').problems;
    expect(formatProblem(problem!, { severity: true })).toMatch(/^x\.yaml:7:15 error objects\.person/);
  });
});
