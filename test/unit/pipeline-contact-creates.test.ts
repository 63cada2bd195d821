import { describe, expect, it } from '@jest/globals';
import type { WriteOp, WriteOutcome } from '../../src/connectors/connector.js';
import type { RecordWrite } from '../../src/domain/write-plan.js';
import {
  IDENTITY_COLLISION,
  upsertContactsByEmail,
  type ContactEmails,
} from '../../src/pipeline/contact-creates.js';

/** A HubSpot stand-in: contacts by id with a primary and secondary emails; upsert matches either. */
function fakeHubSpot(initial: Record<string, { email: string; additional?: string; name?: string }>) {
  const contacts = new Map(
    Object.entries(initial).map(([id, c]) => [id, { ...c } as Record<string, string | undefined>]),
  );
  let next = 1000;
  const calls: WriteOp[][] = [];
  const find = (email: string): string | undefined => {
    for (const [id, c] of contacts) {
      const all = [c['email'], ...(c['additional'] ?? '').split(';')].map((e) => e?.toLowerCase());
      if (all.includes(email.toLowerCase())) return id;
    }
    return undefined;
  };
  return {
    calls,
    contacts,
    io: {
      write: (ops: readonly WriteOp[]): Promise<WriteOutcome[]> => {
        calls.push([...ops]);
        return Promise.resolve(
          ops.map((op): WriteOutcome => {
            if (op.kind === 'upsert') {
              const id = find(op.idValue ?? '');
              const fields = Object.fromEntries(Object.entries(op.fields).map(([k, v]) => [k, String(v)]));
              if (id !== undefined) {
                Object.assign(contacts.get(id) ?? {}, fields);
                return { ref: op.ref, ok: true, recordId: id, created: false };
              }
              const created = String(next++);
              contacts.set(created, { ...fields, email: op.idValue });
              return { ref: op.ref, ok: true, recordId: created, created: true };
            }
            const c = contacts.get(op.recordId ?? '');
            if (c === undefined)
              return {
                ref: op.ref,
                ok: false,
                classification: { kind: 'permanent', code: 'NOT_FOUND', reason: 'no such contact' },
              };
            Object.assign(c, Object.fromEntries(Object.entries(op.fields).map(([k, v]) => [k, String(v)])));
            return { ref: op.ref, ok: true, recordId: op.recordId ?? '', created: false };
          }),
        );
      },
      emails: (ids: readonly string[]): Promise<Map<string, ContactEmails>> =>
        Promise.resolve(
          new Map(
            ids.flatMap((id) => {
              const c = contacts.get(id);
              return c === undefined
                ? []
                : [[id, { email: c['email'] ?? null, additional: c['additional'] ?? null }] as const];
            }),
          ),
        ),
    },
  };
}

const upsert = (ref: string, email: string, name: string): WriteOp => ({
  kind: 'upsert',
  ref,
  idProperty: 'email',
  idValue: email,
  fields: { email, firstname: name },
});

const create = (leadId: string): RecordWrite => ({
  action: 'create',
  system: 'hubspot',
  object: 'contacts',
  entityKey: `person:salesforce:${leadId}`,
  counterpart: { system: 'salesforce', object: 'Lead', id: leadId },
  fields: [],
});

describe('upsertContactsByEmail', () => {
  it('creates new contacts, then writes their fields', async () => {
    const hs = fakeHubSpot({});
    const out = await upsertContactsByEmail(
      hs.io,
      [upsert('0', 'ann@a.io', 'Ann')],
      [create('00Q000000000001AAA')],
    );
    expect(out).toEqual([{ ref: '0', ok: true, recordId: '1000', created: true }]);
    expect(hs.contacts.get('1000')).toEqual({ email: 'ann@a.io', firstname: 'Ann' });
    // The claim carries no properties: an upsert that lands on someone else writes nothing to them.
    expect(hs.calls[0]?.[0]?.fields).toEqual({});
  });

  it('takes an existing contact whose primary email is the one asked for (a retried create)', async () => {
    const hs = fakeHubSpot({ '7': { email: 'Ann@a.io' } });
    const out = await upsertContactsByEmail(hs.io, [upsert('0', 'ann@a.io', 'Ann')], [undefined]);
    expect(out).toEqual([{ ref: '0', ok: true, recordId: '7', created: false }]);
    expect(hs.contacts.get('7')?.['firstname']).toBe('Ann');
  });

  it('fails an upsert that lands on another contact through its secondary email, writing nothing', async () => {
    const hs = fakeHubSpot({ '9': { email: 'giulia@a.io', additional: 'mary@old.io', name: 'Giulia' } });
    const out = await upsertContactsByEmail(
      hs.io,
      [upsert('0', 'mary@old.io', 'Mary'), upsert('1', 'bob@a.io', 'Bob')],
      [create('00Q000000000001AAA'), create('00Q000000000002AAA')],
    );
    expect(out[1]).toEqual({ ref: '1', ok: true, recordId: '1000', created: true });
    expect(out[0]).toEqual({
      ref: '0',
      ok: false,
      classification: expect.objectContaining({ kind: 'permanent', code: IDENTITY_COLLISION, recordId: '9' }),
    });
    const reason = out[0]?.ok === false ? out[0].classification.reason : '';
    expect(reason).toContain('identity collision');
    expect(reason).toContain('contact 9');
    expect(reason).toContain('giulia@a.io');
    expect(reason).toContain('Salesforce Lead 00Q000000000001AAA');
    expect(hs.contacts.get('9')).toEqual({ email: 'giulia@a.io', additional: 'mary@old.io', name: 'Giulia' });
  });

  it('reports a failed field update as the record’s failure', async () => {
    const hs = fakeHubSpot({});
    const io = {
      ...hs.io,
      write: async (ops: readonly WriteOp[]): Promise<WriteOutcome[]> =>
        ops[0]?.kind === 'update'
          ? ops.map((op) => ({
              ref: op.ref,
              ok: false as const,
              classification: { kind: 'permanent' as const, code: 'INVALID', reason: 'bad value' },
            }))
          : hs.io.write(ops),
    };
    const out = await upsertContactsByEmail(io, [upsert('0', 'ann@a.io', 'Ann')], [undefined]);
    expect(out).toEqual([
      { ref: '0', ok: false, classification: { kind: 'permanent', code: 'INVALID', reason: 'bad value' } },
    ]);
  });
});
