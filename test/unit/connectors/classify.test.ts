import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import jsforce from 'jsforce';
import { HttpApi } from 'jsforce/lib/http-api.js';
import {
  classify,
  PermanentError,
  RateLimitedError,
  toQueueSignal,
  toTandemError,
  TransientError,
  type Classification,
  type ClassifyContext,
} from '../../../src/connectors/classify.js';

// 2025-01-15 18:30 UTC: 5 h 30 min before the next UTC midnight.
const NOW = Date.UTC(2025, 0, 15, 18, 30);
const HUBSPOT_JSON = { 'content-type': 'application/json;charset=utf-8' };

/** A real `ApiException` as @hubspot/api-client throws it for a non-2xx answer. */
function hubspot(status: number, body: unknown, headers: Record<string, string> = {}): ApiException<unknown> {
  return new ApiException(status, 'An error occurred.', body, { ...HUBSPOT_JSON, ...headers });
}

/** A real jsforce HttpApiError, made by jsforce's own error parser from a raw Salesforce response. */
async function salesforce(
  status: number,
  body: string,
  contentType = 'application/json;charset=UTF-8',
): Promise<Error> {
  const api = new HttpApi(new jsforce.Connection({}), {});
  return (await (api as unknown as { getError(r: unknown): Promise<Error> }).getError({
    statusCode: status,
    headers: { 'content-type': contentType },
    body,
  })) as Error;
}

/** A real jsforce OAuth2 token error, from a token endpoint answer. */
async function salesforceOAuth(status: number, body: string): Promise<unknown> {
  const oauth2 = new jsforce.OAuth2({
    clientId: 'id',
    clientSecret: 'secret',
    loginUrl: 'https://login.salesforce.com',
  });
  (oauth2 as unknown as { _transport: unknown })._transport = {
    httpRequest: async () => ({ statusCode: status, headers: {}, body }),
  };
  return oauth2.authenticate('user@acme.com', 'pw').catch((e: unknown) => e);
}

function systemError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

type Case = [name: string, error: () => unknown, expected: Classification, context?: ClassifyContext];

