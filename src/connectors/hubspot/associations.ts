// Associations through the v4 batch create endpoint (≤ 2,000 per call), one outcome per pair.

import type { HubSpotObjectName } from '../../domain/records.js';
import { classify, type Classification } from '../classify.js';
import type { HubSpotCaller, HttpInfoLike } from './client.js';

export const ASSOCIATION_BATCH_MAX = 2_000;

/** HubSpot-defined unlabeled (default) association type ids, per direction. */
export const DEFAULT_ASSOCIATION_TYPE: Readonly<Record<string, number>> = {
  'contacts->companies': 279,
  'companies->contacts': 280,
  'deals->contacts': 3,
  'contacts->deals': 4,
  'deals->companies': 341,
  'companies->deals': 342,
};

export interface AssociationPair {
  /** The caller's correlation id. */
  ref: string;
  from: { object: HubSpotObjectName; id: string };
  to: { object: HubSpotObjectName; id: string };
  /** Default: the unlabeled HubSpot-defined type for the direction. Primary company: 1 (contact), 5 (deal). */
  typeId?: number;
}

export type AssociationOutcome =
  { ref: string; ok: true } | { ref: string; ok: false; classification: Classification };

interface AssociationAnswer {
  results?: unknown[];
  errors?: { category?: string; message?: string; context?: Record<string, string[]> }[];
}

export async function associateHubSpot(
  caller: HubSpotCaller,
  pairs: readonly AssociationPair[],
): Promise<AssociationOutcome[]> {
  const outcomes = new Map<AssociationPair, AssociationOutcome>();
  const groups = new Map<string, AssociationPair[]>();
  for (const pair of pairs) {
    const direction = `${pair.from.object}->${pair.to.object}`;
    const typeId = pair.typeId ?? DEFAULT_ASSOCIATION_TYPE[direction];
    if (typeId === undefined) {
      outcomes.set(pair, {
        ref: pair.ref,
        ok: false,
        classification: {
          kind: 'permanent',
          code: 'TANDEM_UNKNOWN_ASSOCIATION',
          reason: `Tandem does not associate ${pair.from.object} with ${pair.to.object}`,
        },
      });
      continue;
    }
    groups.set(direction, [...(groups.get(direction) ?? []), { ...pair, typeId }]);
  }
  for (const group of groups.values()) {
    const first = group[0] as AssociationPair;
    for (let i = 0; i < group.length; i += ASSOCIATION_BATCH_MAX) {
      const batch = group.slice(i, i + ASSOCIATION_BATCH_MAX);
      const inputs = batch.map((p) => ({
        _from: { id: p.from.id },
        to: { id: p.to.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as const, associationTypeId: p.typeId ?? 0 }],
      }));
      const answer = await caller.call(
        (c) =>
          c.crm.associations.v4.batchApi.createWithHttpInfo(first.from.object, first.to.object, {
            inputs: inputs as never,
          }) as Promise<HttpInfoLike<AssociationAnswer>>,
        { object: first.from.object },
      );
      for (const pair of batch) {
        const error = answer.errors?.find((e) => {
          const ids = e.context?.['ids'] ?? [];
          return ids.includes(pair.from.id) || ids.includes(pair.to.id);
        });
        const original = pairs.find((p) => p.ref === pair.ref && !outcomes.has(p)) ?? pair;
        outcomes.set(
          original,
          error === undefined
            ? { ref: pair.ref, ok: true }
            : { ref: pair.ref, ok: false, classification: classify(error, { system: 'hubspot' }) },
        );
      }
    }
  }
  return pairs.map(
    (p) =>
      outcomes.get(p) ?? {
        ref: p.ref,
        ok: false,
        classification: {
          kind: 'permanent',
          code: 'HUBSPOT_NO_RESULT',
          reason: 'No result for this association',
        },
      },
  );
}
