import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { mappingVersion, validateMapping } from '../../src/domain/mapping/check.js';

const full = readFileSync('test/fixtures/mappings/full.yaml', 'utf8');

function edit(...pairs: Array<[string, string]>): string {
  let text = full;
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`fixture has no ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

interface SemanticCase {
  name: string;
  text: string;
  path: string;
  line: number;
  message: string;
  hint?: string;
}

const cases: SemanticCase[] = [
  {
    name: 'duplicate unified name',
    text: edit(['      - name: page_views', '      - name: country']),
    path: 'objects.person.fields[8].name',
    line: 87,
    message: '"country" is already the name of fields[6] of person',
  },
  {
    name: 'condition names an unknown field',
    text: edit(['sal: { field: lead_status, in: [working] }', 'sal: { field: lead_stat, in: [working] }']),
    path: 'lifecycle.definitions.sal.field',
    line: 220,
    message: '"lead_stat" is not a unified field of person',
    hint: 'did you mean "lead_status"?',
  },
  {
    name: 'condition compares a system value instead of a unified one',
    text: edit([
      'sal: { field: lead_status, in: [working] }',
      "sal: { field: lead_status, in: ['Working - Contacted'] }",
    ]),
    path: 'lifecycle.definitions.sal.in[0]',
    line: 220,
    message: '"Working - Contacted" is not a unified value of lead_status',
  },
  {
    name: 'engagement rule on an unknown field',
    text: edit(['{ field: page_views, points_each: 1', '{ field: page_view, points_each: 1']),
    path: 'score.engagement[0].field',
    line: 267,
    message: '"page_view" is not a unified field of person',
    hint: 'did you mean "page_views"?',
  },
  {
    name: 'engagement rule on a text field',
    text: edit(['{ field: page_views, points_each: 1', '{ field: job_title, points_each: 1']),
    path: 'score.engagement[0].field',
    line: 267,
    message: 'points_each counts a number, but "job_title" has type string',
  },
  {
    name: 'regex that does not compile',
    text: edit(["matches: '\\b(manager|lead)\\b'", "matches: '(manager'"]),
    path: 'score.fit[1].when.matches',
    line: 255,
    message: 'not a valid regular expression',
  },
  {
    name: 'value map on a string field',
    text: edit([
      '      - name: employee_range\n        type: enum',
      '      - name: employee_range\n        values: { a: { hubspot: x } }',
    ]),
    path: 'objects.person.fields[11].values',
    line: 103,
    message: "a value map needs type enum or multi_enum, but the field's type is string",
  },
  {
    name: 'system value under two unified values',
    text: edit(['new: { hubspot: NEW,', 'new: { hubspot: [NEW, OPEN],']),
    path: 'objects.person.fields[7].values.working.hubspot',
    line: 84,
    message: 'hubspot value "OPEN" is listed under both "new" and "working"',
  },
  {
    name: 'duplicate Salesforce stage',
    text: edit([
      '{ hubspot: qualifiedtobuy, salesforce: Qualification }',
      '{ hubspot: qualifiedtobuy, salesforce: Prospecting }',
    ]),
    path: 'objects.deal.pipelines[0].stages[1].salesforce',
    line: 180,
    message: 'salesforce stage "Prospecting" is already mapped in stages[0]',
  },
  {
    name: 'a Salesforce stage under two HubSpot stages',
    text: edit([
      '{ hubspot: presentationscheduled, salesforce: Value Proposition }',
      '{ hubspot: presentationscheduled, salesforce: [Value Proposition, Qualification] }',
    ]),
    path: 'objects.deal.pipelines[0].stages[2].salesforce',
    line: 181,
    message: 'salesforce stage "Qualification" is already mapped in stages[1]',
  },
  {
    name: 'campaign type pointing at an unknown source',
    text: edit(['Email: email', 'Email: emial']),
    path: 'attribution.touchpoints.campaign_type_sources.Email',
    line: 295,
    message: '"emial" is not one of attribution.sources',
    hint: 'did you mean "email"?',
  },
  {
    name: 'unknown source not among the sources',
    text: edit(['unknown_source: other', 'unknown_source: othr']),
    path: 'attribution.unknown_source',
    line: 297,
    message: '"othr" is not one of attribution.sources',
  },
  {
    name: 'direction both without a HubSpot name',
    text: edit(['        hubspot: jobtitle\n', '']),
    path: 'objects.person.fields[4].direction',
    line: 58,
    message: 'direction "both" writes to HubSpot but the field has no hubspot name',
  },
  {
    name: 'direction to_salesforce without a Salesforce name',
    text: edit([
      '        hubspot: hs_email_click\n        direction: none',
      '        hubspot: hs_email_click\n        direction: to_salesforce',
    ]),
    path: 'objects.person.fields[10].direction',
    line: 100,
    message: 'writes to Salesforce but the field has no salesforce name',
  },
  {
    name: 'writeback target also written by a field',
    text: edit(['    hubspot_property: tandem_lead_score', '    hubspot_property: jobtitle']),
    path: 'score.writeback.hubspot_property',
    line: 271,
    message: 'Tandem writes "jobtitle" here, but objects.person.fields[4] (job_title) also writes it',
  },
  {
    name: 'required on create in a system without a name there',
    text: edit([
      '        hubspot: numemployees\n        direction: none',
      '        hubspot: numemployees\n        direction: none\n        required_on_create: [salesforce]',
    ]),
    path: 'objects.person.fields[11].required_on_create[0]',
    line: 106,
    message: 'required on create in salesforce, but the field has no salesforce name',
  },
];

describe('validateMapping: semantic checks', () => {
  it('finds nothing wrong with the default mapping', () => {
    expect(
      validateMapping(readFileSync('mappings/default.yaml', 'utf8'), 'mappings/default.yaml').problems,
    ).toEqual([]);
  });

  it.each(cases)('$name', ({ text, path, line, message, hint }) => {
    const result = validateMapping(text, 'm.yaml');
    expect(result.mapping).toBeDefined();
    expect(result.valid).toBe(false);
    expect(result.problems).toContainEqual(
      expect.objectContaining({
        path,
        line,
        message: expect.stringContaining(message),
        severity: 'error',
        ...(hint === undefined ? {} : { hint }),
      }),
    );
  });

  it('warns of time windows that cannot work as written, and nothing else', () => {
    const text = edit(
      [
        '      - name: lead_status\n',
        '      - name: lead_rating\n        salesforce: { Lead: Rating }\n        direction: none\n      - name: lead_status\n',
      ],
      [
        '  recycle:\n',
        '  recycle:\n    - when: { all: [{ stage: { is: [mql] } }, { not: { field: lead_rating, changed_within_days: 30 } }, { field: form_submissions, changed_within_days: 90 }] }\n      to: lead\n      reason: Gone quiet\n',
      ],
      [
        '    salesforce: { object: Account }\n',
        '    salesforce: { object: Account }\n    scope: { hubspot: { field: name, changed_within_days: 365 } }\n',
      ],
    );
    const result = validateMapping(text, 'm.yaml');
    expect(result.valid).toBe(true);
    expect(result.problems).toEqual([
      expect.objectContaining({
        path: 'objects.company.scope.hubspot.changed_within_days',
        severity: 'warning',
        message: expect.stringContaining('evaluated only when one of its records changes'),
      }),
      expect.objectContaining({
        path: 'lifecycle.recycle[0].when.all[1].not.changed_within_days',
        severity: 'warning',
        message: expect.stringContaining('"lead_rating" is read from Salesforce only'),
      }),
    ]);
  });

  it('reading a writeback target (direction none) is no clash', () => {
    const text = edit(['    hubspot_property: tandem_lead_score', '    hubspot_property: hs_email_click']);
    expect(validateMapping(text, 'm.yaml').problems).toEqual([]);
  });
});

describe('mappingVersion', () => {
  const mapping = validateMapping(full, 'm.yaml').mapping!;

  it('is the declared version plus a short content hash', () => {
    expect(mappingVersion(mapping, full)).toMatch(/^1\+[0-9a-f]{8}$/);
  });

  it('changes when the file changes without a version bump, but not with line endings', () => {
    const changed = full.replace('points: 20', 'points: 25');
    expect(mappingVersion(mapping, changed)).not.toBe(mappingVersion(mapping, full));
    expect(mappingVersion(mapping, full.replace(/\n/g, '\r\n'))).toBe(mappingVersion(mapping, full));
  });
});
