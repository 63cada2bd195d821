import type { DealObject, FieldMapping, Mapping, PipelineMap, System, ValueMap } from './mapping/schema.js';
import { conditionInputs } from './conditions.js';
import { compileField, type CompiledField } from './values/field-codec.js';
import { compileValueMap, type CompiledValueMap } from './values/value-map.js';
import type { DealOutcome } from './records.js';
import { personTimeWindows, type TimeWindow } from './reevaluation.js';

/**
 * A mapping prepared once for the engine: field codecs, regular expressions, source and pipeline lookups.
 * `compileMapping` caches per mapping object, so callers may call it on every record.
 */
export interface CompiledMapping {
  readonly mapping: Mapping;
  readonly person: readonly CompiledField[];
  readonly company: readonly CompiledField[];
  readonly deal: readonly CompiledField[];
  /** The unified source for a system's source value (`attribution.sources`), or the unknown source. */
  sourceFor(system: System, value: string): string;
  /** Deal stage (unified = HubSpot stage id) → outcome. */
  dealOutcome(stage: string | null): DealOutcome | undefined;
  regex(pattern: string): RegExp;
  /** The unified fields the score rules read (a condition on the score changes when they do). */
  readonly scoreFields: readonly string[];
  /** The `changed_within_days` windows a person's reconcile reads (`reevaluation.ts`). */
  readonly personTimeWindows: readonly TimeWindow[];
}

const cache = new WeakMap<Mapping, CompiledMapping>();

/** The deal stage field: the one mapped to `dealstage`/`StageName` without its own value map. */
export function isPipelineStageField(field: FieldMapping): boolean {
  return field.values === undefined && (field.hubspot === 'dealstage' || field.salesforce === 'StageName');
}

function pipelineValueMap(pipelines: readonly PipelineMap[]): ValueMap {
  const map: ValueMap = {};
  for (const pipeline of pipelines) {
    for (const stage of pipeline.stages) {
      if (map[stage.hubspot] === undefined)
        map[stage.hubspot] = { hubspot: stage.hubspot, salesforce: stage.salesforce };
    }
  }
  return map;
}

function compileDeal(deal: DealObject | undefined): {
  fields: CompiledField[];
  outcomes: Map<string, DealOutcome>;
} {
  const outcomes = new Map<string, DealOutcome>();
  if (!deal) return { fields: [], outcomes };
  for (const pipeline of deal.pipelines) {
    for (const stage of pipeline.stages)
      if (!outcomes.has(stage.hubspot)) outcomes.set(stage.hubspot, stage.outcome);
  }
  const stageMap: CompiledValueMap = compileValueMap(pipelineValueMap(deal.pipelines));
  const fields = deal.fields.map((f) =>
    isPipelineStageField(f) ? compileField(f, stageMap) : compileField(f),
  );
  return { fields, outcomes };
}

function scoreFields(mapping: Mapping): string[] {
  const fields = new Set<string>();
  for (const rule of [...mapping.score.fit, ...mapping.score.engagement]) {
    if ('when' in rule) for (const f of conditionInputs(rule.when).fields) fields.add(f);
    else fields.add(rule.field);
  }
  return [...fields];
}

export function compileMapping(mapping: Mapping): CompiledMapping {
  const cached = cache.get(mapping);
  if (cached) return cached;
  const regexes = new Map<string, RegExp>();
  const sources: Record<System, Map<string, string>> = { hubspot: new Map(), salesforce: new Map() };
  for (const [unified, entry] of Object.entries(mapping.attribution.sources)) {
    for (const system of ['hubspot', 'salesforce'] as const) {
      for (const value of entry[system]) {
        const key = value.trim().toLowerCase();
        if (!sources[system].has(key)) sources[system].set(key, unified);
      }
    }
  }
  const unknown = mapping.attribution.unknown_source;
  const deal = compileDeal(mapping.objects.deal);
  const compiled: CompiledMapping = {
    mapping,
    person: mapping.objects.person.fields.map((f) => compileField(f)),
    company: (mapping.objects.company?.fields ?? []).map((f) => compileField(f)),
    deal: deal.fields,
    sourceFor: (system, value) => sources[system].get(value.trim().toLowerCase()) ?? unknown,
    dealOutcome: (stage) => (stage === null ? undefined : deal.outcomes.get(stage)),
    scoreFields: scoreFields(mapping),
    personTimeWindows: personTimeWindows(mapping),
    regex(pattern) {
      let re = regexes.get(pattern);
      if (!re) {
        re = new RegExp(pattern, 'i');
        regexes.set(pattern, re);
      }
      return re;
    },
  };
  cache.set(mapping, compiled);
  return compiled;
}
