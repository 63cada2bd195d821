import type { System, ValueMap } from '../mapping/schema.js';

/**
 * A picklist translation, compiled for lookups both ways. Reading recognises every listed value (exactly,
 * then ignoring case and surrounding space); writing uses the first value listed for the system. A system
 * the map names no values for passes values through unchanged.
 */
export interface CompiledValueMap {
  /** The unified value for a system value, or undefined when the map has no entry for it. */
  toUnified(system: System, value: string): string | undefined;
  /** The value to write into a system for a unified value, or undefined when there is none. */
  fromUnified(system: System, unified: string): string | undefined;
  /** Every system value the map recognises (for problem messages). */
  knownValues(system: System): string[];
  covers(system: System): boolean;
}

interface Side {
  exact: Map<string, string>;
  folded: Map<string, string>;
  write: Map<string, string>;
  known: string[];
}

const fold = (v: string): string => v.trim().toLowerCase();
export const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

export function compileValueMap(map: ValueMap): CompiledValueMap {
  const sides: Record<System, Side> = {
    hubspot: { exact: new Map(), folded: new Map(), write: new Map(), known: [] },
    salesforce: { exact: new Map(), folded: new Map(), write: new Map(), known: [] },
  };
  for (const [unified, entry] of Object.entries(map)) {
    for (const system of ['hubspot', 'salesforce'] as const) {
      const side = sides[system];
      const values = asList(entry[system]);
      const first = values[0];
      if (first !== undefined) side.write.set(unified, first);
      for (const value of values) {
        // First mention wins, so a value listed under two unified keys reads deterministically.
        if (!side.exact.has(value)) side.exact.set(value, unified);
        if (!side.folded.has(fold(value))) side.folded.set(fold(value), unified);
        side.known.push(value);
      }
    }
  }
  return {
    toUnified(system, value) {
      const side = sides[system];
      if (side.known.length === 0) return value;
      return side.exact.get(value) ?? side.folded.get(fold(value));
    },
    fromUnified(system, unified) {
      const side = sides[system];
      if (side.known.length === 0) return unified;
      return side.write.get(unified);
    },
    knownValues: (system) => [...sides[system].known],
    covers: (system) => sides[system].known.length > 0,
  };
}
