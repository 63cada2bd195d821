import { asList } from '../values/value-map.js';
import type {
  Condition,
  Direction,
  FieldMapping,
  Mapping,
  NumberComparison,
  SalesforceFieldRef,
} from './schema.js';

/**
 * A readable summary of a mapping: what `tandem mappings show` prints and the dashboard's Mapping page
 * renders. Plain data, no formatting beyond short phrases.
 */

export interface FieldSummary {
  name: string;
  type: string;
  hubspot?: string;
  salesforce?: string;
  direction: Direction;
  /** HubSpot on the left, Salesforce on the right: ⇄ both, ← into HubSpot, → into Salesforce, · none. */
  arrow: string;
  conflict: string;
  transforms: string[];
  /** Unified picklist values, when the field has a value map. */
  values?: string[];
  requiredOnCreate: string[];
}

export interface ObjectSummary {
  kind: 'person' | 'company' | 'deal';
  hubspot: string;
  salesforce: string[];
  matchOn: string[];
  create: { inHubSpot: boolean; inSalesforce: string | boolean; onlyWhen?: string };
  fields: FieldSummary[];
  pipelines?: Array<{
    hubspotPipeline: string;
    /** The first Salesforce stage is the one written. */
    stages: Array<{ hubspot: string; salesforce: string[]; outcome: string }>;
  }>;
}

export interface RuleSummary {
  condition: string;
  to?: string;
  reason?: string;
  points?: number;
  label?: string;
}

export interface MappingSummary {
  name: string;
  version: string;
  description?: string;
  objects: ObjectSummary[];
  lifecycle: {
    stages: Array<{ stage: string; condition: string }>;
    recycle: RuleSummary[];
    disqualify: RuleSummary[];
    slaHours: number;
  };
  score: { fit: RuleSummary[]; engagement: RuleSummary[] };
  attribution: {
    model: string;
    sources: Array<{ name: string; hubspot: string[]; salesforce: string[] }>;
    unknownSource: string;
  };
}

export const DIRECTION_ARROWS: Record<Direction, string> = {
  both: '⇄',
  to_hubspot: '←',
  to_salesforce: '→',
  none: '·',
};

function salesforceText(ref: SalesforceFieldRef | undefined): string | undefined {
  if (ref === undefined) return undefined;
  if (typeof ref === 'string') return ref;
  return Object.entries(ref)
    .filter(([, name]) => name !== undefined)
    .map(([object, name]) => `${object}.${name}`)
    .join(', ');
}

function describeField(field: FieldMapping): FieldSummary {
  const salesforce = salesforceText(field.salesforce);
  return {
    name: field.name,
    type: field.type,
    ...(field.hubspot === undefined ? {} : { hubspot: field.hubspot }),
    ...(salesforce === undefined ? {} : { salesforce }),
    direction: field.direction,
    arrow: DIRECTION_ARROWS[field.direction],
    conflict: field.conflict,
    transforms: field.transforms.map((t) =>
      typeof t === 'string' ? t : JSON.stringify(t).replace(/"/g, ''),
    ),
    ...(field.values === undefined ? {} : { values: Object.keys(field.values) }),
    requiredOnCreate: [...field.required_on_create],
  };
}

const COMPARISONS: Array<[keyof NumberComparison, string]> = [
  ['gt', '>'],
  ['gte', '≥'],
  ['lt', '<'],
  ['lte', '≤'],
  ['eq', '='],
];

function describeNumber(subject: string, comparison: NumberComparison): string {
  return COMPARISONS.filter(([key]) => comparison[key] !== undefined)
    .map(([key, symbol]) => `${subject} ${symbol} ${comparison[key]}`)
    .join(' and ');
}

const quote = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : String(v));

