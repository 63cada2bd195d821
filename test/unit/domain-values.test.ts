import { describe, expect, it } from '@jest/globals';
import type { FieldMapping, Transform } from '../../src/domain/mapping/schema.js';
import { FieldMappingSchema } from '../../src/domain/mapping/schema.js';
import { applyTransforms } from '../../src/domain/values/transforms.js';
import { toE164 } from '../../src/domain/values/phone.js';
import { coerce, parseInstant } from '../../src/domain/values/coerce.js';
import { compileValueMap } from '../../src/domain/values/value-map.js';
import { compileField, readValue, renderValue } from '../../src/domain/values/field-codec.js';
import { fnv1a64, valueHash } from '../../src/domain/hash.js';
import { mergeFields } from '../../src/domain/merge.js';
import { hsContact, sfLead } from '../support/domain-fixtures.js';

const field = (raw: Record<string, unknown>): FieldMapping => FieldMappingSchema.parse(raw);

describe('transforms', () => {
  it.each<[string, Transform[], string, string]>([
    ['trim', ['trim'], '  Ann  ', 'Ann'],
    ['lowercase', ['lowercase'], 'Ann@Acme.COM', 'ann@acme.com'],
    ['uppercase', ['uppercase'], 'us', 'US'],
    ['titlecase', ['titlecase'], "mary-jane o'neil", "Mary-Jane O'Neil"],
    ['titlecase lowers the rest', ['titlecase'], 'VP OF SALES', 'Vp Of Sales'],
    ['collapse_whitespace', ['collapse_whitespace'], 'Head   of\t\tGrowth', 'Head of Growth'],
    ['blank_to_null keeps text', ['blank_to_null'], 'x', 'x'],
    ['blank_to_null empties whitespace', ['blank_to_null'], '   ', ''],
    ['e164 (US default)', ['e164'], '(415) 555-0100', '+14155550100'],
    ['e164 with default country', [{ e164: { default_country: 'GB' } }], '020 7946 0958', '+442079460958'],
    ['truncate', [{ truncate: 5 }], 'Director', 'Direc'],
    [
      'replace',
      [{ replace: { pattern: '^https?://(www\\.)?', with: '' } }],
      'https://www.acme.com',
      'acme.com',
    ],
    ['replace is global', [{ replace: { pattern: '-', with: '' } }], 'a-b-c', 'abc'],
    ['in order', ['trim', 'lowercase', { truncate: 3 }], '  ABCDEF ', 'abc'],
  ])('%s', (_name, transforms, input, expected) => {
    expect(applyTransforms(input, transforms)).toBe(expected);
  });

  it('truncate never splits a surrogate pair', () => {
    expect(applyTransforms('ab😀c', [{ truncate: 3 }])).toBe('ab');
  });
});

describe('toE164', () => {
  it.each<[string, string, string]>([
    ['(415) 555-0100', 'US', '+14155550100'],
    ['415.555.0100', 'US', '+14155550100'],
    ['1-415-555-0100', 'US', '+14155550100'],
    ['+1 415 555 0100', 'GB', '+14155550100'],
    ['+44 20 7946 0958', 'US', '+442079460958'],
    ['0044 20 7946 0958', 'US', '+442079460958'],
    ['020 7946 0958', 'GB', '+442079460958'],
    ['030 1234567', 'DE', '+49301234567'],
    ['(415) 555-0100 ext. 12', 'US', '+14155550100 ext. 12'],
    ['+1 (703) 555-0170 x230', 'US', '+17035550170 ext. 230'],
    ['020 7946 0958 #7', 'GB', '+442079460958 ext. 7'],
    ['0044 20 7946 0958', 'US', '+442079460958'],
    [
      '(003) 555-0169 is not an international 00 prefix',
      'US',
      '(003) 555-0169 is not an international 00 prefix',
    ],
    ['(003) 555-0169', 'US', '(003) 555-0169'],
    ['007.555.0101', 'US', '007.555.0101'],
    ['0015550 136', 'US', '0015550 136'],
    ['004.555.0172', 'US', '004.555.0172'],
    ['001 415 555 0100', 'US', '+14155550100'],
    ['011 44 20 7946 0958', 'US', '+442079460958'],
    ['0049 30 12345678', 'CA', '+493012345678'],
    ['0033 1 23 45 67 89', 'GB', '+33123456789'],
    ['007 495 123 4567', 'DE', '+74951234567'],
    ['1 (003) 555-0169', 'US', '1 (003) 555-0169'],
    ['555-0100', 'US', '555-0100'],
    ['call me', 'US', 'call me'],
    ['', 'US', ''],
    ['12345', 'ZZ', '12345'],
  ])('%s (%s) → %s', (input, country, expected) => {
    expect(toE164(input, country)).toBe(expected);
  });
});

