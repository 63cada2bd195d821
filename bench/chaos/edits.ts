import { updateContact, updateSalesforce, type Crms } from './crm.js';
import { sleep } from './services.js';
import type { LinkedPerson } from './verify.js';

/**
 * Simulated people editing records in both CRMs through the SDKs at a bounded rate, and the log of what
 * each edit meant: for every (person, field) the value the mapping's conflict rule says must win.
 *
 * - job_title (`newest`, both ways): HubSpot `jobtitle` or Salesforce `Title`; the later edit wins;
 * - country (`prefer_nonblank_hubspot`): HubSpot `country`; the edit wins (it is never blank);
 * - first_name (`prefer_nonblank_salesforce`): Salesforce `FirstName`; the edit wins.
 * - first_name edited in HubSpot loses to Salesforce's non-blank name: made, never asserted.
 */

export interface Edit {
  unifiedId: string;
  field: 'job_title' | 'country' | 'first_name';
  system: 'hubspot' | 'salesforce';
  value: string;
  /** Request start and answer, ms since epoch: the CRM stamped the change in between. */
  startedAt: number;
  answeredAt: number;
  asserted: boolean;
}

export interface Expectation {
  unifiedId: string;
  field: Edit['field'];
  value: string;
}

/** Two winning edits of one field closer than this are a race the CRMs' clocks decide: not asserted. */
export const AMBIGUITY_MS = 1_500;

export class EditLog {
  readonly edits: Edit[] = [];
  failedEdits = 0;
  lastSalesforceEdit = 0;
  /** (person, field) pairs with an edit whose outcome is unknown (retries ran out): never asserted. */
  readonly tainted = new Set<string>();

  add(edit: Edit): void {
    this.edits.push(edit);
  }

  /** The final intended value of every asserted (person, field), skipping races. */
  expectations(): { expected: Expectation[]; ambiguous: number } {
    const byKey = new Map<string, Edit[]>();
    for (const e of this.edits) {
      if (!e.asserted) continue;
      const key = `${e.unifiedId}\u0000${e.field}`;
      if (this.tainted.has(key)) continue;
      const list = byKey.get(key) ?? [];
      list.push(e);
      byKey.set(key, list);
    }
    const expected: Expectation[] = [];
    let ambiguous = 0;
    for (const list of byKey.values()) {
      list.sort((a, b) => a.answeredAt - b.answeredAt);
      const last = list[list.length - 1] as Edit;
      const previous = list[list.length - 2];
      if (previous !== undefined && last.startedAt - previous.answeredAt < AMBIGUITY_MS) {
        ambiguous += 1;
        continue;
      }
      expected.push({ unifiedId: last.unifiedId, field: last.field, value: last.value });
    }
    return { expected, ambiguous };
  }
}

interface EditKind {
  field: Edit['field'];
  system: Edit['system'];
  asserted: boolean;
}

const KINDS: EditKind[] = [
  { field: 'job_title', system: 'hubspot', asserted: true },
  { field: 'job_title', system: 'salesforce', asserted: true },
  { field: 'country', system: 'hubspot', asserted: true },
  { field: 'first_name', system: 'salesforce', asserted: true },
  { field: 'first_name', system: 'hubspot', asserted: false },
];

export interface EditorOptions {
  crms: Crms;
  targets: LinkedPerson[];
  /** Edits per second, all lanes together. */
  rate: number;
  lanes: number;
  log: EditLog;
  /** Deterministic choice of targets and kinds. */
  random: () => number;
  /**
   * No Salesforce edits after this time (ms since epoch): Tandem reads Salesforce changes only once they
   * are older than its window lag (`TANDEM_SALESFORCE_WINDOW_LAG`), so the last ones must be that old before the final cycles.
   */
  salesforceUntil: number;
}

/** Runs until `signal` aborts; returns when every lane has finished its edit in flight. */
export async function runEditors(options: EditorOptions, signal: AbortSignal): Promise<void> {
  const { crms, targets, log, random } = options;
  if (targets.length === 0) return;
  let seq = 0;
  let nextSlot = Date.now();
  const interval = 1000 / options.rate;
  const lane = async (): Promise<void> => {
    for (let i = 0; i < 1_000_000 && !signal.aborted; i += 1) {
      const slot = nextSlot;
      nextSlot = Math.max(nextSlot + interval, Date.now());
      if (slot > Date.now()) await sleep(slot - Date.now());
      if (signal.aborted) return;
      const target = targets[Math.floor(random() * targets.length)] as LinkedPerson;
      const kinds =
        Date.now() < options.salesforceUntil ? KINDS : KINDS.filter((k) => k.system === 'hubspot');
      const kind = kinds[Math.floor(random() * kinds.length)] as EditKind;
      seq += 1;
      const value =
        kind.field === 'job_title'
          ? `Chaos Analyst ${seq}`
          : kind.field === 'country'
            ? `Chaosland ${seq}`
            : `Chaosname${seq}`;
      const startedAt = Date.now();
      try {
        if (kind.system === 'hubspot') {
          const prop =
            kind.field === 'job_title' ? 'jobtitle' : kind.field === 'country' ? 'country' : 'firstname';
          await updateContact(crms, target.hubspot.id, { [prop]: value });
        } else {
          const field = kind.field === 'job_title' ? 'Title' : 'FirstName';
          await updateSalesforce(crms, target.sfObject, target.salesforce.Id, { [field]: value });
        }
      } catch {
        // Retries ran out (a long fault streak): the CRM may or may not hold the value; not asserted.
        log.failedEdits += 1;
        log.tainted.add(`${target.unifiedId}\u0000${kind.field}`);
        continue;
      }
      if (kind.system === 'salesforce') log.lastSalesforceEdit = Date.now();
      log.add({
        unifiedId: target.unifiedId,
        field: kind.field,
        system: kind.system,
        value,
        startedAt,
        answeredAt: Date.now(),
        asserted: kind.asserted,
      });
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, () => lane()));
}
