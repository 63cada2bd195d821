import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem, type ProblemOrigin } from './config-error.js';
import {
  CONFIG_VARIABLES,
  configVariablesSchema,
  crossVariableProblems,
  toTandemConfig,
  type TandemConfig,
} from './schema.js';

export interface LoadConfigOptions {
  /** Reads the config file and the JWT key file; injectable so tests need no disk. */
  readFile?: (path: string) => string;
  /** Whether a path names an existing file (checks TANDEM_MAPPING); injectable like `readFile`. */
  isFile?: (path: string) => boolean;
  /** Relative paths (TANDEM_CONFIG, SALESFORCE_JWT_PRIVATE_KEY_FILE, TANDEM_MAPPING) resolve against this. */
  cwd?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

interface RawValue {
  value: string;
  origin: ProblemOrigin;
}

const KNOWN = new Set<string>(CONFIG_VARIABLES);

/**
 * Parses Tandem's configuration once, at start: the optional YAML file named by `TANDEM_CONFIG` (keys are
 * the variable names), overridden by the environment. Throws a ConfigError listing every problem.
 *
 * @example
 * const config = loadConfig();
 * const hubspot = requireHubSpot(config);
 */
export function loadConfig(env: Env = process.env, opts: LoadConfigOptions = {}): TandemConfig {
  const readFile = opts.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const isFile =
    opts.isFile ?? ((path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true);
  const cwd = opts.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const raw = new Map<string, RawValue>();

  const configPath = nonEmpty(env['TANDEM_CONFIG']);
  let configFile: string | undefined;
  if (configPath !== undefined) {
    configFile = isAbsolute(configPath) ? configPath : resolve(cwd, configPath);
    let text: string | undefined;
    try {
      text = readFile(configFile);
    } catch (error) {
      problems.push({
        variable: 'TANDEM_CONFIG',
        message: `expected a readable YAML config file, but ${configFile} could not be read (${errorText(error)})`,
        origin: { kind: 'env' },
      });
    }
    if (text !== undefined) readConfigFile(configFile, text, raw, problems);
  }

  for (const name of CONFIG_VARIABLES) {
    const value = nonEmpty(env[name]);
    if (value !== undefined) raw.set(name, { value, origin: { kind: 'env' } });
  }

  const input: Record<string, string> = {};
  for (const [name, { value }] of raw) input[name] = value;
  const result = configVariablesSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? 'configuration');
      problems.push({
        variable,
        message: issue.message,
        origin: raw.get(variable)?.origin ?? { kind: 'default' },
      });
    }
  }

  for (const problem of crossVariableProblems(input)) {
    problems.push({ ...problem, origin: raw.get(problem.variable)?.origin ?? { kind: 'unset' } });
  }

  // A mapping named explicitly must exist now, not fail later as a bare ENOENT in whichever command reads
  // it. (The built-in default is left to the commands that read a mapping: many need none.)
  const mapping = raw.get('TANDEM_MAPPING');
  if (mapping !== undefined && !problems.some((p) => p.variable === 'TANDEM_MAPPING')) {
    const path = isAbsolute(mapping.value) ? mapping.value : resolve(cwd, mapping.value);
    if (!isFile(path)) {
      problems.push({
        variable: 'TANDEM_MAPPING',
        message: `expected the path of an existing mapping YAML file, but there is no file at ${path}`,
        origin: mapping.origin,
      });
    }
  }

  let jwtPrivateKey: string | undefined;
  const keyFile = raw.get('SALESFORCE_JWT_PRIVATE_KEY_FILE');
  if (keyFile !== undefined && raw.get('SALESFORCE_JWT_PRIVATE_KEY') === undefined) {
    const path = isAbsolute(keyFile.value) ? keyFile.value : resolve(cwd, keyFile.value);
    try {
      jwtPrivateKey = readFile(path);
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(jwtPrivateKey)) {
        problems.push({
          variable: 'SALESFORCE_JWT_PRIVATE_KEY_FILE',
          message: `expected ${path} to hold a PEM private key beginning with -----BEGIN PRIVATE KEY-----`,
          origin: keyFile.origin,
        });
      }
    } catch (error) {
      problems.push({
        variable: 'SALESFORCE_JWT_PRIVATE_KEY_FILE',
        message: `expected a readable PEM private key file, but ${path} could not be read (${errorText(error)})`,
        origin: keyFile.origin,
      });
    }
  }

  if (problems.length > 0 || !result.success) throw new ConfigError(sortProblems(problems));

  const extras: Parameters<typeof toTandemConfig>[1] = { joinPath: join };
  if (jwtPrivateKey !== undefined) extras.jwtPrivateKey = jwtPrivateKey;
  if (configFile !== undefined) extras.configFile = configFile;
  return deepFreeze(toTandemConfig(result.data, extras));
}

function readConfigFile(
  file: string,
  text: string,
  raw: Map<string, RawValue>,
  problems: ConfigProblem[],
): void {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      problems.push({
        variable: 'TANDEM_CONFIG',
        message: `expected valid YAML: ${error.message.split('\n')[0] ?? error.code}`,
        origin: { kind: 'file', file, ...definedLine(lineOf(error.pos[0])) },
      });
    }
    return;
  }
  if (doc.contents === null) return;
  if (!isMap(doc.contents)) {
    problems.push({
      variable: 'TANDEM_CONFIG',
      message: 'expected a YAML mapping of VARIABLE: value lines',
      origin: { kind: 'file', file, ...definedLine(lineOf(doc.contents.range?.[0])) },
    });
    return;
  }
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const keyLine = lineOf(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
    const origin: ProblemOrigin = { kind: 'file', file, ...definedLine(keyLine) };
    if (!KNOWN.has(key)) {
      const hint = closest(key);
      problems.push({
        variable: key,
        message: `is not a Tandem setting${hint === undefined ? '' : ` (did you mean ${hint}?)`}`,
        origin,
      });
      continue;
    }
    if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue;
    if (!isScalar(pair.value)) {
      problems.push({ variable: key, message: 'expected a single value, not a list or mapping', origin });
      continue;
    }
    const value = String(pair.value.value);
    if (value.trim() === '') continue;
    raw.set(key, { value, origin });
  }
}

function definedLine(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function errorText(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const rank = (variable: string): number => {
    const index = (CONFIG_VARIABLES as readonly string[]).indexOf(variable);
    return variable === 'TANDEM_CONFIG' ? -1 : index === -1 ? CONFIG_VARIABLES.length : index;
  };
  return [...problems].sort((a, b) => rank(a.variable) - rank(b.variable));
}

function closest(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of CONFIG_VARIABLES) {
    const distance = editDistance(name.toUpperCase(), candidate);
    if (distance <= 3 && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