describe('coerce', () => {
  it.each<[string, Parameters<typeof coerce>[0], Parameters<typeof coerce>[1], unknown]>([
    ['blank string is null', '  ', 'string', null],
    ['null is null', null, 'integer', null],
    ['HubSpot number string', '42', 'integer', 42],
    ['HubSpot decimal', '1234.50', 'number', 1234.5],
    ['Salesforce number', 7, 'number', 7],
    ['integer from "12.0"', '12.0', 'integer', 12],
    ['HubSpot boolean true', 'true', 'boolean', true],
    ['HubSpot boolean false', 'false', 'boolean', false],
    ['Salesforce boolean', true, 'boolean', true],
    ['yes', 'Yes', 'boolean', true],
    ['date from ISO date', '2026-03-04', 'date', '2026-03-04'],
    ['date from HubSpot ms epoch', '1772582400000', 'date', '2026-03-04'],
    ['date from datetime', '2026-03-04T23:00:00Z', 'date', '2026-03-04'],
    [
      'datetime from Salesforce +0000',
      '2013-05-20T20:49:32.000+0000',
      'datetime',
      '2013-05-20T20:49:32.000Z',
    ],
    ['datetime from ms epoch number', 1772582400000, 'datetime', '2026-03-04T00:00:00.000Z'],
    ['email trimmed', ' a@b.co ', 'email', 'a@b.co'],
    ['number to string', 5, 'string', '5'],
    ['phone kept as text', '+14155550100', 'phone', '+14155550100'],
  ])('%s', (_name, raw, type, expected) => {
    expect(coerce(raw, type)).toEqual({ ok: true, value: expected });
  });

  it.each<[Parameters<typeof coerce>[0], Parameters<typeof coerce>[1]]>([
    ['abc', 'number'],
    ['1.5', 'integer'],
    ['maybe', 'boolean'],
    ['2026-02-30', 'date'],
    ['not a date', 'datetime'],
    ['no-at-sign', 'email'],
    [true, 'number'],
  ])('%j is not a valid %s', (raw, type) => {
    const result = coerce(raw, type);
    expect(result.ok).toBe(false);
  });

  it('parses instants in both wire formats', () => {
    expect(parseInstant('2026-01-01T00:00:00.000+0000')).toBe(Date.UTC(2026, 0, 1));
    expect(parseInstant('1767225600000')).toBe(Date.UTC(2026, 0, 1));
    expect(parseInstant('')).toBeUndefined();
  });
});

