import type { Presence } from './manifest.js';
import type { HubSpotRecord, SalesforceRecord } from './schema.js';
import type { Country, Industry, LifecycleStage, NamePart } from './vocabulary.js';

/**
 * The ground truth a world is drawn from: the real companies, people and deals, before each CRM's
 * records of them (kept on the plan once emitted, so later phases can link and mess them up).
 */
export type EmailPattern = 'first.last' | 'flast' | 'first' | 'firstlast' | 'first_last';

export interface CompanyPlan {
  index: number;
  presence: Presence;
  name: string;
  domain: string;
  emailPattern: EmailPattern;
  industry: Industry;
  employees: number;
  annualRevenue: number;
  country: Country;
  city: string;
  createdAt: number;
  people: PersonPlan[];
  deals: DealPlan[];
  hubspot?: HubSpotRecord;
  account?: SalesforceRecord;
}

export interface PersonPlan {
  index: number;
  presence: Presence;
  /** How the person exists in Salesforce, when they do. A converted person has both a Lead and a Contact. */
  salesforceAs: 'lead' | 'contact' | 'converted' | null;
  first: NamePart;
  last: NamePart;
  email: string;
  title: string;
  phone: string;
  country: Country;
  city: string;
  company: CompanyPlan;
  source: string;
  sourceDetail: string;
  createdAt: number;
  stage: LifecycleStage;
  deals: DealPlan[];
  hubspot?: HubSpotRecord;
  lead?: SalesforceRecord;
  contact?: SalesforceRecord;
}

export interface DealPlan {
  index: number;
  presence: Presence;
  company: CompanyPlan;
  name: string;
  amount: number;
  hubspotStage: string | null;
  salesforceStage: string;
  probability: number;
  createdAt: number;
  closeDate: number;
  contacts: PersonPlan[];
  leadSource: string;
  hubspot?: HubSpotRecord;
  opportunity?: SalesforceRecord;
}

export const inHubSpot = (presence: Presence): boolean => presence !== 'salesforce';
export const inSalesforce = (presence: Presence): boolean => presence !== 'hubspot';

export const isClosedStage = (salesforceStage: string): boolean => salesforceStage.startsWith('Closed');
