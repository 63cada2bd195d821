import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { checkHubSpotResponse } from '../support/openapi.js';
import {
  startHubSpotSandbox,
  type CapturedResponse,
  type HubSpotSandboxHarness,
} from '../support/hubspot-sandbox.js';

interface ApiFailure {
  code: number;
  body: { message: string; category: string };
}

async function failure(promise: Promise<unknown>): Promise<ApiFailure> {
  try {
    await promise;
  } catch (error) {
    return error as ApiFailure;
  }
  throw new Error('expected the SDK call to fail');
}

function expectValid(response: CapturedResponse): void {
  const check = checkHubSpotResponse(response.method, response.path, response.statusCode, response.body);
  expect({ path: check.specPath, errors: check.errors }).toEqual({ path: check.specPath, errors: [] });
}

describe('HubSpot sandbox: CRM v3 objects through @hubspot/api-client', () => {
  let h: HubSpotSandboxHarness;

  beforeAll(async () => {
    h = await startHubSpotSandbox({ limits: { tenSecondly: 100_000, searchPerSecond: 100_000 } });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.control('/__sandbox/reset', {});
  });

  it('creates (201), reads by id and by email, updates and archives a contact', async () => {
    const created = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'ada@example.com', firstname: 'Ada', lastname: 'Lovelace' },
      associations: [],
    });
    expect(h.last('POST', /^\/crm\/v3\/objects\/contacts$/).statusCode).toBe(201);
    expectValid(h.last('POST', /^\/crm\/v3\/objects\/contacts$/));
    expect(created.properties).toMatchObject({ email: 'ada@example.com', hs_object_id: created.id });
    expect(created.properties['createdate']).toBe(created.properties['lastmodifieddate']);

    const byEmail = await h.client.crm.contacts.basicApi.getById(
      'ADA@example.com',
      undefined,
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(created.id);
    expectValid(h.last('GET', /^\/crm\/v3\/objects\/contacts\/.+/));

    const updated = await h.client.crm.contacts.basicApi.update(created.id, {
      properties: { jobtitle: 'Analyst' },
    });
    expect(updated.properties['jobtitle']).toBe('Analyst');
    expectValid(h.last('PATCH', /^\/crm\/v3\/objects\/contacts\/.+/));

    await h.client.crm.contacts.basicApi.archive(created.id);
    expect(h.last('DELETE', /^\/crm\/v3\/objects\/contacts\/.+/).statusCode).toBe(204);
    const missing = await failure(h.client.crm.contacts.basicApi.getById(created.id));
    expect(missing.code).toBe(404);
    expect(missing.body.category).toBe('OBJECT_NOT_FOUND');
    const archived = await h.client.crm.contacts.basicApi.getById(
      created.id,
      undefined,
      undefined,
      undefined,
      true,
    );
    expect(archived.archived).toBe(true);
  });

  it("returns HubSpot's default properties when none are asked for, and null for empty asked-for ones", async () => {
    const company = await h.client.crm.companies.basicApi.create({
      properties: { name: 'Acme' },
      associations: [],
    });
    const read = await h.client.crm.companies.basicApi.getById(company.id);
    expect(Object.keys(read.properties).sort()).toEqual([
      'createdate',
      'domain',
      'hs_lastmodifieddate',
      'hs_object_id',
      'name',
    ]);
    expect(read.properties['domain']).toBeNull();
    expectValid(h.last('GET', /^\/crm\/v3\/objects\/companies\/.+/));
    const asked = await h.client.crm.companies.basicApi.getById(company.id, ['industry']);
    expect(asked.properties).toEqual({
      industry: null,
      createdate: company.properties['createdate'],
      hs_lastmodifieddate: company.properties['hs_lastmodifieddate'],
      hs_object_id: company.id,
    });
  });

  it('pages a list by `after` in id order until `paging` is absent', async () => {
    const inputs = Array.from({ length: 25 }, (_, i) => ({
      properties: { dealname: `Deal ${i}` },
      associations: [],
    }));
    await h.client.crm.deals.batchApi.create({ inputs });
    const names: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await h.client.crm.deals.basicApi.getPage(10, after, ['dealname']);
      expectValid(h.last('GET', /^\/crm\/v3\/objects\/deals$/));
      names.push(...page.results.map((r) => r.properties['dealname'] ?? ''));
      after = page.paging?.next?.after;
      pages += 1;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(names).toEqual(inputs.map((i) => i.properties.dealname));
  });

  it.each([
    ['an unknown property', { foo: 'x' }, 'PROPERTY_DOESNT_EXIST', 'Property \\"foo\\" does not exist'],
    ['a read-only property', { hubspotscore: '10' }, 'READ_ONLY_VALUE', 'hubspotscore'],
    [
      'a value outside the options',
      { lifecyclestage: 'hot' },
      'INVALID_OPTION',
      'hot was not one of the allowed options',
    ],
    [
      'a non-number for a number',
      { tandem_lead_score: 'lots' },
      'INVALID_DECIMAL',
      'lots was not a valid number',
    ],
    ['a malformed email', { email: 'not-an-email' }, 'INVALID_EMAIL', 'not-an-email'],
  ])('rejects %s with 400 VALIDATION_ERROR in HubSpot shape', async (_case, properties, code, text) => {
    const error = await failure(h.client.crm.contacts.basicApi.create({ properties, associations: [] }));
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(error.body.message).toMatch(/^Property values were not valid: \[/);
    const details = JSON.parse(error.body.message.slice('Property values were not valid: '.length)) as {
      isValid: boolean;
      error: string;
      name: string;
    }[];
    expect(details[0]).toMatchObject({ isValid: false, error: code, name: Object.keys(properties)[0] });
    expect(error.body.message).toContain(text);
    expectValid(h.last('POST', /^\/crm\/v3\/objects\/contacts$/));
  });

  it('answers 409 CONFLICT naming the existing id when a contact email already exists', async () => {
    const first = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'dup@example.com' },
      associations: [],
    });
    const error = await failure(
      h.client.crm.contacts.basicApi.create({ properties: { email: 'DUP@example.com' }, associations: [] }),
    );
    expect(error.code).toBe(409);
    expect(error.body).toMatchObject({
      category: 'CONFLICT',
      message: `Contact already exists. Existing ID: ${first.id}`,
    });
  });

  it('moves lifecyclestage forward only; a backwards set is ignored; clearing first allows it', async () => {
    const contact = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'stage@example.com', lifecyclestage: 'customer' },
      associations: [],
    });
    const back = await h.client.crm.contacts.basicApi.update(contact.id, {
      properties: { lifecyclestage: 'lead' },
    });
    expect(back.properties['lifecyclestage']).toBe('customer');
    await h.client.crm.contacts.basicApi.update(contact.id, { properties: { lifecyclestage: '' } });
    const moved = await h.client.crm.contacts.basicApi.update(contact.id, {
      properties: { lifecyclestage: 'lead' },
    });
    expect(moved.properties['lifecyclestage']).toBe('lead');
    const withHistory = await h.client.crm.contacts.basicApi.getById(contact.id, undefined, [
      'lifecyclestage',
    ]);
    expectValid(h.last('GET', /^\/crm\/v3\/objects\/contacts\/.+/));
    expect(withHistory.propertiesWithHistory?.['lifecyclestage']?.map((v) => v.value)).toEqual([
      'lead',
      '',
      'customer',
    ]);
  });

  it('batch-reads with a missing id as 207 with errors and numErrors', async () => {
    const created = await h.client.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'a@example.com' }, associations: [] },
        { properties: { email: 'b@example.com' }, associations: [] },
      ],
    });
    expect(h.last('POST', /batch\/create$/).statusCode).toBe(201);
    expectValid(h.last('POST', /batch\/create$/));
    const ids = created.results.map((r) => r.id).sort();
    const read = await h.client.crm.contacts.batchApi.read({
      inputs: [...ids.map((id) => ({ id })), { id: '999999' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    const raw = h.last('POST', /batch\/read$/);
    expect(raw.statusCode).toBe(207);
    expectValid(raw);
    expect(read.results.map((r) => r.id).sort()).toEqual(ids);
    expect(raw.body).toMatchObject({
      status: 'COMPLETE',
      numErrors: 1,
      errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } }],
    });
  });

  it('batch-updates by id, and upserts by email with new: true/false', async () => {
    const existing = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'known@example.com', firstname: 'Old' },
      associations: [],
    });
    const updated = await h.client.crm.contacts.batchApi.update({
      inputs: [{ id: existing.id, properties: { firstname: 'New' } }],
    });
    expect(updated.results[0]?.properties['firstname']).toBe('New');
    expectValid(h.last('POST', /batch\/update$/));

    const upserted = await h.client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'known@example.com', idProperty: 'email', properties: { lastname: 'Known' } },
        { id: 'fresh@example.com', idProperty: 'email', properties: { lastname: 'Fresh' } },
      ],
    });
    expectValid(h.last('POST', /batch\/upsert$/));
    const byEmail = new Map(upserted.results.map((r) => [r.properties['email'], r]));
    expect(byEmail.get('known@example.com')).toMatchObject({ id: existing.id, _new: false });
    expect(byEmail.get('fresh@example.com')?._new).toBe(true);
  });

  it('batch-archives by id (204, no body): archived records leave reads and lists, unknown ids are ignored', async () => {
    const created = await h.client.crm.companies.batchApi.create({
      inputs: ['a', 'b', 'c'].map((n) => ({
        properties: { name: `Archive ${n}`, domain: `${n}.example.com` },
        associations: [],
      })),
    });
    const [gone1, gone2, kept] = created.results.map((r) => r.id);
    await h.client.crm.companies.batchApi.archive({
      inputs: [{ id: String(gone1) }, { id: String(gone2) }, { id: '999999999' }],
    });
    const archive = h.last('POST', /^\/crm\/v3\/objects\/companies\/batch\/archive$/);
    expect(archive.statusCode).toBe(204);
    expectValid(archive);

    const page = await h.client.crm.companies.basicApi.getPage(100);
    expect(page.results.map((r) => r.id)).toEqual([kept]);
    const read = await h.client.crm.companies.batchApi.read({
      inputs: [{ id: String(gone1) }, { id: String(kept) }],
      properties: ['name'],
      propertiesWithHistory: [],
    });
    expect(read.results.map((r) => r.id)).toEqual([kept]);
    const archived = await h.client.crm.companies.basicApi.getById(
      String(gone1),
      ['name'],
      undefined,
      undefined,
      true,
    );
    expect(archived).toMatchObject({
      archived: true,
      properties: expect.objectContaining({ name: 'Archive a' }),
    });
  });

  it('rejects a batch archive of 101 inputs with 400, archiving none of them', async () => {
    const created = await h.client.crm.contacts.batchApi.create({
      inputs: Array.from({ length: 100 }, (_, i) => ({
        properties: { email: `arch${i}@example.com` },
        associations: [],
      })),
    });
    const inputs = [...created.results.map((r) => ({ id: r.id })), { id: '999999999' }];
    expect(inputs).toHaveLength(101);
    const error = await failure(h.client.crm.contacts.batchApi.archive({ inputs }));
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(error.body.message).toContain('101');
    expectValid(h.last('POST', /^\/crm\/v3\/objects\/contacts\/batch\/archive$/));
    const page = await h.client.crm.contacts.basicApi.getPage(100);
    expect(page.results).toHaveLength(100);
  });

  it('rejects batches over 100 inputs (and reads with history over 50) with 400', async () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => ({
      properties: { email: `x${i}@example.com` },
      associations: [],
    }));
    const error = await failure(h.client.crm.contacts.batchApi.create({ inputs: tooMany }));
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(error.body.message).toContain('101');
    const ids = Array.from({ length: 51 }, (_, i) => ({ id: String(1001 + i) }));
    const historyError = await failure(
      h.client.crm.contacts.batchApi.read({ inputs: ids, properties: [], propertiesWithHistory: ['email'] }),
    );
    expect(historyError.code).toBe(400);
  });

  it('fails a whole batch create when one input is invalid, writing nothing', async () => {
    const error = await failure(
      h.client.crm.contacts.batchApi.create({
        inputs: [
          { properties: { email: 'ok@example.com' }, associations: [] },
          { properties: { email: 'bad@example.com', nope: '1' }, associations: [] },
        ],
      }),
    );
    expect(error.code).toBe(400);
    const page = await h.client.crm.contacts.basicApi.getPage(10);
    expect(page.results).toHaveLength(0);
  });

  it('merges two contacts: the primary survives, keeps its values, gains the other email and blanks', async () => {
    const primary = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'p@example.com', firstname: 'Primary' },
      associations: [],
    });
    const other = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'o@example.com', firstname: 'Other', jobtitle: 'CTO' },
      associations: [],
    });
    const merged = await h.client.crm.contacts.basicApi.merge({
      primaryObjectId: primary.id,
      objectIdToMerge: other.id,
    });
    expectValid(h.last('POST', /merge$/));
    expect(merged.id).toBe(primary.id);
    expect(merged.properties).toMatchObject({
      firstname: 'Primary',
      jobtitle: 'CTO',
      hs_additional_emails: 'o@example.com',
    });
    const viaOldEmail = await h.client.crm.contacts.basicApi.getById(
      'o@example.com',
      undefined,
      undefined,
      undefined,
      false,
      'email',
    );
    expect(viaOldEmail.id).toBe(primary.id);
  });

  it('GDPR-deletes a contact by email (204) so it is gone even from archived reads', async () => {
    const contact = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'gone@example.com' },
      associations: [],
    });
    await h.client.crm.contacts.basicApi.purge({ objectId: 'gone@example.com', idProperty: 'email' });
    expect(h.last('POST', /gdpr-delete$/).statusCode).toBe(204);
    expect(
      (
        await failure(
          h.client.crm.contacts.basicApi.getById(contact.id, undefined, undefined, undefined, true),
        )
      ).code,
    ).toBe(404);
  });

  it('serves the properties API: the 324 real contact definitions plus custom ones, and creates new ones', async () => {
    const all = await h.client.crm.properties.coreApi.getAll('contacts');
    expectValid(h.last('GET', /^\/crm\/v3\/properties\/contacts$/));
    const names = all.results.map((p) => p.name);
    expect(names.length).toBeGreaterThanOrEqual(324);
    expect(names).toEqual(
      expect.arrayContaining(['salesforce_lead_id', 'tandem_lifecycle_stage', 'tandem_lead_score']),
    );
    const score = await h.client.crm.properties.coreApi.getByName('contacts', 'hubspotscore');
    expect(score.modificationMetadata?.readOnlyValue).toBe(true);

    await h.client.crm.properties.coreApi.create('deals', {
      name: 'tandem_region',
      label: 'Region',
      type: 'enumeration' as never,
      fieldType: 'select' as never,
      groupName: 'dealinformation',
      options: [
        { label: 'EMEA', value: 'emea', hidden: false },
        { label: 'AMER', value: 'amer', hidden: false },
      ],
    });
    expect(h.last('POST', /^\/crm\/v3\/properties\/deals$/).statusCode).toBe(201);
    expectValid(h.last('POST', /^\/crm\/v3\/properties\/deals$/));
    const deal = await h.client.crm.deals.basicApi.create({
      properties: { dealname: 'X', tandem_region: 'emea' },
      associations: [],
    });
    expect(deal.properties['tandem_region']).toBe('emea');
    const bad = await failure(
      h.client.crm.deals.basicApi.create({
        properties: { dealname: 'Y', tandem_region: 'apac' },
        associations: [],
      }),
    );
    expect(bad.code).toBe(400);
  });

  it('derives closed/won from the deal stage and serves the default pipeline', async () => {
    const deal = await h.client.crm.deals.basicApi.create({
      properties: { dealname: 'Big', dealstage: 'closedwon', amount: '5000' },
      associations: [],
    });
    expect(deal.properties).toMatchObject({
      pipeline: 'default',
      hs_is_closed_won: 'true',
      hs_is_closed: 'true',
    });
    const pipelines = await h.client.crm.pipelines.pipelinesApi.getAll('deals');
    expect(pipelines.results[0]?.stages.map((s) => s.id)).toEqual([
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]);
  });

  it('has a spec checker that catches a body off the spec (so the checks above can fail)', () => {
    const wrong = checkHubSpotResponse('GET', '/crm/v3/objects/contacts/1', 200, {
      id: 1,
      properties: { a: 2 },
    });
    expect(wrong.errors.length).toBeGreaterThan(0);
    const wrongError = checkHubSpotResponse('GET', '/crm/v3/objects/contacts/1', 404, { message: 'x' });
    expect(wrongError.errors.join(' ')).toContain('category');
  });

  it('checks every captured response when a harness closes, failing the file on one off the spec', async () => {
    const other = await startHubSpotSandbox();
    await other.client.crm.contacts.basicApi.getPage(10);
    expect(other.nonConforming()).toEqual([]);
    other.responses.push(
      {
        method: 'GET',
        path: '/crm/v3/objects/contacts',
        statusCode: 200,
        headers: {},
        body: { results: 'x' },
      },
      {
        method: 'GET',
        path: '/crm/v3/objects/contacts',
        statusCode: 429,
        headers: {},
        body: { message: 'slow' },
      },
    );
    expect(other.nonConforming()).toEqual([
      expect.stringMatching(
        /^GET \/crm\/v3\/objects\/contacts 200 \(\/crm\/v3\/objects\/contacts\): \/results must be array/,
      ),
      expect.stringMatching(/^GET \/crm\/v3\/objects\/contacts 429 \(rate-limit body/),
    ]);
    await expect(other.close()).rejects.toThrow(
      /^2 of 3 HubSpot sandbox responses are off the OpenAPI specs/,
    );
  });
});
