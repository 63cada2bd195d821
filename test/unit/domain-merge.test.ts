import { describe, expect, it } from '@jest/globals';
import { FieldMappingSchema, type ConflictRule } from '../../src/domain/mapping/schema.js';
import { mergeFields, valueHash, writtenKey } from '../../src/domain/merge.js';
import { fnv1a64 } from '../../src/domain/hash.js';
import { compileField } from '../../src/domain/values/field-codec.js';
import type { RawValue } from '../../src/domain/records.js';
import { at, hsContact, sfLead } from '../support/domain-fixtures.js';

const titleField = (conflict: ConflictRule) =>
  compileField(
    FieldMappingSchema.parse({
      name: 'job_title',
      hubspot: 'jobtitle',
      salesforce: 'Title',
      conflict,
      transforms: ['trim'],
    }),
  );

interface Side {
  value: RawValue;
  changed: string;
}

function merge(
  rule: ConflictRule,
  hs: Side | undefined,
  sf: Side | undefined,
  written: Array<[string, RawValue]> = [],
) {
  return mergeFields(
    [titleField(rule)],
    {
      ...(hs
        ? {
            hubspot: hsContact(
              'h1',
              { jobtitle: hs.value },
              { changedAt: { jobtitle: hs.changed }, modifiedAt: at(20) },
            ),
          }
        : {}),
      ...(sf ? { salesforce: sfLead('s1', { Title: sf.value }, { modifiedAt: sf.changed }) } : {}),
    },
    new Map(written.map(([key, value]) => [key, valueHash(value)])),
  ).fields['job_title'];
}

const early = at(1);
const late = at(2);

describe('conflict rules', () => {
  it.each<
    [string, ConflictRule, Side | undefined, Side | undefined, RawValue, 'hubspot' | 'salesforce' | undefined]
  >([
    [
      'hubspot: HubSpot wins though older',
      'hubspot',
      { value: 'VP', changed: early },
      { value: 'CEO', changed: late },
      'VP',
      'hubspot',
    ],
    [
      'hubspot: HubSpot wins even blank',
      'hubspot',
      { value: '', changed: early },
      { value: 'CEO', changed: late },
      null,
      'hubspot',
    ],
    [
      'hubspot: Salesforce when there is no HubSpot record',
      'hubspot',
      undefined,
      { value: 'CEO', changed: late },
      'CEO',
      'salesforce',
    ],
    [
      'salesforce: Salesforce wins though older',
      'salesforce',
      { value: 'VP', changed: late },
      { value: 'CEO', changed: early },
      'CEO',
      'salesforce',
    ],
    [
      'salesforce: Salesforce wins even blank',
      'salesforce',
      { value: 'VP', changed: late },
      { value: null, changed: early },
      null,
      'salesforce',
    ],
    [
      'newest: later HubSpot change wins',
      'newest',
      { value: 'VP', changed: late },
      { value: 'CEO', changed: early },
      'VP',
      'hubspot',
    ],
    [
      'newest: later Salesforce change wins',
      'newest',
      { value: 'VP', changed: early },
      { value: 'CEO', changed: late },
      'CEO',
      'salesforce',
    ],
    [
      'newest: a later blank wins (a deliberate clear)',
      'newest',
      { value: 'VP', changed: early },
      { value: '', changed: late },
      null,
      'salesforce',
    ],
    [
      'newest: tie → the non-blank value',
      'newest',
      { value: '  ', changed: early },
      { value: 'CEO', changed: early },
      'CEO',
      'salesforce',
    ],
    [
      'newest: tie → HubSpot',
      'newest',
      { value: 'VP', changed: early },
      { value: 'CEO', changed: early },
      'VP',
      'hubspot',
    ],
    [
      'prefer_nonblank_hubspot: HubSpot when set',
      'prefer_nonblank_hubspot',
      { value: 'VP', changed: early },
      { value: 'CEO', changed: late },
      'VP',
      'hubspot',
    ],
    [
      'prefer_nonblank_hubspot: Salesforce when HubSpot blank',
      'prefer_nonblank_hubspot',
      { value: ' ', changed: late },
      { value: 'CEO', changed: early },
      'CEO',
      'salesforce',
    ],
    [
      'prefer_nonblank_hubspot: both blank → blank',
      'prefer_nonblank_hubspot',
      { value: null, changed: late },
      { value: '', changed: early },
      null,
      'hubspot',
    ],
    [
      'prefer_nonblank_salesforce: Salesforce when set',
      'prefer_nonblank_salesforce',
      { value: 'VP', changed: late },
      { value: 'CEO', changed: early },
      'CEO',
      'salesforce',
    ],
    [
      'prefer_nonblank_salesforce: HubSpot when Salesforce blank',
      'prefer_nonblank_salesforce',
      { value: 'VP', changed: early },
      { value: null, changed: late },
      'VP',
      'hubspot',
    ],
    ['no records → blank without provenance', 'newest', undefined, undefined, null, undefined],
  ])('%s', (_name, rule, hs, sf, value, winner) => {
    const field = merge(rule, hs, sf);
    expect(field?.value).toBe(value);
    expect(field?.provenance?.system).toBe(winner);
    if (winner) expect(field?.provenance?.rule).toBe(rule);
  });

  it('records full provenance of the winning value', () => {
    expect(merge('newest', { value: ' VP ', changed: late }, { value: 'CEO', changed: early })).toEqual({
      value: 'VP',
      provenance: {
        system: 'hubspot',
        object: 'contacts',
        recordId: 'h1',
        field: 'jobtitle',
        changedAt: late,
        rule: 'newest',
      },
    });
  });

  it('uses the record modifiedAt when there is no per-field change time', () => {
    const f = mergeFields(
      [titleField('newest')],
      {
        hubspot: hsContact('h1', { jobtitle: 'VP' }, { modifiedAt: at(5) }),
        salesforce: sfLead('s1', { Title: 'CEO' }, { modifiedAt: '2026-01-04T00:00:00.000+0000' }),
      },
      new Map(),
    );
    expect(f.fields['job_title']?.value).toBe('VP');
  });
});

