import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseFaultSpec } from '../../src/sandbox/common/faults.js';
import type { HubSpotWorld } from '../../src/sandbox/world/schema.js';
import { checkHubSpotResponse } from '../support/openapi.js';
import {
  startHubSpotSandbox,
  type CapturedResponse,
  type HubSpotSandboxHarness,
} from '../support/hubspot-sandbox.js';

async function failure(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; body: Record<string, unknown> };
  }
  throw new Error('expected the SDK call to fail');
}

function specErrors(r: CapturedResponse): string[] {
  return checkHubSpotResponse(r.method, r.path, r.statusCode, r.body).errors;
}

describe('HubSpot sandbox: associations v4', () => {
  let h: HubSpotSandboxHarness;
  let contactId: string;
  let companyId: string;
  let dealId: string;

  beforeAll(async () => {
    h = await startHubSpotSandbox({ limits: { tenSecondly: 100_000 } });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.control('/__sandbox/reset', {});
    contactId = (
      await h.client.crm.contacts.basicApi.create({
        properties: { email: 'c@example.com' },
        associations: [],
      })
    ).id;
    companyId = (
      await h.client.crm.companies.basicApi.create({ properties: { name: 'Co' }, associations: [] })
    ).id;
    dealId = (await h.client.crm.deals.basicApi.create({ properties: { dealname: 'D' }, associations: [] }))
      .id;
  });

  it('creates the default association both ways and lists it v4- and v3-style', async () => {
    await h.client.crm.associations.v4.basicApi.createDefault('contacts', contactId, 'companies', companyId);
    expect(specErrors(h.last('PUT', /associations\/default/))).toEqual([]);
    const fromCompany = await h.client.crm.associations.v4.basicApi.getPage(
      'companies',
      companyId,
      'contacts',
    );
    expect(specErrors(h.last('GET', /\/crm\/v4\/objects/))).toEqual([]);
    expect(fromCompany.results).toEqual([
      expect.objectContaining({
        toObjectId: contactId,
        associationTypes: [expect.objectContaining({ typeId: 280 })],
      }),
    ]);
    const contact = await h.client.crm.contacts.basicApi.getById(contactId, undefined, undefined, [
      'companies',
    ]);
    expect(contact.associations?.['companies']?.results).toEqual([
      expect.objectContaining({ id: companyId, type: 'contact_to_company_unlabeled' }),
    ]);
  });

  it('creates labelled (primary) associations, batch-reads them with 207 for records without any, and archives', async () => {
    await h.client.crm.associations.v4.basicApi.create('deals', dealId, 'companies', companyId, [
      { associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 },
    ]);
    expect(h.last('PUT', /\/crm\/v4\/objects/).statusCode).toBe(201);
    expect(specErrors(h.last('PUT', /\/crm\/v4\/objects/))).toEqual([]);
    await h.client.crm.associations.v4.batchApi.create('deals', 'contacts', {
      inputs: [
        {
          _from: { id: dealId },
          to: { id: contactId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 3 }],
        },
      ],
    });
    expect(specErrors(h.last('POST', /batch\/create$/))).toEqual([]);
    const read = await h.client.crm.associations.v4.batchApi.getPage('companies', 'deals', {
      inputs: [{ id: companyId }, { id: '424242' }],
    });
    const raw = h.last('POST', /batch\/read$/);
    expect(raw.statusCode).toBe(207);
    expect(specErrors(raw)).toEqual([]);
    expect(read.results[0]?.to[0]?.associationTypes.map((t) => t.typeId)).toEqual([6]);
    const contactDeals = await h.client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'deals');
    expect(contactDeals.results[0]?.associationTypes[0]?.typeId).toBe(4);

    await h.client.crm.associations.v4.batchApi.archive('deals', 'contacts', {
      inputs: [{ _from: { id: dealId }, to: [{ id: contactId }] }],
    });
    expect(
      (await h.client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'deals')).results,
    ).toEqual([]);
  });

  it('rejects a batch read over 1,000 inputs', async () => {
    const inputs = Array.from({ length: 1001 }, (_, i) => ({ id: String(i + 1) }));
    const error = await failure(
      h.client.crm.associations.v4.batchApi.getPage('contacts', 'companies', { inputs }),
    );
    expect(error.code).toBe(400);
  });
});

