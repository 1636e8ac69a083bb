import { describe, expect, test } from '@jest/globals';
import { isSayableDigitString, sayDigits, sayNumber } from '../../../src/ivr/prompts/numbers.js';
import { phrase, render } from './render.js';

describe('sayNumber in French', () => {
  test.each([
    [0, 'zéro'],
    [1, 'un'],
    [16, 'seize'],
    [17, 'dix-sept'],
    [20, 'vingt'],
    [21, 'vingt et un'],
    [22, 'vingt-deux'],
    [31, 'trente et un'],
    [61, 'soixante et un'],
    [70, 'soixante-dix'],
    [71, 'soixante et onze'],
    [72, 'soixante-douze'],
    [77, 'soixante-dix-sept'],
    [80, 'quatre-vingts'],
    [81, 'quatre-vingt-un'],
    [90, 'quatre-vingt-dix'],
    [91, 'quatre-vingt-onze'],
    [99, 'quatre-vingt-dix-neuf'],
    [100, 'cent'],
    [101, 'cent un'],
    [180, 'cent quatre-vingts'],
    [200, 'deux cents'],
    [201, 'deux cent un'],
    [280, 'deux cent quatre-vingts'],
    [1000, 'mille'],
    [1001, 'mille un'],
    [2024, 'deux mille vingt-quatre'],
    [21000, 'vingt et un mille'],
    [80000, 'quatre-vingt mille'],
    [200000, 'deux cent mille'],
    [200200, 'deux cent mille deux cents'],
    [999999, 'neuf cent quatre-vingt-dix-neuf mille neuf cent quatre-vingt-dix-neuf'],
  ])('%i → %s', (n, expected) => {
    expect(render(sayNumber(n, 'fr'), 'fr')).toBe(phrase(expected));
  });

  test('uses the recorded plural forms, not the bare ones, at the end of a number', () => {
    expect(sayNumber(80, 'fr')).toEqual(['number_80']);
    expect(sayNumber(81, 'fr')).toEqual(['number_80_bare', 'number_1']);
    expect(sayNumber(200, 'fr')).toEqual(['number_2', 'hundreds']);
    expect(sayNumber(201, 'fr')).toEqual(['number_2', 'hundred', 'number_1']);
  });

  test.each([
    [1, 'une'],
    [21, 'vingt et une'],
    [81, 'quatre-vingt-une'],
    [1001, 'mille une'],
    [2, 'deux'],
  ])('feminine %i → %s', (n, expected) => {
    expect(render(sayNumber(n, 'fr', { feminine: true }), 'fr')).toBe(phrase(expected));
  });
});

describe('sayNumber in English', () => {
  test.each([
    [0, 'zero'],
    [7, 'seven'],
    [13, 'thirteen'],
    [20, 'twenty'],
    [21, 'twenty one'],
    [40, 'forty'],
    [99, 'ninety nine'],
    [100, 'one hundred'],
    [101, 'one hundred one'],
    [115, 'one hundred fifteen'],
    [1000, 'one thousand'],
    [2024, 'two thousand twenty four'],
    [999999, 'nine hundred ninety nine thousand nine hundred ninety nine'],
  ])('%i → %s', (n, expected) => {
    expect(render(sayNumber(n, 'en'), 'en')).toBe(expected);
  });

  test('ignores the feminine option', () => {
    expect(sayNumber(21, 'en', { feminine: true })).toEqual(sayNumber(21, 'en'));
  });
});

describe('sayNumber rejects what it cannot say', () => {
  test.each([-1, 1.5, 1_000_000, Number.NaN, Number.POSITIVE_INFINITY])('%p', (n) => {
    expect(() => sayNumber(n, 'fr')).toThrow(/cannot say/);
  });
  test('unknown language', () => {
    expect(() => sayNumber(1, 'de' as 'fr')).toThrow(/unsupported speech language "de"/);
  });
});

describe('sayDigits', () => {
  test('says each digit, a leading plus, star and pound', () => {
    expect(sayDigits('+33 6.12-3*#', 'fr')).toEqual([
      'plus', 'number_3', 'number_3', 'number_6', 'number_1', 'number_2', 'number_3', 'star', 'pound',
    ]);
    expect(render(sayDigits('0612', 'fr'), 'fr')).toBe('zéro six un deux');
    expect(render(sayDigits('0612', 'en'), 'en')).toBe('zero six one two');
  });

  test('rejects letters and a plus that is not leading, naming the character', () => {
    expect(() => sayDigits('06a2', 'fr')).toThrow(/"a" at position 2/);
    expect(() => sayDigits('06+2', 'fr')).toThrow(/"\+" at position 2/);
  });

  test('isSayableDigitString', () => {
    expect(isSayableDigitString('+33612345678')).toBe(true);
    expect(isSayableDigitString('01 23 45')).toBe(true);
    expect(isSayableDigitString('anonymous')).toBe(false);
    expect(isSayableDigitString('')).toBe(false);
    expect(isSayableDigitString('+')).toBe(false);
  });
});
