import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WriteOp } from '../../src/connectors/connector.js';
import { leadWorld, START, startHarness, type Harness } from './salesforce-connector-helpers.js';

describe('Salesforce sandbox Bulk API 2.0 through jsforce, and the connector bulk write path', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ bulkQueryPageSize: 4 });
  });
  afterAll(async () => {
    await h.close();
  });

  it('jsforce loadAndWaitForResults: a bad row fails alone with its sf__Error, nulls via #N/A', async () => {
    h.running.sandbox.reset();
    const conn = (await h.connector()).caller.conn;
    const csv = [
      'LastName,Company,Email,HubSpot_Contact_ID__c,Tandem_Lead_Score__c',
      'One,Acme,one@example.com,h1,10',
      'Two,Acme,bad-email,h2,20',
      'Three,Acme,three@example.com,h3,#N/A',
      '',
    ].join('\n');
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Lead',
      operation: 'upsert',
      externalIdFieldName: 'HubSpot_Contact_ID__c',
      input: csv,
      pollInterval: 5,
    });
    expect(
      results.successfulResults.map((r) => [r.sf__Created, (r as Record<string, unknown>)['LastName']]),
    ).toEqual([
      ['true', 'One'],
      ['true', 'Three'],
    ]);
    expect(results.failedResults).toHaveLength(1);
    expect(results.failedResults[0]?.sf__Error).toBe(
      'INVALID_EMAIL_ADDRESS:Email: invalid email address: bad-email:Email --',
    );
    const again = await conn.bulk2.loadAndWaitForResults({
      object: 'Lead',
      operation: 'upsert',
      externalIdFieldName: 'HubSpot_Contact_ID__c',
      input: csv,
      pollInterval: 5,
    });
    expect(again.successfulResults.map((r) => r.sf__Created)).toEqual(['false', 'false']);
    const stats = await h.stats();
    expect(stats.calls['PUT /services/data/vXX.X/jobs/ingest/:id/batches']).toBeGreaterThanOrEqual(2);
  });

  it('a job whose CSV names an unknown field fails as a whole', async () => {
    const conn = (await h.connector()).caller.conn;
    await expect(
      conn.bulk2.loadAndWaitForResults({
        object: 'Lead',
        operation: 'insert',
        input: 'LastName,NoSuchField__c\nX,y\n',
        pollInterval: 5,
      }),
    ).rejects.toThrow(/Field name not found : NoSuchField__c/);
  });

  it('a single-page jsforce bulk2.query streams typed CSV rows; query jobs reject aggregates', async () => {
    h.running.sandbox.loadWorld(leadWorld(3));
    const conn = (await h.connector()).caller.conn;
    const stream = await conn.bulk2.query('SELECT Id, Email, SystemModstamp, IsConverted FROM Lead', {
      pollInterval: 5,
    });
    const rows: Array<Record<string, string>> = [];
    for await (const row of stream) rows.push(row as Record<string, string>);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ IsConverted: 'false', SystemModstamp: expect.stringMatching(/Z$/) });
    await expect(conn.bulk2.query('SELECT COUNT() FROM Lead', { pollInterval: 5 })).rejects.toThrow(
      /Aggregate/,
    );
  });

  it('the connector writes 20,000 upserts in one job and names the few bad rows', async () => {
    h.running.sandbox.reset();
    h.clock.now = START;
    const salesforce = await h.connector({ bulkThreshold: 10_000 });
    await fetch(`${h.running.url}/__sandbox/stats/reset`, { method: 'POST' });
    const ops: WriteOp[] = Array.from({ length: 20_000 }, (_, i) => ({
      kind: 'upsert',
      ref: `r${i}`,
      idProperty: 'HubSpot_Contact_ID__c',
      idValue: `hs-${i}`,
      fields: {
        LastName: `Bulk ${i}`,
        Company: 'Acme',
        Email: i % 5_000 === 17 ? `broken-${i}` : `bulk${i}@example.com`,
        Tandem_Lead_Score__c: i % 100,
        HasOptedOutOfEmail: i % 2 === 0,
      },
    }));
    const outcomes = await salesforce.write('Lead', ops);
    expect(outcomes.map((o) => o.ref)).toEqual(ops.map((o) => o.ref));
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.ref);
    expect(failed).toEqual(['r17', 'r5017', 'r10017', 'r15017']);
    expect(outcomes[17]).toMatchObject({
      ok: false,
      classification: { kind: 'permanent', code: 'SALESFORCE_INVALID_EMAIL_ADDRESS', field: 'Email' },
    });
    expect(outcomes[3]).toMatchObject({ ok: true, created: true });
    const stats = await h.stats();
    expect(stats.totalCalls).toBeLessThanOrEqual(10);
    const replay = await salesforce.write('Lead', ops);
    expect(replay.filter((o) => o.ok && o.created)).toEqual([]);
    expect((await salesforce.caller.conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(19_996);
  }, 60_000);
});
