import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ApiBudget } from '../../src/connectors/budget.js';
import { RateLimitedError, TransientError } from '../../src/connectors/classify.js';
import type { Checkpoint, PullPage, WriteOp } from '../../src/connectors/connector.js';
import { HubSpotConnector, type HubSpotConnectorOptions } from '../../src/connectors/hubspot/connector.js';
import { parseFaultSpec } from '../../src/sandbox/common/faults.js';
import { DEFAULT_HUBSPOT_TOKEN } from '../../src/sandbox/hubspot/server.js';
import { HubSpotWorldSchema, type HubSpotRecord } from '../../src/sandbox/world/schema.js';
import { startHubSpotSandbox, type HubSpotSandboxHarness } from '../support/hubspot-sandbox.js';

const PROPERTIES = { contacts: ['email', 'firstname', 'lifecyclestage'], companies: ['name', 'domain'] };

function contact(id: number, updatedAt: string, extra: Record<string, string> = {}): HubSpotRecord {
  return {
    id: String(id),
    properties: { email: `person${id}@example.com`, firstname: `P${id}`, ...extra },
    createdAt: '2023-01-01T00:00:00.000Z',
    updatedAt,
    archived: false,
  };
}

/** `n` contacts from id 1001 with timestamps a minute apart, every third pair sharing one. */
function contacts(n: number, firstId = 1001): HubSpotRecord[] {
  const base = Date.parse('2024-03-01T00:00:00.000Z');
  return Array.from({ length: n }, (_, i) =>
    contact(firstId + i, new Date(base + Math.floor(i / 2) * 60_000).toISOString()),
  );
}

async function drain(pages: AsyncIterable<PullPage>, stopAfter = Infinity) {
  const seen: PullPage[] = [];
  for await (const page of pages) {
    seen.push(page);
    if (seen.length >= stopAfter) break;
  }
  const ids = seen.flatMap((p) => p.records.map((r) => r.id));
  return { pages: seen, ids, checkpoint: seen.at(-1)?.checkpoint ?? null };
}

function countBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

let h: HubSpotSandboxHarness;
const redis = new Redis(process.env['TEST_REDIS_URL'] ?? '', { lazyConnect: true });
let prefix: string;

function connector(extra: Partial<HubSpotConnectorOptions> = {}): HubSpotConnector {
  return new HubSpotConnector({
    accessToken: DEFAULT_HUBSPOT_TOKEN,
    baseUrl: h.baseUrl,
    properties: PROPERTIES,
    retry: { minBackoffMs: 5, maxBackoffMs: 50, maxRateLimitWaitMs: 1_100 },
    ...extra,
  });
}

function budget(daily = 1_000_000): ApiBudget {
  return new ApiBudget({
    redis,
    prefix,
    system: 'hubspot',
    window: { max: 190, windowMs: 10_000 },
    search: { max: 5, windowMs: 1_000 },
    daily: { quota: daily, budgetPercent: 50, resets: 'utc-midnight' },
  });
}

function load(people: HubSpotRecord[]): void {
  h.sandbox.loadWorld(HubSpotWorldSchema.parse({ contacts: people }));
}

async function liveContacts(): Promise<HubSpotRecord[]> {
  return h.sandbox.exportWorld().contacts.filter((c) => !c.archived);
}

beforeAll(async () => {
  h = await startHubSpotSandbox();
});
afterAll(async () => {
  await h.close();
  await redis.quit();
});
beforeEach(() => {
  h.sandbox.reset();
  h.sandbox.faults.spec = parseFaultSpec('');
  h.sandbox.stats.reset();
  h.sandbox.searchIndex.lagMs = 0;
  prefix = `test-${randomUUID()}`;
});
afterEach(async () => {
  const mine = await redis.keys(`${prefix}:*`);
  if (mine.length > 0) await redis.del(...mine);
});

