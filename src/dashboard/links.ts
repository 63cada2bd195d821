/**
 * Links from a failure or a customer record to the record itself in the CRM. Production links open the
 * CRM's own UI (app.hubspot.com, the org's Lightning record page). A base URL that is loopback or not a
 * vendor host (`*.hubapi.com`, `*.salesforce.com`, `*.force.com`) is taken for Tandem's sandbox, which has
 * no UI and whose REST API answers a browser 401: the link opens the sandbox's read-only record page,
 * `/__sandbox/records/<object>/<id>`, instead.
 */
export interface RecordLinkSettings {
  /** HubSpot account (portal) id; without it production HubSpot links are not offered. */
  hubspotPortalId?: string;
  /** The HubSpot API base URL (`HUBSPOT_BASE_URL`). */
  hubspotBaseUrl: string;
  /** The Salesforce org's instance URL; without it Salesforce links are not offered. */
  salesforceInstanceUrl?: string;
}

const HUBSPOT_OBJECT_TYPE_IDS: Record<string, string> = {
  contacts: '0-1',
  contact: '0-1',
  companies: '0-2',
  company: '0-2',
  deals: '0-3',
  deal: '0-3',
};

const SALESFORCE_OBJECTS = new Set(['Lead', 'Contact', 'Account', 'Opportunity']);

function isSandboxUrl(base: string): boolean {
  try {
    const host = new URL(base).hostname;
    return (
      host === 'localhost' ||
      host === '::1' ||
      host === '[::1]' ||
      host.startsWith('127.') ||
      !(host.endsWith('.hubapi.com') || host.endsWith('.salesforce.com') || host.endsWith('.force.com'))
    );
  } catch {
    return true;
  }
}

const trim = (url: string): string => url.replace(/\/+$/, '');

export function hubspotRecordUrl(
  settings: RecordLinkSettings,
  object: string,
  recordId: string,
): string | undefined {
  const typeId = HUBSPOT_OBJECT_TYPE_IDS[object.toLowerCase()];
  if (typeId === undefined || !/^[A-Za-z0-9_-]+$/.test(recordId)) return undefined;
  const plural = object.toLowerCase().endsWith('s') ? object.toLowerCase() : `${object.toLowerCase()}s`;
  if (isSandboxUrl(settings.hubspotBaseUrl)) {
    return `${trim(settings.hubspotBaseUrl)}/__sandbox/records/${plural}/${encodeURIComponent(recordId)}`;
  }
  if (settings.hubspotPortalId === undefined) return undefined;
  return `https://app.hubspot.com/contacts/${encodeURIComponent(settings.hubspotPortalId)}/record/${typeId}/${encodeURIComponent(recordId)}`;
}

export function salesforceRecordUrl(
  settings: RecordLinkSettings,
  object: string,
  recordId: string,
): string | undefined {
  const base = settings.salesforceInstanceUrl;
  if (base === undefined || !SALESFORCE_OBJECTS.has(object) || !/^[A-Za-z0-9]{15,18}$/.test(recordId)) {
    return undefined;
  }
  if (isSandboxUrl(base)) {
    return `${trim(base)}/__sandbox/records/${object}/${recordId}`;
  }
  return `${trim(base)}/lightning/r/${object}/${recordId}/view`;
}

/** The CRM link for (system, object, id), or undefined when not enough is known to build one. */
export function recordUrl(
  settings: RecordLinkSettings,
  system: string | undefined,
  object: string | undefined,
  recordId: string | undefined,
): string | undefined {
  if (object === undefined || recordId === undefined) return undefined;
  if (system === 'hubspot') return hubspotRecordUrl(settings, object, recordId);
  if (system === 'salesforce') return salesforceRecordUrl(settings, object, recordId);
  return undefined;
}