describe('HubSpot sandbox: authentication, rate limits and faults', () => {
  let h: HubSpotSandboxHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers a wrong bearer token with 401 INVALID_AUTHENTICATION in HubSpot shape', async () => {
    h = await startHubSpotSandbox();
    const error = await failure(h.clientWithToken('pat-wrong').crm.contacts.basicApi.getPage());
    expect(error.code).toBe(401);
    expect(error.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(String(error.body['message'])).toContain('Authentication credentials not found');
    expect(specErrors(h.last('GET', /contacts$/))).toEqual([]);
  });

  it('sends the rate-limit headers and a TEN_SECONDLY_ROLLING 429 when the window is full', async () => {
    const frozen = Date.parse('2024-03-01T10:00:00.000Z');
    h = await startHubSpotSandbox({ now: () => frozen, limits: { tenSecondly: 3 } });
    for (let i = 0; i < 3; i += 1) await h.client.crm.contacts.basicApi.getPage(1);
    expect(h.last('GET', /contacts$/).headers).toMatchObject({
      'x-hubspot-ratelimit-max': '3',
      'x-hubspot-ratelimit-remaining': '0',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-daily': '625000',
      'x-hubspot-ratelimit-daily-remaining': '624997',
    });
    const error = await failure(h.client.crm.contacts.basicApi.getPage(1));
    expect(error.code).toBe(429);
    const raw = h.last('GET', /contacts$/);
    expect(raw.body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(raw.headers['retry-after']).toBeUndefined();
    expect(raw.headers['content-type']).toMatch(/^application\/json/);
    const stats = await h.control<{ rateLimited: number }>('/__sandbox/stats');
    expect(stats.body.rateLimited).toBe(1);
  });

  it('lets the window roll: requests are allowed again 10 s later', async () => {
    let clock = Date.parse('2024-03-01T10:00:00.000Z');
    h = await startHubSpotSandbox({ now: () => clock, limits: { tenSecondly: 1 } });
    await h.client.crm.contacts.basicApi.getPage(1);
    expect((await failure(h.client.crm.contacts.basicApi.getPage(1))).code).toBe(429);
    clock += 10_001;
    await expect(h.client.crm.contacts.basicApi.getPage(1)).resolves.toBeDefined();
  });

  it('answers 429 DAILY once the daily quota is spent, for searches too', async () => {
    h = await startHubSpotSandbox({ limits: { daily: 2 } });
    await h.client.crm.contacts.basicApi.getPage(1);
    await h.client.crm.contacts.basicApi.getPage(1);
    expect((await failure(h.client.crm.contacts.basicApi.getPage(1))).code).toBe(429);
    expect(h.last('GET', /contacts$/).body).toMatchObject({
      policyName: 'DAILY',
      message: 'You have reached your daily limit.',
    });
    const search = { filterGroups: [], sorts: [], properties: [], limit: 1, after: '0' };
    expect((await failure(h.client.crm.contacts.searchApi.doSearch(search as never))).code).toBe(429);
  });

  it('applies the tier limits and lets setTier change them', async () => {
    h = await startHubSpotSandbox({ tier: 'starter' });
    await h.client.crm.contacts.basicApi.getPage(1);
    expect(h.last('GET', /contacts$/).headers['x-hubspot-ratelimit-max']).toBe('100');
    h.sandbox.setTier('enterprise');
    await h.client.crm.contacts.basicApi.getPage(1);
    expect(h.last('GET', /contacts$/).headers).toMatchObject({
      'x-hubspot-ratelimit-max': '190',
      'x-hubspot-ratelimit-daily': '1000000',
    });
  });

  it.each<[string, string, number[]]>([
    ['5xx', '5xx=1', [502, 503]],
    ['429', '429=1', [429]],
  ])('injects %s faults in HubSpot shape and counts them', async (kind, spec, codes) => {
    h = await startHubSpotSandbox({ faults: parseFaultSpec(spec) });
    const error = await failure(h.client.crm.contacts.basicApi.getPage(1));
    expect(codes).toContain(error.code);
    expect(h.last('GET', /contacts$/).body).toMatchObject({ status: 'error' });
    const stats = await h.control<{ faults: Record<string, number> }>('/__sandbox/stats');
    expect(stats.body.faults[kind]).toBe(1);
    // The controls are never faulted.
    expect((await h.control('/__sandbox/faults', { spec: '' })).status).toBe(200);
    await expect(h.client.crm.contacts.basicApi.getPage(1)).resolves.toBeDefined();
  });

  it('holds a timed-out request without answering, then gives up with 504', async () => {
    h = await startHubSpotSandbox({ faults: parseFaultSpec('timeout=1'), timeoutHangMs: 200 });
    const error = await failure(h.client.crm.contacts.basicApi.getPage(1));
    expect(error.code).toBe(504);
    const stats = await h.control<{ faults: { timeout: number } }>('/__sandbox/stats');
    expect(stats.body.faults.timeout).toBe(1);
  });

  it('rejects a bad fault spec on /__sandbox/faults naming the problem', async () => {
    h = await startHubSpotSandbox();
    const answer = await h.control<{ message: string }>('/__sandbox/faults', { spec: '5xx=2' });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('5xx="2"');
  });
});