describe('echo suppression', () => {
  it('a value Tandem wrote does not win newest by its newer timestamp', () => {
    // Tandem copied "VP" to Salesforce; HubSpot then changed to "CVO" before Salesforce's write time.
    const field = merge('newest', { value: 'CVO', changed: at(2) }, { value: 'VP', changed: at(3) }, [
      [writtenKey('salesforce', 's1', 'Title'), 'VP'],
    ]);
    expect(field?.value).toBe('CVO');
  });

  it('without the echo record the later timestamp wins', () => {
    expect(merge('newest', { value: 'CVO', changed: at(2) }, { value: 'VP', changed: at(3) })?.value).toBe(
      'VP',
    );
  });

  it('a real change after Tandem’s write is not an echo', () => {
    const field = merge('newest', { value: 'CVO', changed: at(2) }, { value: 'Founder', changed: at(3) }, [
      [writtenKey('salesforce', 's1', 'Title'), 'VP'],
    ]);
    expect(field?.value).toBe('Founder');
    expect(field?.provenance?.echo).toBeUndefined();
  });

  it('matches the echo across wire types (5 written, "5" read back)', () => {
    const f = compileField(
      FieldMappingSchema.parse({ name: 'n', type: 'integer', hubspot: 'n', salesforce: 'N' }),
    );
    const result = mergeFields(
      [f],
      {
        hubspot: hsContact('h1', { n: '5' }, { modifiedAt: at(9) }),
        salesforce: sfLead('s1', { N: 7 }, { modifiedAt: at(1) }),
      },
      new Map([[writtenKey('hubspot', 'h1', 'n'), valueHash(5)]]),
    );
    expect(result.fields['n']?.value).toBe(7);
  });

  it('two echoes fall back to the tie rules', () => {
    const field = merge('newest', { value: 'A', changed: at(2) }, { value: 'B', changed: at(3) }, [
      [writtenKey('salesforce', 's1', 'Title'), 'B'],
      [writtenKey('hubspot', 'h1', 'jobtitle'), 'A'],
    ]);
    expect(field?.value).toBe('B');
  });
});

describe('value hashes', () => {
  it('are FNV-1a 64 in sixteen hex digits (published test vectors, UTF-8 bytes beyond ASCII)', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
    expect(fnv1a64('\u00e9')).toBe('0ac21707b7181e01'); // UTF-8 C3 A9
    expect(fnv1a64('\u2192 x')).toBe('db33bad4278df981');
  });

  it('hash short (memoised) and long values alike, 5 and "5" alike', () => {
    expect(valueHash(5)).toBe(valueHash('5'));
    expect(valueHash(' 5 ')).toBe(fnv1a64('5'));
    const long = 'person1234567@example.com';
    expect(valueHash(long)).toBe(fnv1a64(long));
    expect(valueHash(null)).toBe(valueHash(''));
  });
});
