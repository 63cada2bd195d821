import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { validateMapping } from '../../src/domain/mapping/check.js';

/**
 * Whatever RevOps does to the file — delete keys, change types, misspell values, paste junk, save half of
 * it — validation answers with located problems and never throws.
 */

const original = readFileSync('mappings/default.yaml', 'utf8');
const data = parse(original) as unknown;

type Path = Array<string | number>;

function pathsOf(value: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...path, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...path, k]));
  }
  return out;
}
const allPaths = pathsOf(data).filter((p) => p.length > 0);

const replacement = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 12 }),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ field: 'nope', eq: 1 }),
  fc.constant([{ junk: true }]),
);

type DataMutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'misspell'; at: number; position: number; char: string }
  | { kind: 'add_key'; at: number; key: string; value: unknown };

const dataMutation: fc.Arbitrary<DataMutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: replacement }),
  fc.record({
    kind: fc.constant('misspell' as const),
    at: fc.nat(),
    position: fc.nat(),
    char: fc.constantFrom('x', '', 'E', '_', ' '),
  }),
  fc.record({
    kind: fc.constant('add_key' as const),
    at: fc.nat(),
    key: fc.string({ minLength: 1, maxLength: 8 }),
    value: replacement,
  }),
);

function applyToData(root: unknown, mutation: DataMutation): unknown {
  const copy = structuredClone(root);
  const path = allPaths[mutation.at % allPaths.length]!;
  // An earlier mutation may have turned an ancestor into a scalar: then this one has nothing to act on.
  const found = path
    .slice(0, -1)
    .reduce<unknown>(
      (v, k) =>
        v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined,
      copy,
    );
  if (found === null || typeof found !== 'object') return copy;
  const parent = found as Record<string | number, unknown> | unknown[];
  const key = path[path.length - 1]!;
  const target = parent as Record<string | number, unknown>;
  switch (mutation.kind) {
    case 'delete':
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else delete target[key];
      break;
    case 'replace':
      target[key] = mutation.value;
      break;
    case 'misspell': {
      const value = target[key];
      if (typeof value === 'string' && value.length > 0) {
        const i = mutation.position % value.length;
        target[key] = value.slice(0, i) + mutation.char + value.slice(i + 1);
      } else target[key] = mutation.char;
      break;
    }
    case 'add_key': {
      const value = target[key];
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        (value as Record<string, unknown>)[mutation.key] = mutation.value;
      } else target[key] = { [mutation.key]: mutation.value };
      break;
    }
  }
  return copy;
}

type TextMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; junk: string }
  | { kind: 'delete_line'; line: number };

const junk = fc.oneof(
  fc.constantFrom(
    ':',
    '- ',
    '{',
    ']',
    '\t',
    '&a ',
    '*b',
    '!!binary ',
    '? ',
    '"',
    "'",
    '%YAML 1.2\n',
    '\n  x: [',
    '#',
    '|',
    '<<: *a',
  ),
  fc.string({ maxLength: 10 }),
);
const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: original.length }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: original.length }), junk }),
  fc.record({ kind: fc.constant('delete_line' as const), line: fc.nat() }),
);

function applyToText(text: string, mutation: TextMutation): string {
  switch (mutation.kind) {
    case 'truncate':
      return text.slice(0, mutation.at);
    case 'insert':
      return text.slice(0, mutation.at) + mutation.junk + text.slice(mutation.at);
    case 'delete_line': {
      const lines = text.split('\n');
      lines.splice(mutation.line % lines.length, 1);
      return lines.join('\n');
    }
  }
}

function expectLocatedAnswer(text: string): void {
  const result = validateMapping(text, 'mappings/fuzzed.yaml');
  const lines = text.split('\n').length;
  for (const problem of result.problems) {
    expect(problem.file).toBe('mappings/fuzzed.yaml');
    expect(problem.line).toBeGreaterThanOrEqual(1);
    expect(problem.line).toBeLessThanOrEqual(lines + 1);
    expect(problem.column).toBeGreaterThanOrEqual(1);
    expect(problem.message.trim().length).toBeGreaterThan(0);
    expect(['error', 'warning']).toContain(problem.severity);
  }
  expect(result.valid).toBe(!result.problems.some((p) => p.severity === 'error'));
  if (!result.valid) expect(result.problems.length).toBeGreaterThan(0);
}

describe('validateMapping under random mutation of the default mapping', () => {
  it('answers mutated data (deleted keys, changed types, misspelt values) with located problems', () => {
    fc.assert(
      fc.property(fc.array(dataMutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const mutated = mutations.reduce<unknown>((d, m) => applyToData(d, m), data);
        expectLocatedAnswer(stringify(mutated));
      }),
      { numRuns: 80 },
    );
  });

  it('answers mangled text (junk, truncation, lost lines) with located problems', () => {
    fc.assert(
      fc.property(fc.array(textMutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        expectLocatedAnswer(mutations.reduce(applyToText, original));
      }),
      { numRuns: 80 },
    );
  });

  it('finds a misspelt enum value wherever it is', () => {
    const enumPaths = allPaths.filter((p) =>
      ['conflict', 'direction', 'type', 'model', 'to'].includes(String(p[p.length - 1])),
    );
    expect(enumPaths.length).toBeGreaterThan(10);
    fc.assert(
      fc.property(fc.constantFrom(...enumPaths), (path) => {
        const mutated = structuredClone(data) as Record<string, unknown>;
        const parent = path
          .slice(0, -1)
          .reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], mutated);
        const key = path[path.length - 1]!;
        const value = (parent as Record<string | number, unknown>)[key] as string;
        (parent as Record<string | number, unknown>)[key] = `${value}x`;
        const result = validateMapping(stringify(mutated), 'm.yaml');
        expect(result.valid).toBe(false);
        const problem = result.problems.find((p) => p.message.includes(`"${value}x"`));
        expect(problem?.hint).toBe(`did you mean "${value}"?`);
      }),
      { numRuns: 40 },
    );
  });
});