describe('value maps', () => {
  const map = compileValueMap({
    working: { hubspot: ['IN_PROGRESS', 'CONNECTED'], salesforce: 'Working - Contacted' },
    new: { hubspot: 'NEW', salesforce: 'Open - Not Contacted' },
    hs_only: { hubspot: 'X' },
  });

  it.each<[string, 'hubspot' | 'salesforce', string, string | undefined]>([
    ['first HubSpot value', 'hubspot', 'IN_PROGRESS', 'working'],
    ['any listed HubSpot value', 'hubspot', 'CONNECTED', 'working'],
    ['ignoring case and space', 'salesforce', ' working - contacted ', 'working'],
    ['unknown value', 'salesforce', 'Nurture', undefined],
  ])('reads %s', (_n, system, value, expected) => {
    expect(map.toUnified(system, value)).toBe(expected);
  });

  it('writes the first listed value, and nothing for a system the entry does not name', () => {
    expect(map.fromUnified('hubspot', 'working')).toBe('IN_PROGRESS');
    expect(map.fromUnified('salesforce', 'new')).toBe('Open - Not Contacted');
    expect(map.fromUnified('salesforce', 'hs_only')).toBeUndefined();
  });

  const status = field({
    name: 'lead_status',
    type: 'enum',
    hubspot: 'hs_lead_status',
    salesforce: 'Status',
    values: { working: { hubspot: 'IN_PROGRESS', salesforce: 'Working - Contacted' } },
  });

  it('an unmapped value is a problem naming the record, the field, the value and the known values', () => {
    const merge = mergeFields(
      [compileField(status)],
      { salesforce: sfLead('00Q1', { Status: 'Nurture' }) },
      new Map(),
    );
    expect(merge.problems).toEqual([
      expect.objectContaining({
        code: 'unmapped_value',
        system: 'salesforce',
        object: 'Lead',
        recordId: '00Q1',
        field: 'Status',
        value: 'Nurture',
        knownValues: ['Working - Contacted'],
      }),
    ]);
    expect(merge.problems[0]?.message).toContain('Nurture');
  });

  it('on_unmapped_value: skip_field leaves the field alone with a warning', () => {
    const lenient = compileField({ ...status, on_unmapped_value: 'skip_field' });
    const merge = mergeFields([lenient], { hubspot: hsContact('1', { hs_lead_status: 'WEIRD' }) }, new Map());
    expect(merge.problems).toEqual([]);
    expect(merge.warnings).toEqual([
      expect.objectContaining({ code: 'unmapped_value_skipped', recordId: '1' }),
    ]);
    expect(merge.merges.get('lead_status')?.skipped).toBe(true);
  });

  it('multi_enum maps each part', () => {
    const f = compileField(
      field({
        name: 'tags',
        type: 'multi_enum',
        hubspot: 'tags',
        values: { a: { hubspot: 'A' }, b: { hubspot: 'B' } },
      }),
    );
    expect(readValue(f, 'hubspot', 'A;B')).toEqual({ ok: true, value: 'a;b' });
    expect(renderValue(f, 'hubspot', 'a;b')).toEqual({ ok: true, value: 'A;B' });
  });
});

describe('rendering for a target', () => {
  const title = compileField(field({ name: 'job_title', hubspot: 'jobtitle', salesforce: 'Title' }));
  const employees = compileField(
    field({ name: 'employees', type: 'integer', hubspot: 'n', salesforce: 'N' }),
  );

  it.each<
    [string, ReturnType<typeof compileField>, 'hubspot' | 'salesforce', unknown, number | undefined, unknown]
  >([
    ['HubSpot gets strings', employees, 'hubspot', 5, undefined, '5'],
    ['Salesforce keeps numbers', employees, 'salesforce', 5, undefined, 5],
    ['blank clears', title, 'salesforce', null, undefined, null],
    ['fits', title, 'salesforce', 'Director', 8, 'Director'],
  ])('%s', (_n, f, system, value, max, expected) => {
    const r = renderValue(f, system, value as never, max);
    expect(r).toEqual({ ok: true, value: expected });
  });

  it('cuts strings to the target length and says what it cut', () => {
    expect(renderValue(title, 'salesforce', 'Vice President', 4)).toEqual({
      ok: true,
      value: 'Vice',
      truncatedFrom: 'Vice President',
    });
  });

  it('does not cut when truncate_to_target is off', () => {
    const strict = compileField({ ...title.mapping, truncate_to_target: false });
    expect(renderValue(strict, 'salesforce', 'Vice President', 4)).toEqual({
      ok: true,
      value: 'Vice President',
    });
  });

  it('reads the create placeholder as blank', () => {
    const company = compileField(
      field({
        name: 'company',
        hubspot: 'company',
        salesforce: 'Company',
        default_on_create: { salesforce: '[not provided]' },
      }),
    );
    expect(readValue(company, 'salesforce', '[not provided]')).toEqual({ ok: true, value: null });
    expect(readValue(company, 'hubspot', '[not provided]')).toEqual({ ok: true, value: '[not provided]' });
  });
});

describe('valueHash', () => {
  it('is FNV-1a 64 over the canonical value', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(valueHash('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
    // UTF-8 bytes, as a BigInt reference implementation computes them
    expect(fnv1a64('héllo 😀 ☃')).toBe('8a97a6144283bc22');
  });

  it('treats a HubSpot string and a Salesforce number alike, and blanks alike', () => {
    expect(valueHash('5')).toBe(valueHash(5));
    expect(valueHash(null)).toBe(valueHash(''));
    expect(valueHash('true')).toBe(valueHash(true));
    expect(valueHash('VP')).not.toBe(valueHash('vp'));
  });
});
