import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';

/** A path into the mapping as zod and the checks see it: object keys and array indexes. */
export type MappingPath = ReadonlyArray<string | number>;

export interface Location {
  line: number;
  column: number;
}

/** `objects.person.fields[3].conflict`; keys that are not identifiers are quoted: `sources["Trade Show"]`. */
export function formatPath(path: MappingPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * A mapping file's text with its YAML syntax tree, so a path found by validation (or by the live checks,
 * long after parsing) can be turned back into a line and column.
 */
export class MappingSource {
  readonly lineCounter = new LineCounter();
  readonly document: Document.Parsed;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.document = parseDocument(text, {
      lineCounter: this.lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
    });
  }

  position(offset: number): Location {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line: Math.max(1, line), column: Math.max(1, col) };
  }

  /**
   * Where `path` is written. `key` points at a map key (for unknown or misspelt keys) rather than its
   * value. A path that is not in the file (a missing key, a default) points at the key of the deepest
   * ancestor that is.
   */
  locate(path: MappingPath, target: 'value' | 'key' = 'value'): Location {
    let node: unknown = this.document.contents;
    let anchor: Node | undefined = isNode(node) ? node : undefined;
    let resolved = 0;
    for (const [i, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(this.document);
      let next: unknown;
      let keyNode: Node | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
        if (pair !== undefined) {
          keyNode = isNode(pair.key) ? pair.key : undefined;
          next = pair.value;
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      if (!isNode(next) && keyNode === undefined) break;
      resolved++;
      const emptyValue = !isNode(next) || next.range == null || (isScalar(next) && next.value === null);
      const wantKey = i === path.length - 1 && target === 'key';
      anchor = (wantKey || emptyValue) && keyNode !== undefined ? keyNode : (next as Node);
      if (!isNode(next)) break;
      node = next;
    }
    // A missing key is reported at its parent's key, not at the first line of the parent's value.
    if (resolved < path.length) anchor = this.keyOfDeepest(path.slice(0, resolved)) ?? anchor;
    return this.position(anchor?.range?.[0] ?? 0);
  }

  /** The key node of the deepest resolved map entry (or the sequence item) along `path`. */
  private keyOfDeepest(path: MappingPath): Node | undefined {
    let node: unknown = this.document.contents;
    let found: Node | undefined;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(this.document);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
        found = isNode(pair?.key) ? pair.key : undefined;
        node = pair?.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        found = isNode(node) ? node : undefined;
      } else return found;
    }
    return found;
  }
}

function isNode(value: unknown): value is Node {
  return isMap(value) || isSeq(value) || isScalar(value) || isAlias(value);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string' || typeof key === 'number') return String(key);
  return undefined;
}

const sources = new WeakMap<object, MappingSource>();

/** Remembers where a parsed mapping came from, so later checks (live validation) can locate their problems. */
export function rememberSource(mapping: object, source: MappingSource): void {
  sources.set(mapping, source);
}

export function sourceOf(mapping: object): MappingSource | undefined {
  return sources.get(mapping);
}
