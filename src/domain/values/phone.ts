/**
 * A small E.164 normaliser for the formats people actually type: `+44 20 7946 0958`, `(415) 555-0100`,
 * `0044 20…`, `020 7946 0958` with a default country, an extension kept as ` ext. 12`. Not a full
 * numbering-plan validator: a number it cannot read is returned unchanged (trimmed) rather than guessed at.
 */
const COUNTRY_CALLING_CODES: Readonly<Record<string, string>> = {
  US: '1',
  CA: '1',
  GB: '44',
  IE: '353',
  DE: '49',
  FR: '33',
  ES: '34',
  IT: '39',
  NL: '31',
  BE: '32',
  CH: '41',
  AT: '43',
  SE: '46',
  NO: '47',
  DK: '45',
  FI: '358',
  PL: '48',
  PT: '351',
  AU: '61',
  NZ: '64',
  IN: '91',
  SG: '65',
  JP: '81',
  BR: '55',
  MX: '52',
  ZA: '27',
};

const EXTENSION = /\s*(?:#|x|ext\.?|extension)\s*(\d+)\s*$/i;

export function callingCode(country: string): string | undefined {
  return COUNTRY_CALLING_CODES[country.toUpperCase()];
}

/**
 * The digits after an international prefix, or undefined when the number has none. `+` anywhere; `00` where
 * it is the international prefix. In North America that is `011`: `00` there is read only when a country
 * code Tandem knows follows with a full-length number (`0044 20 7946 0958`, typed by someone abroad), so a
 * mistyped national number (`007.555.0101`) is not taken for +7 555 0101.
 */
function afterInternationalPrefix(
  text: string,
  digits: string,
  defaultCode: string | undefined,
): string | undefined {
  if (text.startsWith('+')) return digits;
  if (defaultCode !== '1') return text.startsWith('00') ? digits.slice(2) : undefined;
  if (text.startsWith('011')) return digits.slice(3);
  if (!text.startsWith('00')) return undefined;
  const rest = digits.slice(2);
  const known = Object.values(COUNTRY_CALLING_CODES).some((c) =>
    c === '1'
      ? rest.length === 11 && /^1[2-9]/.test(rest)
      : rest.startsWith(c) && rest.length - c.length >= 8,
  );
  return known ? rest : undefined;
}

export function toE164(input: string, defaultCountry = 'US'): string {
  const text = input.trim();
  if (text === '') return text;
  const extension = EXTENSION.exec(text)?.[1];
  const withoutExtension = text.replace(EXTENSION, '');
  if (/[^\d\s+().\-/]/.test(withoutExtension)) return text;
  const digits = withoutExtension.replace(/\D/g, '');
  const code = callingCode(defaultCountry);
  let international = afterInternationalPrefix(withoutExtension, digits, code);
  if (international === undefined) {
    if (code === undefined) return text;
    if (code === '1') {
      // North American area codes never start with 0 or 1: such a number is not read, not guessed at.
      const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
      if (national.length === 10 && /^[2-9]/.test(national)) international = `1${national}`;
    } else {
      const national = digits.startsWith('0') ? digits.slice(1) : digits;
      international = `${code}${national}`;
    }
  }
  if (international === undefined || international.length < 8 || international.length > 15) return text;
  if (international.startsWith('0')) return text;
  // E.164 has no extension, but a desk phone's extension is part of reaching the person: kept, in one form.
  return extension === undefined ? `+${international}` : `+${international} ext. ${extension}`;
}
