import type { Transform } from '../mapping/schema.js';
import { toE164 } from './phone.js';

/**
 * The mapping's value transforms, applied in order to string values read from either system before
 * they are compared or merged. Pure; non-strings pass through untouched.
 */
export type TransformFn = (value: string) => string;

function titlecase(value: string): string {
  return value
    .toLowerCase()
    .replace(/(^|[\s\-'(/])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** Truncation never splits a surrogate pair. */
export function truncateString(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Whitespace other than a plain space, or two in a row: what `collapse_whitespace` changes. */
const NOT_COLLAPSED = /[^\S ]|\s\s/;

export function compileTransform(transform: Transform): TransformFn {
  if (typeof transform === 'string') {
    switch (transform) {
      case 'trim':
        return (v) => v.trim();
      case 'lowercase':
        return (v) => v.toLowerCase();
      case 'uppercase':
        return (v) => v.toUpperCase();
      case 'titlecase':
        return titlecase;
      case 'collapse_whitespace':
        // Most values have nothing to collapse: only single plain spaces, which would be copied unchanged.
        return (v) => (NOT_COLLAPSED.test(v) ? v.replace(/\s+/g, ' ') : v);
      case 'blank_to_null':
        // Blank strings already read as null; this keeps whitespace-only values from surviving as text.
        return (v) => (v.trim() === '' ? '' : v);
      case 'e164':
        return (v) => toE164(v, 'US');
    }
  }
  if ('e164' in transform) {
    const country = transform.e164.default_country;
    return (v) => toE164(v, country);
  }
  if ('truncate' in transform) {
    const max = transform.truncate;
    return (v) => truncateString(v, max);
  }
  const pattern = new RegExp(transform.replace.pattern, 'g');
  const replacement = transform.replace.with;
  return (v) => v.replace(pattern, replacement);
}

export function compileTransforms(transforms: readonly Transform[]): TransformFn {
  const fns = transforms.map(compileTransform);
  if (fns.length === 0) return (v) => v;
  return (v) => {
    let out = v;
    for (const fn of fns) out = fn(out);
    return out;
  };
}

export function applyTransforms(value: string, transforms: readonly Transform[]): string {
  return compileTransforms(transforms)(value);
}
