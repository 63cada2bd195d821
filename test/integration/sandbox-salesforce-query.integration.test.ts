import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connection } from 'jsforce';
import { salesforceId } from '../../src/sandbox/world/salesforce-id.js';
import { SalesforceWorldSchema } from '../../src/sandbox/world/schema.js';
import {
  rejection,
  startSalesforceSandbox,
  type RunningSalesforceSandbox,
} from './sandbox-salesforce-helpers.js';

const LEADS = 4_500;
const START = Date.parse('2024-01-01T00:00:00Z');

/** 4,500 leads, one a second, every tenth sharing its SystemModstamp with the next (ties for the Id tie-break). */
function world() {
  const lead = (i: number) => {
    const stamp = new Date(START + Math.floor(i / 2) * 1000).toISOString();
    return {
      Id: salesforceId('00Q', 1000 + i),
      LastName: `Lead ${i}`,
      Company: i % 3 === 0 ? 'Acme' : 'Globex',
      Email: `lead${i}@example.com`,
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
    };
  };
  return SalesforceWorldSchema.parse({
    records: {
      Lead: Array.from({ length: LEADS }, (_, i) => lead(i)),
      Account: [{ Id: salesforceId('001', 1), Name: 'Acme' }],
      Contact: [{ Id: salesforceId('003', 2), LastName: 'Kay', AccountId: salesforceId('001', 1) }],
    },
  });
}

describe('Salesforce sandbox: query through jsforce', () => {
  let running: RunningSalesforceSandbox;
  let conn: Connection;

  beforeAll(async () => {
    running = await startSalesforceSandbox();
    running.sandbox.loadWorld(world());
    conn = await running.connect();
  });
  afterAll(async () => {
    await running.close();
  });

  it('pages by 2,000 with nextRecordsUrl and queryMore', async () => {
    const first = await conn.query('SELECT Id, LastName FROM Lead');
    expect(first.totalSize).toBe(LEADS);
    expect(first.done).toBe(false);
    expect(first.records).toHaveLength(2000);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g[a-zA-Z0-9]{15}-2000$/);
    const second = await conn.queryMore(first.nextRecordsUrl as string);
    expect(second.records).toHaveLength(2000);
    const third = await conn.queryMore(second.nextRecordsUrl as string);
    expect(third.records).toHaveLength(500);
    expect(third.done).toBe(true);
    expect(third.nextRecordsUrl).toBeUndefined();
    const ids = new Set([...first.records, ...second.records, ...third.records].map((r) => r.Id));
    expect(ids.size).toBe(LEADS);
  });

  it('autoFetch reads every page; Sforce-Query-Options batchSize sets the page size', async () => {
    running.sandbox.stats.reset();
    const all = await conn.query('SELECT Id FROM Lead', {
      autoFetch: true,
      maxFetch: 10_000,
      headers: { 'Sforce-Query-Options': 'batchSize=500' },
    });
    expect(all.records).toHaveLength(LEADS);
    expect(running.sandbox.stats.snapshot().calls).toEqual({
      'GET /services/data/vXX.X/query': 1,
      'GET /services/data/vXX.X/query/:locator': LEADS / 500 - 1,
    });
    expect(running.sandbox.stats.snapshot().recordsRead).toBe(LEADS);
  });

  it('incremental window: SystemModstamp > X ORDER BY SystemModstamp, Id LIMIT n, with ties broken by Id', async () => {
    const soql = (after: string) =>
      `SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > ${after} ORDER BY SystemModstamp, Id LIMIT 3`;
    const result = await conn.query<{ Id: string; SystemModstamp: string }>(soql('2024-01-01T00:00:01Z'));
    expect(result.records.map((r) => r.SystemModstamp)).toEqual([
      '2024-01-01T00:00:02.000+0000',
      '2024-01-01T00:00:02.000+0000',
      '2024-01-01T00:00:03.000+0000',
    ]);
    expect(result.records.map((r) => r.Id)).toEqual([4, 5, 6].map((i) => salesforceId('00Q', 1000 + i)));
  });

  it('COUNT(), relationship fields, and case-insensitive keywords and field names', async () => {
    const count = await conn.query("select count() from lead where company = 'ACME'");
    expect(count.totalSize).toBe(1500);
    expect(count.records).toEqual([]);
    const contacts = await conn.query('SELECT lastname, account.name FROM Contact');
    expect(contacts.records).toEqual([
      {
        attributes: {
          type: 'Contact',
          url: `/services/data/v62.0/sobjects/Contact/${salesforceId('003', 2)}`,
        },
        LastName: 'Kay',
        Account: {
          attributes: {
            type: 'Account',
            url: `/services/data/v62.0/sobjects/Account/${salesforceId('001', 1)}`,
          },
          Name: 'Acme',
        },
      },
    ]);
  });

  it('queryAll sees deleted rows with IsDeleted; query does not', async () => {
    const id = salesforceId('00Q', 1000);
    await conn.sobject('Lead').destroy(id);
    const live = await conn.query(`SELECT Id FROM Lead WHERE Id = '${id}'`);
    expect(live.totalSize).toBe(0);
    const all = await conn.query(`SELECT Id, IsDeleted FROM Lead WHERE Id = '${id}'`, { scanAll: true });
    expect(all.records).toEqual([expect.objectContaining({ Id: id, IsDeleted: true })]);
  });

  it.each([
    ['SELECT Id FRM Lead', 'MALFORMED_QUERY', /unexpected token: 'FRM'/],
    ['SELECT Foo FROM Lead', 'INVALID_FIELD', /No such column 'Foo' on entity 'Lead'/],
    ['SELECT Id FROM Widget', 'INVALID_TYPE', /sObject type 'Widget' is not supported/],
  ])('%s → 400 %s', async (soql, errorCode, message) => {
    const error = await rejection(conn.query(soql));
    expect(error.errorCode).toBe(errorCode);
    expect(error.message).toMatch(message);
  });

  it('a made-up query locator is INVALID_QUERY_LOCATOR', async () => {
    const error = await rejection(
      conn.queryMore(`/services/data/v62.0/query/${salesforceId('01g', 99_999)}-2000`),
    );
    expect(error.errorCode).toBe('INVALID_QUERY_LOCATOR');
  });
});
