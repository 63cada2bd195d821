import { asList } from '../values/value-map.js';
import { createHash } from 'node:crypto';
import type { Condition, FieldMapping, Mapping, SalesforceFieldRef } from './schema.js';
import { hasErrors, sortProblems } from './problem.js';
import type { MappingProblem, Severity } from './problem.js';
import { parseMappingSource } from './load.js';
import { formatPath, sourceOf } from './source-map.js';
import type { MappingPath, MappingSource } from './source-map.js';
import { didYouMean } from './suggest.js';
import { conditionsOf } from './conditions-of.js';

/**
 * Semantic checks on a mapping whose shape is valid: what zod cannot see because it spans entries
 * (names that must exist elsewhere, values listed twice, directions that need a name on a side).
 */

/** Reports problems at a path of the mapping, located in its source file when it has one. */
export class ProblemList {
  readonly problems: MappingProblem[] = [];
  constructor(private readonly source: MappingSource | undefined) {}

  add(
    path: MappingPath,
    message: string,
    options: { hint?: string | undefined; severity?: Severity; target?: 'value' | 'key' } = {},
  ): void {
    const { line, column } = this.source?.locate(path, options.target) ?? { line: 1, column: 1 };
    this.problems.push({
      file: this.source?.file ?? '(mapping)',
      line,
      column,
      path: formatPath(path),
      message,
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      severity: options.severity ?? 'error',
    });
  }
}

/** Calls `visit` for every field condition inside `condition`, with its path. */
export function forEachFieldCondition(
  condition: Condition,
  path: MappingPath,
  visit: (condition: Extract<Condition, { field: string }>, path: MappingPath) => void,
): void {
  if ('all' in condition)
    condition.all.forEach((c, i) => forEachFieldCondition(c, [...path, 'all', i], visit));
  else if ('any' in condition)
    condition.any.forEach((c, i) => forEachFieldCondition(c, [...path, 'any', i], visit));
  else if ('not' in condition) forEachFieldCondition(condition.not, [...path, 'not'], visit);
  else if ('field' in condition) visit(condition, path);
}

/** The Salesforce API name a ref gives on `object` (a plain string names the same field everywhere). */
export function salesforceNameOn(ref: SalesforceFieldRef | undefined, object: string): string | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref === 'string') return ref;
  return (ref as Record<string, string | undefined>)[object];
}

function salesforceNames(
  ref: SalesforceFieldRef | undefined,
): Array<{ object: string | undefined; name: string }> {
  if (ref === undefined) return [];
  if (typeof ref === 'string') return [{ object: undefined, name: ref }];
  return Object.entries(ref).flatMap(([object, name]) => (name === undefined ? [] : [{ object, name }]));
}

const writesHubSpot = (field: FieldMapping): boolean =>
  field.direction === 'both' || field.direction === 'to_hubspot';
const writesSalesforce = (field: FieldMapping): boolean =>
  field.direction === 'both' || field.direction === 'to_salesforce';

export function checkMapping(
  mapping: Mapping,
  source: MappingSource | undefined = sourceOf(mapping),
): MappingProblem[] {
  const report = new ProblemList(source);
  checkFields(mapping, report);
  checkConditions(mapping, report);
  checkEngagement(mapping, report);
  checkPipelines(mapping, report);
  checkAttribution(mapping, report);
  checkWritebacks(mapping, report);
  return sortProblems(report.problems);
}

