// What attribution and lifecycle need besides the synced objects: Salesforce OpportunityContactRole and
// CampaignMember rows (with their Campaign's name and type), and HubSpot deal → contact / company
// associations. Both go through the connectors' budgeted callers.

import type { QueryResult } from 'jsforce';
import type { HubSpotConnector } from '../connectors/hubspot/connector.js';
import type { HttpInfoLike } from '../connectors/hubspot/client.js';
import type { SalesforceConnector } from '../connectors/salesforce/connector.js';
import { toIsoZ } from '../connectors/salesforce/window.js';
import type { RawValue } from '../domain/records.js';
import type { RelatedRow } from './snapshots.js';

export type RelatedObject = 'OpportunityContactRole' | 'CampaignMember';

export const RELATED_FIELDS: Readonly<Record<RelatedObject, readonly string[]>> = {
  OpportunityContactRole: ['OpportunityId', 'ContactId', 'Role', 'IsPrimary'],
  CampaignMember: [
    'CampaignId',
    'LeadId',
    'ContactId',
    'Status',
    'HasResponded',
    'FirstRespondedDate',
    'Campaign.Name',
    'Campaign.Type',
  ],
};

/** Flattens a REST row: `Campaign: {Name}` → `Campaign.Name`; drops `attributes`. */
export function flattenRow(row: Record<string, unknown>, prefix = ''): Record<string, RawValue> {
  const out: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'attributes') continue;
    if (v !== null && typeof v === 'object')
      Object.assign(out, flattenRow(v as Record<string, unknown>, `${prefix}${k}.`));
    else if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      out[`${prefix}${k}`] = v;
  }
  return out;
}

function iso(value: RawValue | undefined): string {
  if (typeof value !== 'string' || value === '') return '';
  try {
    return toIsoZ(value);
  } catch {
    return value;
  }
}

/**
 * Rows of `object` changed at or after `since` (deleted ones included), in pages; each page comes with
 * the stamp to resume from. The boundary second is read again next time (upserts are idempotent).
 */
export async function* pullRelated(
  salesforce: SalesforceConnector,
  object: RelatedObject,
  since: string | undefined,
): AsyncGenerator<{ rows: RelatedRow[]; since: string | undefined }> {
  const conn = salesforce.caller.conn;
  const fields = ['Id', 'IsDeleted', 'CreatedDate', 'SystemModstamp', ...RELATED_FIELDS[object]];
  const where = since === undefined ? '' : ` WHERE SystemModstamp >= ${toIsoZ(since)}`;
  const soql = `SELECT ${fields.join(', ')} FROM ${object}${where} ORDER BY SystemModstamp, Id`;
  let latest = since;
  let result = await salesforce.caller.call(
    () => conn.query<Record<string, unknown>>(soql, { scanAll: since !== undefined, autoFetch: false }),
    { object },
  );
  for (;;) {
    const rows = result.records.map((r): RelatedRow => {
      const fields = flattenRow(r);
      const stamp = iso(fields['SystemModstamp']);
      if (stamp !== '' && (latest === undefined || stamp > latest)) latest = stamp;
      return {
        system: 'salesforce',
        object,
        id: String(fields['Id']),
        fields,
        createdAt: iso(fields['CreatedDate']),
        modifiedAt: stamp,
        ...(fields['IsDeleted'] === true ? { archived: true } : {}),
      };
    });
    yield { rows, since: latest };
    if (result.done || result.nextRecordsUrl === undefined) return;
    const next = result.nextRecordsUrl;
    result = await salesforce.caller.call(() => conn.request<QueryResult<Record<string, unknown>>>(next), {
      object,
    });
  }
}

interface AssociationBatchAnswer {
  results?: Array<{
    _from?: { id?: string };
    from?: { id?: string };
    to?: Array<{ toObjectId?: string | number }>;
  }>;
}

export const ASSOCIATION_READ_MAX = 1_000;

/** Deal id → associated ids of `to` (contacts or companies), through the v4 batch read (≤ 1,000 per call). */
export async function readDealAssociations(
  hubspot: HubSpotConnector,
  dealIds: readonly string[],
  to: 'contacts' | 'companies',
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < dealIds.length; i += ASSOCIATION_READ_MAX) {
    const inputs = dealIds.slice(i, i + ASSOCIATION_READ_MAX).map((id) => ({ id }));
    const answer = await hubspot.caller.call(
      (c) =>
        c.crm.associations.v4.batchApi.getPageWithHttpInfo('deals', to, { inputs }) as unknown as Promise<
          HttpInfoLike<AssociationBatchAnswer>
        >,
      { object: 'deals' },
    );
    for (const r of answer.results ?? []) {
      const from = r._from?.id ?? r.from?.id;
      if (from === undefined) continue;
      const ids = (r.to ?? []).map((t) => String(t.toObjectId ?? '')).filter((id) => id !== '');
      out.set(String(from), [...new Set([...(out.get(String(from)) ?? []), ...ids])].sort());
    }
  }
  return out;
}
