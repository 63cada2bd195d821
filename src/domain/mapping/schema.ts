import { z } from 'zod';

/**
 * The mapping language RevOps edits (`mappings/*.yaml`): the agreement between marketing and sales on
 * which field means what, who wins a conflict, what an MQL is, how leads are scored and how sources are
 * credited. Keys are snake_case because people write them; this schema is the single source of truth
 * (the JSON Schema in `mappings/mapping.schema.json` is generated from it for editors).
 */

const describeOnce = <T extends z.ZodType>(schema: T, text: string): T => schema.describe(text) as T;

export const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'mql',
  'sal',
  'sql',
  'opportunity',
  'customer',
] as const;
export const LifecycleStageSchema = z.enum([...LIFECYCLE_STAGES, 'disqualified']);
export type LifecycleStage = z.infer<typeof LifecycleStageSchema>;

export const SALESFORCE_PERSON_OBJECTS = ['Lead', 'Contact'] as const;
export const SystemSchema = z.enum(['hubspot', 'salesforce']);
export type System = z.infer<typeof SystemSchema>;

export const DirectionSchema = describeOnce(
  z.enum(['both', 'to_hubspot', 'to_salesforce', 'none']),
  'Which way values flow: both, only into HubSpot, only into Salesforce, or none (read for rules and scoring only).',
);
export type Direction = z.infer<typeof DirectionSchema>;

export const ConflictRuleSchema = describeOnce(
  z.enum(['hubspot', 'salesforce', 'newest', 'prefer_nonblank_hubspot', 'prefer_nonblank_salesforce']),
  'Who wins when the systems disagree: always HubSpot, always Salesforce, the most recently changed value, or one side unless it is blank.',
);
export type ConflictRule = z.infer<typeof ConflictRuleSchema>;

export const ValueTypeSchema = describeOnce(
  z.enum([
    'string',
    'email',
    'phone',
    'number',
    'integer',
    'boolean',
    'date',
    'datetime',
    'enum',
    'multi_enum',
  ]),
  'The unified value type; values read from either system are coerced to it.',
);
export type ValueType = z.infer<typeof ValueTypeSchema>;

/** Pure value transforms, applied in order to a value read from either system before it is compared. */
export const TransformSchema = describeOnce(
  z.union([
    z.enum(['trim', 'lowercase', 'uppercase', 'titlecase', 'collapse_whitespace', 'e164', 'blank_to_null']),
    z.object({ e164: z.object({ default_country: z.string().length(2) }) }).strict(),
    z.object({ truncate: z.number().int().positive() }).strict(),
    z.object({ replace: z.object({ pattern: z.string(), with: z.string() }).strict() }).strict(),
  ]),
  'A value transform: trim, lowercase, uppercase, titlecase, collapse_whitespace, e164, blank_to_null, or { e164: { default_country } }, { truncate: n }, { replace: { pattern, with } }.',
);
export type Transform = z.infer<typeof TransformSchema>;

/** A field's name in Salesforce: the same API name on Lead and Contact, or one per object. */
export const SalesforceFieldRefSchema = z.union([
  z.string().min(1),
  z
    .object({ Lead: z.string().min(1).optional(), Contact: z.string().min(1).optional() })
    .strict()
    .refine(
      (v) => v.Lead !== undefined || v.Contact !== undefined,
      'name the field on Lead, Contact, or both',
    ),
]);
export type SalesforceFieldRef = z.infer<typeof SalesforceFieldRefSchema>;

/**
 * A picklist value map: each unified value with the value(s) each system uses for it. The first value
 * listed for a system is the one written; every listed value is recognised when read.
 */
export const ValueMapSchema = z.record(
  z.string(),
  z
    .object({
      hubspot: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
      salesforce: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    })
    .strict(),
);
export type ValueMap = z.infer<typeof ValueMapSchema>;

