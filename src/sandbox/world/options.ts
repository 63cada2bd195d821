import { DEFAULT_WORLD_NOW } from './time.js';

/** Where a record lives: in both CRMs, or in one only. Shares, normalised when used. */
export interface PresenceMix {
  both: number;
  hubspotOnly: number;
  salesforceOnly: number;
}

export interface WorldOptions {
  seed: string;
  persons: number;
  /** The world's present; defaults to 2026-11-01T00:00:00Z (never the real clock). */
  now?: Date;
  /** Defaults to persons / 10. */
  companies?: number;
  /** Average deals per company (0 to twice this, uniformly); defaults to 2, so about persons / 5 in all. */
  dealsPerCompany?: number;
  /** Salesforce campaigns; defaults to 12. */
  campaigns?: number;
  personMix?: PresenceMix;
  companyMix?: PresenceMix;
  /** For deals of companies present in both CRMs. */
  dealMix?: PresenceMix;
  /** Of Salesforce persons at a company with an Account, the share that are Contacts (the rest Leads). */
  salesforceContactShare?: number;
  /** Of Salesforce Contacts, the share that came from a converted Lead. */
  convertedLeadShare?: number;
  /** Of persons in both CRMs, the share whose records already carry each other's ids. */
  crossReferenceShare?: number;
  /** Share of persons with accented, non-Latin or right-to-left names; emoji and markup are rarer. */
  internationalNameShare?: number;
  emojiNameShare?: number;
  markupNameShare?: number;
  /** Share of persons whose records all carry one mass-import modified timestamp. */
  massImportShare?: number;
  /** How many instances of each planted mess case; defaults to max(2, persons / 400). */
  messCasesPerKind?: number;
}

export type ResolvedWorldOptions = Required<Omit<WorldOptions, 'now'>> & { now: number };

const normalise = (mix: PresenceMix): PresenceMix => {
  const total = mix.both + mix.hubspotOnly + mix.salesforceOnly;
  if (!(total > 0)) throw new RangeError('a presence mix needs a positive total');
  return {
    both: mix.both / total,
    hubspotOnly: mix.hubspotOnly / total,
    salesforceOnly: mix.salesforceOnly / total,
  };
};

export function resolveWorldOptions(options: WorldOptions): ResolvedWorldOptions {
  if (!Number.isInteger(options.persons) || options.persons < 1) {
    throw new RangeError(`persons must be a positive integer: ${options.persons}`);
  }
  const persons = options.persons;
  return {
    seed: options.seed,
    persons,
    now: options.now?.getTime() ?? DEFAULT_WORLD_NOW,
    companies: Math.max(1, options.companies ?? Math.round(persons / 10)),
    dealsPerCompany: options.dealsPerCompany ?? 2,
    campaigns: options.campaigns ?? 12,
    personMix: normalise(options.personMix ?? { both: 0.45, hubspotOnly: 0.35, salesforceOnly: 0.2 }),
    companyMix: normalise(options.companyMix ?? { both: 0.8, hubspotOnly: 0.1, salesforceOnly: 0.1 }),
    dealMix: normalise(options.dealMix ?? { both: 0.85, hubspotOnly: 0.07, salesforceOnly: 0.08 }),
    salesforceContactShare: options.salesforceContactShare ?? 0.6,
    convertedLeadShare: options.convertedLeadShare ?? 0.35,
    crossReferenceShare: options.crossReferenceShare ?? 0.3,
    internationalNameShare: options.internationalNameShare ?? 0.08,
    emojiNameShare: options.emojiNameShare ?? 0.004,
    markupNameShare: options.markupNameShare ?? 0.001,
    massImportShare: options.massImportShare ?? 0.03,
    messCasesPerKind: options.messCasesPerKind ?? Math.max(2, Math.round(persons / 400)),
  };
}
