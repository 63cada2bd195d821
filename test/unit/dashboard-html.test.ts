import { describe, expect, it } from '@jest/globals';
import { tokensEqual, roleForToken, resolveTokens, InsecureListenError } from '../../src/dashboard/auth.js';
import { escapeHtml, html, jsonForScript, raw } from '../../src/dashboard/html.js';
import { hubspotRecordUrl, salesforceRecordUrl } from '../../src/dashboard/links.js';
import { groupFailures, jobSubject, type FailedJobView } from '../../src/dashboard/queues.js';
import { buildSeries, describeCheckpoint } from '../../src/dashboard/overview.js';
import type { SyncRun } from '../../src/store/customer-view-types.js';

describe('html template', () => {
  it.each([
    ['<b>HTML</b>', '&lt;b&gt;HTML&lt;/b&gt;'],
    ['"><script>alert(1)</script>', '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'],
    ["it's `quoted` & done", 'it&#39;s &#96;quoted&#96; &amp; done'],
    ['Zoë 😀 שלום مرحبا', 'Zoë 😀 שלום مرحبا'],
  ])('escapes %j', (value, expected) => {
    expect(html`<td title="${value}">${value}</td>`.value).toBe(`<td title="${expected}">${expected}</td>`);
  });

  it('nests templates and arrays without escaping them twice, and drops null/undefined/false', () => {
    const items = ['<a>', 'b'];
    // prettier-ignore
    const list = html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.value;
    expect(list).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
    expect(html`${raw('<br>')}`.value).toBe('<br>');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('keeps JSON inside a script element from closing it', () => {
    const out = jsonForScript({ label: '</script><script>alert(1)</script>', amp: '&' }).value;
    expect(out).not.toContain('</script>');
    expect(JSON.parse(out)).toEqual({ label: '</script><script>alert(1)</script>', amp: '&' });
  });
});

describe('record links', () => {
  const production = {
    hubspotBaseUrl: 'https://api.hubapi.com',
    hubspotPortalId: '123456',
    salesforceInstanceUrl: 'https://acme.my.salesforce.com',
  };
  const sandbox = {
    hubspotBaseUrl: 'http://127.0.0.1:4010/',
    salesforceInstanceUrl: 'http://localhost:4011',
  };

  it('opens records in the CRMs in production', () => {
    expect(hubspotRecordUrl(production, 'contacts', '501')).toBe(
      'https://app.hubspot.com/contacts/123456/record/0-1/501',
    );
    expect(hubspotRecordUrl(production, 'deals', '7')).toBe(
      'https://app.hubspot.com/contacts/123456/record/0-3/7',
    );
    expect(salesforceRecordUrl(production, 'Lead', '00Q000000000001AAA')).toBe(
      'https://acme.my.salesforce.com/lightning/r/Lead/00Q000000000001AAA/view',
    );
  });

  it("links to the sandbox's read-only record page instead", () => {
    expect(hubspotRecordUrl(sandbox, 'contacts', '501')).toBe(
      'http://127.0.0.1:4010/__sandbox/records/contacts/501',
    );
    expect(salesforceRecordUrl(sandbox, 'Contact', '003000000000001AAA')).toBe(
      'http://localhost:4011/__sandbox/records/Contact/003000000000001AAA',
    );
  });

  it('offers no link for unknown objects, odd ids or missing settings', () => {
    expect(
      hubspotRecordUrl({ ...production, hubspotPortalId: undefined } as never, 'contacts', '1'),
    ).toBeUndefined();
    expect(hubspotRecordUrl(production, 'contacts', '../x')).toBeUndefined();
    expect(salesforceRecordUrl(production, 'Case', '500000000000001AAA')).toBeUndefined();
    expect(salesforceRecordUrl(production, 'Lead', 'javascript:alert(1)')).toBeUndefined();
  });
});

describe('tokens', () => {
  it('compares tokens of any length and grants the matching role', () => {
    expect(tokensEqual('a', 'a')).toBe(true);
    expect(tokensEqual('a', 'a-much-longer-token')).toBe(false);
    const tokens = { adminToken: 'admin-token-0123456789', viewerToken: 'viewer-token-0123456789' };
    expect(roleForToken(tokens, 'admin-token-0123456789')).toBe('admin');
    expect(roleForToken(tokens, 'viewer-token-0123456789')).toBe('viewer');
    expect(roleForToken(tokens, '')).toBeUndefined();
  });

  it('refuses an open host without an admin token; generates one on loopback', () => {
    expect(() => resolveTokens('0.0.0.0', {})).toThrow(InsecureListenError);
    const generated = resolveTokens('127.0.0.1', {});
    expect(generated.generated).toBe(true);
    expect(generated.adminToken.length).toBeGreaterThanOrEqual(32);
  });
});

describe('failure groups', () => {
  const job = (id: string, code: string, reason: string): FailedJobView => ({
    queue: 'write-back',
    id,
    name: 'w',
    code,
    reason,
    kind: 'permanent',
    failedAt: null,
    attemptsMade: 1,
    attempts: 1,
    payload: {},
  });

  it('groups by code, largest first, with reasons by frequency', () => {
    const groups = groupFailures([
      job('1', 'A', 'x'),
      job('2', 'B', 'y'),
      job('3', 'B', 'z'),
      job('4', 'B', 'z'),
    ]);
    expect(groups.map((g) => [g.code, g.count])).toEqual([
      ['B', 3],
      ['A', 1],
    ]);
    expect(groups[0]?.reasons).toEqual(['z', 'y']);
  });
});

describe('describeCheckpoint', () => {
  it.each([
    [
      '{"system":"hubspot","object":"contacts","phase":"incremental","since":"2026-11-23T00:16:06.919Z","lastId":"123"}',
      'changes since 2026-11-23 00:16:06 UTC',
    ],
    [
      '{"system":"salesforce","object":"Lead","phase":"backfill","after":"x","startedAt":"2026-11-22T23:00:00.000Z"}',
      'back-fill in progress, started 2026-11-22 23:00:00 UTC',
    ],
    ['{"phase":"incremental"}', 'changes since an unknown time'],
    ['not json', 'unreadable checkpoint'],
    ['42', 'unreadable checkpoint'],
  ])('%s → %s', (stored, words) => {
    expect(describeCheckpoint(stored)).toBe(words);
  });
});

describe('jobSubject', () => {
  it.each([
    [{ system: 'hubspot', object: 'contacts', mode: 'incremental' }, 'hubspot', 'contacts'],
    [{ batch: { system: 'salesforce', object: 'Lead', writes: [] } }, 'salesforce', 'Lead'],
    [{ kind: 'person', refs: [{ system: 'hubspot', object: 'contacts', id: '1' }] }, 'hubspot', 'contacts'],
    [
      { kind: 'person', refs: [], failure: { system: 'salesforce', object: 'Contact' } },
      'salesforce',
      'Contact',
    ],
  ])('%j is about %s %s', (data, system, object) => {
    expect(jobSubject(data)).toEqual({ system, object });
  });

  it('knows nothing of a payload that does not say', () => {
    expect(jobSubject({ kind: 'person' })).toEqual({});
    expect(jobSubject('text')).toEqual({});
  });
});

describe('buildSeries', () => {
  const now = new Date('2025-03-10T12:30:00Z');
  const minutes = (n: number) => new Date(now.getTime() + n * 60_000);
  const run = (finishedAt: Date, object = 'contacts'): SyncRun => ({
    id: `run-${object}-${finishedAt.toISOString()}`,
    system: 'hubspot',
    object,
    kind: 'incremental',
    status: 'succeeded',
    startedAt: new Date(finishedAt.getTime() - 60_000),
    finishedAt,
    recordsPulled: 1,
    recordsWritten: 0,
    recordsFailed: 0,
    error: null,
  });

  it('never computes a negative lag: a success stamped after now (clock skew) is a lag of 0', () => {
    const series = buildSeries([run(minutes(5))], now);
    expect(series.lagMinutes.at(-1)).toBe(0);
    expect(series.lagMinutes.slice(0, -1).every((m) => m === null)).toBe(true);
  });

  it('takes the oldest latest success across objects for the lag', () => {
    const series = buildSeries([run(minutes(-10), 'contacts'), run(minutes(-50), 'deals')], now);
    expect(series.lagMinutes.at(-1)).toBe(50);
    expect(series.lagMinutes.at(-2)).toBe(20); // at 12:00 only deals had synced, at 11:40
  });

  it('counts failed jobs in the hour they failed, not completed ones', () => {
    const series = buildSeries([], now, [
      { queue: 'write-back', state: 'failed', finishedAt: minutes(-10).getTime() },
      { queue: 'write-back', state: 'failed', finishedAt: minutes(-70).getTime() },
      { queue: 'write-back', state: 'completed', finishedAt: minutes(-10).getTime() },
      { queue: 'pull', state: 'failed', finishedAt: minutes(-25 * 60).getTime() },
    ]);
    expect(series.failures.at(-1)).toBe(1);
    expect(series.failures.at(-2)).toBe(1);
    expect(series.failures.reduce((a, b) => a + b, 0)).toBe(2);
  });
});
