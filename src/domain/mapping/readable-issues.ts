import type { z } from 'zod';
import type { MappingProblem } from './problem.js';
import type { MappingPath, MappingSource } from './source-map.js';
import { formatPath } from './source-map.js';
import { didYouMean, listOf } from './suggest.js';

/**
 * Turns zod's issues into problems a person can act on: located in the file, one per unknown key, with
 * "did you mean", and — for unions such as conditions — one message about the form the entry was meant
 * to have, instead of zod's list of every branch that failed.
 */

type Issue = z.core.$ZodIssue;

/** What a value of an enum key is called in messages: `"newst" is not a conflict rule`. */
const ENUM_NOUNS: Record<string, string> = {
  conflict: 'conflict rule',
  direction: 'direction',
  type: 'value type',
  transforms: 'transform',
  to: 'lifecycle stage',
  at_least: 'lifecycle stage',
  is: 'lifecycle stage',
  model: 'attribution model',
  match_on: 'match key',
  required_on_create: 'system',
  duplicate_survivor: 'duplicate survivor rule',
  prefer_salesforce_object: 'Salesforce person object',
  objects: 'Salesforce person object',
  in_salesforce: 'Salesforce object',
  outcome: 'deal outcome',
  on_unmapped_value: 'unmapped-value policy',
};

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  date: 'a date',
};

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

export function valueAt(data: unknown, path: MappingPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export interface IssueContext {
  source: MappingSource;
  data: unknown;
  schema: z.ZodType;
}

export function issuesToProblems(issues: readonly Issue[], context: IssueContext): MappingProblem[] {
  return issues.flatMap((issue) => issueToProblems(issue, [], context));
}

function locatedProblem(
  context: IssueContext,
  path: MappingPath,
  message: string,
  hint: string | undefined,
  target: 'value' | 'key' = 'value',
): MappingProblem {
  const { line, column } = context.source.locate(path, target);
  return {
    file: context.source.file,
    line,
    column,
    path: formatPath(path),
    message,
    ...(hint === undefined ? {} : { hint }),
    severity: 'error',
  };
}

function missingProblem(context: IssueContext, path: MappingPath, expected?: string): MappingProblem {
  const key = String(path[path.length - 1] ?? '');
  return locatedProblem(
    context,
    path,
    `"${key}" is missing${expected === undefined ? '' : ` (expected ${expected})`}`,
    undefined,
  );
}

function issueToProblems(issue: Issue, prefix: MappingPath, context: IssueContext): MappingProblem[] {
  const path: MappingPath = [...prefix, ...(issue.path as Array<string | number>)];
  const value = valueAt(context.data, path);
  const problem = (message: string, hint?: string): MappingProblem =>
    locatedProblem(context, path, message, hint);

  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (value === undefined) return [missingProblem(context, path, expected)];
      return [problem(`expected ${expected}, got ${describeValue(value)}`)];
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v));
      if (allowed.length === 1) {
        return [problem(`expected "${allowed[0]}", got ${describeValue(value)}`)];
      }
      const key = [...path].reverse().find((s): s is string => typeof s === 'string') ?? '';
      const noun = ENUM_NOUNS[key] ?? `valid "${key}" value`;
      const hint = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
      return [problem(`${describeValue(value)} is not a ${noun} (expected one of ${listOf(allowed)})`, hint)];
    }
    case 'unrecognized_keys': {
      const known = [...keysAt(context.schema, path, value)];
      return issue.keys.map((key) =>
        locatedProblem(
          context,
          [...path, key],
          `unknown key "${key}"${known.length > 0 ? ` (expected one of ${listOf(known.sort(), 16)})` : ''}`,
          didYouMean(key, known),
          'key',
        ),
      );
    }
    case 'invalid_union':
      return unionToProblems(issue, path, value, context, problem);
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const exact = issue.exact === true;
      const least = issue.code === 'too_small' ? 'at least' : 'at most';
      const relation = exact ? 'exactly' : least;
      if (issue.origin === 'array')
        return [problem(`needs ${relation} ${bound} item${bound === 1 ? '' : 's'}`)];
      if (issue.origin === 'string') {
        if (issue.code === 'too_small' && Number(bound) === 1) return [problem('must not be empty')];
        return [problem(`must have ${relation} ${bound} characters, got ${describeValue(value)}`)];
      }
      const comparison = issue.code === 'too_small' ? 'greater than' : 'less than';
      const orEqual = issue.inclusive ? ' or equal to' : '';
      return [problem(`must be ${comparison}${orEqual} ${bound}, got ${describeValue(value)}`)];
    }
    case 'invalid_format':
      return [
        problem(
          issue.format === 'regex' && issue.message.startsWith('Invalid')
            ? `${describeValue(value)} does not match ${issue.pattern ?? 'the expected pattern'}`
            : `${describeValue(value)}: ${issue.message}`,
        ),
      ];
    case 'custom':
      return [problem(issue.message)];
    default:
      return [problem(issue.message)];
  }
}

