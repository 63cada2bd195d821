/**
 * A stable, short hash of a rendered value, for echo suppression: Tandem stores the hash of what it
 * wrote and recognises the same value when it comes back. FNV-1a 64-bit (hex) over a canonical string,
 * so `5` and `'5'` (HubSpot sends every value as a string) hash alike, and blank means blank.
 */
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function canonicalValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

export function fnv1a64(text: string): string {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i += 1) {
    // UTF-16 code units, split into bytes, so every character contributes fully.
    const c = text.charCodeAt(i);
    hash = ((hash ^ BigInt(c & 0xff)) * FNV_PRIME) & MASK;
    if (c > 0xff) hash = ((hash ^ BigInt(c >>> 8)) * FNV_PRIME) & MASK;
  }
  return hash.toString(16).padStart(16, '0');
}

export function valueHash(value: unknown): string {
  return fnv1a64(canonicalValue(value));
}
