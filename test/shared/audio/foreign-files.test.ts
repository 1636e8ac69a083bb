import { describe, expect, test } from '@jest/globals';
import { decodeAudio, durationMs, toTelephonyPcm } from '../../../src/shared/audio/index.js';
import { ffmpegMakeFile, goertzel, hasFfmpeg, rms } from './signals.js';

/** Files as other software writes them: [label, extension, ffmpeg output options, lossy?] */
const VARIANTS: [string, string, string[], boolean][] = [
  ['WAV 16-bit', 'wav', ['-c:a', 'pcm_s16le'], false],
  ['WAV 8-bit unsigned', 'wav', ['-c:a', 'pcm_u8'], false],
  ['WAV 24-bit', 'wav', ['-c:a', 'pcm_s24le'], false],
  ['WAV 32-bit', 'wav', ['-c:a', 'pcm_s32le'], false],
  ['WAV float', 'wav', ['-c:a', 'pcm_f32le'], false],
  ['WAV double', 'wav', ['-c:a', 'pcm_f64le'], false],
  ['WAV A-law', 'wav', ['-c:a', 'pcm_alaw'], false],
  ['WAV µ-law', 'wav', ['-c:a', 'pcm_mulaw'], false],
  ['AU 16-bit', 'au', ['-c:a', 'pcm_s16be'], false],
  ['AU 8-bit', 'au', ['-c:a', 'pcm_s8'], false],
  ['AU µ-law', 'au', ['-c:a', 'pcm_mulaw'], false],
  ['AU A-law', 'au', ['-c:a', 'pcm_alaw'], false],
  ['AU float', 'au', ['-c:a', 'pcm_f32be'], false],
  ['AIFF 16-bit', 'aiff', ['-c:a', 'pcm_s16be'], false],
  ['AIFF 24-bit', 'aiff', ['-c:a', 'pcm_s24be'], false],
  ['AIFF-C sowt', 'aifc', ['-c:a', 'pcm_s16le'], false],
  ['AIFF-C fl32', 'aifc', ['-c:a', 'pcm_f32be'], false],
  ['AIFF-C alaw', 'aifc', ['-c:a', 'pcm_alaw'], false],
  ['FLAC 16-bit', 'flac', ['-c:a', 'flac'], false],
  ['FLAC 24-bit', 'flac', ['-c:a', 'flac', '-sample_fmt', 's32'], false],
  ['MP3 with ID3v2', 'mp3', ['-c:a', 'libmp3lame', '-b:a', '128k', '-metadata', 'title=Bonjour'], true],
  ['Ogg Vorbis', 'ogg', ['-c:a', 'libvorbis', '-q:a', '4'], true],
  ['Ogg Opus', 'opus', ['-c:a', 'libopus', '-b:a', '64k'], true],
  ['Ogg FLAC', 'oga', ['-c:a', 'flac'], false],
];

const describeWithFfmpeg = hasFfmpeg ? describe : describe.skip;

describeWithFfmpeg(`greetings made by ffmpeg at 44.1 kHz stereo${hasFfmpeg ? '' : ' (SKIPPED: ffmpeg not installed)'}`, () => {
  test.each(VARIANTS)('%s is decoded and resampled to 8 kHz mono', async (_label, extension, options, lossy) => {
    const data = ffmpegMakeFile('sine=frequency=440:sample_rate=44100:duration=2', extension, ['-ac', '2', ...options]);
    const decoded = await decodeAudio(data, { filename: `greeting.${extension}` });
    expect(decoded.channels).toBe(2);
    // Opus always decodes at 48 kHz; everything else keeps the file's rate.
    expect(decoded.sampleRate).toBe(extension === 'opus' ? 48000 : 44100);
    expect(Math.abs(durationMs(decoded) - 2000)).toBeLessThanOrEqual(lossy ? 50 : 0.1);

    // Both channels carry the same sine: its amplitude is √2 × the RMS of the interleaved samples.
    const inputAmplitude = rms(decoded.samples) * 32768 * Math.SQRT2;
    expect(inputAmplitude).toBeGreaterThan(2000);

    const pcm = toTelephonyPcm(decoded);
    expect(Math.abs(durationMs(pcm) - 2000)).toBeLessThanOrEqual(lossy ? 50 : 1);
    const at440 = goertzel(pcm, 8000, 440, 2000, 14000);
    const at3k = goertzel(pcm, 8000, 3000, 2000, 14000);
    expect(Math.sqrt(at440 * 4)).toBeGreaterThan(0.9 * inputAmplitude);
    expect(Math.sqrt(at440 * 4)).toBeLessThan(1.1 * inputAmplitude);
    expect(at440).toBeGreaterThan(1000 * at3k);
  });

  test('a 5 kHz tone (above the 4 kHz telephone Nyquist) is filtered out, not aliased to 3 kHz', async () => {
    const data = ffmpegMakeFile('sine=frequency=5000:sample_rate=44100:duration=1', 'wav', ['-ac', '2', '-c:a', 'pcm_s16le']);
    const decoded = await decodeAudio(data);
    const inputRms = rms(decoded.samples) * 32768;
    const pcm = toTelephonyPcm(decoded);
    expect(inputRms).toBeGreaterThan(2000);
    // 60 dB below the input, where plain decimation would keep it all at 3 kHz.
    expect(rms(pcm, 400, 7600)).toBeLessThan(inputRms / 1000);
  });

  test('a 48 kHz upload with a 3 kHz tone keeps it at full level', async () => {
    const data = ffmpegMakeFile('sine=frequency=3000:sample_rate=48000:duration=1', 'flac', ['-ac', '1', '-c:a', 'flac']);
    const pcm = toTelephonyPcm(await decodeAudio(data));
    expect(pcm.length).toBe(8000);
    expect(Math.sqrt(goertzel(pcm, 8000, 3000, 400, 7600) * 4)).toBeGreaterThan(3800);
  });
});
