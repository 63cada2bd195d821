import { salesforceId } from '../world/salesforce-id.js';
import type { CompiledQuery } from './soql/evaluator.js';
import type { SalesforceRow } from './values.js';

export const DEFAULT_QUERY_BATCH_SIZE = 2000;
const MIN_BATCH = 200;
const MAX_BATCH = 2000;
/** Open query locators kept; older ones answer INVALID_QUERY_LOCATOR, as expired ones do. */
const MAX_OPEN_CURSORS = 200;

export interface QueryCursor {
  compiled: CompiledQuery;
  rows: SalesforceRow[];
  batchSize: number;
}

/** `Sforce-Query-Options: batchSize=N` → N clamped to 200..2000 (Salesforce treats it as a hint). */
export function batchSizeFrom(header: string | string[] | undefined): number {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const match = /batchSize\s*=\s*(\d+)/i.exec(text);
  if (match === null) return DEFAULT_QUERY_BATCH_SIZE;
  return Math.min(MAX_BATCH, Math.max(MIN_BATCH, Number(match[1])));
}

/** Query locators: the matched rows of a query, kept so `nextRecordsUrl` pages never re-run it. */
export class QueryCursors {
  private readonly cursors = new Map<string, QueryCursor>();
  private sequence = 1;

  open(cursor: QueryCursor): string {
    const id = salesforceId('01g', this.sequence);
    this.sequence += 1;
    this.cursors.set(id, cursor);
    if (this.cursors.size > MAX_OPEN_CURSORS) {
      const oldest = this.cursors.keys().next().value;
      if (oldest !== undefined) this.cursors.delete(oldest);
    }
    return id;
  }

  get(id: string): QueryCursor | undefined {
    return this.cursors.get(id);
  }

  close(id: string): void {
    this.cursors.delete(id);
  }

  clear(): void {
    this.cursors.clear();
  }
}
