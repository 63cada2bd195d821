import { readFile } from 'node:fs/promises';
import { MappingSchema } from './schema.js';
import type { Mapping } from './schema.js';
import { MappingError } from './problem.js';
import type { MappingProblem } from './problem.js';
import { issuesToProblems } from './readable-issues.js';
import { MappingSource, rememberSource } from './source-map.js';

export interface ParsedMapping {
  /** Present when the file has the right shape (semantic checks are separate: see `check.ts`). */
  mapping?: Mapping;
  source: MappingSource;
  problems: MappingProblem[];
}

/** YAML syntax, then the shape (zod); never throws. Every problem is located in `file`. */
export function parseMappingSource(text: string, file: string): ParsedMapping {
  const source = new MappingSource(file, text);
  const syntax = [...source.document.errors].map((error): MappingProblem => {
    const { line, column } = source.position(error.pos[0]);
    return {
      file,
      line,
      column,
      path: '',
      message: `YAML syntax: ${firstLine(error.message)}`,
      hint: YAML_HINTS[error.code] ?? 'check the indentation and quoting on this line',
      severity: 'error',
    };
  });
  if (syntax.length > 0) return { source, problems: syntax };

  let data: unknown;
  try {
    data = source.document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return {
      source,
      problems: [
        {
          file,
          line: 1,
          column: 1,
          path: '',
          message: `YAML could not be read: ${error instanceof Error ? error.message : String(error)}`,
          severity: 'error',
        },
      ],
    };
  }
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const got =
      data === null || data === undefined
        ? 'the file is empty'
        : `the file holds ${Array.isArray(data) ? 'a list' : 'a single value'}`;
    const { line, column } = source.locate([]);
    return {
      source,
      problems: [
        {
          file,
          line,
          column,
          path: '',
          message: `a mapping file is a YAML mapping with version, name, objects, lifecycle and attribution; ${got}`,
          hint: 'start from mappings/default.yaml',
          severity: 'error',
        },
      ],
    };
  }

  const result = MappingSchema.safeParse(data);
  if (!result.success) {
    return {
      source,
      problems: issuesToProblems(result.error.issues, { source, data, schema: MappingSchema }),
    };
  }
  rememberSource(result.data, source);
  return { mapping: result.data, source, problems: [] };
}

/** Parses a mapping's text (pure); throws a `MappingError` listing every shape problem at once. */
export function parseMapping(text: string, file: string): Mapping {
  const { mapping, problems } = parseMappingSource(text, file);
  if (mapping === undefined || problems.length > 0) throw new MappingError(problems);
  return mapping;
}

/** Reads and parses a mapping file; problems are located by `path` as given. */
export async function loadMappingFile(path: string): Promise<Mapping> {
  return parseMapping(await readFile(path, 'utf8'), path);
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'each key may appear once in a mapping; merge the two entries',
  BAD_INDENT: 'align this line with its siblings (spaces, not tabs)',
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs',
  MISSING_CHAR: 'a flow collection ({ } or [ ]) is not closed',
  BLOCK_AS_IMPLICIT_KEY: 'a value that contains ": " must be quoted',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; is a quote or colon missing?',
  UNEXPECTED_TOKEN: 'quote values that contain YAML punctuation (: # [ ] { } ,)',
};
