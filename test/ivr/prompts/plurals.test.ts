/**
 * Singular and plural prompts must not sound alike, or a wrong agreement would go unheard. French "message" and
 * "messages" are homophones, so the singular prompt says its count ("un message", "une minute"): each pair below
 * differs in its files and in what is said, and a count of 2 or more never reaches a singular prompt.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  grammaticalNumber,
  HOUR,
  MESSAGE,
  MINUTE,
  NEW_MESSAGE,
  OLD_MESSAGE,
  SECOND,
  sayCount,
  sayDuration,
  sayFolderCount,
  sayMessageCount,
  type CountedNoun,
  type SpeechLanguage,
} from '../../../src/ivr/prompts/speech.js';
import { CATALOGUE, PROMPTS_DIR } from './render.js';

const NOUNS: Record<string, CountedNoun> = { NEW_MESSAGE, OLD_MESSAGE, MESSAGE, HOUR, MINUTE, SECOND };
const LANGUAGES: SpeechLanguage[] = ['fr', 'en'];

const wav = (language: string, id: string): Buffer => readFileSync(path.join(PROMPTS_DIR, language, `${id}.wav`));

describe('singular and plural prompt files', () => {
  test('the pairs named in issue 15 are the counted nouns', () => {
    expect(Object.values(NOUNS).map((n) => [n.one, n.many])).toEqual([
      ['new_message', 'new_messages'],
      ['old_message', 'old_messages'],
      ['message_word', 'messages_word'],
      ['hour', 'hours'],
      ['minute', 'minutes'],
      ['second', 'seconds'],
    ]);
  });

  describe.each(LANGUAGES)('%s', (language) => {
    test.each(Object.entries(NOUNS))('%s: the plural file differs from the singular one, by more than 50 ms of speech', (_name, noun) => {
      const one = wav(language, noun.one);
      const many = wav(language, noun.many);
      expect(one.equals(many)).toBe(false);
      // The singular says "un"/"une" (one) besides the noun: 50 ms at least (16-bit samples at 8 kHz).
      expect(Math.abs(one.length - many.length)).toBeGreaterThan(0.05 * 8000 * 2);
    });

    test.each(Object.entries(NOUNS))('%s: the singular text is the plural noun preceded by the count one', (_name, noun) => {
      const one = CATALOGUE[noun.one]![language]!;
      const many = CATALOGUE[noun.many]![language]!;
      expect(one).toMatch(language === 'fr' ? /^une? / : /^one /);
      expect(one).not.toBe(many);
    });
  });

  test('zero seconds has its own French prompt, in the singular', () => {
    expect(CATALOGUE['zero_seconds']?.['fr']).toBe('zéro seconde');
    expect(wav('fr', 'zero_seconds').equals(wav('fr', 'seconds'))).toBe(false);
  });
});

describe('agreement', () => {
  test('French: 0 and 1 take the singular, 2 and more the plural', () => {
    expect(grammaticalNumber(0, 'fr')).toBe('singular');
    expect(grammaticalNumber(1, 'fr')).toBe('singular');
    for (const n of [2, 3, 10, 21, 80, 100, 1000, 999_999]) expect(grammaticalNumber(n, 'fr')).toBe('plural');
  });

  test('English: only 1 takes the singular', () => {
    expect(grammaticalNumber(0, 'en')).toBe('plural');
    expect(grammaticalNumber(1, 'en')).toBe('singular');
    expect(grammaticalNumber(2, 'en')).toBe('plural');
  });

  test.each(LANGUAGES)('%s: a count of 2 or more says the number and the plural noun, never a singular prompt', (language) => {
    const singulars = new Set(Object.values(NOUNS).flatMap((n) => [n.one, n.zero ?? n.one]));
    for (let n = 2; n <= 2100; n++) {
      for (const noun of Object.values(NOUNS)) {
        const ids = sayCount(n, noun, language);
        expect(ids.at(-1)).toBe(noun.many);
        expect(ids.filter((id) => singulars.has(id))).toEqual([]);
      }
    }
  });

  test('1 is the singular prompt alone (it says "un"/"une"); 0 is "zéro seconde" in French, "zero seconds" in English', () => {
    for (const noun of Object.values(NOUNS)) expect(sayCount(1, noun, 'fr')).toEqual([noun.one]);
    expect(sayCount(0, SECOND, 'fr')).toEqual(['zero_seconds']);
    expect(sayCount(0, SECOND, 'en')).toEqual(['number_0', 'seconds']);
    expect(() => sayCount(0, NEW_MESSAGE, 'fr')).toThrow(/no singular prompt/);
  });

  test('the phrases use them: counts, folder counts, durations', () => {
    expect(sayMessageCount(1, 2, 'fr')).toEqual(['you_have', 'new_message', 'and', 'number_2', 'old_messages']);
    expect(sayMessageCount(2, 1, 'fr')).toEqual(['you_have', 'number_2', 'new_messages', 'and', 'old_message']);
    expect(sayFolderCount(1, 'work', 'fr')).toEqual(['you_have', 'message_word', 'in_folder', 'folder_work']);
    expect(sayFolderCount(2, 'work', 'fr')).toEqual(['you_have', 'number_2', 'messages_word', 'in_folder', 'folder_work']);
    expect(sayDuration(3661, 'fr')).toEqual(['hour', 'minute', 'second']);
    expect(sayDuration(2 * 3600 + 21 * 60 + 2, 'fr')).toEqual(['number_2', 'hours', 'number_20', 'and', 'number_1_feminine', 'minutes', 'number_2', 'seconds']);
    expect(sayDuration(0, 'fr')).toEqual(['zero_seconds']);
  });
});