const hubspotCases: Case[] = [
  [
    'HubSpot 429 TEN_SECONDLY_ROLLING, interval header',
    () =>
      hubspot(
        429,
        {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: 'c033cdaa-2c40-4a64-ae48-b4cec88dad24',
          policyName: 'TEN_SECONDLY_ROLLING',
        },
        {
          'x-hubspot-ratelimit-interval-milliseconds': '10000',
          'x-hubspot-ratelimit-max': '190',
          'x-hubspot-ratelimit-remaining': '0',
        },
      ),
    {
      kind: 'rate_limited',
      code: 'HUBSPOT_RATE_LIMIT_TEN_SECONDLY',
      waitMs: 10_000,
      scope: 'hubspot_ten_secondly',
      reason: 'HubSpot 10-second limit reached; waiting for the window to reset',
    },
  ],
  [
    'HubSpot 429 TEN_SECONDLY_ROLLING, Retry-After wins',
    () =>
      hubspot(
        429,
        {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          policyName: 'TEN_SECONDLY_ROLLING',
        },
        { 'retry-after': '3', 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      ),
    {
      kind: 'rate_limited',
      code: 'HUBSPOT_RATE_LIMIT_TEN_SECONDLY',
      waitMs: 3_000,
      scope: 'hubspot_ten_secondly',
      reason: 'HubSpot 10-second limit reached; waiting for the window to reset',
    },
  ],
  [
    'HubSpot 429 SECONDLY (search), body as a string',
    () =>
      hubspot(
        429,
        JSON.stringify({
          status: 'error',
          message: 'You have reached your secondly limit.',
          errorType: 'RATE_LIMIT',
          correlationId: '8f6c',
          policyName: 'SECONDLY',
        }),
      ),
    {
      kind: 'rate_limited',
      code: 'HUBSPOT_RATE_LIMIT_SECONDLY',
      waitMs: 1_000,
      scope: 'hubspot_secondly',
      reason: 'HubSpot per-second limit reached; waiting a second',
    },
  ],
  [
    'HubSpot 429 DAILY waits until the next UTC midnight',
    () =>
      hubspot(429, {
        status: 'error',
        message: 'You have reached your daily limit.',
        errorType: 'RATE_LIMIT',
        correlationId: 'c033cdaa-2c40-4a64-ae48-b4cec88dad24',
        policyName: 'DAILY',
        requestId: '3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd',
      }),
    {
      kind: 'rate_limited',
      code: 'HUBSPOT_RATE_LIMIT_DAILY',
      waitMs: 5.5 * 3_600_000,
      scope: 'hubspot_daily',
      reason:
        'HubSpot daily API limit reached; waiting until it resets at midnight in the account’s time zone (approximated as the next UTC midnight)',
    },
  ],
  [
    'HubSpot 400 VALIDATION_ERROR with the property errors as JSON in the message',
    () =>
      hubspot(400, {
        status: 'error',
        message:
          'Property values were not valid: [{"isValid":false,"message":"reports was not one of the allowed options: [PRODUCT_ISSUE, BILLING_ISSUE, FEATURE_REQUEST, GENERAL_INQUIRY]","error":"INVALID_OPTION","name":"hs_ticket_category","localizedErrorMessage":"reports was not one of the allowed options: [PRODUCT_ISSUE, BILLING_ISSUE, FEATURE_REQUEST, GENERAL_INQUIRY]"}]',
        correlationId: '2dea5219-07f2-40ce-82ec-9c2e302317a4',
        category: 'VALIDATION_ERROR',
      }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_INVALID_OPTION',
      field: 'hs_ticket_category',
      reason:
        'HubSpot rejected the value for tickets.hs_ticket_category: reports was not one of the allowed options: [PRODUCT_ISSUE, BILLING_ISSUE, FEATURE_REQUEST, GENERAL_INQUIRY]',
    },
    { object: 'tickets' },
  ],
  [
    'HubSpot 400 VALIDATION_ERROR PROPERTY_DOESNT_EXIST in errors[] with context',
    () =>
      hubspot(400, {
        status: 'error',
        message:
          'Property values were not valid: [{"isValid":false,"message":"Property \\"favorite_color\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"favorite_color"}]',
        correlationId: '9a1b',
        category: 'VALIDATION_ERROR',
        errors: [
          {
            message: 'Property "favorite_color" does not exist',
            code: 'PROPERTY_DOESNT_EXIST',
            context: { propertyName: ['favorite_color'] },
          },
        ],
      }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_PROPERTY_DOESNT_EXIST',
      field: 'favorite_color',
      reason: 'HubSpot has no property contacts.favorite_color: create it in HubSpot or fix the mapping',
    },
    { object: 'contacts' },
  ],
  [
    'HubSpot 400 READ_ONLY_VALUE',
    () =>
      hubspot(400, {
        status: 'error',
        message:
          'Property values were not valid: [{"isValid":false,"message":"\\"hubspotscore\\" is a read only property; its value cannot be set.","error":"READ_ONLY_VALUE","name":"hubspotscore"}]',
        correlationId: '1f2e',
        category: 'VALIDATION_ERROR',
      }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_READ_ONLY_VALUE',
      field: 'hubspotscore',
      reason:
        "HubSpot does not allow writing contacts.hubspotscore: it is read-only. Remove it from the mapping's writes",
    },
    { object: 'contacts' },
  ],
  [
    'HubSpot 400 VALIDATION_ERROR without property details',
    () =>
      hubspot(400, {
        status: 'error',
        message: 'Invalid input JSON on line 1, column 15: Cannot build BatchInputSimplePublicObjectInput',
        correlationId: 'aa',
        category: 'VALIDATION_ERROR',
      }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_VALIDATION_ERROR',
      reason:
        'HubSpot rejected the record: Invalid input JSON on line 1, column 15: Cannot build BatchInputSimplePublicObjectInput',
    },
  ],
  [
    'HubSpot 401 INVALID_AUTHENTICATION: a bad private app token',
    () =>
      hubspot(401, {
        status: 'error',
        message:
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
        correlationId: '5e1c',
        category: 'INVALID_AUTHENTICATION',
      }),
    {
      kind: 'permanent',
      code: 'AUTH_INVALID',
      reason:
        'HubSpot rejected the access token (Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview). Check HUBSPOT_ACCESS_TOKEN',
    },
  ],
  [
    'HubSpot 401 EXPIRED_AUTHENTICATION',
    () =>
      hubspot(401, {
        status: 'error',
        message: 'The OAuth token used to make this call expired 7 second(s) ago.',
        correlationId: '5e1d',
        category: 'EXPIRED_AUTHENTICATION',
      }),
    {
      kind: 'transient',
      code: 'AUTH_EXPIRED',
      reason:
        'HubSpot says the access token expired (The OAuth token used to make this call expired 7 second(s) ago.); refresh it and retry',
    },
  ],
  [
    'HubSpot 403 MISSING_SCOPES',
    () =>
      hubspot(403, {
        status: 'error',
        message:
          "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        correlationId: '3c2d',
        errors: [
          {
            message: 'One or more of the following scopes are required.',
            context: { requiredGranularScopes: ['crm.objects.deals.write'] },
          },
        ],
        category: 'MISSING_SCOPES',
      }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_MISSING_SCOPES',
      reason:
        "HubSpot refused access: This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.. Give the private app the scopes Tandem needs",
    },
  ],
  [
    'HubSpot 404 OBJECT_NOT_FOUND (body is empty for GET by id)',
    () => hubspot(404, ''),
    {
      kind: 'permanent',
      code: 'HUBSPOT_OBJECT_NOT_FOUND',
      reason: 'HubSpot could not find the deal (deleted or merged?)',
      recordId: '901',
    },
    { recordId: '901', object: 'deal' },
  ],
  [
    'HubSpot 409 CONFLICT gives the existing id',
    () =>
      hubspot(409, {
        status: 'error',
        message: 'Contact already exists. Existing ID: 37765128953',
        correlationId: '2dea5219-07f2-40ce-82ec-9c2e302317a4',
        category: 'CONFLICT',
      }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_CONFLICT',
      existingId: '37765128953',
      reason: 'HubSpot refused a duplicate: Contact already exists. Existing ID: 37765128953',
    },
    { object: 'contacts' },
  ],
  [
    'HubSpot 502 with an HTML body',
    () => hubspot(502, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'text/html' }),
    {
      kind: 'transient',
      code: 'HUBSPOT_SERVER_ERROR',
      reason:
        'HubSpot answered HTTP 502: <html><body>502 Bad Gateway</body></html>: a server-side error; will retry',
    },
  ],
  [
    'HubSpot 503 with Retry-After',
    () =>
      hubspot(
        503,
        { status: 'error', message: 'Service Unavailable', category: 'SERVICE_UNAVAILABLE' },
        { 'retry-after': '30' },
      ),
    {
      kind: 'rate_limited',
      code: 'HUBSPOT_RATE_LIMITED',
      waitMs: 30_000,
      scope: 'http',
      reason: 'HubSpot: Service Unavailable; the server asked to wait 30 s',
    },
  ],
  [
    'HubSpot 207 per-record error: OBJECT_NOT_FOUND with ids',
    () => ({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message:
        'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
      context: { ids: ['5123'] },
    }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_OBJECT_NOT_FOUND',
      recordId: '5123',
      reason:
        'HubSpot could not find the contact (deleted or merged?): Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
    },
    { object: 'contact' },
  ],
  [
    'HubSpot 207 per-record error: VALIDATION_ERROR INVALID_OPTION',
    () => ({
      status: 'error',
      category: 'VALIDATION_ERROR',
      message:
        'Property values were not valid: [{"isValid":false,"message":"gold was not one of the allowed options: [subscriber, lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer, evangelist, other]","error":"INVALID_OPTION","name":"lifecyclestage"}]',
      context: { propertyName: ['lifecyclestage'] },
    }),
    {
      kind: 'permanent',
      code: 'HUBSPOT_INVALID_OPTION',
      field: 'lifecyclestage',
      reason:
        'HubSpot rejected the value for contacts.lifecyclestage: gold was not one of the allowed options: [subscriber, lead, marketingqualifiedlead, salesqualifiedlead, opportunity, customer, evangelist, other]',
    },
    { object: 'contacts' },
  ],
];

