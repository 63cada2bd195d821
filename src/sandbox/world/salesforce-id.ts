/**
 * Salesforce record ids: a 15-character case-sensitive base (3-character key prefix naming the object,
 * then pod/reserved digits and a base62 sequence) plus the 3-character suffix that makes the 18-character
 * form case-insensitive (`CASESAFEID`).
 */

/** Key prefixes of the objects the sandbox holds, as every Salesforce org uses them. */
export const SALESFORCE_KEY_PREFIXES = {
  Account: '001',
  Contact: '003',
  Lead: '00Q',
  Opportunity: '006',
  OpportunityContactRole: '00K',
  Campaign: '701',
  CampaignMember: '00v',
} as const;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID15 = /^[a-zA-Z0-9]{15}$/;
const ID18 = /^[a-zA-Z0-9]{18}$/;

/** The 18-character id for `prefix` and a non-negative integer `sequence` (unique per sequence). */
export function salesforceId(prefix: string, sequence: number): string {
  if (!/^[a-zA-Z0-9]{3}$/.test(prefix))
    throw new RangeError(`key prefix must be 3 alphanumerics: "${prefix}"`);
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new RangeError(`sequence must be a non-negative integer: ${sequence}`);
  }
  let digits = '';
  let rest = sequence;
  do {
    digits = BASE62.charAt(rest % 62) + digits;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  if (digits.length > 12) throw new RangeError(`sequence too large for a Salesforce id: ${sequence}`);
  return toCaseSafeId(prefix + digits.padStart(12, '0'));
}

/**
 * Appends the checksum: each 5-character chunk gives a 5-bit number whose bit i is set when character i
 * is an upper-case letter; that number indexes A–Z then 0–5.
 */
export function toCaseSafeId(id: string): string {
  if (ID18.test(id)) return toCaseSafeId(id.slice(0, 15));
  if (!ID15.test(id)) throw new RangeError(`not a 15-character Salesforce id: "${id}"`);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk += 1) {
    let bits = 0;
    for (let i = 0; i < 5; i += 1) {
      const code = id.charCodeAt(chunk * 5 + i);
      if (code >= 65 && code <= 90) bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return id + suffix;
}

/** A 15-character id, or an 18-character id whose suffix is the right checksum. */
export function isSalesforceId(value: string): boolean {
  if (ID15.test(value)) return true;
  return ID18.test(value) && toCaseSafeId(value.slice(0, 15)) === value;
}
