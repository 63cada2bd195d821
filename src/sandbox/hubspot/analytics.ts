import { objectNotFound, validationError } from './errors.js';
import type { HubSpotPortal, WriteSource } from './portal.js';
import type { StoredRecord } from './record-store.js';

/**
 * What HubSpot's tracking code and forms do to a contact, for `/__sandbox/page-view` and
 * `/__sandbox/form-submission` (there is no REST endpoint for them in the real API).
 */

const ANALYTICS_SOURCE: WriteSource = { sourceType: 'ANALYTICS' };
const FORM_SOURCE: WriteSource = { sourceType: 'FORM' };
/** A new visit (session) starts after 30 minutes without a page view, as in HubSpot analytics. */
const SESSION_MS = 30 * 60 * 1000;
const DEFAULT_SOURCE = 'DIRECT_TRAFFIC';

export interface PageView {
  email?: string;
  contactId?: string;
  url: string;
  source?: string;
  sourceData1?: string;
}

export interface FormSubmission {
  email: string;
  formId: string;
  formTitle?: string;
  properties?: Record<string, unknown>;
  source?: string;
  url?: string;
}

function asNumber(value: string | undefined): number {
  const n = Number(value ?? '0');
  return Number.isFinite(n) ? n : 0;
}

/** Only the properties the portal's schema has (a portal may lack some of HubSpot's analytics ones). */
function onlyKnown(portal: HubSpotPortal, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => portal.schema.get('contacts', name)));
}

function touchValues(
  portal: HubSpotPortal,
  contact: StoredRecord | undefined,
  at: number,
  url: string | undefined,
  source: string,
  sourceData1: string | undefined,
): Record<string, string> {
  const p = contact?.properties ?? {};
  const iso = new Date(at).toISOString();
  const sourceOptions = portal.schema.get('contacts', 'hs_latest_source')?.options.map((o) => o.value) ?? [];
  if (sourceOptions.length > 0 && !sourceOptions.includes(source)) {
    throw validationError(`source "${source}" is not one of ${sourceOptions.join(', ')}`);
  }
  const values: Record<string, string> = {
    hs_latest_source: source,
    hs_latest_source_timestamp: iso,
    hs_analytics_last_timestamp: iso,
  };
  if (sourceData1 !== undefined) values['hs_latest_source_data_1'] = sourceData1;
  if ((p['hs_analytics_source'] ?? '') === '') {
    values['hs_analytics_source'] = source;
    if (sourceData1 !== undefined) values['hs_analytics_source_data_1'] = sourceData1;
  }
  if ((p['hs_analytics_first_timestamp'] ?? '') === '') values['hs_analytics_first_timestamp'] = iso;
  if (url !== undefined) {
    values['hs_analytics_last_url'] = url;
    if ((p['hs_analytics_first_url'] ?? '') === '') values['hs_analytics_first_url'] = url;
  }
  return values;
}

export function recordPageView(portal: HubSpotPortal, view: PageView, at: number): StoredRecord {
  if (typeof view.url !== 'string' || view.url === '') throw validationError('page-view: "url" is required');
  const contact =
    view.contactId !== undefined
      ? portal.find('contacts', view.contactId)
      : view.email !== undefined
        ? portal.find('contacts', view.email, 'email')
        : undefined;
  if (contact === undefined) {
    throw objectNotFound(
      `page-view: no contact with ${view.contactId ?? view.email ?? '(give email or contactId)'}`,
    );
  }
  const p = contact.properties;
  const values = touchValues(portal, contact, at, view.url, view.source ?? DEFAULT_SOURCE, view.sourceData1);
  const iso = new Date(at).toISOString();
  const lastVisit = Date.parse(p['hs_analytics_last_visit_timestamp'] ?? '');
  const newVisit = Number.isNaN(lastVisit) || at - lastVisit > SESSION_MS;
  const views = asNumber(p['hs_analytics_num_page_views']) + 1;
  const visits = asNumber(p['hs_analytics_num_visits']) + (newVisit ? 1 : 0);
  values['hs_analytics_num_page_views'] = String(views);
  values['hs_analytics_num_visits'] = String(visits);
  values['hs_analytics_average_page_views'] = String(Math.round(views / Math.max(1, visits)));
  values['hs_analytics_last_visit_timestamp'] = iso;
  if ((p['hs_analytics_first_visit_timestamp'] ?? '') === '')
    values['hs_analytics_first_visit_timestamp'] = iso;
  return portal.update('contacts', contact, onlyKnown(portal, values), ANALYTICS_SOURCE);
}

/** A form submission: creates the contact when the email is new, then counts the conversion. */
export function recordFormSubmission(
  portal: HubSpotPortal,
  submission: FormSubmission,
  at: number,
): { contact: StoredRecord; created: boolean } {
  if (typeof submission.email !== 'string' || submission.email === '') {
    throw validationError('form-submission: "email" is required');
  }
  if (typeof submission.formId !== 'string' || submission.formId === '') {
    throw validationError('form-submission: "formId" is required');
  }
  const submitted = portal.validate('contacts', { ...submission.properties, email: submission.email });
  let contact = portal.find('contacts', submission.email, 'email');
  const created = contact === undefined;
  if (contact === undefined) {
    contact = portal.create('contacts', { lifecyclestage: 'lead', ...submitted }, FORM_SOURCE);
  } else {
    delete submitted['email'];
    portal.update('contacts', contact, submitted, FORM_SOURCE);
  }
  const p = contact.properties;
  const iso = new Date(at).toISOString();
  const eventName = `${submission.formTitle ?? submission.formId}: Form`;
  const values = touchValues(
    portal,
    contact,
    at,
    submission.url,
    submission.source ?? DEFAULT_SOURCE,
    undefined,
  );
  values['num_conversion_events'] = String(asNumber(p['num_conversion_events']) + 1);
  const seenForms = portal.submittedForms(contact.id);
  values['num_unique_conversion_events'] = String(
    asNumber(p['num_unique_conversion_events']) + (seenForms.has(submission.formId) ? 0 : 1),
  );
  values['recent_conversion_date'] = iso;
  values['recent_conversion_event_name'] = eventName;
  if ((p['first_conversion_date'] ?? '') === '') {
    values['first_conversion_date'] = iso;
    values['first_conversion_event_name'] = eventName;
  }
  portal.update('contacts', contact, onlyKnown(portal, values), FORM_SOURCE);
  seenForms.add(submission.formId);
  return { contact, created };
}