const salesforceCases: [
  name: string,
  error: () => Promise<unknown> | unknown,
  expected: Classification,
  context?: ClassifyContext,
][] = [
  [
    'Salesforce 403 REQUEST_LIMIT_EXCEEDED (daily quota)',
    () =>
      salesforce(403, '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]'),
    {
      kind: 'rate_limited',
      code: 'SALESFORCE_REQUEST_LIMIT_EXCEEDED',
      waitMs: 3_600_000,
      scope: 'salesforce_daily',
      reason:
        'Salesforce API request limit exceeded for the org (TotalRequests Limit exceeded.); the 24-hour quota frees up gradually, trying again in an hour',
    },
  ],
  [
    'Salesforce REQUEST_LIMIT_EXCEEDED (concurrent long-running requests)',
    () =>
      salesforce(
        403,
        '[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]',
      ),
    {
      kind: 'rate_limited',
      code: 'SALESFORCE_REQUEST_LIMIT_EXCEEDED',
      waitMs: 30_000,
      scope: 'salesforce_concurrent',
      reason:
        'Salesforce limits concurrent long-running requests (ConcurrentPerOrgLongTxn Limit exceeded.); waiting 30 s',
    },
  ],
  [
    'Salesforce REQUEST_LIMIT_EXCEEDED on a Bulk API 2.0 result read (jsforce asked for text, body unparsed)',
    () =>
      salesforce(
        403,
        '[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]',
        'text/plain',
      ),
    {
      kind: 'rate_limited',
      code: 'SALESFORCE_REQUEST_LIMIT_EXCEEDED',
      waitMs: 30_000,
      scope: 'salesforce_concurrent',
      reason:
        'Salesforce limits concurrent long-running requests (ConcurrentPerOrgLongTxn Limit exceeded.); waiting 30 s',
    },
  ],
  [
    'Salesforce 401 INVALID_SESSION_ID',
    () => salesforce(401, '[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]'),
    {
      kind: 'transient',
      code: 'AUTH_EXPIRED',
      reason:
        'Salesforce session expired or is invalid (Session expired or invalid); refresh the token and retry',
    },
  ],
  [
    'Salesforce oauth invalid_grant',
    () => salesforceOAuth(400, '{"error":"invalid_grant","error_description":"authentication failure"}'),
    {
      kind: 'permanent',
      code: 'AUTH_INVALID',
      reason:
        'Salesforce refused to sign in (invalid_grant: authentication failure). Check the SALESFORCE_* credentials, the connected app and the integration user',
    },
  ],
  [
    'Salesforce oauth invalid_client_id, as a parsed body',
    () => ({ error: 'invalid_client_id', error_description: 'client identifier invalid' }),
    {
      kind: 'permanent',
      code: 'AUTH_INVALID',
      reason:
        'Salesforce refused to sign in (invalid_client_id: client identifier invalid). Check the SALESFORCE_* credentials, the connected app and the integration user',
    },
  ],
  [
    'Salesforce STRING_TOO_LONG',
    () =>
      salesforce(
        400,
        '[{"message":"Email: data value too large: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.io (max length=80)","errorCode":"STRING_TOO_LONG","fields":["Email"]}]',
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_STRING_TOO_LONG',
      field: 'Email',
      reason:
        'Salesforce rejected the value for Lead.Email: it is longer than the field allows (Email: data value too large: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.io (max length=80))',
    },
    { object: 'Lead' },
  ],
  [
    'Salesforce INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    () =>
      salesforce(
        400,
        '[{"message":"Status: bad value for restricted picklist field: Foo","errorCode":"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST","fields":["Status"]}]',
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      field: 'Status',
      reason: "Salesforce rejected the value for Lead.Status: 'Foo' is not an allowed picklist value",
    },
    { object: 'Lead' },
  ],
  [
    'Salesforce INVALID_FIELD in a query',
    () =>
      salesforce(
        400,
        `[{"message":"\\nSELECT Id, Favorite_Color__c FROM Lead\\n           ^\\nERROR at Row:1:Column:12\\nNo such column 'Favorite_Color__c' on entity 'Lead'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.","errorCode":"INVALID_FIELD"}]`,
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_INVALID_FIELD',
      field: 'Favorite_Color__c',
      reason:
        'Salesforce has no field Lead.Favorite_Color__c the integration user can see: fix the mapping or the field-level security',
    },
  ],
  [
    'Salesforce REQUIRED_FIELD_MISSING',
    () =>
      salesforce(
        400,
        '[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]',
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_REQUIRED_FIELD_MISSING',
      field: 'LastName',
      reason: 'Salesforce requires Contact.LastName and it was empty: map a value or a default',
    },
    { object: 'Contact' },
  ],
  [
    'Salesforce DUPLICATES_DETECTED',
    () =>
      salesforce(
        400,
        '[{"message":"Use one of these records?","errorCode":"DUPLICATES_DETECTED","fields":[]}]',
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_DUPLICATES_DETECTED',
      reason: 'Salesforce duplicate rules blocked writing Lead: Use one of these records?',
      recordId: '00Q5e00000AbCdE',
    },
    { object: 'Lead', recordId: '00Q5e00000AbCdE' },
  ],
  [
    'Salesforce CANNOT_UPDATE_CONVERTED_LEAD',
    () =>
      salesforce(
        400,
        '[{"message":"cannot reference converted lead","errorCode":"CANNOT_UPDATE_CONVERTED_LEAD","fields":[]}]',
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_CANNOT_UPDATE_CONVERTED_LEAD',
      reason: 'Salesforce does not allow updating a converted Lead: write to its converted Contact instead',
    },
  ],
  [
    'Salesforce MALFORMED_QUERY',
    () => salesforce(400, `[{"message":"unexpected token: 'FROMM'","errorCode":"MALFORMED_QUERY"}]`),
    {
      kind: 'permanent',
      code: 'SALESFORCE_MALFORMED_QUERY',
      reason: "Salesforce could not parse the SOQL query: unexpected token: 'FROMM'",
    },
  ],
  [
    'Salesforce INVALID_TYPE',
    () =>
      salesforce(
        400,
        `[{"message":"sObject type 'Leed' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.","errorCode":"INVALID_TYPE"}]`,
      ),
    {
      kind: 'permanent',
      code: 'SALESFORCE_INVALID_TYPE',
      reason:
        "Salesforce does not know this object or the integration user cannot see it: sObject type 'Leed' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.",
    },
  ],
  [
    'Salesforce ENTITY_IS_DELETED',
    () => salesforce(400, '[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]'),
    {
      kind: 'permanent',
      code: 'SALESFORCE_ENTITY_IS_DELETED',
      reason: 'The Salesforce Account was deleted: entity is deleted',
    },
    { object: 'Account' },
  ],
  [
    'Salesforce 404 NOT_FOUND',
    () => salesforce(404, '[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]'),
    {
      kind: 'permanent',
      code: 'SALESFORCE_NOT_FOUND',
      reason: 'Salesforce has no such Opportunity (The requested resource does not exist)',
    },
    { object: 'Opportunity' },
  ],
  [
    'Salesforce 503 HTML page',
    () => salesforce(503, '<html><body>Service Unavailable</body></html>', 'text/html'),
    {
      kind: 'transient',
      code: 'SALESFORCE_SERVER_ERROR',
      reason: 'Salesforce answered HTTP 503: a server-side error; will retry',
    },
  ],
  [
    'Salesforce UNABLE_TO_LOCK_ROW is worth retrying',
    () =>
      salesforce(
        400,
        '[{"message":"unable to obtain exclusive access to this record or 1 records: 001xx000003DGb2AAG","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]',
      ),
    {
      kind: 'transient',
      code: 'SALESFORCE_UNABLE_TO_LOCK_ROW',
      reason:
        'Salesforce is busy (UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record or 1 records: 001xx000003DGb2AAG); will retry',
    },
  ],
  [
    'Salesforce collection result with a per-record statusCode',
    () => ({
      id: '00Q5e00000XyZaB',
      success: false,
      errors: [
        {
          statusCode: 'STRING_TOO_LONG',
          message:
            'Company: data value too large: Acme Incorporated International Holdings of the Greater Pacific Northwest Region (max length=80)',
          fields: ['Company'],
        },
      ],
    }),
    {
      kind: 'permanent',
      code: 'SALESFORCE_STRING_TOO_LONG',
      field: 'Company',
      recordId: '00Q5e00000XyZaB',
      reason:
        'Salesforce rejected the value for Lead.Company: it is longer than the field allows (Company: data value too large: Acme Incorporated International Holdings of the Greater Pacific Northwest Region (max length=80))',
    },
    { object: 'Lead' },
  ],
  [
    'Salesforce per-record error alone',
    () => ({
      statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Close Date cannot be in the past',
      fields: [],
    }),
    {
      kind: 'permanent',
      code: 'SALESFORCE_FIELD_CUSTOM_VALIDATION_EXCEPTION',
      reason: 'A Salesforce validation rule rejected Opportunity: Close Date cannot be in the past',
    },
    { object: 'Opportunity' },
  ],
  [
    'Salesforce REST error body as parsed JSON',
    () => [
      {
        message: 'Email: invalid email address: not-an-email',
        errorCode: 'INVALID_EMAIL_ADDRESS',
        fields: ['Email'],
      },
    ],
    {
      kind: 'permanent',
      code: 'SALESFORCE_INVALID_EMAIL_ADDRESS',
      field: 'Email',
      reason: 'Salesforce rejected Email: Email: invalid email address: not-an-email (INVALID_EMAIL_ADDRESS)',
    },
  ],
];

