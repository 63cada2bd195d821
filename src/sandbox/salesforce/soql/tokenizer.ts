import { SoqlError } from './errors.js';

export type TokenKind =
  'identifier' | 'string' | 'number' | 'date' | 'datetime' | 'punct' | 'operator' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text (for strings: the unescaped value). */
  text: string;
  pos: number;
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\w:])/;
const NUMBER = /^-?\d+(?:\.\d+)?(?![\w])/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPERATORS = ['!=', '<>', '<=', '>=', '=', '<', '>'];
const PUNCTUATION = '(),.:';

/** Escapes SOQL allows inside quoted strings. `\%` and `\_` stay escaped for LIKE. */
const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '%': '\\%',
  _: '\\_',
};

export function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const ch = soql.charAt(i);
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const rest = soql.slice(i);
    if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= soql.length) throw SoqlError.at('MALFORMED_QUERY', soql, i, 'unterminated string literal');
        const c = soql.charAt(j);
        if (c === "'") break;
        if (c === '\\') {
          const escaped = ESCAPES[soql.charAt(j + 1)];
          if (escaped === undefined) {
            throw SoqlError.at(
              'MALFORMED_QUERY',
              soql,
              j,
              `Invalid string literal '${soql.slice(i, j + 2)}'. Illegal character sequence '\\${soql.charAt(j + 1)}' in string literal.`,
            );
          }
          value += escaped;
          j += 2;
          continue;
        }
        value += c;
        j += 1;
      }
      tokens.push({ kind: 'string', text: value, pos: i });
      i = j + 1;
      continue;
    }
    const datetime = DATETIME.exec(rest);
    if (datetime) {
      tokens.push({ kind: 'datetime', text: datetime[0], pos: i });
      i += datetime[0].length;
      continue;
    }
    const date = DATE.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], pos: i });
      i += date[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number && (ch !== '-' || previousAllowsSign(tokens))) {
      tokens.push({ kind: 'number', text: number[0], pos: i });
      i += number[0].length;
      continue;
    }
    const identifier = IDENTIFIER.exec(rest);
    if (identifier) {
      tokens.push({ kind: 'identifier', text: identifier[0], pos: i });
      i += identifier[0].length;
      continue;
    }
    const operator = OPERATORS.find((op) => rest.startsWith(op));
    if (operator !== undefined) {
      tokens.push({ kind: 'operator', text: operator === '<>' ? '!=' : operator, pos: i });
      i += operator.length;
      continue;
    }
    if (PUNCTUATION.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, pos: i });
      i += 1;
      continue;
    }
    throw SoqlError.at('MALFORMED_QUERY', soql, i, `unexpected token: '${ch}'`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: soql.length });
  return tokens;
}

function previousAllowsSign(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last === undefined || last.kind === 'operator' || (last.kind === 'punct' && last.text !== ')');
}
