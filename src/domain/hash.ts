/**
 * A stable, short hash of a rendered value, for echo suppression: Tandem stores the hash of what it
 * wrote and recognises the same value when it comes back. FNV-1a 64-bit (hex) over a canonical string,
 * so `5` and `'5'` (HubSpot sends every value as a string) hash alike, and blank means blank.
 */
export function canonicalValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/** FNV-1a 64 over the UTF-8 bytes of `text`, in two 32-bit halves (no BigInt: this runs per field). */
export function fnv1a64(text: string): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  // ASCII (the common case) hashes its char codes directly, in one pass.
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return fnv1a64Bytes(encoder.encode(text));
    lo = (lo ^ code) >>> 0;
    // × 0x100000001b3 (= 2^40 + 0x1b3) modulo 2^64, split into 32-bit halves; lo × 0x1b3 in 16-bit
    // halves, so everything stays in 32-bit integers (no float product and division per character).
    const t0 = (lo & 0xffff) * 0x1b3;
    const t1 = (lo >>> 16) * 0x1b3 + (t0 >>> 16);
    hi = (Math.imul(hi, 0x1b3) + (t1 >>> 16) + (lo << 8)) >>> 0;
    lo = (((t1 & 0xffff) << 16) | (t0 & 0xffff)) >>> 0;
  }
  return hex64(hi, lo);
}

/** The same over bytes (text beyond ASCII, as UTF-8). */
function fnv1a64Bytes(bytes: Uint8Array): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    const t0 = (lo & 0xffff) * 0x1b3;
    const t1 = (lo >>> 16) * 0x1b3 + (t0 >>> 16);
    hi = (Math.imul(hi, 0x1b3) + (t1 >>> 16) + (lo << 8)) >>> 0;
    lo = (((t1 & 0xffff) << 16) | (t0 & 0xffff)) >>> 0;
  }
  return hex64(hi, lo);
}

/** Sixteen hex digits in one string (`toString(16)` and `padStart` cost more than the hashing). */
function hex64(hi: number, lo: number): string {
  return String.fromCharCode(
    hexDigit(hi >>> 28),
    hexDigit((hi >>> 24) & 15),
    hexDigit((hi >>> 20) & 15),
    hexDigit((hi >>> 16) & 15),
    hexDigit((hi >>> 12) & 15),
    hexDigit((hi >>> 8) & 15),
    hexDigit((hi >>> 4) & 15),
    hexDigit(hi & 15),
    hexDigit(lo >>> 28),
    hexDigit((lo >>> 24) & 15),
    hexDigit((lo >>> 20) & 15),
    hexDigit((lo >>> 16) & 15),
    hexDigit((lo >>> 12) & 15),
    hexDigit((lo >>> 8) & 15),
    hexDigit((lo >>> 4) & 15),
    hexDigit(lo & 15),
  );
}

/** The char code of a lowercase hex digit. */
const hexDigit = (nibble: number): number => (nibble < 10 ? 48 + nibble : 87 + nibble);

const encoder = new TextEncoder();

const hashes = new Map<string, string>();
const HASH_CACHE_SIZE = 50_000;
/**
 * Stage names, flags, scores and short picklist values repeat across records: those are memoised. Longer
 * values (ids, emails, names, phone numbers) are mostly unique; caching them costs more than hashing.
 */
const MEMO_MAX_LENGTH = 10;

export function valueHash(value: unknown): string {
  const text = canonicalValue(value);
  if (text.length > MEMO_MAX_LENGTH) return fnv1a64(text);
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = fnv1a64(text);
    if (hashes.size >= HASH_CACHE_SIZE) hashes.clear();
    hashes.set(text, hash);
  }
  return hash;
}
