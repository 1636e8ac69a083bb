import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WaveFile } from 'wavefile';
import { BUILTIN_PROMPT_DIR, PromptCatalog, PromptNotFoundError } from '../../../src/ivr/prompts/catalog.js';
import { decodePromptWav } from '../../../src/ivr/prompts/wav.js';
import { WavFormatError } from '../../../src/shared/audio/wav.js';
import { PROMPTS_DIR } from './render.js';

/** A WAV made by wavefile (an independent encoder) holding `samples`. */
function wav(samples: number[], rate = 8000, channels = 1, bits = '16'): Uint8Array {
  const file = new WaveFile();
  const data = channels === 1 ? samples : [samples, samples];
  file.fromScratch(channels, rate, bits, data);
  return file.toBuffer();
}

let work: string;
const put = (relative: string, bytes: Uint8Array): void => {
  const file = path.join(work, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
};

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'prompt-catalog-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('PromptCatalog over the built-in prompts', () => {
  let catalog: PromptCatalog;
  beforeAll(async () => {
    catalog = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
  });

  test('the built-in directory is the repository prompts/', () => {
    expect(path.resolve(BUILTIN_PROMPT_DIR)).toBe(path.resolve(PROMPTS_DIR));
    expect(catalog.languages).toEqual(['fr', 'en']);
    expect(catalog.sampleRate).toBe(8000);
  });

  test('get decodes the same samples as wavefile', () => {
    const samples = catalog.get('fr', 'goodbye');
    const reference = new WaveFile();
    reference.fromBuffer(readFileSync(path.join(PROMPTS_DIR, 'fr', 'goodbye.wav')));
    expect(samples.length).toBeGreaterThan(800);
    expect(Array.from(samples)).toEqual(Array.from(reference.getSamples(false, Int16Array) as unknown as Int16Array));
    expect(catalog.get('en', 'goodbye')).not.toEqual(samples);
  });

  test('a missing prompt is an error naming the prompt and the file', () => {
    expect(() => catalog.get('fr', 'no_such_prompt')).toThrow(PromptNotFoundError);
    expect(() => catalog.get('fr', 'no_such_prompt')).toThrow(
      `prompt "no_such_prompt" (fr) not found: no file ${path.join(BUILTIN_PROMPT_DIR, 'fr', 'no_such_prompt.wav')}`,
    );
    expect(catalog.has('fr', 'no_such_prompt')).toBe(false);
    expect(catalog.has('fr', 'goodbye')).toBe(true);
  });

  test('an unloaded language is an error listing the loaded ones', () => {
    expect(() => catalog.get('de', 'goodbye')).toThrow('language "de" is not loaded (loaded: fr, en)');
  });

  test('concat places prompts back to back with gaps between them only', () => {
    const a = catalog.get('fr', 'number_1');
    const b = catalog.get('fr', 'number_2');
    const joined = catalog.concat('fr', ['number_1', 'number_2', 'number_1'], 100);
    expect(joined.length).toBe(2 * a.length + b.length + 2 * 800);
    expect(Array.from(joined.subarray(0, a.length))).toEqual(Array.from(a));
    expect(joined.subarray(a.length, a.length + 800).every((s) => s === 0)).toBe(true);
    expect(Array.from(joined.subarray(a.length + 800, a.length + 800 + b.length))).toEqual(Array.from(b));
    expect(Array.from(joined.subarray(joined.length - a.length))).toEqual(Array.from(a));
    expect(catalog.durationMs('fr', ['number_1', 'number_2', 'number_1'], 100)).toBeCloseTo((joined.length / 8000) * 1000, 6);
  });

  test('concat without gap, of nothing, and with a bad gap', () => {
    const a = catalog.get('en', 'and');
    expect(catalog.concat('en', ['and', 'and']).length).toBe(2 * a.length);
    expect(catalog.concat('en', []).length).toBe(0);
    expect(() => catalog.concat('en', ['and'], -5)).toThrow(/gapMs/);
    expect(() => catalog.concat('en', ['and', 'nope'])).toThrow(PromptNotFoundError);
  });

  test('the returned array is the prompt itself: concat copies, never aliases', () => {
    const joined = catalog.concat('fr', ['goodbye']);
    joined[0] = 12345;
    expect(catalog.get('fr', 'goodbye')[0]).not.toBe(12345);
  });
});