describe('HubSpot connector: pull', () => {
  it('back-fills through the list endpoint, then picks up exactly the changed records by search', async () => {
    load(contacts(350));
    const hubspot = connector({ budget: budget() });
    const first = await drain(hubspot.pull('contacts', null));
    expect(first.ids).toHaveLength(350);
    expect(new Set(first.ids).size).toBe(350);
    expect(first.pages[0]?.checkpoint.phase).toBe('backfill');
    expect(first.checkpoint?.phase).toBe('incremental');
    expect(h.sandbox.stats.snapshot().calls['GET /crm/v3/objects/contacts']).toBeGreaterThanOrEqual(4);
    const record = first.pages[0]?.records[0];
    expect(record).toMatchObject({
      system: 'hubspot',
      object: 'contacts',
      fields: { email: 'person1001@example.com' },
    });

    const changes: WriteOp[] = [1005, 1100, 1101, 1200, 1349].map((id) => ({
      kind: 'update',
      ref: `u${id}`,
      recordId: String(id),
      fields: { firstname: `Changed ${id}` },
    }));
    changes.push({ kind: 'create', ref: 'new', fields: { email: 'new@example.com', firstname: 'New' } });
    changes.push({ kind: 'archive', ref: 'gone', recordId: '1002', fields: {} });
    const outcomes = await hubspot.write('contacts', changes);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const created = outcomes.find((o) => o.ref === 'new');
    const createdId = created?.ok === true ? created.recordId : 'none';

    const second = await drain(hubspot.pull('contacts', first.checkpoint));
    expect(second.ids.sort()).toEqual(['1005', '1100', '1101', '1200', '1349', createdId].sort());
    expect(second.pages.flatMap((p) => p.deleted.map((d) => d.id))).toEqual(['1002']);
    const changed = second.pages.flatMap((p) => p.records).find((r) => r.id === '1200');
    expect(changed?.fields['firstname']).toBe('Changed 1200');

    // Nothing changed since: nothing comes back.
    const third = await drain(hubspot.pull('contacts', second.checkpoint));
    expect(third.ids).toEqual([]);
    expect(third.pages.flatMap((p) => p.deleted)).toEqual([]);
  });

  it('scans the archived list on every pull, but on scheduled ones only once the interval has passed', async () => {
    load(contacts(120));
    let clock = Date.now();
    const hubspot = connector({ now: () => clock, deletionScanIntervalMs: 60_000 });
    const listCalls = () => h.sandbox.stats.snapshot().calls['GET /crm/v3/objects/contacts'] ?? 0;
    const first = await drain(hubspot.pull('contacts', null));
    const scannedAt = first.checkpoint?.phase === 'incremental' ? first.checkpoint.deletionsScannedAt : '';
    expect(scannedAt).toBe(new Date(clock).toISOString());
    await hubspot.write('contacts', [{ kind: 'archive', ref: 'gone', recordId: '1002', fields: {} }]);

    clock += 30_000;
    const before = listCalls();
    const early = await drain(hubspot.pull('contacts', first.checkpoint, { deletionScan: 'when-due' }));
    expect(listCalls()).toBe(before);
    expect(early.pages.flatMap((p) => p.deleted)).toEqual([]);
    const unchanged = early.checkpoint ?? first.checkpoint;
    expect(unchanged).toMatchObject({ deletionsScannedAt: scannedAt });

    // A pull that is not a scheduler's tick (sync --once, a replay) scans whatever the interval.
    const manual = await drain(hubspot.pull('contacts', unchanged));
    expect(manual.pages.flatMap((p) => p.deleted.map((d) => d.id))).toEqual(['1002']);

    clock += 31_000;
    await hubspot.write('contacts', [{ kind: 'archive', ref: 'gone', recordId: '1003', fields: {} }]);
    const due = await drain(hubspot.pull('contacts', unchanged, { deletionScan: 'when-due' }));
    expect(due.pages.flatMap((p) => p.deleted.map((d) => d.id)).sort()).toEqual(['1002', '1003']);
    expect(due.checkpoint).toMatchObject({ deletionsScannedAt: new Date(clock).toISOString() });
  });

  it("reads changes the search index took a while to show when searchLagMs covers the index's lag", async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const ids = Array.from({ length: 40 }, (_, i) => String(1001 + i));
    const touch = (hubspot: HubSpotConnector, round: string) =>
      hubspot.write(
        'contacts',
        ids.map((id) => ({ kind: 'update', ref: id, recordId: id, fields: { firstname: `${round} ${id}` } })),
      );
    const readAfter = async (hubspot: HubSpotConnector, from: Checkpoint | null, waitMs: number) => {
      await sleep(waitMs);
      return drain(hubspot.pull('contacts', from));
    };
    load(contacts(40));
    const start = (await drain(connector().pull('contacts', null))).checkpoint;
    h.sandbox.searchIndex.lagMs = 4_000;

    // Without a lag of its own, a pull passes changes the index does not show yet: they are never read.
    const eager = connector();
    await touch(eager, 'Eager');
    const early = await readAfter(eager, start, 1_000);
    const late = await readAfter(eager, early.checkpoint, 3_500);
    const eagerRead = new Set([...early.ids, ...late.ids]);
    expect(early.ids.length).toBeGreaterThan(0);
    expect(eagerRead.size).toBeLessThan(ids.length);

    // Reading only what is older than the index's lag: every change, each once.
    const patient = connector({ searchLagMs: 4_100 });
    const from = late.checkpoint;
    await touch(patient, 'Patient');
    const first = await readAfter(patient, from, 1_000);
    const second = await readAfter(patient, first.checkpoint, 3_500);
    expect([...first.ids, ...second.ids].sort()).toEqual([...ids].sort());
  });

  it('pulls more than 10,000 changes sharing one timestamp exactly once each, without looping', async () => {
    const tie = '2024-06-01T12:00:00.000Z';
    const world = [
      ...Array.from({ length: 20 }, (_, i) =>
        contact(100 + i, `2024-05-01T00:00:${String(i).padStart(2, '0')}.000Z`),
      ),
      // Ids deliberately not in insertion order, so no order but the (timestamp, id) key can be relied on.
      ...Array.from({ length: 10_250 }, (_, i) => contact(200_000 - i * 3, tie)),
      ...Array.from({ length: 30 }, (_, i) =>
        contact(300 + i, `2024-07-01T00:00:${String(i).padStart(2, '0')}.000Z`),
      ),
    ];
    load(world);
    const start: Checkpoint = {
      system: 'hubspot',
      object: 'contacts',
      phase: 'incremental',
      since: '2024-01-01T00:00:00.000Z',
      lastId: null,
      deletedSince: '2024-01-01T00:00:00.000Z',
    };
    const { ids, checkpoint } = await drain(connector({ budget: budget() }).pull('contacts', start));
    const counts = countBy(ids);
    expect(counts.size).toBe(world.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(checkpoint).toMatchObject({ since: '2024-07-01T00:00:29.000Z', lastId: '329' });
    // Bounded: about one search per 200 records, never the 10,000-offset wall.
    const searches = h.sandbox.stats.snapshot().calls['POST /crm/v3/objects/contacts/search'] ?? 0;
    expect(searches).toBeLessThan(world.length / 200 + 10);
  }, 120_000);

  it('resumes from the last saved checkpoint after a crash, with no gaps', async () => {
    load(contacts(480));
    const hubspot = connector();
    const crashed = await drain(hubspot.pull('contacts', null, { pageSize: 100 }), 2);
    expect(crashed.checkpoint?.phase).toBe('backfill');
    const resumed = await drain(hubspot.pull('contacts', crashed.checkpoint, { pageSize: 100 }));
    const all = [...crashed.ids, ...resumed.ids];
    expect(new Set(all).size).toBe(480);
    expect(all).toHaveLength(480);

    // 300 changes, then a crash after three incremental pages, then a restart.
    const ops: WriteOp[] = Array.from({ length: 300 }, (_, i) => ({
      kind: 'update',
      ref: String(i),
      recordId: String(1001 + i),
      fields: { lifecyclestage: 'lead' },
    }));
    expect((await hubspot.write('contacts', ops)).filter((o) => !o.ok)).toEqual([]);
    const partial = await drain(hubspot.pull('contacts', resumed.checkpoint, { pageSize: 50 }), 3);
    expect(partial.ids.length).toBeLessThan(300);
    const rest = await drain(hubspot.pull('contacts', partial.checkpoint, { pageSize: 50 }));
    const changed = new Set([...partial.ids, ...rest.ids]);
    expect(changed).toEqual(new Set(ops.map((o) => o.recordId)));
  });
});

