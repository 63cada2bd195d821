import { isSalesforceId, toCaseSafeId } from '../../world/salesforce-id.js';
import type { SalesforceCatalog, SalesforceObjectInfo } from '../schema/catalog.js';
import type { SalesforceField } from '../schema/types.js';
import {
  addDays,
  formatDate,
  formatDateTime,
  startOfUtcDay,
  type SalesforceRow,
  type SalesforceValue,
} from '../values.js';
import type { ComparisonOperator, Condition, FieldPath, OrderByItem, SoqlQuery, SoqlValue } from './ast.js';
import { SoqlError } from './errors.js';
import { parseSoql } from './parser.js';

/** What a query reads: rows per object (deleted ones flagged `IsDeleted`), and parents by id. */
export interface QuerySource {
  /** Every row of the object, deleted included, in a stable (creation) order. */
  rows(objectName: string): Iterable<SalesforceRow>;
  /** Every row of the object, deleted included, sorted by (SystemModstamp, Id). */
  rowsByModstamp(objectName: string): readonly SalesforceRow[];
  /** Any row by its 18-character id, deleted included. */
  byId(id: string): SalesforceRow | undefined;
  now(): number;
}

type RowPredicate = (row: SalesforceRow, source: QuerySource) => boolean;
type RowReader = (row: SalesforceRow, source: QuerySource) => SalesforceValue;

/** A field path bound to the schema: the relationships to follow, then the field to read. */
export interface ResolvedPath {
  /** Canonical segment names (`Account`, `Name`) for building nested output. */
  names: string[];
  relationships: Array<{ field: SalesforceField; target: SalesforceObjectInfo }>;
  leaf: SalesforceField;
}

export interface CompiledQuery {
  soql: string;
  ast: SoqlQuery;
  object: SalesforceObjectInfo;
  columns: ResolvedPath[];
  predicate: RowPredicate;
  compare: ((source: QuerySource) => (a: SalesforceRow, b: SalesforceRow) => number) | null;
  /** Ordered by (SystemModstamp, Id) already when read from the modstamp index. */
  usesModstampOrder: boolean;
  /** Canonical datetime the index scan may start from (a `SystemModstamp >|>= X` conjunct). */
  modstampLowerBound: string | null;
}

const MAX_OFFSET = 2000;

type Category = 'text' | 'id' | 'number' | 'boolean' | 'date' | 'datetime';

function categoryOf(field: SalesforceField): Category {
  switch (field.type) {
    case 'id':
    case 'reference':
      return 'id';
    case 'double':
    case 'currency':
    case 'int':
    case 'percent':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    default:
      return 'text';
  }
}

