/** Timestamps as each CRM writes them. Times inside the generator are epoch milliseconds. */
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** The fixed "now" of a world generated without one, so output stays reproducible. */
export const DEFAULT_WORLD_NOW = Date.UTC(2026, 10, 1);

// Formatting is hot (a 100,000-person world writes millions of timestamps): dates are cached per day.
const dayCache = new Map<number, string>();

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** `2026-10-03`, for a time in UTC. */
function isoDate(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let text = dayCache.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    dayCache.set(day, text);
  }
  return text;
}

/** `12:00:00.000`, for a time in UTC. */
function isoTime(ms: number): string {
  const inDay = ms - Math.floor(ms / DAY_MS) * DAY_MS;
  const hours = Math.floor(inDay / HOUR_MS);
  const minutes = Math.floor((inDay % HOUR_MS) / 60_000);
  const seconds = Math.floor((inDay % 60_000) / 1000);
  return `${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(inDay % 1000)}`;
}

/** HubSpot: `2026-10-03T12:00:00.000Z`. */
export function hubspotDateTime(ms: number): string {
  return `${isoDate(ms)}T${isoTime(ms)}Z`;
}

/** Salesforce datetime: `2026-10-03T12:00:00.000+0000`. */
export function salesforceDateTime(ms: number): string {
  return `${isoDate(ms)}T${isoTime(ms)}+0000`;
}

/** Salesforce date: `2026-10-03`. */
export function salesforceDate(ms: number): string {
  return isoDate(ms);
}
