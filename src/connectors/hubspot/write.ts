// Write-back through HubSpot's batch endpoints with one outcome per op. HubSpot rejects a whole batch for
// some single bad inputs (an invalid property value, a duplicate email or id in the batch, a unique-value
// conflict): such a batch is bisected until the bad op stands alone, so its batch-mates are still written.

import type { HubSpotObjectName } from '../../domain/records.js';
import { PermanentError, classify, type Classification } from '../classify.js';
import type { FieldValue, WriteOp, WriteOutcome } from '../connector.js';
import { httpStatusOf, type HubSpotCaller, type HttpInfoLike } from './client.js';

export const BATCH_WRITE_MAX = 100;

/** Whole-batch answers that one bad input can cause (see BEHAVIOR.md): bisect rather than fail everyone. */
const ONE_BAD_INPUT_STATUSES = new Set([400, 404, 409, 422]);

type Kind = WriteOp['kind'];

interface BatchResult {
  id: string;
  properties?: Record<string, string | null>;
  objectWriteTraceId?: string;
  /** Upsert: created (the SDK renames HubSpot's `new` to `_new`). */
  _new?: boolean;
  new?: boolean;
}

interface BatchErrorItem {
  category?: string;
  message?: string;
  context?: Record<string, string[]>;
}

interface BatchAnswer {
  results?: BatchResult[];
  errors?: BatchErrorItem[];
}

/** HubSpot takes every property value as a string; null clears the property. */
export function toHubSpotProperties(fields: Record<string, FieldValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) out[name] = value === null ? '' : String(value);
  return out;
}

function invalid(op: WriteOp, reason: string): WriteOutcome {
  return {
    ref: op.ref,
    ok: false,
    classification: { kind: 'permanent', code: 'TANDEM_INVALID_WRITE_OP', reason },
  };
}

/** The key HubSpot refuses to see twice in one batch, if any. */
function batchKey(object: HubSpotObjectName, op: WriteOp): string | undefined {
  switch (op.kind) {
    case 'update':
    case 'archive':
      return op.recordId;
    case 'upsert': {
      const value = op.idValue ?? '';
      return `${op.idProperty ?? ''}:${op.idProperty === 'email' ? value.toLowerCase() : value}`;
    }
    case 'create': {
      const email = op.fields['email'];
      return object === 'contacts' && typeof email === 'string' && email !== ''
        ? email.toLowerCase()
        : undefined;
    }
  }
}

/** Splits ops into batches of ≤ `max` with no key twice in a batch; order within a kind is kept. */
export function planBatches(
  object: HubSpotObjectName,
  ops: readonly WriteOp[],
  max = BATCH_WRITE_MAX,
): WriteOp[][] {
  const batches: { ops: WriteOp[]; keys: Set<string> }[] = [];
  for (const op of ops) {
    const key = batchKey(object, op);
    let target = batches.find((b) => b.ops.length < max && (key === undefined || !b.keys.has(key)));
    if (target === undefined) {
      target = { ops: [], keys: new Set() };
      batches.push(target);
    }
    target.ops.push(op);
    if (key !== undefined) target.keys.add(key);
  }
  return batches.map((b) => b.ops);
}

export async function writeHubSpot(
  caller: HubSpotCaller,
  object: HubSpotObjectName,
  ops: readonly WriteOp[],
): Promise<WriteOutcome[]> {
  const outcomes = new Map<WriteOp, WriteOutcome>();
  const byKind: Record<Kind, WriteOp[]> = { create: [], upsert: [], update: [], archive: [] };
  for (const op of ops) {
    if ((op.kind === 'update' || op.kind === 'archive') && (op.recordId ?? '') === '') {
      outcomes.set(op, invalid(op, `A HubSpot ${op.kind} needs the record id`));
    } else if (op.kind === 'upsert' && ((op.idProperty ?? '') === '' || (op.idValue ?? '') === '')) {
      outcomes.set(op, invalid(op, 'A HubSpot upsert needs idProperty and idValue'));
    } else {
      byKind[op.kind].push(op);
    }
  }
  const writer = new BatchWriter(caller, object);
  for (const kind of ['create', 'upsert', 'update', 'archive'] as const) {
    for (const batch of planBatches(object, byKind[kind])) {
      for (const outcome of await writer.run(kind, batch)) {
        const op = batch.find((o) => o.ref === outcome.ref && !outcomes.has(o));
        if (op !== undefined) outcomes.set(op, outcome);
      }
    }
  }
  return ops.map(
    (op) =>
      outcomes.get(op) ??
      invalid(op, 'HubSpot answered without a result for this record; it may not have been written'),
  );
}

class BatchWriter {
  constructor(
    private readonly caller: HubSpotCaller,
    private readonly object: HubSpotObjectName,
  ) {}

  /** Writes one batch; bisects on a whole-batch rejection so only the bad op fails. */
  async run(kind: Kind, batch: readonly WriteOp[]): Promise<WriteOutcome[]> {
    if (batch.length === 0) return [];
    try {
      return await this.send(kind, batch);
    } catch (error) {
      const status = httpStatusOf(error);
      if (!(error instanceof PermanentError) || status === undefined || !ONE_BAD_INPUT_STATUSES.has(status)) {
        throw error;
      }
      if (batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        return [
          ...(await this.run(kind, batch.slice(0, middle))),
          ...(await this.run(kind, batch.slice(middle))),
        ];
      }
      const [op] = batch as [WriteOp];
      const c = error.classification;
      if (kind === 'create' && c.existingId !== undefined) {
        // Already there (an earlier run created it): update it instead of creating a duplicate.
        const [outcome] = await this.run('update', [{ ...op, kind: 'update', recordId: c.existingId }]);
        return outcome === undefined ? [] : [outcome];
      }
      return [{ ref: op.ref, ok: false, classification: c }];
    }
  }