/**
 * A union failed. For a mapping value, pick the branch whose keys the entry uses (a condition with
 * `field:` is a field condition) and report that branch's issues; if no branch knows any key, report the
 * keys as unknown. For a scalar, pick a branch of the right type (a misspelt transform name), else say
 * which types were expected.
 */
function unionToProblems(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: MappingPath,
  value: unknown,
  context: IssueContext,
  problem: (message: string, hint?: string) => MappingProblem,
): MappingProblem[] {
  const branches = issue.errors;
  if (branches.length === 0) return [problem(issue.message)];
  if (value === undefined) return [missingProblem(context, path)];

  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const candidates = new Set<string>();
    let best: { issues: readonly Issue[]; accepted: number } | undefined;
    for (const branch of branches) {
      const rejected = new Set(
        branch.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [])),
      );
      const rootTypeError = branch.some((i) => i.code === 'invalid_type' && i.path.length === 0);
      for (const i of branch) {
        const first = i.path[0];
        if (
          (i.code === 'invalid_type' || i.code === 'invalid_union') &&
          i.path.length === 1 &&
          typeof first === 'string'
        ) {
          if (value[first] === undefined) candidates.add(first);
        }
      }
      if (rootTypeError) continue;
      const accepted = keys.filter((k) => !rejected.has(k)).length;
      if (
        best === undefined ||
        accepted > best.accepted ||
        (accepted === best.accepted && branch.length < best.issues.length)
      ) {
        best = { issues: branch, accepted };
      }
    }
    if (candidates.size === 0) for (const key of keysAt(context.schema, path)) candidates.add(key);
    if (best !== undefined && best.accepted > 0) {
      return best.issues.flatMap((i) => issueToProblems(i, path, context));
    }
    const expected = listOf([...candidates].sort(), 12);
    if (keys.length === 0) return [problem(`empty mapping (expected one of the keys ${expected})`)];
    return keys.map((key) =>
      locatedProblem(
        context,
        [...path, key],
        `unknown key "${key}" (expected one of ${expected})`,
        didYouMean(key, candidates),
        'key',
      ),
    );
  }

  const typed = branches.filter((b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  if (typed.length > 0) {
    const fewest = typed.reduce((a, b) => (b.length < a.length ? b : a));
    return fewest.flatMap((i) => issueToProblems(i, path, context));
  }
  const expected = [
    ...new Set(
      branches.flatMap((b) =>
        b.flatMap((i) =>
          i.code === 'invalid_type' && i.path.length === 0 ? [TYPE_NAMES[i.expected] ?? i.expected] : [],
        ),
      ),
    ),
  ];
  return [problem(`expected ${expected.join(' or ')}, got ${describeValue(value)}`)];
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, string | number>;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.innerType !== undefined) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in !== undefined) return unwrap(def.in);
  if (def.type === 'lazy' && def.getter !== undefined) return unwrap(def.getter());
  if (def.type === 'union' && def.options !== undefined) return def.options.flatMap(unwrap);
  return [schema];
}

/** The keys the schema allows in the object at `path` (all branches of a union together). */
export function keysAt(schema: z.ZodType, path: MappingPath, value?: unknown): Set<string> {
  let current = unwrap(schema);
  for (const segment of path) {
    current = current.flatMap((s) => {
      const def = defOf(s);
      if (def.type === 'object' && def.shape !== undefined) {
        const child = def.shape[String(segment)];
        return child === undefined ? [] : unwrap(child);
      }
      if (def.type === 'array' && def.element !== undefined && typeof segment === 'number')
        return unwrap(def.element);
      if (def.type === 'record' && def.valueType !== undefined) return unwrap(def.valueType);
      return [];
    });
  }
  // Among a union's object branches, keep the ones that share keys with the entry as written.
  if (isPlainObject(value)) {
    const written = Object.keys(value);
    const overlap = (s: z.ZodType): number => written.filter((k) => defOf(s).shape?.[k] !== undefined).length;
    const most = Math.max(0, ...current.map(overlap));
    if (most > 0) current = current.filter((s) => overlap(s) === most);
  }
  const keys = new Set<string>();
  for (const s of current) {
    const def = defOf(s);
    if (def.type === 'object' && def.shape !== undefined)
      for (const key of Object.keys(def.shape)) keys.add(key);
    if (def.type === 'record' && def.keyType !== undefined) {
      for (const k of unwrap(def.keyType)) {
        const entries = defOf(k).entries;
        if (entries !== undefined) for (const key of Object.values(entries)) keys.add(String(key));
      }
    }
  }
  return keys;
}
