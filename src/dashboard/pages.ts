import type { MappingProblem } from '../domain/mapping/problem.js';
import type { MappingSummary } from '../domain/mapping/describe.js';
import type { FunnelReport, PersonView, SlaReport } from '../store/customer-view-types.js';
import { html, jsonForScript, type SafeHtml } from './html.js';
import { recordUrl, type RecordLinkSettings } from './links.js';
import type { Overview } from './overview.js';
import type { FailurePage, QueueDepth, ReplayStatus } from './queues.js';
import type { Role } from './auth.js';

/**
 * Tandem's server-rendered pages: plain HTML through the escaping `html` template, one stylesheet, and
 * charts drawn by `static/dashboard.js` (Chart.js) from JSON blocks on the page. No inline scripts, so the
 * pages run under a strict Content-Security-Policy.
 */

export interface PageContext {
  role: Role;
  csrfToken?: string;
  path: string;
}

const NAV: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/failures', 'Failures'],
  ['/customer', 'Customer'],
  ['/funnel', 'Funnel'],
  ['/mapping', 'Mapping'],
  ['/admin/queues', 'Queues'],
];

const DASH = '—';

export function layout(
  title: string,
  ctx: PageContext,
  body: SafeHtml,
  options: { refreshSeconds?: number; charts?: boolean } = {},
): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${options.refreshSeconds === undefined ? '' : html`<meta http-equiv="refresh" content="${options.refreshSeconds}" />`}
        <title>${title} · Tandem</title>
        <link rel="stylesheet" href="/static/dashboard.css" />
        ${
          options.charts === true
            ? html`<script src="/static/chart.umd.js" defer></script>
                <script src="/static/dashboard.js" defer></script>`
            : ''
        }
      </head>
      <body>
        <header>
          <strong class="brand">Tandem</strong>
          <nav>
            ${NAV.map(([href, label]) => html`<a href="${href}" ${isCurrent(ctx.path, href) ? html` aria-current="page"` : ''}>${label}</a>`)}
          </nav>
          <span class="who">${ctx.role === 'admin' ? 'admin' : 'viewer (read only)'}</span>
          <form method="post" action="/logout" class="inline">
            <input type="hidden" name="_csrf" value="${ctx.csrfToken ?? ''}" /><button type="submit">
              Log out
            </button>
          </form>
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.value;
}

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path.startsWith(href);
}

export function loginPage(options: { error?: string; next: string }): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Log in · Tandem</title>
        <link rel="stylesheet" href="/static/dashboard.css" />
      </head>
      <body class="login">
        <main>
          <h1>Tandem</h1>
          ${options.error === undefined ? '' : html`<p class="error" role="alert">${options.error}</p>`}
          <form method="post" action="/login">
            <label
              >Access token
              <input type="password" name="token" autocomplete="current-password" required autofocus
            /></label>
            <input type="hidden" name="next" value="${options.next}" />
            <button type="submit">Log in</button>
          </form>
          <p class="muted">Use TANDEM_ADMIN_TOKEN, or TANDEM_VIEWER_TOKEN for read-only access.</p>
        </main>
      </body>
    </html>`.value;
}

function time(value: string | Date | null | undefined): SafeHtml | string {
  if (value === null || value === undefined) return DASH;
  const iso = typeof value === 'string' ? value : value.toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

function duration(seconds: number | null): string {
  if (seconds === null) return DASH;
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

function percent(rate: number | null): string {
  return rate === null ? DASH : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)}%`;
}

const num = (n: number | null | undefined): string =>
  n === null || n === undefined ? DASH : n.toLocaleString('en');

function chart(id: string, spec: unknown, label: string): SafeHtml {
  return html`<figure class="chart">
    <div class="chart-box"><canvas data-chart="${id}" role="img" aria-label="${label}"></canvas></div>
    <script type="application/json" id="${id}">
      ${jsonForScript(spec)}
    </script>
    <figcaption>${label}</figcaption>
  </figure>`;
}