  private async send(kind: Kind, batch: readonly WriteOp[]): Promise<WriteOutcome[]> {
    const { object } = this;
    const api = (c: HubSpotCaller['client']) => c.crm.objects.batchApi;
    const options = { object };
    switch (kind) {
      case 'create': {
        const inputs = batch.map((op, i) => ({
          properties: toHubSpotProperties(op.fields),
          associations: [],
          objectWriteTraceId: String(i),
        }));
        const answer = await this.caller.call(
          (c) => api(c).createWithHttpInfo(object, { inputs }) as Promise<HttpInfoLike<BatchAnswer>>,
          options,
        );
        return this.outcomes(batch, answer, (op, i, results) => {
          const traced = results.find((r) => r.objectWriteTraceId === String(i));
          return (
            traced ?? (results.every((r) => r.objectWriteTraceId === undefined) ? results[i] : undefined)
          );
        });
      }
      case 'update': {
        const inputs = batch.map((op) => ({
          id: op.recordId ?? '',
          properties: toHubSpotProperties(op.fields),
        }));
        const answer = await this.caller.call(
          (c) => api(c).updateWithHttpInfo(object, { inputs }) as Promise<HttpInfoLike<BatchAnswer>>,
          options,
        );
        return this.outcomes(batch, answer, (op, _i, results) => results.find((r) => r.id === op.recordId));
      }
      case 'upsert': {
        const inputs = batch.map((op) => ({
          id: op.idValue ?? '',
          idProperty: op.idProperty ?? '',
          properties: toHubSpotProperties(op.fields),
        }));
        const answer = await this.caller.call(
          (c) => api(c).upsertWithHttpInfo(object, { inputs }) as Promise<HttpInfoLike<BatchAnswer>>,
          options,
        );
        const same = (a: string | null | undefined, b: string | undefined) =>
          a !== null && a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
        return this.outcomes(batch, answer, (op, _i, results) =>
          results.find((r) => same(r.properties?.[op.idProperty ?? ''], op.idValue) || r.id === op.idValue),
        );
      }
      case 'archive': {
        const inputs = batch.map((op) => ({ id: op.recordId ?? '' }));
        await this.caller.call((c) => api(c).archiveWithHttpInfo(object, { inputs }), options);
        return batch.map((op) => ({ ref: op.ref, ok: true, recordId: op.recordId ?? '', created: false }));
      }
    }
  }

  /**
   * Per-op outcomes of a 200/201/207 answer: errors by `context.ids` (record id or upsert value) or trace id,
   * results by `match`; results nobody matched (e.g. an update of a merged-away id answered with the
   * survivor's id) go to the remaining ops in order.
   */
  private outcomes(
    batch: readonly WriteOp[],
    answer: BatchAnswer,
    match: (op: WriteOp, index: number, results: BatchResult[]) => BatchResult | undefined,
  ): WriteOutcome[] {
    const results = answer.results ?? [];
    const failed = new Map<number, Classification>();
    for (const item of answer.errors ?? []) {
      const ids = new Set(
        [...(item.context?.['ids'] ?? []), ...(item.context?.['id'] ?? [])].map((s) => s.toLowerCase()),
      );
      const traces = new Set(item.context?.['objectWriteTraceId'] ?? []);
      batch.forEach((op, i) => {
        const keys = [op.recordId, op.idValue]
          .filter((k): k is string => k !== undefined)
          .map((k) => k.toLowerCase());
        if (keys.some((k) => ids.has(k)) || traces.has(String(i))) {
          failed.set(
            i,
            classify(item, {
              system: 'hubspot',
              object: this.object,
              ...(op.recordId ? { recordId: op.recordId } : {}),
            }),
          );
        }
      });
    }
    const used = new Set<BatchResult>();
    const found = batch.map((op, i) => {
      if (failed.has(i)) return undefined;
      const r = match(op, i, results);
      if (r !== undefined && !used.has(r)) {
        used.add(r);
        return r;
      }
      return undefined;
    });
    const leftovers = results.filter((r) => !used.has(r));
    return batch.map((op, i): WriteOutcome => {
      const failure = failed.get(i);
      if (failure !== undefined) return { ref: op.ref, ok: false, classification: failure };
      const result = found[i] ?? leftovers.shift();
      if (result === undefined) {
        const firstError = answer.errors?.[0];
        return {
          ref: op.ref,
          ok: false,
          classification:
            firstError !== undefined
              ? classify(firstError, { system: 'hubspot', object: this.object })
              : {
                  kind: 'permanent',
                  code: 'HUBSPOT_NO_RESULT',
                  reason: 'HubSpot returned no result for this record',
                },
        };
      }
      return {
        ref: op.ref,
        ok: true,
        recordId: result.id,
        created: op.kind === 'create' || (result._new ?? result.new) === true,
      };
    });
  }
}
