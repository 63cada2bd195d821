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
  // ASCII (the common case) hashes its char codes directly; anything else goes through UTF-8 bytes.
  const bytes = isAscii(text) ? undefined : encoder.encode(text);
  const length = bytes ? bytes.length : text.length;
  for (let i = 0; i < length; i += 1) {
    lo = (lo ^ (bytes ? (bytes[i] ?? 0) : text.charCodeAt(i))) >>> 0;
    // × 0x100000001b3 (= 2^40 + 0x1b3) modulo 2^64, split into 32-bit halves.
    const loMul = lo * 0x1b3;
    hi = (Math.imul(hi, 0x1b3) + Math.floor(loMul / 0x100000000) + (lo << 8)) >>> 0;
    lo = loMul >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

const encoder = new TextEncoder();

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

const hashes = new Map<string, string>();
const HASH_CACHE_SIZE = 50_000;

export function valueHash(value: unknown): string {
  const text = canonicalValue(value);
  // Picklist values, flags and numbers repeat across records: memoise the short ones.
  if (text.length > 32) return fnv1a64(text);
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = fnv1a64(text);
    if (hashes.size >= HASH_CACHE_SIZE) hashes.clear();
    hashes.set(text, hash);
  }
  return hash;
}
