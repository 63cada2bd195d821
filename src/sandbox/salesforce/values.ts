/** How Salesforce writes values on the wire, and the sandbox's canonical stored forms. */
export type SalesforceValue = string | number | boolean | null;
export type SalesforceRow = Record<string, SalesforceValue>;

/**
 * `2013-05-20T20:49:32.000+0000`: the REST API's datetime form, and the sandbox's stored form. All stored
 * datetimes are UTC in this one shape, so comparing the strings compares the instants.
 */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** Any ISO-8601 instant (`Z`, `+00:00`, `+0000`) → epoch ms, or null. */
export function parseDateTime(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) return null;
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : ms;
}

/** `YYYY-MM-DD` of an epoch ms, in UTC (the sandbox org's time zone is GMT). */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isValidDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && formatDate(ms) === text;
}

const DAY_MS = 86_400_000;

export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function addDays(ms: number, days: number): number {
  return ms + days * DAY_MS;
}