export const FieldMappingSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-zA-Z0-9_]*$/, 'unified names start with a lower-case letter: letters, digits, _')
      .describe('The unified field name, used by rules, scoring and the customer view.'),
    hubspot: z.string().min(1).optional().describe('HubSpot property internal name.'),
    salesforce: SalesforceFieldRefSchema.optional().describe('Salesforce field API name(s).'),
    type: ValueTypeSchema.default('string'),
    direction: DirectionSchema.default('both'),
    conflict: ConflictRuleSchema.default('newest'),
    transforms: z
      .array(TransformSchema)
      .default([])
      .describe('Applied in order to a value read from either system before it is compared.'),
    values: ValueMapSchema.optional().describe(
      'Picklist translation; a value with no entry is an error for that record.',
    ),
    on_unmapped_value: z
      .enum(['error', 'skip_field'])
      .default('error')
      .describe(
        'error: the record fails with the value named; skip_field: the field is left alone and a warning kept.',
      ),
    truncate_to_target: z
      .boolean()
      .default(true)
      .describe("Cut strings to the target field's length (from the live schema), with a warning."),
    required_on_create: z
      .array(SystemSchema)
      .default([])
      .describe('Systems that need this field to create a record.'),
    default_on_create: z
      .object({ hubspot: z.string().optional(), salesforce: z.string().optional() })
      .strict()
      .optional()
      .describe(
        'Value written on create when the unified value is blank (e.g. Lead.Company = "[not provided]").',
      ),
  })
  .strict();
export type FieldMapping = z.infer<typeof FieldMappingSchema>;

/** Conditions over unified fields, scores and facts (converted, deals), for lifecycle and scoring rules. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | FieldCondition
  | { score: NumberComparison }
  | { fit_score: NumberComparison }
  | { engagement_score: NumberComparison }
  | { converted: boolean }
  | { has_open_deal: boolean }
  | { has_won_deal: boolean }
  | { stage: { at_least?: LifecycleStage; is?: LifecycleStage[] } };

export interface NumberComparison {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
}
const NumberComparisonSchema: z.ZodType<NumberComparison> = z
  .object({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: z.number().optional(),
  })
  .strict()
  .refine(
    (v) => Object.keys(v).length > 0,
    'give at least one of gt, gte, lt, lte, eq',
  ) as z.ZodType<NumberComparison>;

export interface FieldCondition {
  field: string;
  eq?: string | number | boolean;
  neq?: string | number | boolean;
  in?: Array<string | number>;
  not_in?: Array<string | number>;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  /** Case-insensitive regular expression. */
  matches?: string;
  contains?: string;
  is_blank?: boolean;
  /** The field changed within this many days (uses its change time). */
  changed_within_days?: number;
}
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const FieldConditionSchema: z.ZodType<FieldCondition> = z
  .object({
    field: z.string().min(1).describe('A unified field name (objects.<object>.fields[].name).'),
    eq: scalar.optional(),
    neq: scalar.optional(),
    in: z.array(z.union([z.string(), z.number()])).optional(),
    not_in: z.array(z.union([z.string(), z.number()])).optional(),
    gt: z.union([z.number(), z.string()]).optional(),
    gte: z.union([z.number(), z.string()]).optional(),
    lt: z.union([z.number(), z.string()]).optional(),
    lte: z.union([z.number(), z.string()]).optional(),
    matches: z.string().optional().describe('Case-insensitive JavaScript regular expression.'),
    contains: z.string().optional(),
    is_blank: z.boolean().optional(),
    changed_within_days: z.number().positive().optional(),
  })
  .strict()
  .refine(
    (v) => Object.keys(v).some((k) => k !== 'field'),
    'a field condition needs an operator: eq, neq, in, not_in, gt, gte, lt, lte, matches, contains, is_blank',
  ) as z.ZodType<FieldCondition>;

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  describeOnce(
    z.union([
      z.object({ all: z.array(ConditionSchema).min(1) }).strict(),
      z.object({ any: z.array(ConditionSchema).min(1) }).strict(),
      z.object({ not: ConditionSchema }).strict(),
      z.object({ score: NumberComparisonSchema }).strict(),
      z.object({ fit_score: NumberComparisonSchema }).strict(),
      z.object({ engagement_score: NumberComparisonSchema }).strict(),
      z.object({ converted: z.boolean() }).strict(),
      z.object({ has_open_deal: z.boolean() }).strict(),
      z.object({ has_won_deal: z.boolean() }).strict(),
      z
        .object({
          stage: z
            .object({
              at_least: LifecycleStageSchema.optional(),
              is: z.array(LifecycleStageSchema).optional(),
            })
            .strict(),
        })
        .strict(),
      FieldConditionSchema,
    ]),
    'A condition: { field, eq|neq|in|not_in|gt|gte|lt|lte|matches|contains|is_blank|changed_within_days }, { all: [...] }, { any: [...] }, { not: ... }, { score|fit_score|engagement_score: { gte: n } }, { converted|has_open_deal|has_won_deal: true }, or { stage: { at_least, is } }.',
  ),
) as z.ZodType<Condition>;

