import { describe, expect, test } from '@jest/globals';
import {
  AUDIO_FORMATS,
  AudioFormatError,
  decodeAudio,
  durationMs,
  encodeAudio,
  toTelephonyPcm,
  type AudioFormat,
} from '../../../src/shared/audio/index.js';
import { ffmpegDecodeToPcm, goertzel, hasFfmpeg, rms, toneThenSilence } from './signals.js';

const LOSSLESS: readonly AudioFormat[] = ['aiff', 'au', 'flac', 'wav'];
const EXPECTED_MIME: Record<AudioFormat, string> = {
  aiff: 'audio/aiff', au: 'audio/basic', flac: 'audio/flac', mp3: 'audio/mpeg', ogg: 'audio/ogg', wav: 'audio/wav',
};
const MAGIC: Record<AudioFormat, (data: Buffer) => boolean> = {
  aiff: (d) => d.toString('latin1', 0, 4) === 'FORM' && d.toString('latin1', 8, 12) === 'AIFF',
  au: (d) => d.toString('latin1', 0, 4) === '.snd' && d.readUInt32BE(12) === 3,
  flac: (d) => d.toString('latin1', 0, 4) === 'fLaC',
  mp3: (d) => d[0] === 0xff && (d[1]! & 0xe0) === 0xe0,
  ogg: (d) => d.toString('latin1', 0, 4) === 'OggS' && d.includes('\x01vorbis', 0, 'latin1'),
  wav: (d) => d.toString('latin1', 0, 4) === 'RIFF' && d.toString('latin1', 8, 12) === 'WAVE',
};

const message = toneThenSilence();
const TONE_END = 20000; // 2.5 s at 8 kHz

/** The tone must be loud over its 2.5 s, at 440 Hz rather than 3 kHz, and the last 0.4 s must be quiet. */
function expectToneThenSilence(pcm: Int16Array): void {
  const tone440 = goertzel(pcm, 8000, 440, 800, TONE_END - 800);
  const tone3k = goertzel(pcm, 8000, 3000, 800, TONE_END - 800);
  expect(Math.sqrt(tone440 * 4)).toBeGreaterThan(9000); // encoded amplitude is 12000
  expect(tone440).toBeGreaterThan(1000 * tone3k);
  expect(rms(pcm, TONE_END + 800, Math.min(pcm.length, 24000))).toBeLessThan(150);
}

describe.each(AUDIO_FORMATS)('%s', (format) => {
  test('encodes with the right MIME type, extension and magic, and decodes back', async () => {
    const encoded = await encodeAudio(message, 8000, format);
    expect(encoded.mimeType).toBe(EXPECTED_MIME[format]);
    expect(encoded.extension).toBe(format);
    expect(MAGIC[format](encoded.data)).toBe(true);

    const decoded = await decodeAudio(encoded.data, { filename: `message.${format}` });
    expect(decoded.sampleRate).toBe(8000);
    expect(decoded.channels).toBe(1);
    const pcm = toTelephonyPcm(decoded);
    if (LOSSLESS.includes(format)) {
      expect(pcm).toEqual(message);
    } else {
      expect(Math.abs(durationMs(decoded) - 3000)).toBeLessThanOrEqual(50);
      expectToneThenSilence(pcm);
    }
  });

  (hasFfmpeg ? test : test.skip)(`ffmpeg decodes it${hasFfmpeg ? '' : ' (SKIPPED: ffmpeg not installed)'}`, async () => {
    const encoded = await encodeAudio(message, 8000, format);
    const pcm = ffmpegDecodeToPcm(encoded.extension, encoded.data);
    if (LOSSLESS.includes(format)) {
      expect(pcm).toEqual(message);
    } else {
      expect(Math.abs(durationMs(pcm) - 3000)).toBeLessThanOrEqual(50);
      expectToneThenSilence(pcm);
    }
  });
});

describe('encodeAudio', () => {
  test('mp3 output is gapless: the tone ends where it ended in the input', async () => {
    const decoded = await decodeAudio((await encodeAudio(message, 8000, 'mp3')).data);
    const pcm = toTelephonyPcm(decoded);
    expect(pcm.length).toBe(message.length);
    expect(rms(pcm, TONE_END - 400, TONE_END - 40)).toBeGreaterThan(6000);
    expect(rms(pcm, TONE_END + 200, TONE_END + 600)).toBeLessThan(300);
  });

  test('encodes an empty message into a valid, empty file', async () => {
    for (const format of LOSSLESS) {
      const encoded = await encodeAudio(new Int16Array(0), 8000, format);
      expect(MAGIC[format](encoded.data)).toBe(true);
    }
  });

  test('lossless formats keep another sample rate exactly', async () => {
    const wideband = toneThenSilence(16000, 0.5, 0.1);
    for (const format of LOSSLESS) {
      const decoded = await decodeAudio((await encodeAudio(wideband, 16000, format)).data);
      expect(decoded.sampleRate).toBe(16000);
      expect(Int16Array.from(decoded.samples, (s) => Math.round(s * 32768))).toEqual(wideband);
    }
  });

  test('rejects an unknown format, a bad rate and a non-Int16Array with AudioFormatError', async () => {
    await expect(encodeAudio(message, 8000, 'm4a' as AudioFormat)).rejects.toThrow(AudioFormatError);
    await expect(encodeAudio(message, 0, 'wav')).rejects.toThrow(/sampleRate/);
    await expect(encodeAudio([1, 2] as unknown as Int16Array, 8000, 'wav')).rejects.toThrow(/Int16Array/);
  });
});
