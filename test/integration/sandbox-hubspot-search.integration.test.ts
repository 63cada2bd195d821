import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HubSpotWorld } from '../../src/sandbox/world/schema.js';
import { checkHubSpotResponse } from '../support/openapi.js';
import { startHubSpotSandbox, type HubSpotSandboxHarness } from '../support/hubspot-sandbox.js';

type Filter = {
  propertyName: string;
  operator: string;
  value?: string;
  values?: string[];
  highValue?: string;
};

function company(id: string, updatedAt: string, properties: Record<string, string>, archived = false) {
  return { id, properties, createdAt: '2023-12-01T00:00:00.000Z', updatedAt, archived };
}

const WORLD: Partial<HubSpotWorld> = {
  companies: [
    company('1001', '2024-01-01T00:00:00.000Z', {
      name: 'Acme Corp',
      numberofemployees: '50',
      industry: 'COMPUTER_SOFTWARE',
      domain: 'acme.com',
    }),
    company('1002', '2024-01-02T00:00:00.000Z', {
      name: 'Globex',
      numberofemployees: '500',
      industry: 'RETAIL',
      domain: 'globex.com',
    }),
    company('1003', '2024-01-02T00:00:00.000Z', { name: 'Initech Software', numberofemployees: '5' }),
    company('1004', '2024-01-03T00:00:00.000Z', { name: 'Umbrella', industry: 'INSURANCE' }),
    company('1005', '2024-01-03T00:00:00.000Z', { name: 'Acme Archived', domain: 'old.com' }, true),
  ],
};

const JAN_2 = String(Date.parse('2024-01-02T00:00:00.000Z'));