describe('HubSpot connector: write', () => {
  beforeEach(() => {
    load(contacts(10));
  });

  it('maps 207 partial failures to their ops and writes the batch-mates', async () => {
    const outcomes = await connector().write('contacts', [
      { kind: 'update', ref: 'a', recordId: '1001', fields: { firstname: 'Ann' } },
      { kind: 'update', ref: 'missing', recordId: '999999', fields: { firstname: 'Nobody' } },
      { kind: 'update', ref: 'b', recordId: '1002', fields: { firstname: 'Bob', lifecyclestage: null } },
    ]);
    expect(outcomes.map((o) => [o.ref, o.ok])).toEqual([
      ['a', true],
      ['missing', false],
      ['b', true],
    ]);
    const failed = outcomes[1];
    expect(failed?.ok === false && failed.classification.code).toBe('HUBSPOT_OBJECT_NOT_FOUND');
    const world = await liveContacts();
    expect(world.find((c) => c.id === '1001')?.properties['firstname']).toBe('Ann');
    expect(world.find((c) => c.id === '1002')?.properties['firstname']).toBe('Bob');
  });

  it('isolates the one input behind a whole-batch 400 so the rest are created', async () => {
    const ops: WriteOp[] = Array.from({ length: 12 }, (_, i) => ({
      kind: 'create',
      ref: `c${i}`,
      fields: { email: `batch${i}@example.com`, lifecyclestage: i === 7 ? 'not-a-stage' : 'lead' },
    }));
    const outcomes = await connector().write('contacts', ops);
    expect(outcomes.filter((o) => !o.ok).map((o) => o.ref)).toEqual(['c7']);
    const bad = outcomes[7];
    expect(bad?.ok === false && bad.classification).toMatchObject({
      kind: 'permanent',
      code: 'HUBSPOT_INVALID_OPTION',
      field: 'lifecyclestage',
    });
    const emails = (await liveContacts()).map((c) => c.properties['email']);
    expect(emails.filter((e) => e?.startsWith('batch'))).toHaveLength(11);
    expect(outcomes.every((o) => !o.ok || o.created)).toBe(true);
  });

  it('treats 409 on create as an update of the existing record: a re-run creates no duplicates', async () => {
    const ops: WriteOp[] = [
      { kind: 'create', ref: 'old', fields: { email: 'PERSON1003@example.com', firstname: 'Again' } },
      { kind: 'create', ref: 'fresh', fields: { email: 'fresh@example.com' } },
    ];
    const hubspot = connector();
    const first = await hubspot.write('contacts', ops);
    expect(first[0]).toEqual({ ref: 'old', ok: true, recordId: '1003', created: false });
    expect(first[1]).toMatchObject({ ref: 'fresh', ok: true, created: true });
    const again = await hubspot.write('contacts', ops);
    expect(again.map((o) => o.ok && o.created)).toEqual([false, false]);
    expect(again[1]?.ok && again[1].recordId).toBe(first[1]?.ok && first[1].recordId);
    const world = await liveContacts();
    expect(world).toHaveLength(11);
    expect(world.find((c) => c.id === '1003')?.properties['firstname']).toBe('Again');
  });

  it('upserts by email, reports created, splits duplicate keys into separate batches', async () => {
    const outcomes = await connector().write('contacts', [
      {
        kind: 'upsert',
        ref: 'x',
        idProperty: 'email',
        idValue: 'person1004@example.com',
        fields: { firstname: 'X' },
      },
      {
        kind: 'upsert',
        ref: 'y',
        idProperty: 'email',
        idValue: 'brand-new@example.com',
        fields: { firstname: 'Y' },
      },
      {
        kind: 'upsert',
        ref: 'y2',
        idProperty: 'email',
        idValue: 'BRAND-NEW@example.com',
        fields: { firstname: 'Y2' },
      },
      { kind: 'update', ref: 'bad', fields: {} },
    ]);
    expect(outcomes[0]).toEqual({ ref: 'x', ok: true, recordId: '1004', created: false });
    expect(outcomes[1]).toMatchObject({ ref: 'y', ok: true, created: true });
    expect(outcomes[2]).toMatchObject({ ref: 'y2', ok: true, created: false });
    expect(outcomes[3]).toMatchObject({ ref: 'bad', ok: false });
    expect(
      (await liveContacts()).filter((c) => c.properties['email'] === 'brand-new@example.com'),
    ).toHaveLength(1);
  });

  it('associates deals with contacts and companies, and contacts with companies', async () => {
    const hubspot = connector();
    const [company] = await hubspot.write('companies', [
      { kind: 'create', ref: 'co', fields: { name: 'Acme' } },
    ]);
    const [deal] = await hubspot.write('deals', [{ kind: 'create', ref: 'd', fields: { dealname: 'Big' } }]);
    const companyId = company?.ok ? company.recordId : '';
    const dealId = deal?.ok ? deal.recordId : '';
    const outcomes = await hubspot.associate([
      { ref: '1', from: { object: 'deals', id: dealId }, to: { object: 'contacts', id: '1001' } },
      { ref: '2', from: { object: 'deals', id: dealId }, to: { object: 'companies', id: companyId } },
      { ref: '3', from: { object: 'contacts', id: '1001' }, to: { object: 'companies', id: companyId } },
      { ref: '4', from: { object: 'contacts', id: '424242' }, to: { object: 'companies', id: companyId } },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false]);
    const linked = await h.client.crm.associations.v4.basicApi.getPage('contacts', '1001', 'companies');
    expect(linked.results.map((r) => r.toObjectId)).toContain(companyId);
  });
});

