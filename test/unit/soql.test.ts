import { describe, expect, it } from '@jest/globals';
import { SalesforceCatalog } from '../../src/sandbox/salesforce/schema/catalog.js';
import { compileQuery, projectRecord, runQuery } from '../../src/sandbox/salesforce/soql/evaluator.js';
import { SoqlError } from '../../src/sandbox/salesforce/soql/errors.js';
import { parseSoql } from '../../src/sandbox/salesforce/soql/parser.js';
import { SalesforceStore } from '../../src/sandbox/salesforce/store.js';

const NOW = Date.parse('2024-06-15T12:00:00Z');
const catalog = new SalesforceCatalog();

/** A small org: three accounts-worth of people, created one minute apart from 2024-06-10. */
function seededStore(): SalesforceStore {
  let clock = Date.parse('2024-06-10T00:00:00Z');
  const store = new SalesforceStore({ catalog, now: () => clock, username: 'admin@tandem.sandbox' });
  const acme = store.create('Account', { Name: 'Acme' });
  clock += 60_000;
  const leads = [
    {
      LastName: 'Ng',
      FirstName: 'Ada',
      Company: 'Acme',
      Email: 'ada@acme.com',
      LeadSource: 'Web',
      NumberOfEmployees: 50,
    },
    {
      LastName: "O'Hara",
      Company: 'Globex',
      Email: 'ohara@globex.com',
      LeadSource: 'Other',
      NumberOfEmployees: 500,
    },
    { LastName: 'Smith', Company: '100%_Pure', Email: null, LeadSource: null, NumberOfEmployees: 5 },
    {
      LastName: 'Zed',
      Company: 'Acme',
      Email: 'zed@acme.com',
      LeadSource: 'Web',
      Status: 'Working - Contacted',
    },
  ];
  for (const lead of leads) {
    store.create('Lead', lead);
    clock += 60_000;
  }
  store.create('Contact', { LastName: 'Kay', Email: 'kay@acme.com', AccountId: acme['Id'] });
  store.create('Contact', { LastName: 'Orphan', Email: 'orphan@example.com' });
  clock = NOW;
  return store;
}

function names(store: SalesforceStore, soql: string): string[] {
  const compiled = compileQuery(soql, catalog, () => NOW);
  return runQuery(compiled, store, { includeDeleted: false }).map((row) =>
    String(row['LastName'] ?? row['Name']),
  );
}

describe('SOQL parser: accepted queries', () => {
  const accepted: Array<[soql: string, expected: Record<string, unknown>]> = [
    [
      'SELECT Id FROM Lead',
      { select: { kind: 'fields', fields: [{ path: ['Id'], pos: 7 }] }, from: { name: 'Lead', pos: 15 } },
    ],
    ['select count() from lead', { select: { kind: 'count' } }],
    [
      'SELECT Account.Owner.Name FROM Contact',
      { select: { kind: 'fields', fields: [{ path: ['Account', 'Owner', 'Name'], pos: 7 }] } },
    ],
    [
      "SELECT Id FROM Lead WHERE Email = 'a\\'b@c.com'",
      {
        where: {
          kind: 'comparison',
          field: { path: ['Email'], pos: 26 },
          operator: '=',
          value: { kind: 'string', value: "a'b@c.com", pos: 34 },
        },
      },
    ],
    [
      'SELECT Id FROM Lead WHERE Name <> null',
      { where: expect.objectContaining({ operator: '!=', value: { kind: 'null', pos: 34 } }) },
    ],
    [
      'SELECT Id FROM Lead WHERE SystemModstamp > 2024-01-01T00:00:00Z',
      {
        where: expect.objectContaining({
          operator: '>',
          value: { kind: 'datetime', value: Date.parse('2024-01-01T00:00:00Z'), pos: 43 },
        }),
      },
    ],
    [
      'SELECT Id FROM Lead WHERE CreatedDate >= 2024-01-01T05:30:00+0530',
      {
        where: expect.objectContaining({
          value: expect.objectContaining({ value: Date.parse('2024-01-01T00:00:00Z') }),
        }),
      },
    ],
    [
      'SELECT Id FROM Opportunity WHERE CloseDate < 2024-01-01',
      { where: expect.objectContaining({ value: { kind: 'date', value: '2024-01-01', pos: 45 } }) },
    ],
    [
      'SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30',
      {
        where: expect.objectContaining({
          value: { kind: 'dateLiteral', name: 'LAST_N_DAYS', n: 30, pos: 40 },
        }),
      },
    ],
    [
      'SELECT Id FROM Lead WHERE NumberOfEmployees > -5.5',
      { where: expect.objectContaining({ value: { kind: 'number', value: -5.5, pos: 46 } }) },
    ],
    [
      'SELECT Id FROM Lead WHERE IsConverted = FALSE',
      { where: expect.objectContaining({ value: { kind: 'boolean', value: false, pos: 40 } }) },
    ],
    [
      "SELECT Id FROM Lead WHERE LeadSource NOT IN ('Web', null)",
      {
        where: expect.objectContaining({
          kind: 'in',
          negated: true,
          values: [expect.objectContaining({ value: 'Web' }), { kind: 'null', pos: 52 }],
        }),
      },
    ],
    [
      "SELECT Id FROM Lead WHERE (Email = 'a' OR Email = 'b') AND NOT IsConverted = true",
      {
        where: expect.objectContaining({
          kind: 'and',
          conditions: [expect.objectContaining({ kind: 'or' }), expect.objectContaining({ kind: 'not' })],
        }),
      },
    ],
    [
      'SELECT Id FROM Lead ORDER BY SystemModstamp, Id DESC NULLS FIRST LIMIT 10 OFFSET 5',
      {
        orderBy: [
          { field: { path: ['SystemModstamp'], pos: 29 }, direction: 'ASC', nulls: 'FIRST' },
          { field: { path: ['Id'], pos: 45 }, direction: 'DESC', nulls: 'FIRST' },
        ],
        limit: 10,
        offset: 5,
      },
    ],
  ];
  it.each(accepted)('%s', (soql, expected) => {
    expect(parseSoql(soql)).toMatchObject(expected);
  });
});