/** `score ≥ 50 and email matches /…/`. */
export function describeCondition(condition: Condition): string {
  if ('all' in condition) return condition.all.map((c) => wrap(c)).join(' and ');
  if ('any' in condition) return condition.any.map((c) => wrap(c)).join(' or ');
  if ('not' in condition) return `not ${wrap(condition.not)}`;
  if ('score' in condition) return describeNumber('score', condition.score);
  if ('fit_score' in condition) return describeNumber('fit score', condition.fit_score);
  if ('engagement_score' in condition) return describeNumber('engagement score', condition.engagement_score);
  if ('converted' in condition) return condition.converted ? 'converted' : 'not converted';
  if ('has_open_deal' in condition) return condition.has_open_deal ? 'has an open deal' : 'has no open deal';
  if ('has_won_deal' in condition) return condition.has_won_deal ? 'has a won deal' : 'has no won deal';
  if ('stage' in condition) {
    const parts: string[] = [];
    if (condition.stage.at_least !== undefined) parts.push(`stage at least ${condition.stage.at_least}`);
    if (condition.stage.is !== undefined) parts.push(`stage is ${condition.stage.is.join(' or ')}`);
    return parts.join(' and ') || 'any stage';
  }
  const f = condition.field;
  const parts: string[] = [];
  if (condition.eq !== undefined) parts.push(`${f} = ${quote(condition.eq)}`);
  if (condition.neq !== undefined) parts.push(`${f} ≠ ${quote(condition.neq)}`);
  if (condition.in !== undefined) parts.push(`${f} in [${condition.in.map(quote).join(', ')}]`);
  if (condition.not_in !== undefined) parts.push(`${f} not in [${condition.not_in.map(quote).join(', ')}]`);
  for (const [key, symbol] of COMPARISONS) {
    const value = (condition as unknown as Record<string, unknown>)[key];
    if (key !== 'eq' && value !== undefined) parts.push(`${f} ${symbol} ${quote(value)}`);
  }
  if (condition.matches !== undefined) parts.push(`${f} matches /${condition.matches}/i`);
  if (condition.contains !== undefined) parts.push(`${f} contains ${quote(condition.contains)}`);
  if (condition.is_blank !== undefined)
    parts.push(condition.is_blank ? `${f} is blank` : `${f} is not blank`);
  if (condition.changed_within_days !== undefined) {
    parts.push(`${f} changed within ${condition.changed_within_days} days`);
  }
  return parts.join(' and ');
}

function wrap(condition: Condition): string {
  const text = describeCondition(condition);
  return 'all' in condition || 'any' in condition ? `(${text})` : text;
}

export function describeMapping(mapping: Mapping): MappingSummary {
  const objects: ObjectSummary[] = [];
  const { person, company, deal } = mapping.objects;
  const base = (kind: ObjectSummary['kind'], object: NonNullable<Mapping['objects'][typeof kind]>) => ({
    kind,
    matchOn: [...object.identity.match_on],
    create: {
      inHubSpot: object.create.in_hubspot,
      inSalesforce: object.create.in_salesforce,
      ...(object.create.only_when === undefined
        ? {}
        : { onlyWhen: describeCondition(object.create.only_when) }),
    },
    fields: object.fields.map(describeField),
  });
  objects.push({
    ...base('person', person),
    hubspot: person.hubspot.object,
    salesforce: [...person.salesforce.objects],
  });
  if (company !== undefined) {
    objects.push({
      ...base('company', company),
      hubspot: company.hubspot.object,
      salesforce: [company.salesforce.object],
    });
  }
  if (deal !== undefined) {
    objects.push({
      ...base('deal', deal),
      hubspot: deal.hubspot.object,
      salesforce: [deal.salesforce.object],
      pipelines: deal.pipelines.map((p) => ({
        hubspotPipeline: p.hubspot_pipeline,
        stages: p.stages.map((s) => ({
          hubspot: s.hubspot,
          salesforce: asList(s.salesforce),
          outcome: s.outcome,
        })),
      })),
    });
  }
  const rule = (r: { when: Condition; to: string; reason: string }): RuleSummary => ({
    condition: describeCondition(r.when),
    to: r.to,
    reason: r.reason,
  });
  return {
    name: mapping.name,
    version: mapping.version,
    ...(mapping.description === undefined ? {} : { description: mapping.description.trim() }),
    objects,
    lifecycle: {
      stages: Object.entries(mapping.lifecycle.definitions).flatMap(([stage, condition]) =>
        condition === undefined ? [] : [{ stage, condition: describeCondition(condition) }],
      ),
      recycle: mapping.lifecycle.recycle.map(rule),
      disqualify: mapping.lifecycle.disqualify.map(rule),
      slaHours: mapping.lifecycle.mql_to_sal_sla_hours,
    },
    score: {
      fit: mapping.score.fit.map((r) => ({
        condition: describeCondition(r.when),
        points: r.points,
        ...(r.label === undefined ? {} : { label: r.label }),
      })),
      engagement: mapping.score.engagement.map((r) =>
        'field' in r
          ? {
              condition: `${r.points_each} per ${r.field}${r.max_points === undefined ? '' : `, at most ${r.max_points}`}`,
              points: r.points_each,
              ...(r.label === undefined ? {} : { label: r.label }),
            }
          : {
              condition: describeCondition(r.when),
              points: r.points,
              ...(r.label === undefined ? {} : { label: r.label }),
            },
      ),
    },
    attribution: {
      model: mapping.attribution.model,
      sources: Object.entries(mapping.attribution.sources).map(([name, s]) => ({
        name,
        hubspot: [...s.hubspot],
        salesforce: [...s.salesforce],
      })),
      unknownSource: mapping.attribution.unknown_source,
    },
  };
}