const InclusionFilterSchema = z
  .object({
    hubspot: ConditionSchema.optional().describe('Only HubSpot records matching this are synced.'),
    salesforce: ConditionSchema.optional().describe('Only Salesforce records matching this are synced.'),
  })
  .strict();

const CrossReferenceSchema = z
  .object({
    hubspot_property_for_lead_id: z.string().optional(),
    hubspot_property_for_contact_id: z.string().optional(),
    hubspot_property_for_account_id: z.string().optional(),
    hubspot_property_for_opportunity_id: z.string().optional(),
    salesforce_field_for_hubspot_id: z
      .string()
      .optional()
      .describe('Same API name on each Salesforce object.'),
  })
  .strict();

export const DuplicateSurvivorRuleSchema = describeOnce(
  z.enum(['oldest', 'most_recently_modified', 'most_complete']),
  'How one record is chosen among duplicates inside one system (ties broken by the lowest id).',
);

export const IdentitySchema = z
  .object({
    match_on: z
      .array(z.enum(['link', 'cross_reference', 'email', 'secondary_email', 'domain']))
      .min(1)
      .default(['link', 'cross_reference', 'email', 'secondary_email'])
      .describe('Match keys, strongest first.'),
    cross_reference: CrossReferenceSchema.default({}),
    secondary_emails: z
      .object({ hubspot: z.string().optional(), salesforce: z.array(z.string()).optional() })
      .strict()
      .default({}),
    duplicate_survivor: DuplicateSurvivorRuleSchema.default('oldest'),
    /** Salesforce person object preferred when a person is both a Lead and a Contact. */
    prefer_salesforce_object: z.enum(['Contact', 'Lead']).default('Contact'),
  })
  .strict();
export type Identity = z.infer<typeof IdentitySchema>;

const CreatePolicySchema = z
  .object({
    in_hubspot: z.boolean().default(true).describe('Create in HubSpot what exists only in Salesforce.'),
    in_salesforce: z
      .union([z.boolean(), z.enum(['Lead', 'Contact'])])
      .default(false)
      .describe('Create in Salesforce what exists only in HubSpot (for persons: as Lead or Contact).'),
    only_when: ConditionSchema.optional().describe(
      'Create only records matching this (e.g. stage at least mql).',
    ),
  })
  .strict();

const ObjectSchemaBase = {
  fields: z
    .array(FieldMappingSchema)
    .min(1)
    .describe('The fields kept in step, each with its names and rules.'),
  scope: InclusionFilterSchema.default({}).describe('Which records of each system are synced at all.'),
  create: CreatePolicySchema.default({ in_hubspot: true, in_salesforce: false }).describe(
    'Whether a record found in one system only is created in the other.',
  ),
  identity: IdentitySchema.default(IdentitySchema.parse({})).describe(
    'How records of the two systems are matched as one.',
  ),
};

export const PersonObjectSchema = z
  .object({
    hubspot: z
      .object({ object: z.literal('contacts').default('contacts') })
      .strict()
      .default({ object: 'contacts' }),
    salesforce: z
      .object({ objects: z.array(z.enum(SALESFORCE_PERSON_OBJECTS)).min(1).default(['Lead', 'Contact']) })
      .strict()
      .default({ objects: ['Lead', 'Contact'] }),
    ...ObjectSchemaBase,
  })
  .strict();

