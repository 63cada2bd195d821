import type { Condition, Mapping } from './schema.js';
import type { MappingPath } from './source-map.js';

export type ObjectKind = 'person' | 'company' | 'deal';

/** Every condition in the mapping with its path and the object whose fields it names. */
export function conditionsOf(
  mapping: Mapping,
): Array<{ condition: Condition; path: MappingPath; object: ObjectKind }> {
  const out: Array<{ condition: Condition; path: MappingPath; object: ObjectKind }> = [];
  const person = (condition: Condition | undefined, path: MappingPath): void => {
    if (condition !== undefined) out.push({ condition, path, object: 'person' });
  };
  for (const [stage, condition] of Object.entries(mapping.lifecycle.definitions)) {
    person(condition, ['lifecycle', 'definitions', stage]);
  }
  mapping.lifecycle.recycle.forEach((rule, i) => person(rule.when, ['lifecycle', 'recycle', i, 'when']));
  mapping.lifecycle.disqualify.forEach((rule, i) =>
    person(rule.when, ['lifecycle', 'disqualify', i, 'when']),
  );
  mapping.score.fit.forEach((rule, i) => person(rule.when, ['score', 'fit', i, 'when']));
  mapping.score.engagement.forEach((rule, i) => {
    if ('when' in rule) person(rule.when, ['score', 'engagement', i, 'when']);
  });
  for (const kind of ['person', 'company', 'deal'] as const) {
    const object = mapping.objects[kind];
    if (object === undefined) continue;
    for (const system of ['hubspot', 'salesforce'] as const) {
      const condition = object.scope[system];
      if (condition !== undefined)
        out.push({ condition, path: ['objects', kind, 'scope', system], object: kind });
    }
    if (object.create.only_when !== undefined) {
      out.push({
        condition: object.create.only_when,
        path: ['objects', kind, 'create', 'only_when'],
        object: kind,
      });
    }
  }
  return out;
}