export function overviewPage(ctx: PageContext, overview: Overview, depths: QueueDepth[]): string {
  const labels = overview.series.buckets.map((b) => b.slice(11, 16));
  const body = html` <section>
      <h2>Syncs</h2>
      <table class="data" id="syncs">
        <thead>
          <tr>
            <th>System</th>
            <th>Object</th>
            <th>Last successful sync</th>
            <th>Checkpoint</th>
            <th>Lag</th>
            <th>Records (24 h)</th>
            <th>Failure rate (24 h)</th>
            <th>Last run</th>
          </tr>
        </thead>
        <tbody>
          ${overview.syncs.map(
            (s) =>
              html`<tr data-sync="${s.system}/${s.object}">
                <td>${s.system}</td>
                <td>${s.object}</td>
                <td>${time(s.lastSuccessAt)}</td>
                <td title="${s.checkpoint ?? ''}">${s.checkpointSummary ?? DASH}</td>
                <td>${duration(s.lagSeconds)}</td>
                <td class="num">${num(s.recordsSynced24h)}</td>
                <td
                  class="num failure-rate"
                  title="${s.jobsFailed24h} of ${s.jobsCompleted24h + s.jobsFailed24h} jobs failed"
                >
                  ${percent(s.failureRate24h)}
                </td>
                <td>
                  ${s.lastRunStatus ?? DASH}${s.lastError === null ? '' : html` <span class="error">${s.lastError}</span>`}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>API quota today</h2>
      <table class="data" id="quota">
        <thead>
          <tr>
            <th>System</th>
            <th>Used by Tandem</th>
            <th>Used by the account</th>
            <th>Tandem's budget</th>
            <th>Daily limit</th>
          </tr>
        </thead>
        <tbody>
          ${overview.quota.map(
            (q) =>
              html`<tr>
                <td>${q.system}</td>
                <td class="num">${num(q.used)}</td>
                <td class="num">${num(q.accountUsed)}</td>
                <td class="num">
                  ${q.budget === null ? DASH : html`${num(q.budget)} (${q.budgetPercent}%)`}
                </td>
                <td class="num">${num(q.limit)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Queues</h2>
      ${queueTable(depths)}
      <p><a href="/admin/queues">Inspect jobs in the queue board</a></p>
    </section>
    <section class="charts">
      <h2>Last 24 hours</h2>
      ${chart('chart-throughput', { type: 'bar', min: 0, labels, datasets: [{ label: 'Records synced', data: overview.series.throughput }] }, 'Throughput: records pulled and written per hour')}
      ${chart('chart-lag', { type: 'line', min: 0, labels, datasets: [{ label: 'Lag (minutes)', data: overview.series.lagMinutes }] }, 'Lag: minutes since the oldest last successful sync')}
      ${chart('chart-failures', { type: 'bar', min: 0, labels, datasets: [{ label: 'Failures', data: overview.series.failures }] }, 'Failures per hour')}
    </section>`;
  return layout('Overview', ctx, body, { charts: true });
}

export function queueTable(depths: QueueDepth[]): SafeHtml {
  return html`<table class="data" id="queues">
    <thead>
      <tr>
        <th>Queue</th>
        <th>Waiting</th>
        <th>Active</th>
        <th>Delayed</th>
        <th>Failed</th>
        <th>Completed</th>
      </tr>
    </thead>
    <tbody>
      ${depths.map(
        (d) =>
          html`<tr>
            <td>${d.queue}</td>
            <td class="num">${num(d.waiting + d.prioritized)}</td>
            <td class="num">${num(d.active)}</td>
            <td class="num">${num(d.delayed)}</td>
            <td class="num">${num(d.failed)}</td>
            <td class="num">${num(d.completed)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function failuresPage(
  ctx: PageContext,
  failures: FailurePage,
  replays: ReplayStatus[],
  message?: string,
): string {
  const { groups } = failures;
  const admin = ctx.role === 'admin';
  const csrf = html`<input type="hidden" name="_csrf" value="${ctx.csrfToken ?? ''}" />`;
  const body = html` ${message === undefined ? '' : html`<p class="error" role="alert">${message}</p>`}
  ${failures.total === 0 ? html`<p class="empty">No failed jobs.</p>` : failurePaging(failures)}
  ${
    admin && groups.length > 0
      ? html`<form method="post" action="/failures/replay" class="window">
          ${csrf}
          <fieldset>
            <legend>Replay every failure in a time window</legend>
            <label>From <input type="datetime-local" name="from" required /></label>
            <label>To <input type="datetime-local" name="to" required /></label>
            <input type="hidden" name="tz" value="UTC" /><button type="submit">Replay window</button>
            <span class="muted">(times in UTC)</span>
          </fieldset>
        </form>`
      : ''
  }
  ${groups.map(
    (g) =>
      html`<section class="failure-group" data-code="${g.code}">
        <h2>
          <code>${g.code}</code>
          <span class="count">${g.count} failed</span
          >${g.jobs.length < g.count ? html` <span class="muted">(${g.jobs.length} on this page)</span>` : ''}
        </h2>
        <ul class="reasons">
          ${g.reasons.slice(0, 5).map((r) => html`<li>${r}</li>`)}${g.reasons.length > 5 ? html`<li class="muted">…and ${g.reasons.length - 5} more</li>` : ''}
        </ul>
        <form method="post" action="/failures/replay">
          ${csrf}
          <table class="data">
            <thead>
              <tr>
                ${admin ? html`<th><span class="sr">Select</span></th>` : ''}
                <th>Queue / job</th>
                <th>Record</th>
                <th>Field</th>
                <th>Reason</th>
                <th>Attempts</th>
                <th>Failed at</th>
                <th>Payload</th>
                ${admin ? html`<th></th>` : ''}
              </tr>
            </thead>
            <tbody>
              ${g.jobs.map(
                (j) =>
                  html`<tr data-job="${j.queue}/${j.id}">
                    ${admin ? html`<td><input type="checkbox" name="job" value="${j.queue}|${j.id}" aria-label="select ${j.queue} job ${j.id}" /></td>` : ''}
                    <td>${j.queue} <code>${j.id}</code></td>
                    <td>
                      ${j.system === undefined ? DASH : html`${j.system} ${j.object ?? ''} `}${j.recordUrl === undefined ? (j.recordId ?? '') : html`<a href="${j.recordUrl}" rel="noreferrer noopener" target="_blank">${j.recordId}</a>`}
                    </td>
                    <td>${j.field ?? DASH}</td>
                    <td>${j.reason}</td>
                    <td class="num">${j.attemptsMade} / ${j.attempts}</td>
                    <td>${time(j.failedAt)}</td>
                    <td>
                      <details>
                        <summary>data</summary>
                        <pre>${JSON.stringify(j.payload, null, 2)}</pre>
                      </details>
                    </td>
                    ${admin ? html`<td><button type="submit" name="one" value="${j.queue}|${j.id}">Replay</button></td>` : ''}
                  </tr>`,
              )}
            </tbody>
          </table>
          ${admin ? html`<p><button type="submit">Replay selected</button> <button type="submit" name="code" value="${g.code}">Replay all ${g.count} with ${g.code}</button></p>` : ''}
        </form>
      </section>`,
  )}
  ${
    replays.length === 0
      ? ''
      : html`<section>
          <h2>Recent replays</h2>
          ${replayTable(replays)}
        </section>`
  }`;
  return layout('Failures', ctx, body);
}

/** "Failed jobs 101–200 of 2,345, newest first" with links to the newer and older pages. */
function failurePaging(failures: FailurePage): SafeHtml {
  const { total, offset, limit } = failures;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const shown = failures.groups.reduce((n, g) => n + g.jobs.length, 0);
  return html`<p id="failure-paging">
    ${
      shown === 0
        ? html`No failed jobs on this page: there are ${num(total)}.`
        : html`Failed jobs ${num(offset + 1)}–${num(offset + shown)} of ${num(total)}, newest first.`
    }
    ${page > 1 ? html`<a href="/failures?page=${page - 1}" rel="prev">Newer failures</a>` : ''}
    ${page < pages ? html`<a href="/failures?page=${page + 1}" rel="next">Older failures</a>` : ''}
  </p>`;
}

function replayTable(replays: ReplayStatus[]): SafeHtml {
  return html`<table class="data" id="replays">
    <thead>
      <tr>
        <th>Replay</th>
        <th>Requested</th>
        <th>State</th>
        <th>Completed</th>
        <th>Failed again</th>
        <th>Pending</th>
        <th>Not replayed</th>
      </tr>
    </thead>
    <tbody>
      ${replays.map(
        (r) =>
          html`<tr>
            <td><a href="/replays/${r.id}">${r.id.slice(0, 8)}</a></td>
            <td>${time(r.requestedAt)}</td>
            <td>${r.state}</td>
            <td class="num">${r.progress.completed}</td>
            <td class="num">${r.progress.failed}</td>
            <td class="num">${r.progress.pending}</td>
            <td class="num">${r.errors.length}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function replayPage(ctx: PageContext, replay: ReplayStatus): string {
  const body = html` <p class="replay-state" data-state="${replay.state}">
      ${replay.state === 'running' ? 'Replaying…' : 'Replay finished.'} ${replay.progress.completed} of
      ${replay.progress.total} completed, ${replay.progress.failed} failed again, ${replay.progress.pending}
      pending.
    </p>
    <progress
      max="${Math.max(1, replay.progress.total)}"
      value="${replay.progress.completed + replay.progress.failed + replay.progress.missing}"
    ></progress>
    <table class="data" id="replay-jobs">
      <thead>
        <tr>
          <th>Queue</th>
          <th>Job</th>
          <th>State</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        ${replay.jobStates.map(
          (j) =>
            html`<tr>
              <td>${j.queue}</td>
              <td><code>${j.id}</code></td>
              <td class="state-${j.state}">${j.state}</td>
              <td>${j.failedReason ?? ''}</td>
            </tr>`,
        )}${replay.errors.map(
          (e) =>
            html`<tr>
              <td>${e.queue}</td>
              <td><code>${e.id}</code></td>
              <td>not replayed</td>
              <td>${e.error}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <p><a href="/failures">Back to failures</a></p>`;
  return layout(
    `Replay ${replay.id.slice(0, 8)}`,
    ctx,
    body,
    replay.state === 'running' ? { refreshSeconds: 2 } : {},
  );
}

function show(value: unknown): SafeHtml | string {
  if (value === null || value === undefined || value === '') return DASH;
  if (typeof value === 'object') return html`<code>${JSON.stringify(value)}</code>`;
  return String(value as string | number | boolean);
}

export function customerPage(
  ctx: PageContext,
  query: string,
  view: PersonView | undefined,
  links: RecordLinkSettings,
  options: { auditPageSize?: number } = {},
): string {
  const search = html`<form method="get" action="/customer" class="search">
    <label
      >Email, HubSpot id, Salesforce id or Tandem id <input type="search" name="q" value="${query}" required
    /></label>
    <button type="submit">Look up</button>
  </form>`;
  if (view === undefined) {
    return layout(
      'Customer',
      ctx,
      html`${search}${query === '' ? '' : html`<p class="empty">No person found for <q>${query}</q>.</p>`}`,
    );
  }
  const p = view.person;
  const body = html`${search}
    <section class="person" id="person">
      <h2 dir="auto">${p.email ?? p.id}</h2>
      <dl class="facts">
        <dt>Tandem id</dt>
        <dd><code>${p.id}</code></dd>
        <dt>Lifecycle stage</dt>
        <dd>${p.lifecycleStage ?? DASH}</dd>
        <dt>Lead score</dt>
        <dd>${show(p.leadScore)}</dd>
        <dt>Original source</dt>
        <dd dir="auto">${p.originalSource ?? DASH}</dd>
        <dt>Latest source</dt>
        <dd dir="auto">${p.latestSource ?? DASH}</dd>
        <dt>Mapping version</dt>
        <dd>${p.mappingVersion ?? DASH}</dd>
        <dt>First seen</dt>
        <dd>${time(p.createdAt)}</dd>
        ${
          p.reevaluateAt === null
            ? ''
            : html`<dt>Re-evaluated at</dt>
                <dd title="when a changed_within_days window of the mapping closes for this person">
                  ${time(p.reevaluateAt)}
                </dd>`
        }
      </dl>
    </section>
    <section>
      <h2>Fields</h2>
      <table class="data" id="fields">
        <thead>
          <tr>
            <th>Field</th>
            <th>Value</th>
            <th>Source</th>
            <th>Changed</th>
            <th>Rule</th>
          </tr>
        </thead>
        <tbody>
          ${view.fields.map(
            (f) =>
              html`<tr>
                <td>${f.field}</td>
                <td dir="auto">${show(f.value)}</td>
                <td>
                  ${f.sourceSystem ?? DASH}${f.sourceField == null ? '' : html` <code>${f.sourceObject ?? ''}.${f.sourceField}</code>`}
                </td>
                <td>${time(f.changedAt)}</td>
                <td>${f.rule}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Linked records</h2>
      <table class="data" id="links">
        <thead>
          <tr>
            <th>System</th>
            <th>Object</th>
            <th>Record</th>
            <th>Linked by</th>
            <th>Linked</th>
          </tr>
        </thead>
        <tbody>
          ${view.links.map((l) => {
            const url = recordUrl(links, l.system, l.object, l.recordId);
            return html`<tr>
              <td>${l.system}</td>
              <td>${l.object}</td>
              <td>
                ${url === undefined ? l.recordId : html`<a href="${url}" rel="noreferrer noopener" target="_blank">${l.recordId}</a>`}
              </td>
              <td>${l.linkedBy}</td>
              <td>${time(l.linkedAt)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Stage history</h2>
      <ol class="stages" id="stages">
        ${view.stageHistory.map(
          (s) =>
            html`<li>
              <strong>${s.stage}</strong>
              ${time(s.enteredAt)}${s.previousStage == null ? '' : html` from ${s.previousStage}`}${s.rule == null ? '' : html` — rule <code>${s.rule}</code>`}${s.reason == null ? '' : html` (${s.reason})`}
            </li>`,
        )}
      </ol>
    </section>
    <section>
      <h2>Touchpoints</h2>
      <table class="data" id="touchpoints">
        <thead>
          <tr>
            <th>When</th>
            <th>Source</th>
            <th>Detail</th>
            <th>Campaign</th>
            <th>System</th>
          </tr>
        </thead>
        <tbody>
          ${view.touchpoints.map(
            (t) =>
              html`<tr>
                <td>${time(t.occurredAt)}</td>
                <td>${t.source}</td>
                <td dir="auto">${t.detail ?? DASH}</td>
                <td dir="auto">${t.campaign ?? DASH}</td>
                <td>${t.system}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Attribution</h2>
      <table class="data" id="credits">
        <thead>
          <tr>
            <th>Deal</th>
            <th>Model</th>
            <th>Source</th>
            <th>Share</th>
            <th>Credit</th>
          </tr>
        </thead>
        <tbody>
          ${view.credits.map(
            (c) =>
              html`<tr>
                <td><code>${c.dealId}</code></td>
                <td>${c.model}</td>
                <td>${c.source}</td>
                <td class="num">${percent(c.share)}</td>
                <td class="num">${c.credit.toFixed(2)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>Why did this change?</h2>
      <p class="muted">Every write Tandem made to this person, newest first, with the rule behind it.</p>
      ${auditPaging(query, view, options.auditPageSize ?? 200)}
      <table class="data" id="audit">
        <thead>
          <tr>
            <th>When</th>
            <th>System</th>
            <th>Record</th>
            <th>Field</th>
            <th>Before</th>
            <th>After</th>
            <th>Rule</th>
            <th>Reason</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          ${view.audit.map(
            (a) =>
              html`<tr>
                <td>${time(a.at)}</td>
                <td>${a.system}</td>
                <td>${a.object} ${a.recordId ?? ''}</td>
                <td>${a.field ?? DASH}</td>
                <td dir="auto">${show(a.before)}</td>
                <td dir="auto">${show(a.after)}</td>
                <td>${a.rule ?? DASH}</td>
                <td>${a.reason ?? ''}</td>
                <td>
                  ${a.outcome}${a.errorMessage == null ? '' : html` <span class="error">${a.errorCode ?? ''} ${a.errorMessage}</span>`}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>`;
  return layout('Customer', ctx, body);
}

/** "Writes 201–400 of 950" with links to newer and older pages, when the trail is longer than one page. */
function auditPaging(query: string, view: PersonView, pageSize: number): SafeHtml | string {
  const total = view.auditTotal;
  if (total <= pageSize && view.auditOffset === 0) return '';
  const first = view.auditOffset + 1;
  const last = view.auditOffset + view.audit.length;
  const page = Math.floor(view.auditOffset / pageSize) + 1;
  const href = (n: number) => `/customer?q=${encodeURIComponent(query)}&auditPage=${n}#audit`;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return html`<p id="audit-paging">
    ${
      view.audit.length === 0
        ? html`No writes on this page: the trail has ${num(total)}.`
        : html`Showing writes ${num(first)}–${num(last)} of ${num(total)}${page === 1 ? ' (the latest)' : ''}.`
    }
    ${page > 1 ? html`<a href="${href(page - 1)}" rel="prev">Newer writes</a>` : ''}
    ${page < pages ? html`<a href="${href(page + 1)}" rel="next">Older writes</a>` : ''}
  </p>`;
}

export interface FunnelPageData {
  from: string;
  to: string;
  groupBy: 'original_source' | 'month';
  report: FunnelReport;
  sla: SlaReport;
  slaHours: number;
}

export function funnelPage(ctx: PageContext, data: FunnelPageData): string {
  const stages = data.report.overall.stages;
  const body = html` <form method="get" action="/funnel" class="filters">
      <label>Created from <input type="date" name="from" value="${data.from}" /></label>
      <label>to <input type="date" name="to" value="${data.to}" /></label>
      <label
        >By
        <select name="groupBy">
          <option value="original_source" ${data.groupBy === 'original_source' ? html` selected` : ''}>
            original source
          </option>
          <option value="month" ${data.groupBy === 'month' ? html` selected` : ''}>month</option>
        </select></label
      >
      <button type="submit">Show</button>
    </form>
    <section class="charts">
      ${chart('chart-funnel', { type: 'bar', indexAxis: 'y', min: 0, labels: stages.map((s) => s.stage), datasets: [{ label: 'Reached', data: stages.map((s) => s.reached) }] }, `Funnel: ${data.report.overall.persons} persons created in the period`)}
      ${chart(
        'chart-funnel-groups',
        {
          type: 'bar',
          min: 0,
          labels: stages.map((s) => s.stage),
          datasets: data.report.groups
            .slice(0, 8)
            .map((g) => ({ label: g.key, data: g.stages.map((s) => s.reached) })),
        },
        `Stages reached by ${data.groupBy === 'month' ? 'month' : 'original source'}`,
      )}
    </section>
    <section>
      <h2>Conversion</h2>
      <table class="data" id="funnel">
        <thead>
          <tr>
            <th>${data.groupBy === 'month' ? 'Month' : 'Original source'}</th>
            <th>Persons</th>
            ${stages.map((s) => html`<th>${s.stage}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${[...data.report.groups, { ...data.report.overall, key: 'All' }].map(
            (g) =>
              html`<tr>
                <td dir="auto">${g.key}</td>
                <td class="num">${num(g.persons)}</td>
                ${g.stages.map(
                  (s) =>
                    html`<td class="num">
                      ${num(s.reached)}<br /><small
                        >${s.conversionFromPrevious === null ? '' : percent(s.conversionFromPrevious)}</small
                      >
                    </td>`,
                )}
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section>
      <h2>MQL → SAL hand-off SLA (${data.slaHours} h)</h2>
      <p id="sla-total">
        ${data.sla.total} MQL${data.sla.total === 1 ? '' : 's'} not accepted within ${data.slaHours} hours.
      </p>
      <table class="data" id="sla">
        <thead>
          <tr>
            <th>Lead</th>
            <th>MQL at</th>
            <th>Due</th>
            <th>Accepted</th>
          </tr>
        </thead>
        <tbody>
          ${data.sla.breaches.map(
            (b) =>
              html`<tr>
                <td><a href="/customer?q=${encodeURIComponent(b.personId)}">${b.email ?? b.personId}</a></td>
                <td>${time(b.mqlAt)}</td>
                <td>${time(b.dueAt)}</td>
                <td>${b.acceptedAt === null ? 'not yet' : time(b.acceptedAt)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>`;
  return layout('Funnel', ctx, body, { charts: true });
}

export interface MappingPageData {
  file: string;
  version: string | null;
  valid: boolean;
  problems: MappingProblem[];
  summary?: MappingSummary;
  live: { checked: boolean; problems: MappingProblem[]; error?: string };
}

function problemList(problems: MappingProblem[]): SafeHtml {
  return html`<ul class="problems">
    ${problems.map(
      (p) =>
        html`<li class="${p.severity}">
          <code>${p.file}:${p.line}:${p.column}</code> ${p.severity}
          ${p.path === '' ? '' : html`<code>${p.path}</code>: `}${p.message}${p.hint === undefined ? '' : html` <em>(${p.hint})</em>`}
        </li>`,
    )}
  </ul>`;
}

export function mappingPage(ctx: PageContext, data: MappingPageData): string {
  const s = data.summary;
  const body = html` <p id="mapping-status" class="${data.valid ? 'ok' : 'error'}">
      ${data.file} — version <code>${data.version ?? DASH}</code>: ${data.valid ? 'valid' : 'invalid'}.
    </p>
    ${data.problems.length === 0 ? '' : problemList(data.problems)}
    <p id="mapping-live">
      ${data.live.checked ? (data.live.problems.length === 0 ? 'Checked against the live HubSpot and Salesforce schemas: no problems.' : `Checked against the live schemas: ${data.live.problems.length} problem(s).`) : `Not checked against the live schemas${data.live.error === undefined ? '' : `: ${data.live.error}`}.`}
    </p>
    ${data.live.problems.length === 0 ? '' : problemList(data.live.problems)}
    ${
      s === undefined
        ? ''
        : html`${s.description === undefined ? '' : html`<p>${s.description}</p>`}
            ${s.objects.map(
              (o) =>
                html`<section>
                  <h2>${o.kind}: HubSpot ${o.hubspot} ⇄ Salesforce ${o.salesforce.join(', ')}</h2>
                  <p>Match on ${o.matchOn.join(' → ')}.</p>
                  <table class="data mapping">
                    <thead>
                      <tr>
                        <th>Field</th>
                        <th>HubSpot</th>
                        <th></th>
                        <th>Salesforce</th>
                        <th>Wins</th>
                        <th>Type</th>
                        <th>Transforms / values</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${o.fields.map(
                        (f) =>
                          html`<tr>
                            <td>${f.name}</td>
                            <td><code>${f.hubspot ?? DASH}</code></td>
                            <td class="arrow" title="${f.direction}">${f.arrow}</td>
                            <td><code>${f.salesforce ?? DASH}</code></td>
                            <td>${f.conflict}</td>
                            <td>${f.type}</td>
                            <td>
                              ${[...f.transforms, ...(f.values === undefined ? [] : [`values: ${f.values.join(', ')}`])].join('; ')}
                            </td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>
                </section>`,
            )}
            <section>
              <h2>Lifecycle</h2>
              <ol>
                ${s.lifecycle.stages.map((st) => html`<li><strong>${st.stage}</strong> when ${st.condition}</li>`)}
              </ol>
              <p>Hand-off SLA: ${s.lifecycle.slaHours} hours.</p>
            </section>
            <section>
              <h2>Score</h2>
              <ul>
                ${[...s.score.fit, ...s.score.engagement].map((r) => html`<li>${r.points === undefined ? '' : html`${r.points > 0 ? '+' : ''}${r.points} `}${r.label ?? ''} when ${r.condition}</li>`)}
              </ul>
            </section>
            <section>
              <h2>Attribution</h2>
              <p>Model: ${s.attribution.model}.</p>
              <ul>
                ${s.attribution.sources.map((src) => html`<li>${src.name}: HubSpot ${src.hubspot.join(', ') || DASH}; Salesforce ${src.salesforce.join(', ') || DASH}</li>`)}
              </ul>
            </section>`
    }`;
  return layout('Mapping', ctx, body);
}

export function errorPage(ctx: PageContext | undefined, status: number, message: string): string {
  const body = html`<p class="error">${message}</p>`;
  if (ctx === undefined) {
    return html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>${status} · Tandem</title>
          <link rel="stylesheet" href="/static/dashboard.css" />
        </head>
        <body>
          <main>
            <h1>${status}</h1>
            ${body}
          </main>
        </body>
      </html>`.value;
  }
  return layout(String(status), ctx, body);
}
