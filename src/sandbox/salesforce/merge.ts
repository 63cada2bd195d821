import { z } from 'zod';
import { RecordError } from './record-error.js';
import type { Journal, SalesforceStore } from './store.js';

/** The objects SOAP `merge` takes (Case too, which the sandbox does not model). */
export const MERGEABLE_OBJECTS = ['Lead', 'Contact', 'Account'] as const;

export const MergeRequestSchema = z.object({
  object: z.enum(MERGEABLE_OBJECTS),
  masterRecordId: z.string(),
  /** SOAP merges at most three records: the master and two more. */
  mergedIds: z.array(z.string()).min(1).max(2),
  /** Values the master takes from the merged records (SOAP sends them on `masterRecord`). */
  fields: z.record(z.string(), z.unknown()).default({}),
});
export type MergeRequest = z.input<typeof MergeRequestSchema>;

export interface MergeResult {
  id: string;
  mergedRecordIds: string[];
  /** Child records moved to the master. */
  updatedRelatedIds: string[];
  success: true;
}

/** Child records Salesforce moves to the master: object → lookup field, per merged object. */
const CHILDREN: Readonly<Record<MergeRequest['object'], ReadonlyArray<[object: string, field: string]>>> = {
  Lead: [['CampaignMember', 'LeadId']],
  Contact: [
    ['CampaignMember', 'ContactId'],
    ['OpportunityContactRole', 'ContactId'],
    ['Contact', 'ReportsToId'],
  ],
  Account: [
    ['Contact', 'AccountId'],
    ['Opportunity', 'AccountId'],
    ['Account', 'ParentId'],
  ],
};

const key15 = (id: unknown): string => (typeof id === 'string' ? id.slice(0, 15) : '');

/**
 * What SOAP `merge` does: the master takes `fields` (validated like an update), the merged records are
 * deleted with `MasterRecordId` naming the master, and their child records move to the master.
 */
export function mergeRecords(store: SalesforceStore, input: MergeRequest): MergeResult {
  const request = MergeRequestSchema.parse(input);
  const master = store.liveRow(request.object, request.masterRecordId);
  const masterId = master['Id'] as string;
  const merged = request.mergedIds.map((id) => store.liveRow(request.object, id));
  for (const row of [master, ...merged]) {
    if (row['IsConverted'] === true) {
      throw new RecordError('INVALID_OPERATION', `cannot merge converted lead ${String(row['Id'])}`, ['Id']);
    }
  }
  const mergedIds = merged.map((row) => row['Id'] as string);
  if (mergedIds.some((id) => key15(id) === key15(masterId)) || new Set(mergedIds).size < mergedIds.length) {
    throw new RecordError('INVALID_OPERATION', 'merge: a record cannot be merged with itself', ['Id']);
  }
  // Losers go first so the master may take a loser's email without tripping the duplicate rule.
  const journal: Journal = [];
  try {
    for (const id of mergedIds) store.delete(request.object, id, journal, { MasterRecordId: masterId });
    store.update(request.object, masterId, request.fields, journal);
  } catch (error) {
    for (const undo of journal.reverse()) undo();
    throw error;
  }
  const losers = new Set(mergedIds.map(key15));
  const updatedRelatedIds: string[] = [];
  for (const [object, field] of CHILDREN[request.object]) {
    const moving = [...store.rows(object)].filter(
      (row) => row['IsDeleted'] !== true && losers.has(key15(row[field])),
    );
    for (const row of moving) {
      store.systemUpdate(object, row['Id'] as string, { [field]: masterId });
      updatedRelatedIds.push(row['Id'] as string);
    }
  }
  return { id: masterId, mergedRecordIds: mergedIds, updatedRelatedIds, success: true };
}
