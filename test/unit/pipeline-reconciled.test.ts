import { describe, expect, it } from '@jest/globals';
import type { IdentityGroup } from '../../src/domain/identity.js';
import type { SourceRecord } from '../../src/domain/records.js';
import type { RecordWrite } from '../../src/domain/write-plan.js';
import { reconciledMarks } from '../../src/pipeline/reconciled.js';
import { reconcileHash, recordToSnapshot, withWrittenValues } from '../../src/pipeline/snapshots.js';
import { at, defaultMapping, hsContact, sfId, sfLead } from '../support/domain-fixtures.js';

const mapping = defaultMapping();
const salt = 'test';
const hash = (r: SourceRecord): string => reconcileHash(recordToSnapshot(r, mapping, new Date(0)), salt);

const contact = (fields: SourceRecord['fields'] = {}, o: Partial<SourceRecord> = {}): SourceRecord => ({
  ...hsContact(
    '501',
    { email: 'ada@example.com', jobtitle: 'CTO', lastmodifieddate: at(1), ...fields },
    { modifiedAt: at(1), changedAt: { jobtitle: at(1) } },
  ),
  ...o,
});

describe('reconcileHash: what a record holds for its reconcile', () => {
  it('ignores the modification stamps and every change time', () => {
    const echo = contact(
      { lastmodifieddate: at(5) },
      { modifiedAt: at(5), fieldChangedAt: { jobtitle: at(5) }, createdAt: at(0) },
    );
    expect(hash(echo)).toBe(hash(contact()));
    const lead = (stamp: string): SourceRecord =>
      sfLead(sfId('00Q', 1), { Email: 'a@x.io', LastModifiedDate: stamp, SystemModstamp: stamp });
    expect(hash(lead(at(1)))).toBe(hash(lead(at(9))));
  });

  it('reads values as the CRMs send them back: 42 and "42", blank and missing, +0000 and Z', () => {
    expect(hash(contact({ tandem_lead_score: 42 }))).toBe(hash(contact({ tandem_lead_score: '42' })));
    expect(hash(contact({ phone: '' }))).toBe(hash(contact({ phone: null })));
    expect(hash(contact({ phone: '' }))).toBe(hash(contact()));
    const lead = (d: string): SourceRecord => sfLead(sfId('00Q', 1), { ConvertedDate: d });
    expect(hash(lead('2026-01-02T03:04:05.000+0000'))).toBe(hash(lead('2026-01-02T03:04:05.000Z')));
  });

  it('changes with any value, the value history says was replaced, the deletion mark and the salt', () => {
    const base = hash(contact());
    expect(hash(contact({ jobtitle: 'CEO' }))).not.toBe(base);
    expect(hash(contact({}, { fieldPrevious: { jobtitle: { value: 'Intern', at: at(0) } } }))).not.toBe(base);
    expect(hash(contact({}, { archived: true }))).not.toBe(base);
    expect(reconcileHash(recordToSnapshot(contact(), mapping, new Date(0)), 'other')).not.toBe(base);
  });

  it('includes a HubSpot deal’s associations', () => {
    const deal: SourceRecord = {
      system: 'hubspot',
      object: 'deals',
      id: '9',
      fields: { amount: '10' },
      createdAt: at(0),
      modifiedAt: at(0),
    };
    const withContacts = (contacts: string[]): string =>
      reconcileHash(recordToSnapshot(deal, mapping, new Date(0), { contacts, companies: [] }), salt);
    expect(withContacts(['1', '2'])).toBe(withContacts(['2', '1']));
    expect(withContacts(['1'])).not.toBe(withContacts(['1', '2']));
  });
});

describe('reconciledMarks: each record as its planned writes leave it', () => {
  const hs = contact();
  const lead = sfLead(sfId('00Q', 7), { Email: 'ada@example.com', Title: 'VP' });
  const snapshots = new Map(
    [hs, lead].map((r) => {
      const s = recordToSnapshot(r, mapping, new Date(0));
      return [`${s.system}:${s.object}:${s.recordId}`, s];
    }),
  );
  const group: IdentityGroup = {
    key: 'person:1',
    kind: 'person',
    hubspot: hs,
    salesforce: lead,
    convertedLeads: [],
    duplicates: [],
    conflicts: [],
    unresolved: [],
  };
  const write: RecordWrite = {
    action: 'update',
    system: 'hubspot',
    object: 'contacts',
    recordId: '501',
    entityKey: 'person:1',
    fields: [{ field: 'jobtitle', value: 'VP', previous: 'CTO', hash: 'h', reason: 'newest' }],
  };
  const marks = (writes: RecordWrite[], problems: Array<{ recordId?: string }> = []) =>
    reconciledMarks({ groups: [group], writes, problems, snapshots, mapping, salt, at: new Date(5000) });

  it('marks the written record with its echo: the written value, replacing what the read held', () => {
    const [hsMark, sfMark] = marks([write]);
    const hsSnapshot = snapshots.get('hubspot:contacts:501');
    expect(hsMark?.contentHash).toBe(hsSnapshot?.contentHash);
    // What HubSpot will send back: jobtitle VP, its history naming CTO as replaced, other times.
    const echo = contact(
      { jobtitle: 'VP', lastmodifieddate: at(3) },
      {
        modifiedAt: at(3),
        fieldChangedAt: { jobtitle: at(3) },
        fieldPrevious: { jobtitle: { value: 'CTO', at: at(1) } },
      },
    );
    expect(hsMark?.reconciledHash).toBe(hash(echo));
    // …but not an echo whose history shows Tandem's write replaced an edit made meanwhile.
    const overwrote = { ...echo, fieldPrevious: { jobtitle: { value: 'Head of IT', at: at(2) } } };
    expect(hsMark?.reconciledHash).not.toBe(hash(overwrote));
    expect(sfMark?.reconciledHash).toBe(hash(lead));
  });

  it('predicts no history entry for a field that never held a value', () => {
    const snapshot = recordToSnapshot(contact(), mapping, new Date(0));
    const after = withWrittenValues(
      snapshot,
      { tandem_lead_score: '40', jobtitle: 'VP' },
      mapping,
      new Date(9),
    );
    const previous = (after.properties['$tandem'] as { fieldPrevious?: Record<string, unknown> })
      .fieldPrevious;
    expect(Object.keys(previous ?? {})).toEqual(['jobtitle']);
  });

  it('leaves out records with a problem, and records not read from a snapshot', () => {
    expect(marks([write], [{ recordId: '501' }]).map((m) => m.recordId)).toEqual([lead.id]);
    const created = { ...group, hubspot: { ...hs, id: 'new' } };
    expect(
      reconciledMarks({
        groups: [created],
        writes: [],
        problems: [],
        snapshots,
        mapping,
        salt,
        at: new Date(0),
      }).map((m) => m.recordId),
    ).toEqual([lead.id]);
  });
});
