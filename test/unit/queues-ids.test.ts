import { describe, expect, it } from '@jest/globals';
import {
  pullJobId,
  reconcileDedupId,
  reconcileFailureJobId,
  reconcileJobId,
  writeFailureJobId,
} from '../../src/queues/ids.js';
import { InvalidJobPayloadError, parseReconcileJob, parseWriteBackJob } from '../../src/queues/jobs.js';
import { parseConcurrencyOption } from '../../src/queues/cli-support.js';

describe('job ids', () => {
  it('makes only custom ids BullMQ accepts: no integer, and `:` only as exactly three parts', () => {
    const ref = { system: 'hubspot' as const, object: 'contacts' as const, id: '123' };
    const write = {
      action: 'update' as const,
      system: 'hubspot' as const,
      object: 'contacts' as const,
      recordId: '123',
      entityKey: 'p1',
      fields: [],
    };
    const ids = [
      pullJobId('hubspot', 'contacts'),
      reconcileJobId(),
      reconcileFailureJobId('person', [ref]),
      writeFailureJobId(write),
    ];
    for (const id of ids) {
      expect(`${parseInt(id, 10)}`).not.toBe(id);
      if (id.includes(':')) expect(id.split(':')).toHaveLength(3);
    }
    expect(reconcileJobId()).not.toBe(reconcileJobId());
  });

  it('gives the same reconcile id for the same records in any order, and another for other records', () => {
    const a = { system: 'hubspot' as const, object: 'contacts' as const, id: '1' };
    const b = { system: 'salesforce' as const, object: 'Lead' as const, id: '00Q1' };
    expect(reconcileDedupId('person', [a, b])).toBe(reconcileDedupId('person', [b, a, a]));
    expect(reconcileDedupId('person', [a])).not.toBe(reconcileDedupId('person', [b]));
    expect(reconcileDedupId('person', [a])).not.toBe(reconcileDedupId('company', [a]));
    expect(pullJobId('salesforce', 'Lead')).toBe('pull:salesforce:Lead');
  });

  it('names one failure job per CRM record, whatever the values written', () => {
    const write = {
      action: 'update' as const,
      system: 'salesforce' as const,
      object: 'Lead' as const,
      recordId: '00Q1',
      entityKey: 'p1',
      fields: [{ field: 'Title', value: 'x', hash: 'h1', reason: 'r' }],
    };
    expect(writeFailureJobId(write)).toBe(
      writeFailureJobId({ ...write, fields: [{ field: 'Title', value: 'y', hash: 'h2', reason: 'r' }] }),
    );
    expect(writeFailureJobId(write)).not.toBe(writeFailureJobId({ ...write, recordId: '00Q2' }));
  });
});

describe('payloads', () => {
  it('names every bad path of a malformed payload', () => {
    expect(() => parseReconcileJob({ kind: 'animal', refs: [] })).toThrow(InvalidJobPayloadError);
    expect(() => parseReconcileJob({ kind: 'animal', refs: [] })).toThrow(/kind: .*; refs: /);
    expect(() => parseWriteBackJob({ batch: { system: 'hubspot' } })).toThrow(/batch\.object/);
  });

  it('keeps the parts of a write it does not know', () => {
    const batch = {
      system: 'hubspot',
      object: 'contacts',
      mappingVersion: 'v1',
      key: 'k',
      writes: [
        {
          action: 'create',
          system: 'hubspot',
          object: 'contacts',
          entityKey: 'e',
          fields: [],
          linkBack: { field: 'x' },
        },
      ],
    };
    expect(parseWriteBackJob({ batch }).batch.writes[0]).toMatchObject({ linkBack: { field: 'x' } });
  });
});

describe('--concurrency', () => {
  const base = { pull: 2, reconcile: 4, 'write-back': 2 };
  it('takes one number or a list (write = write-back)', () => {
    expect(parseConcurrencyOption('3', base)).toEqual({ pull: 3, reconcile: 3, 'write-back': 3 });
    expect(parseConcurrencyOption('reconcile=8,write=1', base)).toEqual({
      pull: 2,
      reconcile: 8,
      'write-back': 1,
    });
    expect(() => parseConcurrencyOption('push=1', base)).toThrow(/--concurrency/);
  });
});