describe('SOQL: rejected queries', () => {
  const rejected: Array<[soql: string, errorCode: string, column: number, detail: string]> = [
    ['SELECT Id FRM Lead', 'MALFORMED_QUERY', 11, "unexpected token: 'FRM'"],
    ['SELECT Id FROM Lead WHERE', 'MALFORMED_QUERY', 26, "unexpected token: '<EOF>'"],
    ['SELECT FROM Lead', 'MALFORMED_QUERY', 8, "unexpected token: 'FROM'"],
    ["SELECT Id FROM Lead WHERE Email = 'open", 'MALFORMED_QUERY', 35, 'unterminated string literal'],
    [
      "SELECT Id FROM Lead WHERE Email = 'a' AND Company = 'b' OR LastName = 'c'",
      'MALFORMED_QUERY',
      57,
      "unexpected token: 'OR'",
    ],
    ['SELECT Id FROM Lead LIMIT -1', 'MALFORMED_QUERY', 27, "unexpected token: '-'"],
    ['SELECT Id FROM Lead WHERE Email == 1', 'MALFORMED_QUERY', 34, "unexpected token: '='"],
    ['SELECT Id FROM Lead WHERE Email LIKE 5', 'MALFORMED_QUERY', 38, "unexpected token: '5'"],
    ['SELECT Id, Foo FROM Lead', 'INVALID_FIELD', 12, "No such column 'Foo' on entity 'Lead'"],
    ['SELECT Bogus.Name FROM Contact', 'INVALID_FIELD', 8, "Didn't understand relationship 'Bogus'"],
    ['SELECT Account.Foo FROM Contact', 'INVALID_FIELD', 8, "No such column 'Foo' on entity 'Account'"],
    ['SELECT Id FROM Widget', 'INVALID_TYPE', 16, "sObject type 'Widget' is not supported"],
    [
      "SELECT Id FROM Lead WHERE CreatedDate > '2024-01-01'",
      'INVALID_FIELD',
      41,
      "field 'CreatedDate' must be of type dateTime",
    ],
    ['SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01', 'INVALID_FIELD', 41, 'must be of type dateTime'],
    ['SELECT Id FROM Lead WHERE Email = 5', 'INVALID_FIELD', 35, "field 'Email' must be of type string"],
    ["SELECT Id FROM Lead WHERE NumberOfEmployees = '5'", 'INVALID_FIELD', 47, 'must be of type int'],
    ["SELECT Id FROM Lead WHERE Id = 'nope'", 'INVALID_QUERY_FILTER_OPERATOR', 27, 'invalid ID field: nope'],
    ['SELECT Id FROM Lead OFFSET 2001', 'NUMBER_OUTSIDE_VALID_RANGE', 1, ''],
  ];
  it.each(rejected)('%s → %s at column %i', (soql, errorCode, column, detail) => {
    let caught: unknown;
    try {
      compileQuery(soql, catalog, () => NOW);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SoqlError);
    const error = caught as SoqlError;
    expect(error.errorCode).toBe(errorCode);
    expect(error.column).toBe(column);
    expect(error.message).toContain(detail);
    if (errorCode !== 'NUMBER_OUTSIDE_VALID_RANGE')
      expect(error.message).toContain(`ERROR at Row:1:Column:${column}`);
  });
});

