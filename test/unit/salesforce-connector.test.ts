import { describe, expect, it } from '@jest/globals';
import { parseBulkError, toUploadCsv } from '../../src/connectors/salesforce/bulk.js';
import {
  csvRowToSourceRecord,
  fromCsvCell,
  pullFields,
  toCsvCell,
} from '../../src/connectors/salesforce/records.js';
import {
  cursorFrom,
  SalesforceCursorSchema,
  toCheckpoint,
  windowQuery,
  type SalesforceCursor,
} from '../../src/connectors/salesforce/window.js';

const END = '2024-06-01T00:00:00.000Z';
const TS = '2024-05-01T10:00:00.000Z';
const ID = '00Q000000000001EAA';

describe('windowQuery', () => {
  const table: Array<[string, SalesforceCursor, string]> = [
    [
      'back-fill from the start',
      { phase: 'backfill', systemModstamp: null, lastId: null, windowEnd: END },
      `SELECT Id, Email FROM Lead WHERE SystemModstamp < ${END} ORDER BY SystemModstamp, Id LIMIT 2000`,
    ],
    [
      'a window start is inclusive',
      { phase: 'incremental', systemModstamp: TS, lastId: null, windowEnd: END },
      `SELECT Id, Email FROM Lead WHERE SystemModstamp >= ${TS} AND SystemModstamp < ${END} ORDER BY SystemModstamp, Id LIMIT 2000`,
    ],
    [
      'mid-window: after (stamp, id), parenthesised',
      { phase: 'incremental', systemModstamp: TS, lastId: ID, windowEnd: END },
      `SELECT Id, Email FROM Lead WHERE SystemModstamp >= ${TS} AND (SystemModstamp > ${TS} OR Id > '${ID}') AND SystemModstamp < ${END} ORDER BY SystemModstamp, Id LIMIT 2000`,
    ],
  ];
  it.each(table)('%s', (_name, cursor, soql) => {
    expect(windowQuery('Lead', ['Id', 'Email'], cursor, 2000)).toBe(soql);
  });
});

describe('checkpoints', () => {
  it('round-trip a back-fill keyset through the shared checkpoint', () => {
    const cursor: SalesforceCursor = { phase: 'backfill', systemModstamp: TS, lastId: ID, windowEnd: END };
    const checkpoint = toCheckpoint('Lead', cursor);
    expect(checkpoint).toEqual({
      system: 'salesforce',
      object: 'Lead',
      phase: 'backfill',
      after: `${TS}|${ID}`,
      startedAt: END,
    });
    expect(cursorFrom(checkpoint, Date.parse(END) + 1e9, 60_000)).toEqual(cursor);
  });

  it('null starts a back-fill up to now minus the lag; a finished window opens the next one', () => {
    const now = Date.parse(END);
    expect(cursorFrom(null, now, 60_000)).toEqual({
      phase: 'backfill',
      systemModstamp: null,
      lastId: null,
      windowEnd: '2024-05-31T23:59:00.000Z',
    });
    const next = cursorFrom(
      {
        system: 'salesforce',
        object: 'Lead',
        phase: 'incremental',
        since: '2024-05-31T23:00:00.000+0000',
        lastId: null,
      },
      now,
      60_000,
    );
    expect(next).toEqual({
      phase: 'incremental',
      systemModstamp: '2024-05-31T23:00:00.000Z',
      lastId: null,
      windowEnd: '2024-05-31T23:59:00.000Z',
    });
  });

  it('a window in progress keeps its end when resumed later', () => {
    const cursor = cursorFrom(
      { system: 'salesforce', object: 'Lead', phase: 'incremental', since: TS, lastId: ID, windowEnd: END },
      Date.parse(END) + 86_400_000,
      60_000,
    );
    expect(cursor.windowEnd).toBe(END);
  });

  it('rejects malformed cursors and foreign checkpoints', () => {
    expect(
      SalesforceCursorSchema.safeParse({
        phase: 'incremental',
        systemModstamp: null,
        lastId: ID,
        windowEnd: END,
      }).success,
    ).toBe(false);
    expect(
      SalesforceCursorSchema.safeParse({
        phase: 'incremental',
        systemModstamp: TS,
        lastId: 'x',
        windowEnd: END,
      }).success,
    ).toBe(false);
    expect(() =>
      cursorFrom(
        { system: 'hubspot', object: 'contacts', phase: 'incremental', since: TS, lastId: null },
        Date.parse(END),
        0,
      ),
    ).toThrow(/hubspot/);
  });
});

describe('CSV ↔ records', () => {
  const types = new Map([
    ['Id', 'id'],
    ['IsDeleted', 'boolean'],
    ['Tandem_Lead_Score__c', 'double'],
    ['SystemModstamp', 'datetime'],
    ['LastModifiedDate', 'datetime'],
    ['CreatedDate', 'datetime'],
    ['Email', 'email'],
  ]);

  it.each([
    ['', 'email', null],
    ['true', 'boolean', true],
    ['false', 'boolean', false],
    ['42.5', 'double', 42.5],
    ['2024-05-01T10:00:00.000+0000', 'datetime', TS],
    ['0042', 'string', '0042'],
  ])('cell %j of type %s reads as %j', (cell, type, value) => {
    expect(fromCsvCell(cell, type)).toEqual(value);
  });

  it('a result row becomes a typed SourceRecord; a deleted row is archived', () => {
    const record = csvRowToSourceRecord(
      'Lead',
      {
        Id: ID,
        IsDeleted: 'true',
        Tandem_Lead_Score__c: '7',
        Email: '',
        SystemModstamp: '2024-05-01T10:00:00.000Z',
        LastModifiedDate: '2024-05-01T09:00:00.000Z',
        CreatedDate: '2024-04-01T09:00:00.000Z',
      },
      types,
    );
    expect(record).toMatchObject({
      id: ID,
      archived: true,
      modifiedAt: '2024-05-01T09:00:00.000Z',
      fields: { Tandem_Lead_Score__c: 7, Email: null, IsDeleted: true },
    });
  });

  it('uploads set null with #N/A and leave absent fields empty, over the union of columns', () => {
    expect(toCsvCell(null)).toBe('#N/A');
    expect(toCsvCell(undefined)).toBe('');
    expect(
      toUploadCsv([
        { LastName: 'A, B', Score: 1 },
        { LastName: 'C', Email: null, Flag: true },
      ]),
    ).toBe('LastName,Score,Email,Flag\n"A, B",1,,\nC,,#N/A,true\n');
  });

  it('splits an sf__Error into code, message and fields', () => {
    expect(parseBulkError('INVALID_EMAIL_ADDRESS:Email: invalid email address: x:Email --')).toEqual({
      statusCode: 'INVALID_EMAIL_ADDRESS',
      message: 'Email: invalid email address: x',
      fields: ['Email'],
    });
    expect(
      parseBulkError('REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --').fields,
    ).toEqual(['LastName']);
  });

  it('always pulls the identity and conversion fields, once each', () => {
    const fields = pullFields('Lead', ['Email', 'Title', 'isconverted']);
    expect(fields.slice(0, 5)).toEqual([
      'Id',
      'IsDeleted',
      'CreatedDate',
      'LastModifiedDate',
      'SystemModstamp',
    ]);
    expect(fields).toContain('ConvertedContactId');
    expect(fields.filter((f) => f.toLowerCase() === 'isconverted')).toHaveLength(1);
    expect(fields.at(-1)).toBe('Title');
  });
});
