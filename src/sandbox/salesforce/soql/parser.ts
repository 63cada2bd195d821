import type {
  ComparisonOperator,
  Condition,
  DateLiteralName,
  FieldPath,
  OrderByItem,
  SoqlQuery,
  SoqlValue,
} from './ast.js';
import { SoqlError } from './errors.js';
import { tokenize, type Token } from './tokenizer.js';

const DATE_LITERALS: ReadonlySet<string> = new Set<DateLiteralName>([
  'TODAY',
  'YESTERDAY',
  'TOMORROW',
  'THIS_MONTH',
  'LAST_MONTH',
  'THIS_YEAR',
]);
const DATE_LITERALS_WITH_N: ReadonlySet<string> = new Set<DateLiteralName>(['LAST_N_DAYS', 'NEXT_N_DAYS']);

/** Words that end a field list or condition; a field may not be named like them. */
const RESERVED = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ORDER',
  'BY',
  'LIMIT',
  'OFFSET',
  'ASC',
  'DESC',
  'NULLS',
  'FIRST',
  'LAST',
  'NULL',
  'TRUE',
  'FALSE',
  'GROUP',
  'HAVING',
]);

/** Recursive-descent parser for the SOQL subset: SELECT fields|COUNT() FROM x [WHERE] [ORDER BY] [LIMIT] [OFFSET]. */
export function parseSoql(soql: string): SoqlQuery {
  return new Parser(soql).query();
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly soql: string) {
    this.tokens = tokenize(soql);
  }

  query(): SoqlQuery {
    this.expectKeyword('SELECT');
    const select = this.selectList();
    this.expectKeyword('FROM');
    const fromToken = this.expectIdentifier();
    const from = { name: fromToken.text, pos: fromToken.pos };
    let where: Condition | null = null;
    if (this.acceptKeyword('WHERE')) where = this.condition();
    let orderBy: OrderByItem[] = [];
    if (this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY');
      orderBy = this.orderByList();
    }
    const limit = this.acceptKeyword('LIMIT') ? this.nonNegativeInteger() : null;
    const offset = this.acceptKeyword('OFFSET') ? this.nonNegativeInteger() : null;
    const end = this.peek();
    if (end.kind !== 'eof') throw this.unexpected(end);
    return { select, from, where, orderBy, limit, offset };
  }

  private selectList(): SoqlQuery['select'] {
    const first = this.peek();
    if (this.isKeyword(first, 'COUNT') && this.peek(1).text === '(') {
      this.index += 2;
      this.expectPunct(')');
      return { kind: 'count' };
    }
    const fields = [this.fieldPath()];
    while (this.acceptPunct(',')) fields.push(this.fieldPath());
    return { kind: 'fields', fields };
  }

  private fieldPath(): FieldPath {
    const first = this.expectIdentifier();
    const path = [first.text];
    while (this.acceptPunct('.')) path.push(this.expectIdentifier().text);
    return { path, pos: first.pos };
  }

  /** SOQL has no precedence between AND and OR: mixing them needs parentheses. */
  private condition(): Condition {
    const first = this.unary();
    const next = this.peek();
    const joiner = this.isKeyword(next, 'AND') ? 'AND' : this.isKeyword(next, 'OR') ? 'OR' : null;
    if (joiner === null) return first;
    const conditions = [first];
    while (this.acceptKeyword(joiner)) conditions.push(this.unary());
    const after = this.peek();
    if (this.isKeyword(after, 'AND') || this.isKeyword(after, 'OR')) throw this.unexpected(after);
    return joiner === 'AND' ? { kind: 'and', conditions } : { kind: 'or', conditions };
  }

  private unary(): Condition {
    if (this.acceptKeyword('NOT')) return { kind: 'not', condition: this.unary() };
    if (this.acceptPunct('(')) {
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    return this.predicate();
  }

  private predicate(): Condition {
    const field = this.fieldPath();
    const token = this.peek();
    if (this.isKeyword(token, 'NOT') && this.isKeyword(this.peek(1), 'IN')) {
      this.index += 2;
      return { kind: 'in', field, negated: true, values: this.valueList() };
    }
    if (this.acceptKeyword('IN')) return { kind: 'in', field, negated: false, values: this.valueList() };
    if (this.acceptKeyword('LIKE')) {
      const value = this.value();
      if (value.kind !== 'string') throw this.unexpectedAt(value.pos);
      return { kind: 'comparison', field, operator: 'LIKE', value };
    }
    if (token.kind !== 'operator') throw this.unexpected(token);
    this.index += 1;
    return { kind: 'comparison', field, operator: token.text as ComparisonOperator, value: this.value() };
  }

  private valueList(): SoqlValue[] {
    this.expectPunct('(');
    const values = [this.value()];
    while (this.acceptPunct(',')) values.push(this.value());
    this.expectPunct(')');
    return values;
  }

  private value(): SoqlValue {
    const token = this.next();
    const { pos } = token;
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.text, pos };
      case 'number':
        return { kind: 'number', value: Number(token.text), pos };
      case 'date':
        if (Number.isNaN(Date.parse(`${token.text}T00:00:00Z`))) throw this.invalidDate(token);
        return { kind: 'date', value: token.text, pos };
      case 'datetime': {
        const value = parseDateTimeLiteral(token.text);
        if (value === null) throw this.invalidDate(token);
        return { kind: 'datetime', value, pos };
      }
      case 'identifier': {
        const upper = token.text.toUpperCase();
        if (upper === 'NULL') return { kind: 'null', pos };
        if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE', pos };
        if (DATE_LITERALS.has(upper))
          return { kind: 'dateLiteral', name: upper as DateLiteralName, n: null, pos };
        if (DATE_LITERALS_WITH_N.has(upper)) {
          this.expectPunct(':');
          const n = this.nonNegativeInteger();
          return { kind: 'dateLiteral', name: upper as DateLiteralName, n, pos };
        }
        throw this.unexpected(token);
      }
      default:
        throw this.unexpected(token);
    }
  }

  private orderByList(): OrderByItem[] {
    const items: OrderByItem[] = [];
    do {
      const field = this.fieldPath();
      let direction: OrderByItem['direction'] = 'ASC';
      if (this.acceptKeyword('DESC')) direction = 'DESC';
      else this.acceptKeyword('ASC');
      let nulls: OrderByItem['nulls'] = direction === 'ASC' ? 'FIRST' : 'LAST';
      if (this.acceptKeyword('NULLS')) {
        if (this.acceptKeyword('FIRST')) nulls = 'FIRST';
        else {
          this.expectKeyword('LAST');
          nulls = 'LAST';
        }
      }
      items.push({ field, direction, nulls });
    } while (this.acceptPunct(','));
    return items;
  }

  private nonNegativeInteger(): number {
    const token = this.next();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) throw this.unexpected(token);
    return Number(token.text);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.index += 1;
    return token;
  }

  private isKeyword(token: Token, keyword: string): boolean {
    return token.kind === 'identifier' && token.text.toUpperCase() === keyword;
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(this.peek(), keyword)) return false;
    this.index += 1;
    return true;
  }

  private expectKeyword(keyword: string): void {
    const token = this.peek();
    if (!this.acceptKeyword(keyword)) throw this.unexpected(token);
  }

  private expectIdentifier(): Token {
    const token = this.peek();
    if (token.kind !== 'identifier' || RESERVED.has(token.text.toUpperCase())) throw this.unexpected(token);
    this.index += 1;
    return token;
  }

  private acceptPunct(text: string): boolean {
    const token = this.peek();
    if (token.kind !== 'punct' || token.text !== text) return false;
    this.index += 1;
    return true;
  }

  private expectPunct(text: string): void {
    const token = this.peek();
    if (!this.acceptPunct(text)) throw this.unexpected(token);
  }

  private unexpected(token: Token): SoqlError {
    return SoqlError.at('MALFORMED_QUERY', this.soql, token.pos, `unexpected token: '${token.text}'`);
  }

  private unexpectedAt(pos: number): SoqlError {
    const token = this.tokens.find((t) => t.pos === pos) ?? this.peek();
    return this.unexpected(token);
  }

  private invalidDate(token: Token): SoqlError {
    return SoqlError.at(
      'MALFORMED_QUERY',
      this.soql,
      token.pos,
      `line 1:${token.pos} no viable alternative at character '${token.text}'`,
    );
  }
}

/** `2024-01-01T00:00:00Z`, `…+0000`, `…-05:00` → epoch ms, or null when not a real instant. */
export function parseDateTimeLiteral(text: string): number | null {
  const normalized = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(normalized);
  return Number.isNaN(ms) ? null : ms;
}
