import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Validates response bodies against HubSpot's published OpenAPI specs (copied into
 * test/fixtures/hubspot-openapi/). `$ref`s resolve inside each spec document.
 *
 * One deliberate relaxation: the specs declare record property values as `string`, but the real API
 * (and the SDK's own types, `string | null`) return `null` for a requested property with no value.
 */

// ajv-formats is CommonJS; under ESM its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

type Json = Record<string, unknown>;

const FIXTURES = new URL('../fixtures/hubspot-openapi/', import.meta.url);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Which spec file describes a request path. */
function specFileFor(path: string): string | undefined {
  if (path.startsWith('/crm/v4/')) return 'associations.json';
  if (path.startsWith('/crm/v3/properties/')) return 'properties.json';
  const objectType = /^\/crm\/v3\/objects\/([^/]+)/.exec(path)?.[1];
  if (objectType === 'contacts' || objectType === '0-1') return 'contacts.json';
  if (objectType === 'companies' || objectType === '0-2') return 'companies.json';
  if (objectType === 'deals' || objectType === '0-3') return 'deals.json';
  return undefined;
}

/** Allows null where the specs say "string" for record property values (see the note above). */
function relaxPropertyValues(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) relaxPropertyValues(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const object = node as Json;
  const properties = object['properties'] as Json | undefined;
  const values = (properties?.['properties'] as Json | undefined)?.['additionalProperties'] as
    Json | undefined;
  if (values?.['type'] === 'string') values['type'] = ['string', 'null'];
  for (const value of Object.values(object)) relaxPropertyValues(value);
}

interface LoadedSpec {
  document: Json;
  templates: { template: string; pattern: RegExp; params: number }[];
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
const specs = new Map<string, LoadedSpec>();
const validators = new Map<string, ValidateFunction>();

function loadSpec(file: string): LoadedSpec {
  const cached = specs.get(file);
  if (cached !== undefined) return cached;
  const document = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Json;
  relaxPropertyValues(document['components']);
  ajv.addSchema({ $id: file, components: document['components'], paths: document['paths'] });
  const templates = Object.keys(document['paths'] as Json)
    .map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      params: (template.match(/\{/g) ?? []).length,
    }))
    .sort((a, b) => a.params - b.params);
  const spec = { document, templates };
  specs.set(file, spec);
  return spec;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export interface SpecCheck {
  specFile: string;
  specPath: string;
  errors: string[];
}

/**
 * Checks one response against the spec's schema for its path, method and status (falling back to the
 * `default` response). Throws when the spec has no such operation.
 */
export function checkHubSpotResponse(
  method: string,
  urlPath: string,
  status: number,
  body: unknown,
): SpecCheck {
  const path = urlPath.split('?')[0] ?? urlPath;
  const specFile = specFileFor(path);
  if (specFile === undefined) throw new Error(`no HubSpot spec covers ${path}`);
  const spec = loadSpec(specFile);
  const lower = method.toLowerCase();
  if (!METHODS.includes(lower as (typeof METHODS)[number])) throw new Error(`unsupported method ${method}`);
  const candidates = [path, path.replace(/^\/crm\/v3\/objects\/deals/, '/crm/v3/objects/0-3')];
  const paths = spec.document['paths'] as Record<string, Record<string, Json>>;
  const match = spec.templates.find(
    (t) => candidates.some((c) => t.pattern.test(c)) && paths[t.template]?.[lower] !== undefined,
  );
  if (match === undefined) throw new Error(`${specFile} has no ${method} operation for ${path}`);
  const responses = paths[match.template]?.[lower]?.['responses'] as Record<string, Json>;
  const statusKey = responses[String(status)] !== undefined ? String(status) : 'default';
  let response = responses[statusKey];
  // A response may itself be a $ref (e.g. `default` → #/components/responses/Error).
  let responsePointer = ['paths', match.template, lower, 'responses', statusKey].map(escapePointer).join('/');
  const responseRef = response?.['$ref'];
  if (typeof responseRef === 'string' && responseRef.startsWith('#/')) {
    responsePointer = responseRef.slice(2);
    response = responsePointer
      .split('/')
      .reduce<unknown>(
        (node, segment) => (node as Json | undefined)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')],
        spec.document,
      ) as Json | undefined;
  }
  if (response === undefined) {
    return { specFile, specPath: match.template, errors: [`status ${status} is not a documented response`] };
  }
  const content = response['content'] as Record<string, { schema?: Json }> | undefined;
  const schema = content?.['application/json']?.schema ?? content?.['*/*']?.schema;
  if (schema === undefined) {
    const errors = body === undefined || body === '' ? [] : [`status ${status} should have no body`];
    return { specFile, specPath: match.template, errors };
  }
  const key = `${specFile} ${lower} ${match.template} ${statusKey}`;
  let validate = validators.get(key);
  if (validate === undefined) {
    const pointer = `${responsePointer}/content`;
    const mediaType = content?.['application/json'] !== undefined ? 'application/json' : '*/*';
    validate = ajv.compile({ $ref: `${specFile}#/${pointer}/${escapePointer(mediaType)}/schema` });
    validators.set(key, validate);
  }
  const ok = validate(body);
  const errors = ok
    ? []
    : (validate.errors ?? []).map(
        (e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
      );
  return { specFile, specPath: match.template, errors };
}

/**
 * HubSpot's 429 bodies are not the specs' `Error` (no `category`): the usage guidelines document
 * `{status, message, errorType: "RATE_LIMIT", correlationId, policyName, groupName}`, which the sandbox
 * sends, so 429s are checked against that shape instead.
 */
const RATE_LIMIT_BODY = {
  type: 'object',
  required: ['status', 'message', 'errorType', 'correlationId', 'policyName'],
  properties: {
    status: { const: 'error' },
    message: { type: 'string' },
    errorType: { const: 'RATE_LIMIT' },
    correlationId: { type: 'string', format: 'uuid' },
    policyName: { enum: ['TEN_SECONDLY_ROLLING', 'DAILY', 'SECONDLY'] },
    groupName: { type: 'string' },
  },
};
let validateRateLimit: ValidateFunction | undefined;

/** Paths the reference specs do not cover (../shared/reference/hubspot has no pipelines spec). */
const UNSPECIFIED = [/^\/crm\/v3\/pipelines\//];

/**
 * Like `checkHubSpotResponse`, for any answer the sandbox gave: 429s against the documented rate-limit
 * body, paths no reference spec covers skipped (`specPath` null), everything else against its spec.
 */
export function checkCapturedResponse(
  method: string,
  urlPath: string,
  status: number,
  body: unknown,
): { specPath: string | null; errors: string[] } {
  const path = urlPath.split('?')[0] ?? urlPath;
  if (status === 429) {
    validateRateLimit ??= ajv.compile(RATE_LIMIT_BODY);
    const ok = validateRateLimit(body);
    const errors = ok
      ? []
      : (validateRateLimit.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`);
    return { specPath: 'rate-limit body (usage guidelines)', errors };
  }
  if (UNSPECIFIED.some((pattern) => pattern.test(path))) return { specPath: null, errors: [] };
  return checkHubSpotResponse(method, path, status, body);
}
