/**
 * A query Salesforce would refuse: `errorCode` is the REST error code, and the message points at the
 * offending token the way Salesforce does (`ERROR at Row:1:Column:17`).
 */
export type SoqlErrorCode =
  | 'MALFORMED_QUERY'
  | 'INVALID_FIELD'
  | 'INVALID_TYPE'
  | 'INVALID_QUERY_FILTER_OPERATOR'
  | 'NUMBER_OUTSIDE_VALID_RANGE';

export class SoqlError extends Error {
  override name = 'SoqlError';

  constructor(
    readonly errorCode: SoqlErrorCode,
    readonly detail: string,
    readonly row: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }

  static at(errorCode: SoqlErrorCode, soql: string, pos: number, detail: string): SoqlError {
    const before = soql.slice(0, pos);
    const row = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const column = pos - lineStart + 1;
    const lineEnd = soql.indexOf('\n', pos);
    const line = soql.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
    const message = `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`;
    return new SoqlError(errorCode, detail, row, column, message);
  }
}