function checkFields(mapping: Mapping, report: ProblemList): void {
  for (const kind of ['person', 'company', 'deal'] as const) {
    const object = mapping.objects[kind];
    if (object === undefined) continue;
    const seen = new Map<string, number>();
    object.fields.forEach((field, i) => {
      const at = (...rest: Array<string | number>): MappingPath => ['objects', kind, 'fields', i, ...rest];
      const first = seen.get(field.name);
      if (first !== undefined) {
        report.add(at('name'), `"${field.name}" is already the name of fields[${first}] of ${kind}`, {
          hint: 'unified names are unique per object; rename one of them',
        });
      } else seen.set(field.name, i);

      if (field.hubspot === undefined && writesHubSpot(field)) {
        report.add(
          at('direction'),
          `direction "${field.direction}" writes to HubSpot but the field has no hubspot name`,
          {
            hint: 'add `hubspot: <property name>` or set direction to to_salesforce or none',
          },
        );
      }
      if (field.salesforce === undefined && writesSalesforce(field)) {
        report.add(
          at('direction'),
          `direction "${field.direction}" writes to Salesforce but the field has no salesforce name`,
          { hint: 'add `salesforce: <API name>` or set direction to to_hubspot or none' },
        );
      }
      field.required_on_create.forEach((system, j) => {
        if (field[system] === undefined) {
          report.add(
            at('required_on_create', j),
            `required on create in ${system}, but the field has no ${system} name`,
          );
        }
      });
      for (const system of ['hubspot', 'salesforce'] as const) {
        if (field.default_on_create?.[system] !== undefined && field[system] === undefined) {
          report.add(
            at('default_on_create', system),
            `a ${system} default, but the field has no ${system} name`,
          );
        }
      }
      field.transforms.forEach((transform, j) => {
        if (typeof transform === 'object' && 'replace' in transform) {
          const error = regexError(transform.replace.pattern);
          if (error !== undefined) {
            report.add(at('transforms', j, 'replace', 'pattern'), `not a valid regular expression: ${error}`);
          }
        }
      });
      if (field.values !== undefined) checkValueMap(field, at, report);
    });
  }
}

function checkValueMap(
  field: FieldMapping,
  at: (...rest: Array<string | number>) => MappingPath,
  report: ProblemList,
): void {
  if (field.type !== 'enum' && field.type !== 'multi_enum') {
    report.add(
      at('values'),
      `a value map needs type enum or multi_enum, but the field's type is ${field.type}`,
      {
        hint: 'add `type: enum`',
      },
    );
  }
  for (const system of ['hubspot', 'salesforce'] as const) {
    const owner = new Map<string, string>();
    for (const [unified, entry] of Object.entries(field.values ?? {})) {
      for (const value of asList(entry[system])) {
        const other = owner.get(value);
        if (other !== undefined && other !== unified) {
          report.add(
            at('values', unified, system),
            `${system} value "${value}" is listed under both "${other}" and "${unified}"`,
            {
              hint: 'a system value can stand for one unified value only, or reading it is ambiguous',
            },
          );
        } else owner.set(value, unified);
      }
    }
  }
}

function checkConditions(mapping: Mapping, report: ProblemList): void {
  for (const { condition, path, object: kind } of conditionsOf(mapping)) {
    const fields = mapping.objects[kind]?.fields ?? [];
    forEachFieldCondition(condition, path, (c, at) => {
      const field = fields.find((f) => f.name === c.field);
      if (field === undefined) {
        report.add([...at, 'field'], `"${c.field}" is not a unified field of ${kind}`, {
          hint:
            didYouMean(
              c.field,
              fields.map((f) => f.name),
            ) ?? `add it to objects.${kind}.fields`,
        });
      }
      if (c.changed_within_days !== undefined && kind !== 'person') {
        report.add(
          [...at, 'changed_within_days'],
          `a ${kind}'s conditions are evaluated only when one of its records changes: this window closing alone changes nothing`,
          { severity: 'warning', hint: 'time windows are re-evaluated on their own for person rules only' },
        );
      } else if (c.changed_within_days !== undefined && field !== undefined && field.hubspot === undefined) {
        report.add(
          [...at, 'changed_within_days'],
          `"${c.field}" is read from Salesforce only, which keeps no change time per field: the window restarts whenever the record is modified (Tandem's own writes included)`,
          {
            severity: 'warning',
            hint: 'base the window on a field HubSpot also holds, or compare a Salesforce date field with gte/lte',
          },
        );
      }
      if (c.matches !== undefined) {
        const error = regexError(c.matches);
        if (error !== undefined) report.add([...at, 'matches'], `not a valid regular expression: ${error}`);
      }
      if (field?.values !== undefined) {
        const known = Object.keys(field.values);
        const listed: Array<[string, unknown]> = [
          ['eq', c.eq],
          ['neq', c.neq],
          ...(c.in ?? []).map((v, i): [string, unknown] => [`in.${i}`, v]),
          ...(c.not_in ?? []).map((v, i): [string, unknown] => [`not_in.${i}`, v]),
        ];
        for (const [key, value] of listed) {
          if (value === undefined || known.includes(String(value))) continue;
          const [operator, index] = key.split('.');
          report.add(
            index === undefined ? [...at, key] : [...at, operator ?? key, Number(index)],
            `"${String(value)}" is not a unified value of ${c.field} (expected one of ${known.join(', ')})`,
            {
              hint:
                didYouMean(String(value), known) ?? 'conditions compare unified values, not system values',
            },
          );
        }
      }
    });
  }
}

