import type { System } from '../domain/mapping/schema.js';

/**
 * What an admin needs to understand and fix a failed job, kept on the job's data under `failure` (the
 * plain-language reason is also the job's `failedReason`). The dashboard and `tandem replay` read it.
 */
export interface FailureDetail {
  /** Stable machine code, e.g. SALESFORCE_STRING_TOO_LONG (from classify). */
  code: string;
  /** Plain language, e.g. "Salesforce rejected Lead.Title: 300 characters, the field holds 128". */
  reason: string;
  kind: 'permanent' | 'transient' | 'rate_limited';
  system?: System;
  /** CRM object, e.g. contacts or Lead. */
  object?: string;
  recordId?: string;
  unifiedId?: string;
  field?: string;
  failedAt: string;
}