describe('operator prompt directories', () => {
  test('the operator directory wins over the built-in prompts and may add prompts', async () => {
    put('operator/fr/goodbye.wav', wav([1, 2, 3]));
    put('operator/fr/custom_notice.wav', wav([4, 5]));
    put('operator/fr/README.txt', new Uint8Array([65]));
    const catalog = await PromptCatalog.load(path.join(work, 'operator'));
    expect(Array.from(catalog.get('fr', 'goodbye'))).toEqual([1, 2, 3]);
    expect(Array.from(catalog.get('fr', 'custom_notice'))).toEqual([4, 5]);
    expect(catalog.get('fr', 'no_messages').length).toBeGreaterThan(1000);
    expect(catalog.fileOf('fr', 'goodbye')).toBe(path.join(work, 'operator', 'fr', 'goodbye.wav'));
    expect(catalog.get('en', 'goodbye').length).toBeGreaterThan(1000);
  });

  test('without fallback only the operator prompts exist, and a language with none is an error', async () => {
    const only = await PromptCatalog.load(path.join(work, 'operator'), ['fr'], { fallbackDir: null });
    expect(only.ids('fr')).toEqual(['custom_notice', 'goodbye']);
    expect(() => only.get('fr', 'no_messages')).toThrow(path.join(work, 'operator', 'fr', 'no_messages.wav'));
    await expect(PromptCatalog.load(path.join(work, 'operator'), ['en'], { fallbackDir: null })).rejects.toThrow(
      /no prompts for language "en"/,
    );
  });

  test('a WAV that is not 8 kHz mono 16-bit fails the load naming the file; the old prompts stay', async () => {
    put('badrate/fr/goodbye.wav', wav([1, 2], 16000));
    put('stereo/fr/goodbye.wav', wav([1, 2], 8000, 2));
    put('eightbit/fr/goodbye.wav', wav([1, 2], 8000, 1, '8'));
    await expect(PromptCatalog.load(path.join(work, 'badrate'), ['fr'])).rejects.toThrow(/badrate.fr.goodbye\.wav: 16000 Hz/);
    await expect(PromptCatalog.load(path.join(work, 'stereo'), ['fr'])).rejects.toThrow(/2 channel/);
    await expect(PromptCatalog.load(path.join(work, 'eightbit'), ['fr'])).rejects.toThrow(/8-bit/);

    const catalog = await PromptCatalog.load(path.join(work, 'operator'), ['fr']);
    put('operator/fr/broken.wav', new Uint8Array([1, 2, 3, 4]));
    await expect(catalog.reload()).rejects.toThrow(WavFormatError);
    expect(Array.from(catalog.get('fr', 'goodbye'))).toEqual([1, 2, 3]);
    rmSync(path.join(work, 'operator', 'fr', 'broken.wav'));
  });

  test('an Asterisk sound set stands in for the prompts it has, below the operator directory', async () => {
    put('asterisk/fr/digits/1.wav', wav([11]));
    put('asterisk/fr/digits/day-0.wav', wav([7]));
    put('asterisk/fr/vm-goodbye.wav', wav([9]));
    const catalog = await PromptCatalog.load(path.join(work, 'operator'), ['fr'], { asterisk: { fr: path.join(work, 'asterisk', 'fr') } });
    expect(Array.from(catalog.get('fr', 'number_1'))).toEqual([11]);
    expect(Array.from(catalog.get('fr', 'weekday_sunday'))).toEqual([7]);
    expect(Array.from(catalog.get('fr', 'goodbye'))).toEqual([1, 2, 3]);
    expect(catalog.get('fr', 'number_2').length).toBeGreaterThan(100);

    // With the default configuration (dir = the built-in prompts) the Asterisk set overrides them.
    const onBuiltin = await PromptCatalog.load(BUILTIN_PROMPT_DIR, ['fr'], { asterisk: { fr: path.join(work, 'asterisk', 'fr') } });
    expect(Array.from(onBuiltin.get('fr', 'goodbye'))).toEqual([9]);
    expect(onBuiltin.fileOf('fr', 'number_2')).toBe(path.join(BUILTIN_PROMPT_DIR, 'fr', 'number_2.wav'));
  });

  test('options are validated', () => {
    expect(() => new PromptCatalog({ dir: '' })).toThrow(/invalid prompt catalogue options/);
    expect(() => new PromptCatalog({ dir: '/x', languages: ['../etc'] })).toThrow(/language tag/);
    expect(() => new PromptCatalog({ dir: '/x', languages: [] })).toThrow(/invalid prompt catalogue options/);
    expect(() => new PromptCatalog({ dir: '/x', extra: 1 } as never)).toThrow(/invalid prompt catalogue options/);
  });

  test('get before load says so', () => {
    expect(() => new PromptCatalog({ dir: '/x' }).get('fr', 'goodbye')).toThrow(/not loaded/);
  });
});