describe('HubSpot sandbox: /__sandbox controls', () => {
  let h: HubSpotSandboxHarness;
  const clock = { now: Date.parse('2024-05-01T09:00:00.000Z') };

  beforeAll(async () => {
    h = await startHubSpotSandbox({ now: () => clock.now, limits: { tenSecondly: 100_000 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates a contact on a form submission and counts conversions and page views like HubSpot tracking', async () => {
    const first = await h.control<{ created: boolean; contact: { id: string } }>(
      '/__sandbox/form-submission',
      {
        email: 'lead@example.com',
        formId: 'demo-request',
        properties: { firstname: 'Lee' },
        source: 'PAID_SEARCH',
      },
    );
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(true);
    clock.now += 60_000;
    await h.control('/__sandbox/page-view', {
      email: 'lead@example.com',
      url: 'https://example.com/pricing',
      source: 'ORGANIC_SEARCH',
    });
    clock.now += 60 * 60_000;
    await h.control('/__sandbox/page-view', {
      contactId: first.body.contact.id,
      url: 'https://example.com/docs',
    });
    await h.control('/__sandbox/form-submission', { email: 'lead@example.com', formId: 'demo-request' });

    const contact = await h.client.crm.contacts.basicApi.getById(first.body.contact.id, [
      'firstname',
      'lifecyclestage',
      'hs_analytics_source',
      'hs_latest_source',
      'hs_analytics_num_page_views',
      'hs_analytics_num_visits',
      'num_conversion_events',
      'num_unique_conversion_events',
      'first_conversion_event_name',
      'first_conversion_date',
      'recent_conversion_date',
    ]);
    expect(contact.properties).toMatchObject({
      firstname: 'Lee',
      lifecyclestage: 'lead',
      hs_analytics_source: 'PAID_SEARCH',
      hs_latest_source: 'DIRECT_TRAFFIC',
      hs_analytics_num_page_views: '2',
      hs_analytics_num_visits: '2',
      num_conversion_events: '2',
      num_unique_conversion_events: '1',
      first_conversion_event_name: 'demo-request: Form',
      first_conversion_date: '2024-05-01T09:00:00.000Z',
      recent_conversion_date: new Date(clock.now).toISOString(),
    });
  });

  it('rejects a page view for an unknown contact with 404', async () => {
    const answer = await h.control('/__sandbox/page-view', { email: 'nobody@example.com', url: 'https://x' });
    expect(answer.status).toBe(404);
  });

  it('round-trips a world: export, reset, load, same records and associations; new ids never reuse old ones', async () => {
    await h.control('/__sandbox/reset', {});
    const contact = await h.client.crm.contacts.basicApi.create({
      properties: { email: 'w@example.com' },
      associations: [],
    });
    const company = await h.client.crm.companies.basicApi.create({
      properties: { name: 'W' },
      associations: [],
    });
    await h.client.crm.associations.v4.basicApi.createDefault(
      'contacts',
      contact.id,
      'companies',
      company.id,
    );
    const exported = await h.control<HubSpotWorld>('/__sandbox/world');
    await h.control('/__sandbox/reset', {});
    expect((await h.client.crm.contacts.basicApi.getPage(10)).results).toEqual([]);
    expect((await h.control('/__sandbox/world', exported.body)).status).toBe(200);
    const again = await h.control<HubSpotWorld>('/__sandbox/world');
    expect(again.body).toEqual(exported.body);
    const next = await h.client.crm.deals.basicApi.create({
      properties: { dealname: 'n' },
      associations: [],
    });
    expect(Number(next.id)).toBeGreaterThan(Number(company.id));
  });

  it('rejects an invalid world naming the field', async () => {
    const answer = await h.control<{ message: string }>('/__sandbox/world', { contacts: [{ id: 'abc' }] });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('contacts.0.id');
  });
});
