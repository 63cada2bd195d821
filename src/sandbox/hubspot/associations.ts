import type { HubSpotAssociation, HubSpotObjectType } from '../world/schema.js';

/** A HUBSPOT_DEFINED association type: its id in one direction, the id of its reverse, and its label. */
interface AssociationTypeDefinition {
  from: HubSpotObjectType;
  to: HubSpotObjectType;
  typeId: number;
  reverseTypeId: number;
  label: string | null;
  /** The v3 name (`associations=` on reads). */
  name: string;
  isDefault: boolean;
}

const PAIRS: [
  HubSpotObjectType,
  HubSpotObjectType,
  number,
  number,
  string | null,
  string,
  string,
  boolean,
][] = [
  [
    'contacts',
    'companies',
    279,
    280,
    null,
    'contact_to_company_unlabeled',
    'company_to_contact_unlabeled',
    true,
  ],
  ['contacts', 'companies', 1, 2, 'Primary', 'contact_to_company', 'company_to_contact', false],
  ['deals', 'contacts', 3, 4, null, 'deal_to_contact', 'contact_to_deal', true],
  ['deals', 'companies', 341, 342, null, 'deal_to_company_unlabeled', 'company_to_deal_unlabeled', true],
  ['deals', 'companies', 5, 6, 'Primary', 'deal_to_company', 'company_to_deal', false],
];

export const ASSOCIATION_TYPES: readonly AssociationTypeDefinition[] = PAIRS.flatMap(
  ([from, to, typeId, reverseTypeId, label, name, reverseName, isDefault]) => [
    { from, to, typeId, reverseTypeId, label, name, isDefault },
    { from: to, to: from, typeId: reverseTypeId, reverseTypeId: typeId, label, name: reverseName, isDefault },
  ],
);

export function associationType(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
  typeId: number,
): AssociationTypeDefinition | undefined {
  return ASSOCIATION_TYPES.find((t) => t.from === from && t.to === to && t.typeId === typeId);
}

export function defaultAssociationType(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
): AssociationTypeDefinition | undefined {
  return ASSOCIATION_TYPES.find((t) => t.from === from && t.to === to && t.isDefault);
}

type Key = `${HubSpotObjectType}:${string}`;

/** Associations between records, stored in both directions. */
export class AssociationStore {
  /** from key → to type → to id → type ids. */
  private readonly edges = new Map<Key, Map<HubSpotObjectType, Map<string, Set<number>>>>();

  clear(): void {
    this.edges.clear();
  }

  add(from: HubSpotObjectType, fromId: string, to: HubSpotObjectType, toId: string, typeId: number): void {
    const type = associationType(from, to, typeId);
    if (type === undefined) throw new Error(`unknown association type ${typeId} from ${from} to ${to}`);
    this.addOne(from, fromId, to, toId, typeId);
    this.addOne(to, toId, from, fromId, type.reverseTypeId);
  }

  /** Removes the given types (all when `typeIds` is undefined) between two records, both directions. */
  remove(
    from: HubSpotObjectType,
    fromId: string,
    to: HubSpotObjectType,
    toId: string,
    typeIds?: readonly number[],
  ): void {
    const forward = this.edges.get(`${from}:${fromId}`)?.get(to)?.get(toId);
    if (forward === undefined) return;
    for (const typeId of typeIds ?? [...forward]) {
      forward.delete(typeId);
      const reverse = associationType(from, to, typeId)?.reverseTypeId;
      if (reverse !== undefined) this.edges.get(`${to}:${toId}`)?.get(from)?.get(fromId)?.delete(reverse);
    }
    this.prune(from, fromId, to, toId);
    this.prune(to, toId, from, fromId);
  }

  /** Associated ids of `to` type, ascending, with their type ids. */
  list(
    from: HubSpotObjectType,
    fromId: string,
    to: HubSpotObjectType,
  ): { toId: string; typeIds: number[] }[] {
    const targets = this.edges.get(`${from}:${fromId}`)?.get(to);
    if (targets === undefined) return [];
    return [...targets.entries()]
      .map(([toId, types]) => ({ toId, typeIds: [...types].sort((a, b) => a - b) }))
      .sort((a, b) => Number(a.toId) - Number(b.toId));
  }

  /** Drops every association of a record (archive, GDPR delete). */
  removeRecord(type: HubSpotObjectType, id: string): void {
    const targets = this.edges.get(`${type}:${id}`);
    if (targets === undefined) return;
    for (const [toType, ids] of targets) {
      for (const toId of [...ids.keys()]) this.remove(type, id, toType, toId);
    }
    this.edges.delete(`${type}:${id}`);
  }

  /** Moves a merged-away record's associations onto the survivor. */
  moveRecord(type: HubSpotObjectType, fromId: string, toId: string): void {
    const targets = this.edges.get(`${type}:${fromId}`);
    if (targets === undefined) return;
    const moves: [HubSpotObjectType, string, number][] = [];
    for (const [otherType, ids] of targets) {
      for (const [otherId, typeIds] of ids)
        for (const typeId of typeIds) moves.push([otherType, otherId, typeId]);
    }
    this.removeRecord(type, fromId);
    for (const [otherType, otherId, typeId] of moves) {
      if (!(otherType === type && otherId === toId)) this.add(type, toId, otherType, otherId, typeId);
    }
  }

  /** Each association once, in the direction the World file lists it (the PAIRS order). */
  export(): HubSpotAssociation[] {
    const out: HubSpotAssociation[] = [];
    for (const [key, targets] of this.edges) {
      const [fromType, fromId] = key.split(':') as [HubSpotObjectType, string];
      for (const [toType, ids] of targets) {
        for (const [toId, typeIds] of ids) {
          for (const typeId of typeIds) {
            if (PAIRS.some(([f, t, id]) => f === fromType && t === toType && id === typeId)) {
              out.push({ fromType, fromId, toType, toId, typeId });
            }
          }
        }
      }
    }
    return out;
  }

  private addOne(
    from: HubSpotObjectType,
    fromId: string,
    to: HubSpotObjectType,
    toId: string,
    typeId: number,
  ) {
    const key: Key = `${from}:${fromId}`;
    let byType = this.edges.get(key);
    if (byType === undefined) {
      byType = new Map();
      this.edges.set(key, byType);
    }
    let byId = byType.get(to);
    if (byId === undefined) {
      byId = new Map();
      byType.set(to, byId);
    }
    let types = byId.get(toId);
    if (types === undefined) {
      types = new Set();
      byId.set(toId, types);
    }
    types.add(typeId);
  }

  private prune(from: HubSpotObjectType, fromId: string, to: HubSpotObjectType, toId: string): void {
    const byId = this.edges.get(`${from}:${fromId}`)?.get(to);
    if (byId?.get(toId)?.size === 0) byId.delete(toId);
  }
}
