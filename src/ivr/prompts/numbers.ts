/**
 * Numbers and digit strings as lists of prompt ids (see prompts/catalogue.json): pure functions,
 * no audio. French applies the agreement rules of "vingt", "cent" and "un"; English is US style
 * ("one hundred one").
 */

/** The languages speech assembly knows the grammar of. */
export type SpeechLanguage = 'fr' | 'en';

export const SPEECH_LANGUAGES: readonly SpeechLanguage[] = ['fr', 'en'];

/** The largest number {@link sayNumber} speaks. */
export const MAX_SPOKEN_NUMBER = 999_999;

export interface SayNumberOptions {
  /** Agree with a feminine noun: French "une" (une heure, vingt et une minutes). Ignored in English. */
  feminine?: boolean;
}

export function assertLanguage(language: string): asserts language is SpeechLanguage {
  if (!(SPEECH_LANGUAGES as readonly string[]).includes(language)) {
    throw new RangeError(`unsupported speech language "${language}" (supported: ${SPEECH_LANGUAGES.join(', ')})`);
  }
}

/** `n` (an integer 0–999 999) as prompt ids: `sayNumber(71, 'fr')` → number_60, and, number_11. */
export function sayNumber(n: number, language: SpeechLanguage, options: SayNumberOptions = {}): string[] {
  assertLanguage(language);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SPOKEN_NUMBER) {
    throw new RangeError(`cannot say ${n}: expected an integer from 0 to ${MAX_SPOKEN_NUMBER}`);
  }
  if (n === 0) return ['number_0'];
  return language === 'fr' ? frenchNumber(n, options.feminine === true) : englishNumber(n);
}

/** Whether a count takes the singular or the plural noun. */
export type GrammaticalNumber = 'singular' | 'plural';

/**
 * The agreement of a noun counted by `n`: in French 0 and 1 take the singular ("zéro seconde", "un message") and
 * 2 and more the plural; in English only 1 takes the singular ("zero seconds").
 */
export function grammaticalNumber(n: number, language: SpeechLanguage): GrammaticalNumber {
  assertLanguage(language);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`a count must be a finite number ≥ 0, got ${n}`);
  if (language === 'fr') return n < 2 ? 'singular' : 'plural';
  return n === 1 ? 'singular' : 'plural';
}

const DIGIT_IDS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Array.from({ length: 10 }, (_, d) => [String(d), `number_${d}`])),
  '*': 'star',
  '#': 'pound',
};

/**
 * A digit string spoken digit by digit: "+33612" → plus, number_3, number_3, number_6, number_1, number_2.
 * A leading "+" is said "plus"; "*" and "#" are said; spaces, dots, dashes and parentheses are ignored.
 * Any other character is a RangeError naming it.
 */
export function sayDigits(digits: string, language: SpeechLanguage): string[] {
  assertLanguage(language);
  const ids: string[] = [];
  for (let i = 0; i < digits.length; i++) {
    const char = digits[i]!;
    const id = DIGIT_IDS[char];
    if (id !== undefined) ids.push(id);
    else if (char === '+' && ids.length === 0) ids.push('plus');
    else if (!' .-()'.includes(char)) {
      throw new RangeError(`cannot say "${char}" at position ${i} of "${digits}": only digits, *, # and a leading + are spoken`);
    }
  }
  return ids;
}

/** Whether {@link sayDigits} can speak `value` and it has at least one digit. */
export function isSayableDigitString(value: string): boolean {
  return /^\s*\+?[0-9*#][0-9*#\s.()-]*$/.test(value);
}

// ---------------------------------------------------------------------------------------------- French

/** 1–99. `multiplier`: the number multiplies "mille", where 80 loses its plural s ("quatre-vingt mille"). */
function frenchBelow100(n: number, feminine: boolean, multiplier: boolean): string[] {
  const unit = (u: number): string => (u === 1 && feminine ? 'number_1_feminine' : `number_${u}`);
  if (n <= 20) return [unit(n)];
  if (n < 70) {
    const tens = n - (n % 10);
    const u = n % 10;
    if (u === 0) return [`number_${tens}`];
    // 21, 31, 41, 51 and 61 join their unit with "et": vingt et un … soixante et un (but vingt-deux).
    if (u === 1) return [`number_${tens}`, 'and', unit(1)];
    return [`number_${tens}`, unit(u)];
  }
  if (n < 80) {
    // 70–79 are "soixante" + 10–19: soixante-dix, soixante et onze, soixante-douze …
    if (n === 70) return ['number_70'];
    if (n === 71) return ['number_60', 'and', 'number_11'];
    return ['number_60', `number_${n - 60}`];
  }
  // "Vingt" multiplied takes an s only when it ends the number: quatre-vingts, but quatre-vingt-un
  // (no "et" after quatre-vingt), quatre-vingt-onze, and quatre-vingt mille ("mille" is not a noun).
  if (n === 80) return [multiplier ? 'number_80_bare' : 'number_80'];
  if (n === 90) return ['number_90'];
  return ['number_80_bare', unit(n - 80)];
}

/** 1–999. "Cent" takes an s when multiplied and ending the number (deux cents) but not before mille. */
function frenchBelow1000(n: number, feminine: boolean, multiplier: boolean): string[] {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const tail = rest === 0 ? [] : frenchBelow100(rest, feminine, multiplier);
  if (hundreds === 0) return tail;
  // "Cent" alone for 100–199 (never "un cent").
  if (hundreds === 1) return ['hundred', ...tail];
  const plural = rest === 0 && !multiplier;
  return [`number_${hundreds}`, plural ? 'hundreds' : 'hundred', ...tail];
}

function frenchNumber(n: number, feminine: boolean): string[] {
  const thousands = Math.floor(n / 1000);
  const rest = n % 1000;
  const tail = rest === 0 ? [] : frenchBelow1000(rest, feminine, false);
  if (thousands === 0) return tail;
  // "Mille" is invariable and never preceded by "un": mille, deux mille, vingt et un mille.
  const head = thousands === 1 ? [] : frenchBelow1000(thousands, false, true);
  return [...head, 'thousand', ...tail];
}

// --------------------------------------------------------------------------------------------- English

function englishBelow1000(n: number): string[] {
  const ids: string[] = [];
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds > 0) ids.push(`number_${hundreds}`, 'hundred');
  if (rest === 0) return ids;
  if (rest <= 20) ids.push(`number_${rest}`);
  else {
    ids.push(`number_${rest - (rest % 10)}`);
    if (rest % 10 !== 0) ids.push(`number_${rest % 10}`);
  }
  return ids;
}

function englishNumber(n: number): string[] {
  const thousands = Math.floor(n / 1000);
  const rest = n % 1000;
  const ids = thousands > 0 ? [...englishBelow1000(thousands), 'thousand'] : [];
  if (rest > 0) ids.push(...englishBelow1000(rest));
  return ids;
}
