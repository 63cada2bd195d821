import type { FastifyRequest } from 'fastify';
import type { HubSpotObjectType } from '../world/schema.js';
import { unknownObjectType, validationError } from './errors.js';
import { resolveObjectType } from './object-types.js';

/** Helpers that read HubSpot-style request parameters. */

export type Query = Record<string, string | string[] | undefined>;

/** An array query parameter: repeated keys (`a=1&a=2`, as the SDK sends) and comma lists (`a=1,2`) both work. */
export function listParam(query: Query, name: string): string[] | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(','));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

export function singleParam(query: Query, name: string): string | undefined {
  const raw = query[name];
  return Array.isArray(raw) ? raw[raw.length - 1] : raw;
}

export function boolParam(query: Query, name: string): boolean {
  return singleParam(query, name)?.toLowerCase() === 'true';
}

export function objectTypeParam(request: FastifyRequest, name = 'objectType'): HubSpotObjectType {
  const raw = (request.params as Record<string, string>)[name] ?? '';
  const type = resolveObjectType(raw);
  if (type === undefined) throw unknownObjectType(raw);
  return type;
}

export function objectTypeList(raw: string[] | undefined): HubSpotObjectType[] | undefined {
  return raw?.map((name) => {
    const type = resolveObjectType(name);
    if (type === undefined) throw unknownObjectType(name);
    return type;
  });
}

export function bodyObject(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw validationError('Invalid input JSON: expected a JSON object as the request body');
  }
  return body as Record<string, unknown>;
}

/** `inputs` of a batch request, checked against the endpoint's maximum. */
export function batchInputs(body: Record<string, unknown>, max: number): Record<string, unknown>[] {
  const inputs = body['inputs'];
  if (!Array.isArray(inputs)) throw validationError('Invalid input JSON: "inputs" must be an array');
  if (inputs.length > max) {
    throw validationError(`Too many inputs: ${inputs.length}. A batch may hold at most ${max} inputs.`, {
      context: { inputs: [String(inputs.length)], maximum: [String(max)] },
    });
  }
  return inputs.map((input, i) => {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw validationError(`Invalid input JSON: inputs[${i}] must be an object`);
    }
    return input as Record<string, unknown>;
  });
}

export function idOf(input: Record<string, unknown>, where: string): string {
  const id = input['id'];
  if (typeof id === 'number') return String(id);
  if (typeof id !== 'string' || id === '') throw validationError(`${where}: "id" is required`);
  return id;
}
