import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SyncPipelineImpl } from '../../src/pipeline/pipeline.js';
import { fullCycle, startPipelineHarness, type PipelineHarness } from './pipeline-support.js';

/**
 * Time-window rules are re-evaluated when their window closes, though neither CRM changes: the default
 * mapping plus a recycle rule "an MQL or SAL with no form submission for a year goes back to lead". The
 * pipeline's clock is moved; the sandboxes' records are left alone.
 */

const DAY_MS = 86_400_000;
const REASON = 'No form submission for a year';
const WINDOW_DAYS = 365;

let h: PipelineHarness;
let pipeline: SyncPipelineImpl;
let clock = Date.now();

interface DuePerson {
  id: string;
  stage: string | null;
  reevaluateAt: Date;
}

async function duePersons(): Promise<DuePerson[]> {
  const rows = await pipeline.db
    .selectFrom('persons')
    .select(['id', 'lifecycle_stage', 'reevaluate_at'])
    .where('reevaluate_at', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    stage: r.lifecycle_stage,
    reevaluateAt: r.reevaluate_at as Date,
  }));
}

async function recycledByWindow(): Promise<string[]> {
  const rows = await pipeline.db
    .selectFrom('stage_history')
    .select('person_id')
    .where('reason', '=', REASON)
    .orderBy('person_id')
    .execute();
  return rows.map((r) => r.person_id);
}

beforeAll(async () => {
  h = await startPipelineHarness({ seed: 'demo', persons: 60 });
  const dir = mkdtempSync(join(tmpdir(), 'tandem-reevaluation-'));
  const mappingPath = join(dir, 'mapping.yaml');
  const text = readFileSync('mappings/default.yaml', 'utf8');
  const withRule = text.replace(
    '  recycle:\n',
    '  recycle:\n' +
      `    - when: { all: [{ stage: { is: [mql, sal] } }, { not: { field: form_submissions, changed_within_days: ${WINDOW_DAYS} } }] }\n` +
      '      to: lead\n' +
      `      reason: ${REASON}\n`,
  );
  expect(withRule).not.toBe(text);
  writeFileSync(mappingPath, withRule);
  pipeline = await h.open({ mappingPath, now: () => new Date(clock) });
  await fullCycle(pipeline, 'incremental');
  await fullCycle(pipeline, 'incremental');
}, 300_000);

afterAll(async () => {
  await pipeline?.close();
  await h?.stop();
});

describe('re-evaluation when a changed_within_days window closes', () => {
  it('keeps, per person with an open window, the instant it closes; nothing is due before it', async () => {
    const due = await duePersons();
    expect(due.filter((p) => p.stage === 'mql' || p.stage === 'sal').length).toBeGreaterThan(0);
    for (const p of due) {
      expect(p.reevaluateAt.getTime()).toBeGreaterThan(clock);
      expect(p.reevaluateAt.getTime()).toBeLessThanOrEqual(Date.now() + WINDOW_DAYS * DAY_MS + 1);
    }
    clock = Math.min(...due.map((p) => p.reevaluateAt.getTime())) - 1;
    const cycle = await fullCycle(pipeline, 'incremental');
    expect(cycle.pages.filter((p) => p.dueForReevaluation === true)).toEqual([]);
    expect(cycle.batches).toEqual([]);
  }, 120_000);

  it('reconciles the persons whose window closed, with no change in either CRM, and writes the recycle to both', async () => {
    const before = await duePersons();
    const sals = before.filter((p) => p.stage === 'mql' || p.stage === 'sal');
    const recycledBefore = await recycledByWindow();
    h.resetStats();
    clock = Math.max(...before.map((p) => p.reevaluateAt.getTime()));
    const cycle = await fullCycle(pipeline, 'incremental');

    // Every due person was handed on, from the store: their records did not change.
    const duePages = cycle.pages.filter((p) => p.dueForReevaluation === true);
    const links = await pipeline.db
      .selectFrom('record_links')
      .select(['system', 'record_id'])
      .where(
        'unified_id',
        'in',
        before.map((p) => p.id),
      )
      .execute();
    expect(duePages.flatMap((p) => p.refs.map((r) => `${r.system}:${r.id}`)).sort()).toEqual(
      links.map((l) => `${l.system}:${l.record_id}`).sort(),
    );

    // The MQLs and SALs went back to lead by the rule, in the view and in both CRMs.
    const recycled = (await recycledByWindow()).filter((id) => !recycledBefore.includes(id));
    expect(recycled.sort()).toEqual(sals.map((p) => p.id).sort());
    const stages = await pipeline.db
      .selectFrom('persons')
      .select(['id', 'lifecycle_stage', 'reevaluate_at'])
      .where(
        'id',
        'in',
        sals.map((p) => p.id),
      )
      .execute();
    for (const s of stages) {
      expect(s.lifecycle_stage).toBe('lead');
      // Its window is closed and no other is open: not due again.
      expect(s.reevaluate_at).toBeNull();
    }
    expect(h.writes()).toBeGreaterThan(0);
    const person = sals[0] as DuePerson;
    const link = await pipeline.db
      .selectFrom('record_links')
      .select(['system', 'record_id', 'object'])
      .where('unified_id', '=', person.id)
      .execute();
    const hubspotId = link.find((l) => l.system === 'hubspot')?.record_id;
    if (hubspotId !== undefined) {
      const contact = await pipeline.connectors.hubspot.client.crm.contacts.basicApi.getById(hubspotId, [
        'tandem_lifecycle_stage',
      ]);
      expect(contact.properties['tandem_lifecycle_stage']).toBe('lead');
    }
    const salesforce = link.find((l) => l.system === 'salesforce');
    if (salesforce !== undefined) {
      const rows = await pipeline.connectors.salesforce.caller.conn.query<Record<string, unknown>>(
        `SELECT Tandem_Lifecycle_Stage__c FROM ${salesforce.object} WHERE Id = '${salesforce.record_id}'`,
      );
      expect(rows.records[0]?.['Tandem_Lifecycle_Stage__c']).toBe('lead');
    }
    expect(hubspotId !== undefined || salesforce !== undefined).toBe(true);

    // Swept once: the next cycle finds nobody due.
    const next = await fullCycle(pipeline, 'incremental');
    expect(next.pages.filter((p) => p.dueForReevaluation === true)).toEqual([]);
  }, 180_000);
});