export function compileQuery(soql: string, catalog: SalesforceCatalog, now: () => number): CompiledQuery {
  const ast = parseSoql(soql);
  const object = catalog.object(ast.from.name);
  if (object === undefined) {
    throw SoqlError.at(
      'INVALID_TYPE',
      soql,
      ast.from.pos,
      `sObject type '${ast.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  if (ast.offset !== null && ast.offset > MAX_OFFSET) {
    throw new SoqlError(
      'NUMBER_OUTSIDE_VALID_RANGE',
      '',
      1,
      1,
      `Maximum SOQL offset allowed is ${MAX_OFFSET}`,
    );
  }
  const binder = new Binder(soql, catalog, object, now);
  const columns = ast.select.kind === 'fields' ? ast.select.fields.map((f) => binder.resolve(f)) : [];
  const predicate = ast.where === null ? () => true : binder.condition(ast.where);
  const order = ast.orderBy.map((item) => ({ item, path: binder.resolve(item.field) }));
  const usesModstampOrder = isModstampOrder(order);
  const compare = order.length === 0 || usesModstampOrder ? null : binder.comparator(order);
  return {
    soql,
    ast,
    object,
    columns,
    predicate,
    compare,
    usesModstampOrder,
    modstampLowerBound: usesModstampOrder ? modstampLowerBound(ast.where, binder) : null,
  };
}

function isModstampOrder(order: Array<{ item: OrderByItem; path: ResolvedPath }>): boolean {
  const [first, second, ...rest] = order;
  if (first === undefined || rest.length > 0) return false;
  const direct = (o: { item: OrderByItem; path: ResolvedPath }, name: string) =>
    o.path.relationships.length === 0 && o.path.leaf.name === name && o.item.direction === 'ASC';
  return direct(first, 'SystemModstamp') && (second === undefined || direct(second, 'Id'));
}

function modstampLowerBound(where: Condition | null, binder: Binder): string | null {
  if (where === null) return null;
  const conjuncts = where.kind === 'and' ? where.conditions : [where];
  for (const c of conjuncts) {
    if (
      c.kind === 'comparison' &&
      (c.operator === '>' || c.operator === '>=') &&
      c.value.kind === 'datetime' &&
      c.field.path.length === 1 &&
      binder.resolve(c.field).leaf.name === 'SystemModstamp'
    ) {
      return formatDateTime(c.value.value);
    }
  }
  return null;
}

/** The matching rows, ordered, after OFFSET and LIMIT. `includeDeleted` is queryAll. */
export function runQuery(
  compiled: CompiledQuery,
  source: QuerySource,
  options: { includeDeleted: boolean },
): SalesforceRow[] {
  const { ast, object, predicate } = compiled;
  const offset = ast.offset ?? 0;
  const wanted = ast.limit === null ? Infinity : offset + ast.limit;
  const matches: SalesforceRow[] = [];
  const accept = (row: SalesforceRow) =>
    (options.includeDeleted || row['IsDeleted'] !== true) && predicate(row, source);

  if (compiled.usesModstampOrder) {
    const index = source.rowsByModstamp(object.name);
    const bound = compiled.modstampLowerBound;
    for (
      let i = bound === null ? 0 : lowerBound(index, bound);
      i < index.length && matches.length < wanted;
      i += 1
    ) {
      const row = index[i] as SalesforceRow;
      if (accept(row)) matches.push(row);
    }
  } else if (compiled.compare === null) {
    for (const row of source.rows(object.name)) {
      if (matches.length >= wanted) break;
      if (accept(row)) matches.push(row);
    }
  } else {
    for (const row of source.rows(object.name)) if (accept(row)) matches.push(row);
    matches.sort(compiled.compare(source));
  }
  return matches.slice(offset, wanted);
}

function lowerBound(index: readonly SalesforceRow[], modstamp: string): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (String((index[mid] as SalesforceRow)['SystemModstamp']) < modstamp) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reads a (possibly relationship) path; null when a parent is missing. */
export function readPath(row: SalesforceRow, path: ResolvedPath, source: QuerySource): SalesforceValue {
  let current: SalesforceRow | undefined = row;
  for (const { field } of path.relationships) {
    const id = current[field.name];
    if (typeof id !== 'string') return null;
    current = source.byId(id);
    if (current === undefined || current['IsDeleted'] === true) return null;
  }
  return current[path.leaf.name] ?? null;
}

/** One query result record as the REST API returns it, relationships nested under their names. */
export function projectRecord(
  row: SalesforceRow,
  compiled: CompiledQuery,
  source: QuerySource,
  apiVersion: string,
): Record<string, unknown> {
  const record: Record<string, unknown> = { attributes: attributesOf(compiled.object.name, row, apiVersion) };
  for (const column of compiled.columns) {
    let target = record;
    let current: SalesforceRow | undefined = row;
    let parentMissing = false;
    for (let i = 0; i < column.relationships.length; i += 1) {
      const { field, target: targetObject } = column.relationships[
        i
      ] as ResolvedPath['relationships'][number];
      const name = column.names[i] as string;
      const id: SalesforceValue | undefined = current?.[field.name];
      const parent: SalesforceRow | undefined = typeof id === 'string' ? source.byId(id) : undefined;
      current = parent !== undefined && parent['IsDeleted'] !== true ? parent : undefined;
      if (current === undefined) {
        if (!(name in target)) target[name] = null;
        parentMissing = true;
        break;
      }
      const existing = target[name];
      if (existing === null || typeof existing !== 'object') {
        target[name] = { attributes: attributesOf(targetObject.name, current, apiVersion) };
      }
      target = target[name] as Record<string, unknown>;
    }
    if (!parentMissing && current !== undefined) target[column.leaf.name] = current[column.leaf.name] ?? null;
  }
  return record;
}

function attributesOf(type: string, row: SalesforceRow, apiVersion: string): { type: string; url: string } {
  return { type, url: `/services/data/v${apiVersion}/sobjects/${type}/${String(row['Id'])}` };
}

class Binder {
  constructor(
    private readonly soql: string,
    private readonly catalog: SalesforceCatalog,
    private readonly object: SalesforceObjectInfo,
    private readonly now: () => number,
  ) {}

  resolve(fieldPath: FieldPath): ResolvedPath {
    let segments = fieldPath.path;
    // `SELECT Lead.Email FROM Lead` is legal: a leading object name is dropped.
    if (
      segments.length > 1 &&
      segments[0]?.toLowerCase() === this.object.name.toLowerCase() &&
      this.object.relationship(segments[0]) === undefined
    ) {
      segments = segments.slice(1);
    }
    let current = this.object;
    const relationships: ResolvedPath['relationships'] = [];
    const names: string[] = [];
    for (const segment of segments.slice(0, -1)) {
      const field = current.relationship(segment);
      const targetName = field?.referenceTo[0];
      const target = targetName === undefined ? undefined : this.catalog.object(targetName);
      if (field === undefined || target === undefined) {
        throw SoqlError.at(
          'INVALID_FIELD',
          this.soql,
          fieldPath.pos,
          `Didn't understand relationship '${segment}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      relationships.push({ field, target });
      names.push(field.relationshipName ?? segment);
      current = target;
    }
    const leafName = segments[segments.length - 1] as string;
    const leaf = current.field(leafName);
    if (leaf === undefined) {
      throw SoqlError.at(
        'INVALID_FIELD',
        this.soql,
        fieldPath.pos,
        `No such column '${leafName}' on entity '${current.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    names.push(leaf.name);
    return { names, relationships, leaf };
  }

  condition(condition: Condition): RowPredicate {
    switch (condition.kind) {
      case 'and': {
        const parts = condition.conditions.map((c) => this.condition(c));
        return (row, source) => parts.every((p) => p(row, source));
      }
      case 'or': {
        const parts = condition.conditions.map((c) => this.condition(c));
        return (row, source) => parts.some((p) => p(row, source));
      }
      case 'not': {
        const inner = this.condition(condition.condition);
        return (row, source) => !inner(row, source);
      }
      case 'comparison':
        return this.comparison(condition.field, condition.operator, condition.value);
      case 'in':
        return this.membership(condition.field, condition.negated, condition.values);
    }
  }

  private reader(fieldPath: FieldPath): { path: ResolvedPath; read: RowReader } {
    const path = this.resolve(fieldPath);
    return { path, read: pathReader(path) };
  }

  private comparison(fieldPath: FieldPath, operator: ComparisonOperator, literal: SoqlValue): RowPredicate {
    const { path, read } = this.reader(fieldPath);
    const category = categoryOf(path.leaf);
    if (operator === 'LIKE') {
      if (category !== 'text') {
        throw SoqlError.at(
          'INVALID_QUERY_FILTER_OPERATOR',
          this.soql,
          fieldPath.pos,
          `invalid operator on ${path.leaf.type} field: LIKE`,
        );
      }
      const pattern = likePattern(String(literal.kind === 'string' ? literal.value : ''));
      return (row, source) => {
        const value = read(row, source);
        return typeof value === 'string' && pattern.test(value);
      };
    }
    if (literal.kind === 'null') {
      if (operator === '=') return (row, source) => read(row, source) === null;
      if (operator === '!=') return (row, source) => read(row, source) !== null;
      return () => false;
    }
    if (literal.kind === 'dateLiteral') {
      const range = this.dateRange(literal, path.leaf, category);
      return (row, source) => {
        const value = read(row, source);
        if (value === null) return operator === '!=';
        const v = String(value);
        switch (operator) {
          case '=':
            return v >= range.start && v < range.end;
          case '!=':
            return v < range.start || v >= range.end;
          case '<':
            return v < range.start;
          case '<=':
            return v < range.end;
          case '>':
            return v >= range.end;
          case '>=':
            return v >= range.start;
        }
      };
    }
    const key = this.literalKey(literal, path.leaf, category, fieldPath);
    const keyOf = valueKey(category);
    return (row, source) => {
      const value = read(row, source);
      if (value === null) return operator === '!=';
      const v = keyOf(value);
      switch (operator) {
        case '=':
          return v === key;
        case '!=':
          return v !== key;
        case '<':
          return v < key;
        case '<=':
          return v <= key;
        case '>':
          return v > key;
        case '>=':
          return v >= key;
      }
    };
  }

  private membership(fieldPath: FieldPath, negated: boolean, values: SoqlValue[]): RowPredicate {
    const { path, read } = this.reader(fieldPath);
    const category = categoryOf(path.leaf);
    const keys = new Set<string | number | boolean>();
    let includesNull = false;
    for (const literal of values) {
      if (literal.kind === 'null') includesNull = true;
      else keys.add(this.literalKey(literal, path.leaf, category, fieldPath));
    }
    const keyOf = valueKey(category);
    return (row, source) => {
      const value = read(row, source);
      const found = value === null ? includesNull : keys.has(keyOf(value));
      return negated ? !found : found;
    };
  }

  /** The literal in the comparable form of the field's stored values, or the error Salesforce gives. */
  private literalKey(
    literal: SoqlValue,
    field: SalesforceField,
    category: Category,
    fieldPath: FieldPath,
  ): string | number | boolean {
    const mismatch = (expected: string, quoted: boolean) =>
      SoqlError.at(
        'INVALID_FIELD',
        this.soql,
        literal.pos,
        `value of filter criterion for field '${field.name}' must be of type ${expected} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
      );
    switch (category) {
      case 'text':
        if (literal.kind !== 'string') throw mismatch('string', true);
        return literal.value.toLowerCase();
      case 'id':
        if (literal.kind !== 'string') throw mismatch('id', true);
        if (!isSalesforceId(literal.value)) {
          throw SoqlError.at(
            'INVALID_QUERY_FILTER_OPERATOR',
            this.soql,
            fieldPath.pos,
            `invalid ID field: ${literal.value}`,
          );
        }
        return toCaseSafeId(literal.value);
      case 'number':
        if (literal.kind !== 'number') throw mismatch(field.type === 'int' ? 'int' : 'double', false);
        return literal.value;
      case 'boolean':
        if (literal.kind !== 'boolean') throw mismatch('boolean', false);
        return literal.value;
      case 'date':
        if (literal.kind !== 'date') throw mismatch('date', false);
        return literal.value;
      case 'datetime':
        if (literal.kind !== 'datetime') throw mismatch('dateTime', false);
        return formatDateTime(literal.value);
    }
  }

  private dateRange(
    literal: Extract<SoqlValue, { kind: 'dateLiteral' }>,
    field: SalesforceField,
    category: Category,
  ): { start: string; end: string } {
    if (category !== 'date' && category !== 'datetime') {
      throw SoqlError.at(
        'INVALID_FIELD',
        this.soql,
        literal.pos,
        `value of filter criterion for field '${field.name}' must be of type ${field.type} and should not be a date literal`,
      );
    }
    const today = startOfUtcDay(this.now());
    const n = literal.n ?? 0;
    const now = new Date(today);
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const [startMs, endMs] = ((): [number, number] => {
      switch (literal.name) {
        case 'TODAY':
          return [today, addDays(today, 1)];
        case 'YESTERDAY':
          return [addDays(today, -1), today];
        case 'TOMORROW':
          return [addDays(today, 1), addDays(today, 2)];
        case 'LAST_N_DAYS':
          return [addDays(today, -n), addDays(today, 1)];
        case 'NEXT_N_DAYS':
          return [addDays(today, 1), addDays(today, n + 1)];
        case 'THIS_MONTH':
          return [monthStart, Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)];
        case 'LAST_MONTH':
          return [Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1), monthStart];
        case 'THIS_YEAR':
          return [Date.UTC(now.getUTCFullYear(), 0, 1), Date.UTC(now.getUTCFullYear() + 1, 0, 1)];
      }
    })();
    const format = category === 'date' ? formatDate : formatDateTime;
    return { start: format(startMs), end: format(endMs) };
  }

  comparator(
    order: Array<{ item: OrderByItem; path: ResolvedPath }>,
  ): (source: QuerySource) => (a: SalesforceRow, b: SalesforceRow) => number {
    const keys = order.map(({ item, path }) => ({
      item,
      read: pathReader(path),
      keyOf: valueKey(categoryOf(path.leaf)),
    }));
    return (source) => (a, b) => {
      for (const { item, read, keyOf } of keys) {
        const va = read(a, source);
        const vb = read(b, source);
        const x = va === null ? null : keyOf(va);
        const y = vb === null ? null : keyOf(vb);
        if (x === y) continue;
        if (x === null || y === null) {
          const nullFirst = item.nulls === 'FIRST' ? -1 : 1;
          return x === null ? nullFirst : -nullFirst;
        }
        const cmp = x < y ? -1 : 1;
        return item.direction === 'ASC' ? cmp : -cmp;
      }
      return 0;
    };
  }
}

function valueKey(category: Category): (value: Exclude<SalesforceValue, null>) => string | number | boolean {
  switch (category) {
    case 'text':
      return (value) => String(value).toLowerCase();
    case 'number':
      return (value) => Number(value);
    case 'boolean':
      return (value) => value === true || value === 'true';
    default:
      return (value) => String(value);
  }
}

/** `%` any run, `_` one character, `\%` `\_` literal; case-insensitive, whole value. */
function likePattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern.charAt(i);
    if (ch === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern.charAt(i + 1));
      i += 1;
    } else if (ch === '%') source += '[\\s\\S]*';
    else if (ch === '_') source += '[\\s\\S]';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, 'i');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function pathReader(path: ResolvedPath): RowReader {
  if (path.relationships.length === 0) {
    const name = path.leaf.name;
    return (row) => row[name] ?? null;
  }
  return (row, source) => readPath(row, path, source);
}