function checkEngagement(mapping: Mapping, report: ProblemList): void {
  const fields = mapping.objects.person.fields;
  mapping.score.engagement.forEach((rule, i) => {
    if (!('field' in rule)) return;
    const field = fields.find((f) => f.name === rule.field);
    if (field === undefined) {
      report.add(['score', 'engagement', i, 'field'], `"${rule.field}" is not a unified field of person`, {
        hint:
          didYouMean(
            rule.field,
            fields.map((f) => f.name),
          ) ?? 'add it to objects.person.fields',
      });
    } else if (field.type !== 'integer' && field.type !== 'number') {
      report.add(
        ['score', 'engagement', i, 'field'],
        `points_each counts a number, but "${rule.field}" has type ${field.type}`,
        {
          hint: 'give the field type integer or number',
        },
      );
    }
  });
}

function checkPipelines(mapping: Mapping, report: ProblemList): void {
  const pipelines = mapping.objects.deal?.pipelines ?? [];
  const ids = new Map<string, number>();
  pipelines.forEach((pipeline, p) => {
    const base: MappingPath = ['objects', 'deal', 'pipelines', p];
    const first = ids.get(pipeline.hubspot_pipeline);
    if (first !== undefined) {
      report.add(
        [...base, 'hubspot_pipeline'],
        `pipeline "${pipeline.hubspot_pipeline}" is already mapped in pipelines[${first}]`,
      );
    } else ids.set(pipeline.hubspot_pipeline, p);
    for (const side of ['hubspot', 'salesforce'] as const) {
      const seen = new Map<string, number>();
      pipeline.stages.forEach((stage, s) => {
        for (const value of asList(stage[side])) {
          const earlier = seen.get(value);
          if (earlier !== undefined) {
            report.add(
              [...base, 'stages', s, side],
              `${side} stage "${value}" is already mapped in stages[${earlier}]`,
              {
                hint: 'each stage maps to one stage on the other side, or the translation back is ambiguous',
              },
            );
          } else seen.set(value, s);
        }
      });
    }
  });
}

function checkAttribution(mapping: Mapping, report: ProblemList): void {
  const { attribution } = mapping;
  const sources = Object.keys(attribution.sources);
  const hint = (name: string): string =>
    didYouMean(name, sources) ?? `add "${name}" under attribution.sources`;
  if (!sources.includes(attribution.unknown_source)) {
    report.add(
      ['attribution', 'unknown_source'],
      `"${attribution.unknown_source}" is not one of attribution.sources`,
      {
        hint: hint(attribution.unknown_source),
      },
    );
  }
  for (const [type, source] of Object.entries(attribution.touchpoints.campaign_type_sources)) {
    if (!sources.includes(source)) {
      report.add(
        ['attribution', 'touchpoints', 'campaign_type_sources', type],
        `"${source}" is not one of attribution.sources`,
        {
          hint: hint(source),
        },
      );
    }
  }
  for (const system of ['hubspot', 'salesforce'] as const) {
    const owner = new Map<string, string>();
    for (const [name, values] of Object.entries(attribution.sources)) {
      values[system].forEach((value, i) => {
        const other = owner.get(value);
        if (other !== undefined && other !== name) {
          report.add(
            ['attribution', 'sources', name, system, i],
            `${system} value "${value}" is listed under both "${other}" and "${name}"`,
          );
        } else owner.set(value, name);
      });
    }
  }
}