describe('HubSpot sandbox: CRM search through @hubspot/api-client', () => {
  let h: HubSpotSandboxHarness;
  const search = (body: Record<string, unknown>) =>
    h.client.crm.companies.searchApi.doSearch({
      filterGroups: [],
      sorts: [],
      properties: ['name'],
      limit: 100,
      after: '0',
      ...body,
    } as never);
  const idsOf = async (body: Record<string, unknown>) => (await search(body)).results.map((r) => r.id);
  const failure = async (body: Record<string, unknown>) => {
    try {
      await search(body);
    } catch (error) {
      return error as { code: number; body: { category: string; message: string } };
    }
    throw new Error('expected the search to fail');
  };

  beforeAll(async () => {
    h = await startHubSpotSandbox({ limits: { tenSecondly: 100_000, searchPerSecond: 100_000 } });
    const loaded = await h.control('/__sandbox/world', WORLD);
    expect(loaded.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
  });

  it.each<[string, Filter, string[]]>([
    ['EQ (case-insensitive)', { propertyName: 'name', operator: 'EQ', value: 'globex' }, ['1002']],
    [
      'NEQ (includes records without a value)',
      { propertyName: 'industry', operator: 'NEQ', value: 'RETAIL' },
      ['1001', '1003', '1004'],
    ],
    ['LT', { propertyName: 'numberofemployees', operator: 'LT', value: '50' }, ['1003']],
    ['LTE', { propertyName: 'numberofemployees', operator: 'LTE', value: '50' }, ['1001', '1003']],
    [
      'GT (numeric, not lexical)',
      { propertyName: 'numberofemployees', operator: 'GT', value: '50' },
      ['1002'],
    ],
    ['GTE', { propertyName: 'numberofemployees', operator: 'GTE', value: '50' }, ['1001', '1002']],
    [
      'BETWEEN',
      { propertyName: 'numberofemployees', operator: 'BETWEEN', value: '10', highValue: '500' },
      ['1001', '1002'],
    ],
    ['IN', { propertyName: 'industry', operator: 'IN', values: ['retail', 'insurance'] }, ['1002', '1004']],
    [
      'NOT_IN',
      { propertyName: 'industry', operator: 'NOT_IN', values: ['RETAIL'] },
      ['1001', '1003', '1004'],
    ],
    [
      'HAS_PROPERTY',
      { propertyName: 'numberofemployees', operator: 'HAS_PROPERTY' },
      ['1001', '1002', '1003'],
    ],
    ['NOT_HAS_PROPERTY', { propertyName: 'domain', operator: 'NOT_HAS_PROPERTY' }, ['1003', '1004']],
    [
      'CONTAINS_TOKEN (a word)',
      { propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'software' },
      ['1003'],
    ],
    [
      'CONTAINS_TOKEN (wildcard)',
      { propertyName: 'domain', operator: 'CONTAINS_TOKEN', value: '*.com' },
      ['1001', '1002'],
    ],
    [
      'NOT_CONTAINS_TOKEN',
      { propertyName: 'name', operator: 'NOT_CONTAINS_TOKEN', value: 'software' },
      ['1001', '1002', '1004'],
    ],
    [
      'GT on a datetime given as ISO',
      { propertyName: 'hs_lastmodifieddate', operator: 'GT', value: '2024-01-01T12:00:00Z' },
      ['1002', '1003', '1004'],
    ],
    [
      'GTE on a datetime given as epoch ms',
      { propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: JAN_2 },
      ['1002', '1003', '1004'],
    ],
    [
      'LT on a datetime given as epoch ms',
      { propertyName: 'hs_lastmodifieddate', operator: 'LT', value: JAN_2 },
      ['1001'],
    ],
  ])('%s', async (_name, filter, expected) => {
    expect(await idsOf({ filterGroups: [{ filters: [filter] }] })).toEqual(expected);
    const raw = h.last('POST', /\/search$/);
    expect(checkHubSpotResponse(raw.method, raw.path, raw.statusCode, raw.body).errors).toEqual([]);
  });

  it('ORs filter groups and ANDs filters within a group; archived records never appear', async () => {
    const ids = await idsOf({
      filterGroups: [
        { filters: [{ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'acme' }] },
        {
          filters: [
            { propertyName: 'industry', operator: 'HAS_PROPERTY' },
            { propertyName: 'numberofemployees', operator: 'NOT_HAS_PROPERTY' },
          ],
        },
      ],
    });
    expect(ids).toEqual(['1001', '1004']);
  });

  it.each([
    [
      'ascending',
      { propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' },
      ['1001', '1002', '1003', '1004'],
    ],
    [
      'descending',
      { propertyName: 'hs_lastmodifieddate', direction: 'DESCENDING' },
      ['1004', '1002', '1003', '1001'],
    ],
    ['"-createdate" shorthand, all tied', '-createdate', ['1001', '1002', '1003', '1004']],
  ])('breaks sort ties by id ascending (%s)', async (_name, sort, expected) => {
    expect(await idsOf({ sorts: [sort] })).toEqual(expected);
  });

  it('answers total, requested plus default properties, and an offset `after` for the next page', async () => {
    const first = await search({
      limit: 3,
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
    });
    expect(first.total).toBe(4);
    expect(first.paging?.next?.after).toBe('3');
    expect(Object.keys(first.results[0]?.properties ?? {}).sort()).toEqual([
      'createdate',
      'hs_lastmodifieddate',
      'hs_object_id',
      'name',
    ]);
    const second = await search({
      limit: 3,
      after: '3',
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
    });
    expect(second.results.map((r) => r.id)).toEqual(['1004']);
    expect(second.paging).toBeUndefined();
  });

  it('matches the free-text query', async () => {
    expect(await idsOf({ query: 'glob' })).toEqual(['1002']);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['paging past 10,000 results', { after: '10000', limit: 10 }, '10000'],
    ['a page that would end past 10,000', { after: '9995', limit: 10 }, '10000'],
    ['a limit over 200', { limit: 201 }, '200'],
    [
      'more than 5 filter groups',
      {
        filterGroups: Array.from({ length: 6 }, () => ({
          filters: [{ propertyName: 'name', operator: 'HAS_PROPERTY' }],
        })),
      },
      'filter groups',
    ],
    [
      'more than 6 filters in a group',
      {
        filterGroups: [
          { filters: Array.from({ length: 7 }, () => ({ propertyName: 'name', operator: 'HAS_PROPERTY' })) },
        ],
      },
      'filters in filterGroups[0]',
    ],
    [
      'more than 18 filters in all',
      {
        filterGroups: Array.from({ length: 4 }, () => ({
          filters: Array.from({ length: 5 }, () => ({ propertyName: 'name', operator: 'HAS_PROPERTY' })),
        })),
      },
      'at most 18',
    ],
    [
      'an unknown operator',
      { filterGroups: [{ filters: [{ propertyName: 'name', operator: 'LIKE', value: 'a' }] }] },
      'LIKE',
    ],
    [
      'an unknown property',
      { filterGroups: [{ filters: [{ propertyName: 'nope', operator: 'EQ', value: 'a' }] }] },
      'nope',
    ],
    ['two sorts', { sorts: ['name', 'createdate'] }, 'one sort'],
  ])('rejects %s with 400 VALIDATION_ERROR', async (_name, body, text) => {
    const error = await failure(body);
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(error.body.message).toContain(text);
  });
});

describe('HubSpot sandbox: the per-second search limit', () => {
  let h: HubSpotSandboxHarness;
  const frozen = Date.parse('2024-03-01T10:00:00.000Z');

  beforeAll(async () => {
    h = await startHubSpotSandbox({ now: () => frozen });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers the sixth search within one second with 429 SECONDLY, without ten-secondly headers', async () => {
    const request = { filterGroups: [], sorts: [], properties: [], limit: 1, after: '0' };
    const outcomes = [];
    for (let i = 0; i < 6; i += 1) {
      outcomes.push(
        await h.client.crm.contacts.searchApi.doSearch(request as never).then(
          () => 200,
          (error: { code: number }) => error.code,
        ),
      );
    }
    expect(outcomes).toEqual([200, 200, 200, 200, 200, 429]);
    const raw = h.last('POST', /\/search$/);
    expect(raw.body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
      message: 'You have reached your secondly limit.',
    });
    expect(raw.headers['x-hubspot-ratelimit-max']).toBeUndefined();
    expect(raw.headers['x-hubspot-ratelimit-daily-remaining']).toBeDefined();
    // Ordinary requests are not affected by the search limit.
    await expect(h.client.crm.contacts.basicApi.getPage(1)).resolves.toBeDefined();
  });
});