describe('decodePromptWav', () => {
  test('skips unknown and odd-sized chunks, reads WAVE_FORMAT_EXTENSIBLE', () => {
    const plain = Buffer.from(wav([100, -200, 300]));
    // Insert an odd-sized LIST chunk (5 bytes + pad) between fmt and data.
    const fmtEnd = 12 + 8 + plain.readUInt32LE(16);
    const list = Buffer.from([...Buffer.from('LIST'), 5, 0, 0, 0, 1, 2, 3, 4, 5, 0]);
    const withList = Buffer.concat([plain.subarray(0, fmtEnd), list, plain.subarray(fmtEnd)]);
    expect(Array.from(decodePromptWav(withList, 'x.wav'))).toEqual([100, -200, 300]);

    // fmt of 40 bytes: tag 0xFFFE … cbSize 22, valid bits, channel mask, SubFormat GUID starting 01 00 (PCM).
    const fmt = Buffer.alloc(40);
    fmt.writeUInt16LE(0xfffe, 0);
    fmt.writeUInt16LE(1, 2);
    fmt.writeUInt32LE(8000, 4);
    fmt.writeUInt32LE(16000, 8);
    fmt.writeUInt16LE(2, 12);
    fmt.writeUInt16LE(16, 14);
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(16, 18);
    fmt.writeUInt32LE(4, 20);
    fmt.writeUInt16LE(1, 24);
    const data = Buffer.alloc(4);
    data.writeInt16LE(5, 0);
    data.writeInt16LE(-5, 2);
    const chunk = (id: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(id), Buffer.from(Uint32Array.of(body.length).buffer), body]);
    const body = Buffer.concat([Buffer.from('WAVE'), chunk('fmt ', fmt), chunk('data', data)]);
    const extensible = Buffer.concat([Buffer.from('RIFF'), Buffer.from(Uint32Array.of(body.length).buffer), body]);
    expect(Array.from(decodePromptWav(extensible, 'ext.wav'))).toEqual([5, -5]);
    fmt.writeUInt16LE(3, 24);
    const float = Buffer.concat([Buffer.from('RIFF'), Buffer.from(Uint32Array.of(body.length).buffer), Buffer.from('WAVE'), chunk('fmt ', fmt), chunk('data', data)]);
    expect(() => decodePromptWav(float, 'float.wav')).toThrow(/format tag 0x3 is not PCM/);
  });

  test('names the file and the problem', () => {
    expect(() => decodePromptWav(new Uint8Array(4), 'a.wav')).toThrow('a.wav: not a RIFF/WAVE file');
    const alaw = new WaveFile();
    alaw.fromScratch(1, 8000, '8a', [1, 2]);
    expect(() => decodePromptWav(alaw.toBuffer(), 'alaw.wav')).toThrow(/alaw\.wav: format tag 0x6 is not PCM/);
    const noData = Buffer.from(wav([1])).subarray(0, 36);
    expect(() => decodePromptWav(noData, 'n.wav')).toThrow('n.wav: no data chunk');
  });
});
