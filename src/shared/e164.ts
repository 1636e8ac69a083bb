/**
 * Telephone number normalisation: every form a French network shows ("+33979947994", "0033979947994",
 * "0979947994", "33979947994" from some trunks) becomes E.164 with a plus ("+33979947994").
 */

/**
 * Normalises a dialled or presented number to E.164 ("+<country><national>"). `countryCode` is the country
 * whose national format ("0…") the number may be in. Visual separators (spaces, dots, dashes, parentheses) are
 * ignored. Returns undefined for anything that is not a telephone number (SIP user names, "anonymous").
 */
export function toE164(raw: string, countryCode = '33'): string | undefined {
  const s = raw.trim().replace(/^tel:/i, '').replace(/[\s.\-()]/g, '');
  if (!/^\+?\d{3,20}$/.test(s)) return undefined;
  if (s.startsWith('+')) return s;
  if (s.startsWith('00')) return `+${s.slice(2)}`;
  if (s.startsWith('0')) return `+${countryCode}${s.slice(1)}`;
  if (s.startsWith(countryCode) && s.length >= countryCode.length + 9) return `+${s}`;
  return `+${countryCode}${s}`;
}

/** National form for speaking and display in France: "+33912345678" → "0912345678". */
export function toNational(e164: string, countryCode = '33'): string {
  return e164.startsWith(`+${countryCode}`) ? `0${e164.slice(countryCode.length + 1)}` : e164;
}
