import type { FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml } from '../../dashboard/html.js';

/**
 * `GET /__sandbox/records/:object/:id` on each sandbox: a read-only HTML page showing one record's fields, so
 * the dashboard's record links open something in a browser (the real CRMs' record pages; a sandbox has no
 * UI, and its REST API answers a browser 401). Loopback clients only, like every `/__sandbox/` control; every
 * value is HTML-escaped.
 */

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.replace(/^::ffff:/, '');
  return a === '::1' || a.startsWith('127.');
}

export interface RecordPage {
  /** `HubSpot` or `Salesforce`. */
  system: string;
  object: string;
  id: string;
  /** Field name → value; empty values are left out. */
  fields: Record<string, unknown>;
  /** Shown under the title, e.g. "archived". */
  note?: string;
}

export function renderRecordPage(page: RecordPage): string {
  const title = `${page.system} sandbox · ${page.object} ${page.id}`;
  const rows = Object.entries(page.fields)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(
      ([name, value]) =>
        `<tr><th scope="row">${escapeHtml(name)}</th><td dir="auto">${escapeHtml(
          typeof value === 'string' ? value : JSON.stringify(value),
        )}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}th{text-align:left;padding-right:1em;font-weight:600}td,th{border-bottom:1px solid #ddd;padding:.25em .5em;vertical-align:top}</style>
</head>
<body>
<h1 id="record-title">${escapeHtml(title)}</h1>
<p>A read-only view of the record in Tandem's ${escapeHtml(page.system)} sandbox${page.note === undefined ? '' : ` (${escapeHtml(page.note)})`}.</p>
<table id="record-fields" data-object="${escapeHtml(page.object)}" data-id="${escapeHtml(page.id)}">
${rows}
</table>
</body>
</html>`;
}

/** Sends the page, or a plain 403/404; `find` returns undefined when there is no such record. */
export function sendRecordPage(
  request: FastifyRequest,
  reply: FastifyReply,
  find: () => RecordPage | undefined,
): FastifyReply {
  const headers = {
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
  if (!isLoopbackAddress(request.socket.remoteAddress)) {
    return reply.code(403).headers(headers).type('text/plain; charset=utf-8').send('loopback clients only');
  }
  const page = find();
  if (page === undefined) {
    return reply.code(404).headers(headers).type('text/plain; charset=utf-8').send('no such record');
  }
  return reply.code(200).headers(headers).type('text/html; charset=utf-8').send(renderRecordPage(page));
}