describe('HubSpot connector: schema', () => {
  it('reads the live schema through the budgeted caller once, then from cache', async () => {
    const hubspot = connector();
    const schema = await hubspot.readSchema();
    expect(await hubspot.readSchema()).toBe(schema);
    expect(schema.contacts.map((p) => p.name)).toContain('email');
    expect(hubspot.caller.stats.calls).toBe(3);
  });
});

describe('HubSpot connector: faults and budget', () => {
  it.each(['429=0.3', '5xx=0.3'])(
    'a %s storm loses and duplicates nothing',
    async (spec) => {
      load([]);
      const hubspot = connector({
        retry: { transientRetries: 12, minBackoffMs: 1, maxBackoffMs: 20, maxRateLimitWaitMs: 20 },
      });
      h.sandbox.faults.spec = parseFaultSpec(spec);
      const ops: WriteOp[] = Array.from({ length: 250 }, (_, i) => ({
        kind: 'create',
        ref: `r${i}`,
        fields: { email: `storm${i}@example.com` },
      }));
      const outcomes = await hubspot.write('contacts', ops);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      // As the queue runs it: a pull whose call fails after all its retries runs again from the last checkpoint;
      // one stopped by a rate limit longer than the connector waits (search allows 5 calls a second, and the
      // fast retries of a storm reach it) waits it out and runs again without spending an attempt.
      const pages: PullPage[] = [];
      let from: Checkpoint | null = null;
      for (let resumes = 0, waits = 0; ;) {
        try {
          for await (const page of hubspot.pull('contacts', from, { pageSize: 40 })) {
            pages.push(page);
            from = page.checkpoint;
          }
          break;
        } catch (error) {
          if (error instanceof RateLimitedError && waits < 10) {
            waits += 1;
            await new Promise((resolve) => setTimeout(resolve, error.classification.waitMs));
            continue;
          }
          if (!(error instanceof TransientError) || resumes >= 3) throw error;
          resumes += 1;
        }
      }
      const pulled = { ids: pages.flatMap((p) => p.records.map((r) => r.id)) };
      h.sandbox.faults.spec = parseFaultSpec('');
      const faults = h.sandbox.stats.snapshot().faults;
      expect(faults['429'] + faults['5xx']).toBeGreaterThan(0);
      expect(await liveContacts()).toHaveLength(250);
      expect(countBy(pulled.ids).size).toBe(250);
      expect(pulled.ids).toHaveLength(250);
    },
    60_000,
  );

  it('pauses with a RateLimitedError when the daily budget is spent, failing no record', async () => {
    load(contacts(10));
    // The portal's daily quota is 6 (HubSpot's headers say so; the configured one is only the fallback).
    await h.control('/__sandbox/limits', { daily: 6 });
    const hubspot = connector({ budget: budget(6) }); // 50% of 6: three calls today
    const update = (id: number): WriteOp => ({
      kind: 'update',
      ref: String(id),
      recordId: String(id),
      fields: { firstname: 'Budgeted' },
    });
    for (const id of [1001, 1002, 1003])
      expect((await hubspot.write('contacts', [update(id)]))[0]?.ok).toBe(true);
    const error = await hubspot.write('contacts', [update(1004)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).classification.waitMs).toBeGreaterThan(0);
    expect(h.sandbox.stats.snapshot().totalCalls).toBe(3);
    // HubSpot's own count of other integrations' calls tightens it further for a second process.
    const other = connector({ budget: budget(1_000_000) });
    await expect(other.pull('contacts', null)[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    await h.control('/__sandbox/limits', {});
  });
});