/** What `pg` throws for a server error: an Error carrying the SQLSTATE and severity. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

const networkCases: Case[] = [
  [
    'PostgreSQL restarting under a query (57P01)',
    () => pgError('57P01', 'terminating connection due to administrator command'),
    {
      kind: 'transient',
      code: 'CUSTOMER_VIEW_UNAVAILABLE',
      reason:
        'PostgreSQL is unavailable for now (57P01: terminating connection due to administrator command); will retry',
    },
  ],
  [
    'pg losing its connection mid-query',
    () => new Error('Connection terminated unexpectedly'),
    {
      kind: 'transient',
      code: 'CUSTOMER_VIEW_UNAVAILABLE',
      reason: 'PostgreSQL is unreachable for now (Connection terminated unexpectedly); will retry',
    },
  ],
  [
    'a deadlock between two batches (40P01)',
    () => pgError('40P01', 'deadlock detected'),
    {
      kind: 'transient',
      code: 'CUSTOMER_VIEW_CONFLICT',
      reason: 'PostgreSQL rolled back a concurrent update (40P01: deadlock detected); will retry',
    },
  ],
  [
    'ioredis gives up while Redis restarts (MaxRetriesPerRequestError)',
    () =>
      Object.assign(
        new Error(
          'Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.',
        ),
        {
          name: 'MaxRetriesPerRequestError',
        },
      ),
    {
      kind: 'transient',
      code: 'REDIS_UNAVAILABLE',
      reason:
        'Redis is unreachable for now (Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.); will retry',
    },
  ],
  [
    'ioredis on a closed connection',
    () => new Error('Connection is closed.'),
    {
      kind: 'transient',
      code: 'REDIS_UNAVAILABLE',
      reason: 'Redis is unreachable for now (Connection is closed.); will retry',
    },
  ],
  [
    'ECONNRESET',
    () => systemError('ECONNRESET', 'read ECONNRESET'),
    {
      kind: 'transient',
      code: 'NETWORK_CONNECTION_RESET',
      reason: 'Network problem: the connection was reset (ECONNRESET); will retry',
    },
  ],
  [
    'ETIMEDOUT',
    () => systemError('ETIMEDOUT'),
    {
      kind: 'transient',
      code: 'NETWORK_TIMEOUT',
      reason: 'Network problem: the connection timed out (ETIMEDOUT); will retry',
    },
  ],
  [
    'ECONNREFUSED',
    () => systemError('ECONNREFUSED'),
    {
      kind: 'transient',
      code: 'NETWORK_CONNECTION_REFUSED',
      reason: 'Network problem: the connection was refused (ECONNREFUSED); will retry',
    },
  ],
  [
    'EAI_AGAIN',
    () => systemError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN api.hubapi.com'),
    {
      kind: 'transient',
      code: 'NETWORK_DNS',
      reason: 'Network problem: the host name could not be resolved for now (EAI_AGAIN); will retry',
    },
  ],
  [
    "Node fetch's TypeError with an undici cause",
    () =>
      new TypeError('fetch failed', {
        cause: systemError('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'),
      }),
    {
      kind: 'transient',
      code: 'NETWORK_TIMEOUT',
      reason: 'Network problem: connecting timed out (UND_ERR_CONNECT_TIMEOUT); will retry',
    },
  ],
  [
    'node-fetch FetchError (jsforce)',
    () =>
      Object.assign(
        new Error(
          'request to https://acme.my.salesforce.com/services/data/v62.0/query failed, reason: socket hang up',
        ),
        { name: 'FetchError', type: 'system', code: 'ECONNRESET', errno: 'ECONNRESET' },
      ),
    {
      kind: 'transient',
      code: 'NETWORK_CONNECTION_RESET',
      reason: 'Network problem: the connection was reset (ECONNRESET); will retry',
    },
  ],
  [
    'AbortSignal.timeout()',
    () => new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    {
      kind: 'transient',
      code: 'NETWORK_TIMEOUT',
      reason: 'Network problem: the request timed out; will retry',
    },
  ],
  [
    'AbortError',
    () => new DOMException('This operation was aborted', 'AbortError'),
    {
      kind: 'transient',
      code: 'REQUEST_ABORTED',
      reason: 'The request was aborted before it finished; will retry',
    },
  ],
  [
    'a plain Error',
    () => new Error('boom'),
    { kind: 'permanent', code: 'UNEXPECTED_ERROR', reason: 'Unexpected error: boom' },
  ],
  [
    'a generic HTTP 429 with an HTTP-date Retry-After',
    () => ({ status: 429, headers: { 'Retry-After': new Date(NOW + 120_000).toUTCString() } }),
    {
      kind: 'rate_limited',
      code: 'HTTP_RATE_LIMITED',
      waitMs: 120_000,
      scope: 'http',
      reason: 'HTTP 429; the server asked to wait 120 s',
    },
  ],
];

describe('classify', () => {
  it.each(hubspotCases)('%s', (...[, error, expected, context]: Case) => {
    expect(classify(error(), { now: NOW, ...context })).toEqual(expected);
  });

  it.each(salesforceCases)(
    '%s',
    async (...[, error, expected, context]: (typeof salesforceCases)[number]) => {
      expect(classify(await error(), { now: NOW, ...context })).toEqual(expected);
    },
  );

  it.each(networkCases)('%s', (...[, error, expected, context]: Case) => {
    expect(classify(error(), { now: NOW, ...context })).toEqual(expected);
  });

  it('passes a Tandem error through unchanged', () => {
    const error = new PermanentError({ code: 'MAPPING_NO_VALUE', reason: 'No value map for Lead.Status' });
    expect(classify(error)).toBe(error.classification);
  });
});

describe('toTandemError and toQueueSignal', () => {
  it.each([
    [
      hubspot(409, {
        status: 'error',
        message: 'Contact already exists. Existing ID: 1',
        category: 'CONFLICT',
      }),
      PermanentError,
      { action: 'fail-now' },
    ],
    [systemError('ECONNRESET'), TransientError, { action: 'retry' }],
    [
      hubspot(429, { status: 'error', message: 'x', errorType: 'RATE_LIMIT', policyName: 'SECONDLY' }),
      RateLimitedError,
      { action: 'wait', waitMs: 1_000 },
    ],
  ] as const)('wraps %p', (error, type, signal) => {
    const wrapped = toTandemError(error);
    expect(wrapped).toBeInstanceOf(type);
    expect(wrapped.cause).toBe(error);
    expect(wrapped.message).toBe(wrapped.classification.reason);
    expect(toQueueSignal(wrapped.classification)).toEqual(signal);
  });
});
