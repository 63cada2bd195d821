import type { System } from './mapping/schema.js';
import type { ObjectName, RawValue } from './records.js';

/**
 * A per-record problem: the record fails alone, with enough detail for RevOps to fix it (which record,
 * which field, which value, which values would have been accepted).
 */
export interface FieldProblem {
  code:
    | 'unmapped_value'
    | 'invalid_value'
    | 'missing_required'
    | 'identity_conflict'
    | 'converted_lead'
    | 'internal_error';
  message: string;
  system?: System;
  object?: ObjectName;
  recordId?: string;
  field?: string;
  value?: RawValue;
  knownValues?: string[];
}

/** Something worth knowing that did not stop the record (a skipped field, a truncated value). */
export interface Warning {
  code:
    | 'unmapped_value_skipped'
    | 'truncated'
    | 'converted_lead_not_written'
    | 'create_skipped'
    | 'overwritten_edit_restored'
    | 'required_not_cleared'
    | 'lifecyclestage_clear_first'
    | 'duplicate'
    | 'identity_conflict';
  message: string;
  system?: System;
  object?: ObjectName;
  recordId?: string;
  field?: string;
}
