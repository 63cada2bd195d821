/** The SOQL subset the sandbox understands, as a syntax tree. `pos` is a 0-based offset into the query. */

export interface FieldPath {
  /** Segments as written: `Account.Owner.Name` → ['Account', 'Owner', 'Name']. */
  path: string[];
  pos: number;
}

export type DateLiteralName =
  | 'TODAY'
  | 'YESTERDAY'
  | 'TOMORROW'
  | 'LAST_N_DAYS'
  | 'NEXT_N_DAYS'
  | 'THIS_MONTH'
  | 'LAST_MONTH'
  | 'THIS_YEAR';

export type SoqlValue =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'boolean'; value: boolean; pos: number }
  | { kind: 'null'; pos: number }
  /** `2024-01-01` */
  | { kind: 'date'; value: string; pos: number }
  /** `2024-01-01T00:00:00Z`, kept as epoch milliseconds */
  | { kind: 'datetime'; value: number; pos: number }
  | { kind: 'dateLiteral'; name: DateLiteralName; n: number | null; pos: number };

export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE';

export type Condition =
  | { kind: 'and'; conditions: Condition[] }
  | { kind: 'or'; conditions: Condition[] }
  | { kind: 'not'; condition: Condition }
  | { kind: 'comparison'; field: FieldPath; operator: ComparisonOperator; value: SoqlValue }
  | { kind: 'in'; field: FieldPath; negated: boolean; values: SoqlValue[] };

export interface OrderByItem {
  field: FieldPath;
  direction: 'ASC' | 'DESC';
  nulls: 'FIRST' | 'LAST';
}

export interface SoqlQuery {
  select: { kind: 'count' } | { kind: 'fields'; fields: FieldPath[] };
  from: { name: string; pos: number };
  where: Condition | null;
  orderBy: OrderByItem[];
  limit: number | null;
  offset: number | null;
}