/** Writeback targets Tandem owns: no ordinary field may also write to them. */
export function writebackTargets(
  mapping: Mapping,
): Array<{ system: 'hubspot' | 'salesforce'; name: string; object?: string; path: MappingPath }> {
  const out: Array<{ system: 'hubspot' | 'salesforce'; name: string; object?: string; path: MappingPath }> =
    [];
  const hubspot = (name: string | undefined, path: MappingPath): void => {
    if (name !== undefined) out.push({ system: 'hubspot', name, path });
  };
  const salesforce = (ref: SalesforceFieldRef | undefined, path: MappingPath): void => {
    for (const { object, name } of salesforceNames(ref)) {
      out.push({
        system: 'salesforce',
        name,
        ...(object === undefined ? {} : { object }),
        path: object === undefined ? path : [...path, object],
      });
    }
  };
  const { lifecycle, score, attribution } = mapping;
  hubspot(lifecycle.writeback.hubspot_property, ['lifecycle', 'writeback', 'hubspot_property']);
  if (lifecycle.writeback.hubspot_lifecyclestage !== undefined) {
    hubspot('lifecyclestage', ['lifecycle', 'writeback', 'hubspot_lifecyclestage']);
  }
  hubspot(lifecycle.writeback.reason_hubspot_property, ['lifecycle', 'writeback', 'reason_hubspot_property']);
  salesforce(lifecycle.writeback.salesforce_field, ['lifecycle', 'writeback', 'salesforce_field']);
  salesforce(lifecycle.writeback.reason_salesforce_field, [
    'lifecycle',
    'writeback',
    'reason_salesforce_field',
  ]);
  hubspot(score.writeback.hubspot_property, ['score', 'writeback', 'hubspot_property']);
  salesforce(score.writeback.salesforce_field, ['score', 'writeback', 'salesforce_field']);
  hubspot(attribution.writeback.hubspot_original_source, [
    'attribution',
    'writeback',
    'hubspot_original_source',
  ]);
  hubspot(attribution.writeback.hubspot_latest_source, ['attribution', 'writeback', 'hubspot_latest_source']);
  salesforce(attribution.writeback.salesforce_original_source, [
    'attribution',
    'writeback',
    'salesforce_original_source',
  ]);
  salesforce(attribution.writeback.salesforce_latest_source, [
    'attribution',
    'writeback',
    'salesforce_latest_source',
  ]);
  return out;
}

function checkWritebacks(mapping: Mapping, report: ProblemList): void {
  const fields = mapping.objects.person.fields;
  for (const target of writebackTargets(mapping)) {
    fields.forEach((field, i) => {
      const clash =
        target.system === 'hubspot'
          ? field.hubspot === target.name && writesHubSpot(field)
          : salesforceNames(field.salesforce).some(
              (n) =>
                n.name === target.name &&
                (n.object === undefined || target.object === undefined || n.object === target.object),
            ) && writesSalesforce(field);
      if (clash) {
        report.add(
          target.path,
          `Tandem writes "${target.name}" here, but objects.person.fields[${i}] (${field.name}) also writes it (direction ${field.direction})`,
          {
            hint: `give fields[${i}] direction ${target.system === 'hubspot' ? 'to_salesforce' : 'to_hubspot'} or none, or write back elsewhere`,
          },
        );
      }
    });
  }
}

function regexError(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'i');
    return undefined;
  } catch (error) {
    return error instanceof Error
      ? error.message.replace(/^Invalid regular expression: /, '')
      : String(error);
  }
}

export interface MappingValidation {
  /** Present when the shape is valid (it may still have semantic errors: see `valid`). */
  mapping?: Mapping;
  source: MappingSource;
  problems: MappingProblem[];
  /** No errors (warnings allowed). */
  valid: boolean;
}

/** Shape and semantics together; never throws. */
export function validateMapping(text: string, file: string): MappingValidation {
  const parsed = parseMappingSource(text, file);
  const problems =
    parsed.mapping === undefined ? parsed.problems : checkMapping(parsed.mapping, parsed.source);
  return {
    ...(parsed.mapping === undefined ? {} : { mapping: parsed.mapping }),
    source: parsed.source,
    problems: sortProblems(problems),
    valid: !hasErrors(problems),
  };
}

/**
 * The declared version plus a short hash of the file (`1+3f2a9c1b`), so a changed mapping whose version
 * was not bumped is still told apart. Line endings do not count.
 */
export function mappingVersion(mapping: Pick<Mapping, 'version'>, text: string): string {
  const hash = createHash('sha256').update(text.replace(/\r\n?/g, '\n')).digest('hex').slice(0, 8);
  return `${mapping.version}+${hash}`;
}