describe('SOQL evaluation', () => {
  const store = seededStore();
  const cases: Array<[soql: string, expected: string[]]> = [
    ['SELECT LastName FROM Lead', ['Ng', "O'Hara", 'Smith', 'Zed']],
    ["SELECT LastName FROM Lead WHERE email = 'ADA@acme.com'", ['Ng']],
    ["SELECT LastName FROM Lead WHERE Email LIKE '%@ACME.com'", ['Ng', 'Zed']],
    ["SELECT LastName FROM Lead WHERE Company LIKE '100\\%\\_%'", ['Smith']],
    ["SELECT LastName FROM Lead WHERE LastName LIKE 'N_'", ['Ng']],
    ['SELECT LastName FROM Lead WHERE Email = null', ['Smith']],
    ["SELECT LastName FROM Lead WHERE LeadSource != 'Web'", ["O'Hara", 'Smith']],
    ["SELECT LastName FROM Lead WHERE LeadSource IN ('Other', null)", ["O'Hara", 'Smith']],
    ["SELECT LastName FROM Lead WHERE LeadSource NOT IN ('Web')", ["O'Hara", 'Smith']],
    [
      'SELECT LastName FROM Lead WHERE NumberOfEmployees >= 50 ORDER BY NumberOfEmployees DESC',
      ["O'Hara", 'Ng'],
    ],
    ["SELECT LastName FROM Lead WHERE NOT (Company = 'Acme' OR Company = 'Globex')", ['Smith']],
    ["SELECT LastName FROM Lead WHERE Company = 'Acme' AND Status = 'Working - Contacted'", ['Zed']],
    [
      'SELECT LastName FROM Lead WHERE SystemModstamp > 2024-06-10T00:02:00Z ORDER BY SystemModstamp, Id',
      ['Smith', 'Zed'],
    ],
    [
      'SELECT LastName FROM Lead WHERE SystemModstamp >= 2024-06-10T00:02:00.000+0000 ORDER BY SystemModstamp',
      ["O'Hara", 'Smith', 'Zed'],
    ],
    ['SELECT LastName FROM Lead ORDER BY SystemModstamp, Id LIMIT 2 OFFSET 1', ["O'Hara", 'Smith']],
    ['SELECT LastName FROM Lead ORDER BY Email NULLS LAST, LastName', ['Ng', "O'Hara", 'Zed', 'Smith']],
    [
      'SELECT LastName FROM Lead ORDER BY LeadSource DESC NULLS FIRST, LastName DESC',
      ['Smith', 'Zed', 'Ng', "O'Hara"],
    ],
    ['SELECT LastName FROM Lead WHERE CreatedDate = LAST_N_DAYS:7', ['Ng', "O'Hara", 'Smith', 'Zed']],
    ['SELECT LastName FROM Lead WHERE CreatedDate = LAST_N_DAYS:2', []],
    [
      'SELECT LastName FROM Lead WHERE CreatedDate < TODAY AND CreatedDate = THIS_MONTH',
      ['Ng', "O'Hara", 'Smith', 'Zed'],
    ],
    ["SELECT LastName FROM Contact WHERE Account.Name = 'acme'", ['Kay']],
    ['SELECT LastName FROM Contact WHERE Account.Name = null', ['Orphan']],
    [
      "SELECT LastName FROM Lead WHERE Owner.Username = 'admin@tandem.sandbox' AND IsConverted = false LIMIT 1",
      ['Ng'],
    ],
  ];
  it.each(cases)('%s', (soql, expected) => {
    expect(names(store, soql)).toEqual(expected);
  });

  it('nests relationship fields and gives null for a missing parent', () => {
    const compiled = compileQuery(
      'SELECT LastName, Account.Name, Account.Owner.Alias FROM Contact ORDER BY LastName',
      catalog,
      () => NOW,
    );
    const [kay, orphan] = runQuery(compiled, store, { includeDeleted: false }).map((row) =>
      projectRecord(row, compiled, store, '62.0'),
    );
    expect(kay).toMatchObject({
      attributes: { type: 'Contact' },
      LastName: 'Kay',
      Account: {
        attributes: { type: 'Account' },
        Name: 'Acme',
        Owner: { attributes: { type: 'User' }, Alias: 'admin' },
      },
    });
    expect(orphan).toEqual({
      attributes: {
        type: 'Contact',
        url: expect.stringMatching(/^\/services\/data\/v62\.0\/sobjects\/Contact\/003/),
      },
      LastName: 'Orphan',
      Account: null,
    });
  });

  it('hides deleted rows unless asked (queryAll)', () => {
    const local = seededStore();
    const [first] = runQuery(
      compileQuery('SELECT Id FROM Lead LIMIT 1', catalog, () => NOW),
      local,
      { includeDeleted: false },
    );
    local.delete('Lead', String(first?.['Id']));
    const compiled = compileQuery(
      'SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true',
      catalog,
      () => NOW,
    );
    expect(runQuery(compiled, local, { includeDeleted: false })).toHaveLength(0);
    expect(runQuery(compiled, local, { includeDeleted: true }).map((r) => r['Id'])).toEqual([first?.['Id']]);
  });
});