export const CompanyObjectSchema = z
  .object({
    hubspot: z
      .object({ object: z.literal('companies').default('companies') })
      .strict()
      .default({ object: 'companies' }),
    salesforce: z
      .object({ object: z.literal('Account').default('Account') })
      .strict()
      .default({ object: 'Account' }),
    ...ObjectSchemaBase,
  })
  .strict();

/**
 * Deal stage ⇄ StageName per HubSpot pipeline; `won`/`lost` mark closed stages. A HubSpot stage may stand
 * for several Salesforce stages (Salesforce's default sales process has more steps than HubSpot's pipeline).
 */
export const PipelineMapSchema = z
  .object({
    hubspot_pipeline: z.string().min(1),
    stages: z
      .array(
        z
          .object({
            hubspot: z.string().min(1),
            salesforce: z
              .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
              .describe(
                'The StageName(s) of this HubSpot stage: the first is written, every one is read as this stage.',
              ),
            outcome: z.enum(['open', 'won', 'lost']).default('open'),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type PipelineMap = z.infer<typeof PipelineMapSchema>;

export const DealObjectSchema = z
  .object({
    hubspot: z
      .object({ object: z.literal('deals').default('deals') })
      .strict()
      .default({ object: 'deals' }),
    salesforce: z
      .object({ object: z.literal('Opportunity').default('Opportunity') })
      .strict()
      .default({ object: 'Opportunity' }),
    pipelines: z
      .array(PipelineMapSchema)
      .min(1)
      .describe('HubSpot deal pipelines and how their stages translate to Opportunity StageName.'),
    ...ObjectSchemaBase,
  })
  .strict();

const StageWritebackSchema = z
  .object({
    hubspot_property: z.string().optional().describe('Custom HubSpot property that holds the unified stage.'),
    hubspot_lifecyclestage: z
      .partialRecord(LifecycleStageSchema, z.string())
      .optional()
      .describe("Unified stage → HubSpot's own lifecyclestage value (forward-only there)."),
    salesforce_field: SalesforceFieldRefSchema.optional(),
    reason_hubspot_property: z.string().optional(),
    reason_salesforce_field: SalesforceFieldRefSchema.optional(),
  })
  .strict();

export const StageRuleSchema = z
  .object({
    when: ConditionSchema,
    to: LifecycleStageSchema,
    reason: z.string().min(1).describe('Kept with the stage change and shown in the dashboard.'),
  })
  .strict();
export type StageRule = z.infer<typeof StageRuleSchema>;

export const LifecycleSchema = z
  .object({
    definitions: z
      .object({
        subscriber: ConditionSchema.optional(),
        lead: ConditionSchema.optional(),
        mql: ConditionSchema,
        sal: ConditionSchema,
        sql: ConditionSchema,
        opportunity: ConditionSchema.default({ has_open_deal: true }),
        customer: ConditionSchema.default({ has_won_deal: true }),
      })
      .strict()
      .describe('When each stage is reached; the highest stage whose condition holds is the candidate.'),
    recycle: z
      .array(StageRuleSchema)
      .default([])
      .describe('The only ways a stage moves back (e.g. to nurture).'),
    disqualify: z.array(StageRuleSchema).default([]),
    writeback: StageWritebackSchema.default({}),
    mql_to_sal_sla_hours: z.number().positive().default(24),
  })
  .strict();
export type Lifecycle = z.infer<typeof LifecycleSchema>;

export const ScoreRuleSchema = z
  .object({
    when: ConditionSchema,
    points: z.number().int().describe('Points added when the condition holds (negative to subtract).'),
    label: z.string().optional(),
  })
  .strict();

export const EngagementRuleSchema = z
  .object({
    field: z.string().min(1).describe('A numeric unified field, e.g. page views.'),
    points_each: z.number(),
    max_points: z.number().optional(),
    label: z.string().optional(),
  })
  .strict();

export const ScoreSchema = z
  .object({
    fit: z.array(ScoreRuleSchema).default([]),
    engagement: z.array(z.union([ScoreRuleSchema, EngagementRuleSchema])).default([]),
    writeback: z
      .object({
        hubspot_property: z.string().optional(),
        salesforce_field: SalesforceFieldRefSchema.optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type Score = z.infer<typeof ScoreSchema>;

export const AttributionModelSchema = z.enum([
  'first_touch',
  'last_touch',
  'linear',
  'u_shaped',
  'w_shaped',
  'time_decay',
]);
export type AttributionModel = z.infer<typeof AttributionModelSchema>;

export const AttributionSchema = z
  .object({
    model: AttributionModelSchema.default('w_shaped'),
    time_decay_half_life_days: z.number().positive().default(7),
    sources: z
      .record(
        z.string(),
        z
          .object({ hubspot: z.array(z.string()).default([]), salesforce: z.array(z.string()).default([]) })
          .strict(),
      )
      .describe(
        'Unified source names and the values each system uses for them (HubSpot analytics sources, LeadSource).',
      ),
    touchpoints: z
      .object({
        hubspot_original_source: z.string().default('hs_analytics_source'),
        hubspot_original_source_detail: z.string().default('hs_analytics_source_data_1'),
        hubspot_latest_source: z.string().default('hs_latest_source'),
        hubspot_latest_source_timestamp: z.string().default('hs_latest_source_timestamp'),
        salesforce_lead_source: z.string().default('LeadSource'),
        salesforce_campaign_members: z.boolean().default(true),
        campaign_type_sources: z
          .record(z.string(), z.string())
          .default({})
          .describe('Campaign.Type → unified source.'),
      })
      .strict()
      .default({
        hubspot_original_source: 'hs_analytics_source',
        hubspot_original_source_detail: 'hs_analytics_source_data_1',
        hubspot_latest_source: 'hs_latest_source',
        hubspot_latest_source_timestamp: 'hs_latest_source_timestamp',
        salesforce_lead_source: 'LeadSource',
        salesforce_campaign_members: true,
        campaign_type_sources: {},
      }),
    unknown_source: z.string().default('other').describe('Unified source for a system value with no entry.'),
    writeback: z
      .object({
        hubspot_original_source: z.string().optional(),
        hubspot_latest_source: z.string().optional(),
        salesforce_original_source: SalesforceFieldRefSchema.optional(),
        salesforce_latest_source: SalesforceFieldRefSchema.optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type Attribution = z.infer<typeof AttributionSchema>;

export const MappingSchema = z
  .object({
    $schema: z.string().optional(),
    version: z
      .union([z.string().min(1), z.number()])
      .transform(String)
      .describe('Bump when you change the mapping; recorded with every unified record for back-fills.'),
    name: z.string().min(1).describe('A name for this mapping, shown in the dashboard.'),
    description: z.string().optional(),
    objects: z
      .object({
        person: PersonObjectSchema.describe('HubSpot contacts ⇄ Salesforce Leads and Contacts.'),
        company: CompanyObjectSchema.optional().describe('HubSpot companies ⇄ Salesforce Accounts.'),
        deal: DealObjectSchema.optional().describe('HubSpot deals ⇄ Salesforce Opportunities.'),
      })
      .strict()
      .describe('The object pairs kept in step.'),
    lifecycle: LifecycleSchema.describe('The unified funnel: stage definitions, recycling, writeback.'),
    score: ScoreSchema.default({ fit: [], engagement: [], writeback: {} }).describe(
      'Lead score = fit points + engagement points.',
    ),
    attribution: AttributionSchema.describe('Sources, touchpoints and the multi-touch credit model.'),
  })
  .strict();

export type Mapping = z.infer<typeof MappingSchema>;
export type MappingInput = z.input<typeof MappingSchema>;
export type PersonObject = z.infer<typeof PersonObjectSchema>;
export type CompanyObject = z.infer<typeof CompanyObjectSchema>;
export type DealObject = z.infer<typeof DealObjectSchema>;
