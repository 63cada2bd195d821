import { randomUUID } from 'node:crypto';

/** The sandbox's portal id, as HubSpot puts it into property validation errors. */
export const SANDBOX_PORTAL_ID = 20240601;

export interface HubSpotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category?: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: { message: string; code?: string; context?: Record<string, string[]> }[];
  errorType?: string;
  policyName?: string;
  [key: string]: unknown;
}

/** An error the sandbox answers in HubSpot's JSON shape; route handlers throw it. */
export class HubSpotApiError extends Error {
  override name = 'HubSpotApiError';
  readonly body: HubSpotErrorBody;

  constructor(
    readonly statusCode: number,
    body: { message: string } & Partial<HubSpotErrorBody>,
  ) {
    super(body.message);
    this.body = { ...body, status: 'error', message: body.message, correlationId: randomUUID() };
  }
}

/** One entry of the JSON list inside "Property values were not valid: [...]". */
export interface PropertyProblem {
  name: string;
  error: string;
  message: string;
}

export function propertyValuesInvalid(problems: readonly PropertyProblem[]): HubSpotApiError {
  const details = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.error,
    name: p.name,
    localizedErrorMessage: p.message,
    portalId: SANDBOX_PORTAL_ID,
  }));
  return new HubSpotApiError(400, {
    message: `Property values were not valid: ${JSON.stringify(details)}`,
    category: 'VALIDATION_ERROR',
  });
}

export function validationError(message: string, extra: Partial<HubSpotErrorBody> = {}): HubSpotApiError {
  return new HubSpotApiError(400, { message, category: 'VALIDATION_ERROR', ...extra });
}

export function objectNotFound(message = 'resource not found'): HubSpotApiError {
  return new HubSpotApiError(404, { message, category: 'OBJECT_NOT_FOUND' });
}

export function conflict(message: string): HubSpotApiError {
  return new HubSpotApiError(409, { message, category: 'CONFLICT' });
}

export function unknownObjectType(raw: string): HubSpotApiError {
  return validationError(`Unable to infer object type from: ${raw}`);
}

export function invalidAuthentication(): HubSpotApiError {
  return new HubSpotApiError(401, {
    message:
      'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    category: 'INVALID_AUTHENTICATION',
  });
}

export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'DAILY' | 'SECONDLY';

const RATE_LIMIT_MESSAGES: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  DAILY: 'You have reached your daily limit.',
  SECONDLY: 'You have reached your secondly limit.',
};

export function rateLimited(policy: RateLimitPolicy): HubSpotApiError {
  return new HubSpotApiError(429, {
    message: RATE_LIMIT_MESSAGES[policy],
    errorType: 'RATE_LIMIT',
    policyName: policy,
    groupName: policy === 'SECONDLY' ? 'publicapi:crm-search' : 'publicapi:private-app',
  });
}

export function serviceUnavailable(statusCode: 502 | 503 | 504): HubSpotApiError {
  const message =
    statusCode === 504
      ? 'The request timed out before HubSpot could answer it.'
      : 'The service is temporarily unavailable. Please try again later.';
  return new HubSpotApiError(statusCode, { message, category: 'INTERNAL_ERROR' });
}

/** An entry of `errors[]` in a 207 batch answer (the spec's StandardError). */
export interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
  errors: { message: string }[];
  links: Record<string, string>;
  subCategory?: string;
}

export function batchError(category: string, message: string, context: Record<string, string[]>): BatchError {
  return { status: 'error', category, message, context, errors: [], links: {} };
}
