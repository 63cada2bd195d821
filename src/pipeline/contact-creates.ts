// HubSpot contacts Tandem creates by batch upsert on `email` (a retried batch finds what the first attempt
// created instead of creating it twice). HubSpot's upsert also matches a contact holding the address in
// `hs_additional_emails` (a merged contact): that contact is another person, so the upsert is done in two
// steps and never writes a field to it — first claim the address (an upsert carrying no properties: a new
// contact holding just the email, or an existing one left unchanged), then update the claimed contacts
// whose primary email is the one asked for. A claim that lands on a contact with another primary email is
// an identity collision: a per-record failure naming both records, and nothing is linked.

import type { Classification } from '../connectors/classify.js';
import type { FieldValue, WriteOp, WriteOutcome } from '../connectors/connector.js';
import { normaliseEmail } from '../domain/identity.js';
import type { RecordWrite } from '../domain/write-plan.js';

export const IDENTITY_COLLISION = 'TANDEM_IDENTITY_COLLISION';

export interface ContactEmails {
  email: string | null;
  /** The secondary emails as HubSpot holds them (`;`-separated), if read. */
  additional: string | null;
}

export interface ContactCreateIo {
  /** One outcome per op, in order (the HubSpot connector's `write('contacts', …)`). */
  write(ops: readonly WriteOp[]): Promise<WriteOutcome[]>;
  /** The primary and secondary emails of these contacts, by id (absent: not found). */
  emails(ids: readonly string[]): Promise<Map<string, ContactEmails>>;
  /** The HubSpot property holding secondary emails (for the failure's reason). */
  secondaryProperty?: string;
}

const counterpartOf = (write: RecordWrite | undefined): string =>
  write?.counterpart !== undefined
    ? `Salesforce ${write.counterpart.object} ${write.counterpart.id}`
    : `entity ${write?.entityKey ?? '?'}`;

/** The collision failure for an upsert of `asked` that landed on contact `id` (exported for tests). */
export function collision(
  asked: string,
  id: string,
  found: ContactEmails | undefined,
  write: RecordWrite | undefined,
  secondaryProperty = 'hs_additional_emails',
): Classification {
  const primary = found?.email ?? null;
  return {
    kind: 'permanent',
    code: IDENTITY_COLLISION,
    field: 'email',
    recordId: id,
    reason:
      `identity collision: HubSpot matched ${asked} to existing contact ${id}, whose primary email is ` +
      `${primary === null || primary === '' ? 'blank' : primary} (${asked} is its secondary email, ` +
      `${secondaryProperty}), so it is another person than ${counterpartOf(write)}. Nothing was written ` +
      `to contact ${id} and the records were not linked: merge or correct them in the CRMs, then replay.`,
  };
}

/**
 * Writes email upserts of HubSpot contacts in two steps (claim, then update); `writes[i]` is the plan entry
 * of `ops[i]` (for the failure's reason). One outcome per op, in order.
 */
export async function upsertContactsByEmail(
  io: ContactCreateIo,
  ops: readonly WriteOp[],
  writes: readonly (RecordWrite | undefined)[],
): Promise<WriteOutcome[]> {
  if (ops.length === 0) return [];
  const claims = ops.map((op): WriteOp => ({ ...op, fields: {} }));
  const claimed = await io.write(claims);
  const existing = claimed
    .filter((o): o is Extract<WriteOutcome, { ok: true }> => o.ok && !o.created)
    .map((o) => o.recordId);
  const emails = existing.length > 0 ? await io.emails([...new Set(existing)]) : new Map();
  const out: WriteOutcome[] = ops.map((op, i) => claimed[i] ?? missing(op));
  const updates: Array<{ index: number; op: WriteOp }> = [];
  ops.forEach((op, i) => {
    const c = claimed[i];
    if (c === undefined || !c.ok) return;
    if (!c.created) {
      const found = emails.get(c.recordId);
      const asked = normaliseEmail(op.idValue);
      if (asked === undefined || normaliseEmail(found?.email) !== asked) {
        out[i] = {
          ref: op.ref,
          ok: false,
          classification: collision(op.idValue ?? '', c.recordId, found, writes[i], io.secondaryProperty),
        };
        return;
      }
    }
    const fields: Record<string, FieldValue> = {};
    for (const [k, v] of Object.entries(op.fields)) if (k !== op.idProperty) fields[k] = v;
    if (Object.keys(fields).length > 0) {
      updates.push({ index: i, op: { kind: 'update', ref: op.ref, recordId: c.recordId, fields } });
    }
  });
  if (updates.length > 0) {
    const updated = await io.write(updates.map((u) => u.op));
    updates.forEach((u, j) => {
      const o = updated[j];
      const c = out[u.index];
      if (o !== undefined && !o.ok)
        out[u.index] = { ref: u.op.ref, ok: false, classification: o.classification };
      else if (o === undefined || c === undefined) out[u.index] = missing(u.op);
    });
  }
  return out;
}

function missing(op: WriteOp): WriteOutcome {
  return {
    ref: op.ref,
    ok: false,
    classification: {
      kind: 'permanent',
      code: 'HUBSPOT_NO_RESULT',
      reason: 'HubSpot returned no result for this record; it may not have been written',
    },
  };
}
