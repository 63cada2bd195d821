import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Connection } from 'jsforce';
import { parseFaultSpec } from '../../src/sandbox/common/faults.js';
import { salesforceId } from '../../src/sandbox/world/salesforce-id.js';
import {
  rejection,
  startSalesforceSandbox,
  type RunningSalesforceSandbox,
} from './sandbox-salesforce-helpers.js';

type SaveResult = {
  id?: string | null;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  created?: boolean;
};

describe('Salesforce sandbox: records through jsforce', () => {
  let running: RunningSalesforceSandbox;
  let conn: Connection;

  beforeAll(async () => {
    running = await startSalesforceSandbox({ faultTimeoutMs: 20 });
  });
  beforeEach(async () => {
    running.sandbox.reset();
    conn = await running.connect();
  });
  afterAll(async () => {
    await running.close();
  });

  it('creates, reads (with ?fields), updates and deletes a lead; system fields are maintained', async () => {
    const created = (await conn
      .sobject('Lead')
      .create({ LastName: 'Ng', FirstName: 'Ada', Company: 'Acme', Email: 'ada@acme.com' })) as SaveResult;
    expect(created).toEqual({ id: expect.stringMatching(/^00Q[a-zA-Z0-9]{15}$/), success: true, errors: [] });
    const id = created.id as string;
    const lead = await conn.sobject('Lead').retrieve(id);
    expect(lead).toMatchObject({
      attributes: { type: 'Lead' },
      Id: id,
      Name: 'Ada Ng',
      Status: 'Open - Not Contacted',
      IsConverted: false,
      IsDeleted: false,
      CreatedDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/),
      OwnerId: expect.stringMatching(/^005/),
    });
    const partial = await conn.request(`/sobjects/Lead/${id}?fields=Email,Company`);
    expect(partial).toEqual({ attributes: expect.anything(), Email: 'ada@acme.com', Company: 'Acme' });
    await conn.sobject('Lead').update({ Id: id, Title: 'CTO' });
    expect(await conn.sobject('Lead').retrieve(id)).toMatchObject({ Title: 'CTO' });
    await conn.sobject('Lead').destroy(id);
    expect((await rejection(conn.sobject('Lead').retrieve(id))).errorCode).toBe('ENTITY_IS_DELETED');
  });

  it('an opportunity derives IsClosed, IsWon and Probability from StageName', async () => {
    const { id } = (await conn
      .sobject('Opportunity')
      .create({ Name: 'Deal', StageName: 'Prospecting', CloseDate: '2024-12-31' })) as SaveResult;
    expect(await conn.sobject('Opportunity').retrieve(id as string)).toMatchObject({
      Probability: 10,
      IsClosed: false,
      IsWon: false,
    });
    await conn.sobject('Opportunity').update({ Id: id as string, StageName: 'Closed Won' });
    expect(await conn.sobject('Opportunity').retrieve(id as string)).toMatchObject({
      Probability: 100,
      IsClosed: true,
      IsWon: true,
    });
  });

  it('upserts by external id: 201 created, then 200 updated, and reads by external id', async () => {
    const first = (await conn
      .sobject('Contact')
      .upsert({ HubSpot_Contact_ID__c: '501', LastName: 'Kay' }, 'HubSpot_Contact_ID__c')) as SaveResult;
    expect(first).toMatchObject({ success: true, created: true });
    const second = (await conn
      .sobject('Contact')
      .upsert({ HubSpot_Contact_ID__c: '501', Title: 'VP' }, 'HubSpot_Contact_ID__c')) as SaveResult;
    expect(second).toEqual({ id: first.id, success: true, errors: [], created: false });
    const byExternalId = await conn.request('/sobjects/Contact/HubSpot_Contact_ID__c/501');
    expect(byExternalId).toMatchObject({ Id: first.id, LastName: 'Kay', Title: 'VP' });
    const notExternal = await rejection(
      conn.sobject('Contact').upsert({ LastName: 'X', Email: 'x@y.com' }, 'LastName'),
    );
    expect(notExternal.errorCode).toBe('NOT_FOUND');
  });

  it('collections: create up to 200, reject 201 with EXCEEDED_ID_LIMIT, update, upsert, retrieve, delete', async () => {
    const leads = Array.from({ length: 200 }, (_, i) => ({
      LastName: `L${i}`,
      Company: 'Acme',
      Email: `l${i}@acme.com`,
    }));
    const results = (await conn.sobject('Lead').create(leads)) as SaveResult[];
    expect(results).toHaveLength(200);
    expect(results.every((r) => r.success)).toBe(true);
    const tooMany = await rejection(conn.sobject('Lead').create([...leads, { LastName: 'X', Company: 'Y' }]));
    expect(tooMany.errorCode).toBe('EXCEEDED_ID_LIMIT');
    const ids = results.map((r) => r.id as string);
    const updated = (await conn
      .sobject('Lead')
      .update(ids.slice(0, 2).map((Id) => ({ Id, Rating: 'Hot' })))) as SaveResult[];
    expect(updated.map((r) => r.success)).toEqual([true, true]);
    const retrieved = await conn.sobject('Lead').retrieve(ids.slice(0, 2), { fields: ['Rating'] });
    expect(retrieved.map((r) => (r as { Rating?: string } | null)?.Rating)).toEqual(['Hot', 'Hot']);
    const upserted = (await conn.sobject('Account').upsert(
      [
        { HubSpot_Company_ID__c: 'c1', Name: 'One' },
        { HubSpot_Company_ID__c: 'c1', Name: 'One again' },
      ],
      'HubSpot_Company_ID__c',
    )) as SaveResult[];
    expect(upserted.map((r) => r.created)).toEqual([true, false]);
    const deleted = (await conn.sobject('Lead').destroy(ids.slice(0, 3))) as SaveResult[];
    expect(deleted).toEqual(ids.slice(0, 3).map((id) => ({ id, success: true, errors: [] })));
  });

  it('collections allOrNone=false keeps the good records and reports statusCode per record', async () => {
    const results = (await conn
      .sobject('Lead')
      .create([{ LastName: 'Good', Company: 'Acme' }, { LastName: 'Bad' }])) as SaveResult[];
    expect(results[0]).toMatchObject({ success: true });
    expect(results[1]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'REQUIRED_FIELD_MISSING',
          message: 'Required fields are missing: [Company]',
          fields: ['Company'],
        },
      ],
    });
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(1);
  });

  it('collections allOrNone=true rolls every record back', async () => {
    const results = (await conn.sobject('Lead').create(
      [
        { LastName: 'Good', Company: 'Acme' },
        { LastName: 'Bad', Company: 'Acme', Tandem_Lifecycle_Stage__c: 'bogus' },
      ],
      { allOrNone: true },
    )) as SaveResult[];
    expect(results[0]).toEqual({
      id: null,
      success: false,
      errors: [expect.objectContaining({ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK' })],
    });
    expect(results[1]?.errors[0]?.statusCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(0);
  });

  describe('write validation', () => {
    const cases: Array<
      [label: string, object: string, record: Record<string, unknown>, errorCode: string, fields: string[]]
    > = [
      ['unknown field', 'Lead', { LastName: 'A', Company: 'B', Foo__c: 1 }, 'INVALID_FIELD', ['Foo__c']],
      [
        'read-only field',
        'Lead',
        { LastName: 'A', Company: 'B', IsConverted: true },
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        ['IsConverted'],
      ],
      [
        'string too long',
        'Lead',
        { LastName: 'A'.repeat(81), Company: 'B' },
        'STRING_TOO_LONG',
        ['LastName'],
      ],
      [
        'restricted picklist',
        'Contact',
        { LastName: 'A', Tandem_Lifecycle_Stage__c: 'MQL!' },
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        ['Tandem_Lifecycle_Stage__c'],
      ],
      ['required field (Contact)', 'Contact', { FirstName: 'A' }, 'REQUIRED_FIELD_MISSING', ['LastName']],
      [
        'required fields (Opportunity)',
        'Opportunity',
        { Name: 'D' },
        'REQUIRED_FIELD_MISSING',
        ['StageName', 'CloseDate'],
      ],
      ['required field (Account)', 'Account', { Website: 'x.com' }, 'REQUIRED_FIELD_MISSING', ['Name']],
      ['malformed reference', 'Contact', { LastName: 'A', AccountId: 'nope' }, 'MALFORMED_ID', ['AccountId']],
    ];
    it.each(cases)('%s', async (_label, object, record, errorCode, fields) => {
      const error = await rejection(conn.sobject(object).create(record));
      expect(error.errorCode).toBe(errorCode);
      expect((error.data as { fields?: string[] }).fields).toEqual(fields);
    });

    it('duplicate rule on Lead email (case-insensitive) → DUPLICATES_DETECTED', async () => {
      await conn.sobject('Lead').create({ LastName: 'A', Company: 'B', Email: 'Dup@Example.com' });
      const error = await rejection(
        conn.sobject('Lead').create({ LastName: 'C', Company: 'D', Email: 'dup@example.com' }),
      );
      expect(error.errorCode).toBe('DUPLICATES_DETECTED');
    });

    it('unique external id → DUPLICATE_VALUE', async () => {
      await conn.sobject('Lead').create({ LastName: 'A', Company: 'B', HubSpot_Contact_ID__c: '7' });
      const error = await rejection(
        conn.sobject('Lead').create({ LastName: 'C', Company: 'D', HubSpot_Contact_ID__c: '7' }),
      );
      expect(error.errorCode).toBe('DUPLICATE_VALUE');
    });

    it('bad ids: MALFORMED_ID and 404 NOT_FOUND', async () => {
      expect((await rejection(conn.sobject('Lead').retrieve('bogus'))).errorCode).toBe('MALFORMED_ID');
      const neverCreated = salesforceId('00Q', 999_999);
      const notFound = await rejection(conn.sobject('Lead').update({ Id: neverCreated, Title: 'x' }));
      expect(notFound.errorCode).toBe('NOT_FOUND');
      expect(notFound.message).toBe('The requested resource does not exist');
    });
  });

  it('convert-lead links Account, Contact and Opportunity; a converted lead cannot be updated', async () => {
    const { id } = (await conn.sobject('Lead').create({
      LastName: 'Ng',
      Company: 'Acme',
      Email: 'ada@acme.com',
      HubSpot_Contact_ID__c: '42',
      Tandem_Lifecycle_Stage__c: 'sql',
    })) as SaveResult;
    const result = (await running.control('convert-lead', { leadId: id })) as Record<string, string>;
    expect(result).toMatchObject({
      success: true,
      accountId: expect.stringMatching(/^001/),
      contactId: expect.stringMatching(/^003/),
      opportunityId: expect.stringMatching(/^006/),
    });
    const lead = await conn.query(
      `SELECT IsConverted, Status, ConvertedContact.Email, ConvertedContact.HubSpot_Contact_ID__c, ConvertedAccount.Name FROM Lead WHERE Id = '${id}'`,
    );
    expect(lead.records[0]).toMatchObject({
      IsConverted: true,
      Status: 'Closed - Converted',
      ConvertedContact: { Email: 'ada@acme.com', HubSpot_Contact_ID__c: '42' },
      ConvertedAccount: { Name: 'Acme' },
    });
    const roles = await conn.query(
      `SELECT ContactId, IsPrimary FROM OpportunityContactRole WHERE OpportunityId = '${result['opportunityId']}'`,
    );
    expect(roles.records).toEqual([
      expect.objectContaining({ ContactId: result['contactId'], IsPrimary: true }),
    ]);
    const error = await rejection(conn.sobject('Lead').update({ Id: id as string, Title: 'x' }));
    expect(error.errorCode).toBe('CANNOT_UPDATE_CONVERTED_LEAD');
  });

  it('merge deletes the merged Accounts with MasterRecordId set and moves their Contacts and Opportunities', async () => {
    const [master, loser] = (await conn
      .sobject('Account')
      .create([{ Name: 'Globex' }, { Name: 'Globex Corp' }])) as SaveResult[];
    const masterId = master?.id as string;
    const loserId = loser?.id as string;
    const contact = (await conn
      .sobject('Contact')
      .create({ LastName: 'Moved', AccountId: loserId })) as SaveResult;
    const opportunity = (await conn.sobject('Opportunity').create({
      Name: 'Globex renewal',
      StageName: 'Prospecting',
      CloseDate: '2030-01-01',
      AccountId: loserId,
    })) as SaveResult;
    const result = (await running.control('merge', {
      object: 'Account',
      masterRecordId: masterId,
      mergedIds: [loserId],
      fields: { Website: 'globex.com' },
    })) as { id: string; mergedRecordIds: string[]; updatedRelatedIds: string[] };
    expect(result).toMatchObject({ id: masterId, mergedRecordIds: [loserId], success: true });
    expect(new Set(result.updatedRelatedIds)).toEqual(new Set([contact.id, opportunity.id]));

    const live = await conn.query(
      `SELECT Id, Website FROM Account WHERE Id IN ('${masterId}', '${loserId}')`,
    );
    expect(live.records).toEqual([expect.objectContaining({ Id: masterId, Website: 'globex.com' })]);
    const gone = await conn.query(
      `SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE Id = '${loserId}'`,
      { scanAll: true },
    );
    expect(gone.records[0]).toMatchObject({ IsDeleted: true, MasterRecordId: masterId });
    const children = await conn.query(`SELECT AccountId FROM Contact WHERE Id = '${contact.id}'`);
    expect(children.records[0]).toMatchObject({ AccountId: masterId });
    const moved = await conn.query(`SELECT AccountId FROM Opportunity WHERE Id = '${opportunity.id}'`);
    expect(moved.records[0]).toMatchObject({ AccountId: masterId });

    const self = (await running.control('merge', {
      object: 'Account',
      masterRecordId: masterId,
      mergedIds: [masterId],
    })) as Array<{ errorCode: string }>;
    expect(self[0]?.errorCode).toBe('INVALID_OPERATION');
  });

  it('describe: fields, restricted picklists, external ids, relationships; global describe', async () => {
    const lead = await conn.sobject('Lead').describe();
    const field = (name: string) => lead.fields.find((f) => f.name === name);
    expect(lead.keyPrefix).toBe('00Q');
    expect(field('Status')).toMatchObject({ type: 'picklist', restrictedPicklist: false, nillable: false });
    expect(field('Status')?.picklistValues?.find((p) => p.defaultValue)?.value).toBe('Open - Not Contacted');
    expect(field('Tandem_Lifecycle_Stage__c')).toMatchObject({ restrictedPicklist: true, custom: true });
    expect(field('Tandem_Lifecycle_Stage__c')?.picklistValues?.map((p) => p.value)).toContain('mql');
    expect(field('HubSpot_Contact_ID__c')).toMatchObject({ externalId: true, unique: true, length: 32 });
    expect(field('ConvertedAccountId')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'ConvertedAccount',
      updateable: false,
    });
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'Lead',
        'Contact',
        'Account',
        'Opportunity',
        'OpportunityContactRole',
        'Campaign',
        'CampaignMember',
      ]),
    );
  });

  it('limits and the Sforce-Limit-Info header; over quota → 403 REQUEST_LIMIT_EXCEEDED', async () => {
    await conn.query('SELECT COUNT() FROM Lead');
    const limits = (await conn.request('/limits')) as {
      DailyApiRequests: { Max: number; Remaining: number };
    };
    expect(limits.DailyApiRequests.Max).toBe(115_000);
    expect(limits.DailyApiRequests.Remaining).toBe(115_000 - running.sandbox.apiUsage.used);
    expect(conn.limitInfo.apiUsage).toEqual({ used: running.sandbox.apiUsage.used, limit: 115_000 });
    await running.control('api-usage', { used: 115_000 });
    const error = await rejection(conn.query('SELECT COUNT() FROM Lead'));
    expect(error.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(error.message).toBe('TotalRequests Limit exceeded.');
  });

  it('updated and deleted within a window', async () => {
    const start = new Date(Date.now() - 60_000);
    const { id } = (await conn.sobject('Lead').create({ LastName: 'A', Company: 'B' })) as SaveResult;
    const { id: gone } = (await conn.sobject('Lead').create({ LastName: 'C', Company: 'D' })) as SaveResult;
    await conn.sobject('Lead').destroy(gone as string);
    const end = new Date(Date.now() + 120_000);
    const updated = await conn.sobject('Lead').updated(start.toISOString(), end.toISOString());
    expect(updated.ids).toEqual([id]);
    expect(updated.latestDateCovered).toMatch(/:00\.000\+0000$/);
    const deleted = await conn.sobject('Lead').deleted(start.toISOString(), end.toISOString());
    expect(deleted.deletedRecords).toEqual([{ id: gone, deletedDate: expect.stringMatching(/\+0000$/) }]);
  });

  it.each([
    ['5xx=1', 'SERVER_UNAVAILABLE'],
    ['429=1', 'REQUEST_LIMIT_EXCEEDED'],
  ])('fault %s on a (non-retried) POST → %s', async (spec, errorCode) => {
    running.sandbox.faults.spec = parseFaultSpec(spec);
    try {
      const error = await rejection(conn.sobject('Lead').create({ LastName: 'A', Company: 'B' }));
      expect(error.errorCode).toBe(errorCode);
    } finally {
      running.sandbox.faults.spec = parseFaultSpec('');
    }
    expect(running.sandbox.stats.snapshot().faults[spec.startsWith('5') ? '5xx' : '429']).toBe(1);
  });

  it('an injected timeout drops the connection', async () => {
    running.sandbox.faults.spec = parseFaultSpec('timeout=1');
    try {
      const error = await rejection(conn.sobject('Lead').create({ LastName: 'A', Company: 'B' }));
      expect(error.message).toMatch(/socket hang up|ECONNRESET|other side closed|terminated/i);
    } finally {
      running.sandbox.faults.spec = parseFaultSpec('');
    }
  });
});
