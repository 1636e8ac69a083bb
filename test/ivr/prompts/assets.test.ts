import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WaveFile } from 'wavefile';
import { ASTERISK_FILES } from '../../../src/ivr/prompts/asterisk-layout.js';
import {
  MAILBOX_FOLDERS,
  sayDateTime,
  sayDigits,
  sayDuration,
  sayEnvelope,
  sayFolderCount,
  sayFolderName,
  sayMessageCount,
  sayMessageNumber,
  sayNumber,
  type SpeechLanguage,
} from '../../../src/ivr/prompts/speech.js';
import { CATALOGUE, PROMPTS_DIR } from './render.js';
import { FOLDER_MENU } from '../../../src/ivr/dialin/menus.js';

const LANGUAGES: SpeechLanguage[] = ['fr', 'en'];

/** Every id the speech functions produce over a wide sweep of inputs. */
function producedIds(language: SpeechLanguage): Set<string> {
  const ids = new Set<string>();
  const add = (list: string[]): void => list.forEach((id) => ids.add(id));
  for (let n = 0; n <= 2100; n++) {
    add(sayNumber(n, language));
    add(sayNumber(n, language, { feminine: true }));
  }
  for (const n of [80_000, 81_000, 100_000, 200_000, 280_080, 999_999]) add(sayNumber(n, language));
  add(sayDigits('+0123456789*#', language));
  for (let fresh = 0; fresh <= 3; fresh++) for (let old = 0; old <= 3; old++) add(sayMessageCount(fresh, old, language));
  // Every day of a leap year, at every hour with a few minute values, with and without "now".
  const start = Date.UTC(2024, 0, 1);
  for (let day = 0; day < 366; day++) {
    for (let hour = 0; hour < 24; hour++) {
      for (const minute of [0, 1, 5, 21, 59]) {
        const at = start + day * 86_400_000 + hour * 3_600_000 + minute * 60_000;
        add(sayDateTime(at, language));
        if (day % 30 === 0) add(sayDateTime(at, language, 'Europe/Paris', { now: at + ((hour % 3) * 86_400_000) }));
      }
    }
  }
  add(sayDateTime(Date.UTC(2023, 5, 1), language, 'Europe/Paris', { now: Date.UTC(2024, 5, 1) }));
  for (let s = 0; s <= 4000; s += 7) add(sayDuration(s, language));
  add(sayEnvelope({ receivedAt: start, caller: '+33612345678', durationSeconds: 61 }, language));
  add(sayEnvelope({ receivedAt: start, caller: null, durationSeconds: 0 }, language));
  // The folder menu as built from words when its keys are changed (menus.ts): its phrases, 'press', the key names.
  for (const item of Object.values(FOLDER_MENU.items)) add([...(item.announce ?? []), 'press']);
  for (const folder of MAILBOX_FOLDERS) {
    add(sayFolderName(folder));
    for (const count of [0, 1, 2]) add(sayFolderCount(count, folder, language));
  }
  add(sayMessageNumber(12, language));
  return ids;
}

function wavIds(language: string): string[] {
  return readdirSync(path.join(PROMPTS_DIR, language))
    .filter((name) => name.endsWith('.wav'))
    .map((name) => name.slice(0, -4))
    .sort();
}

describe('prompts/catalogue.json', () => {
  test('ids are snake_case ASCII and every prompt has French and English text', () => {
    const ids = Object.keys(CATALOGUE);
    expect(ids.length).toBeGreaterThan(150);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z][a-z0-9_]*$/);
      for (const language of LANGUAGES) expect(CATALOGUE[id]?.[language]?.trim()).toBeTruthy();
    }
  });

  test.each(LANGUAGES)('every id the speech functions produce in %s is in the catalogue and has a WAV', (language) => {
    const produced = [...producedIds(language)];
    expect(produced.length).toBeGreaterThan(60);
    const missingFromCatalogue = produced.filter((id) => !(id in CATALOGUE));
    const missingWav = produced.filter((id) => !existsSync(path.join(PROMPTS_DIR, language, `${id}.wav`)));
    expect(missingFromCatalogue).toEqual([]);
    expect(missingWav).toEqual([]);
  });

  test.each(LANGUAGES)('prompts/%s holds exactly one WAV per catalogue id', (language) => {
    expect(wavIds(language)).toEqual(Object.keys(CATALOGUE).sort());
  });

  test('the manifest records a hash for every generated file', () => {
    const manifest = JSON.parse(readFileSync(path.join(PROMPTS_DIR, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
    const expected = LANGUAGES.flatMap((language) => Object.keys(CATALOGUE).map((id) => `${language}/${id}`)).sort();
    expect(Object.keys(manifest.files).sort()).toEqual(expected);
  });

  test('the Asterisk layout only maps ids of the catalogue', () => {
    expect(Object.keys(ASTERISK_FILES).filter((id) => !(id in CATALOGUE))).toEqual([]);
  });
});

describe('generated WAV files', () => {
  test.each(LANGUAGES)('prompts/%s/*.wav are 8 kHz mono 16-bit PCM, trimmed and normalised', (language) => {
    let totalBytes = 0;
    for (const id of wavIds(language)) {
      const bytes = readFileSync(path.join(PROMPTS_DIR, language, `${id}.wav`));
      totalBytes += bytes.length;
      const wav = new WaveFile();
      wav.fromBuffer(bytes);
      const fmt = wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number };
      expect({ id, audioFormat: fmt.audioFormat, numChannels: fmt.numChannels, sampleRate: fmt.sampleRate, bits: fmt.bitsPerSample }).toEqual({
        id,
        audioFormat: 1,
        numChannels: 1,
        sampleRate: 8000,
        bits: 16,
      });
      const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array;
      // At least 0.1 s of speech, peak near -3 dBFS (0.708 of full scale), no long silence at either end.
      expect(samples.length).toBeGreaterThan(800);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      expect(peak / 32768).toBeGreaterThan(0.6);
      expect(peak / 32768).toBeLessThan(0.75);
      const loud = (s: number): boolean => Math.abs(s) > 0.01 * 32768;
      // (100 ms: a soft onset such as English "th" stays under 1 % for a while.)
      expect({ id, speechWithin100msOfStart: samples.subarray(0, 800).some(loud) }).toEqual({ id, speechWithin100msOfStart: true });
      expect({ id, speechWithin100msOfEnd: samples.subarray(samples.length - 800).some(loud) }).toEqual({ id, speechWithin100msOfEnd: true });
    }
    // Each language stays within a few megabytes.
    expect(totalBytes).toBeLessThan(5_000_000);
  });
});
