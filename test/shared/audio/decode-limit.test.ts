import { describe, expect, it } from '@jest/globals';
import { AudioTooLongError, decodeAudio, encodeAudio } from '../../../src/shared/audio/index.js';
import { parseMpegFrameHeader } from '../../../src/shared/audio/mpeg-audio.js';

function tone(seconds: number, rate: number): Int16Array {
  const pcm = new Int16Array(seconds * rate);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 330 * i) / rate));
  return pcm;
}

describe('decoding stops at the duration limit when the header does not give the length', () => {
  it('FLAC whose STREAMINFO total samples is 0', async () => {
    const flac = Buffer.from((await encodeAudio(tone(30, 8000), 8000, 'flac')).data);
    // STREAMINFO: 4-bit high part of total samples in byte 8+13 (low nibble), 32 low bits at 8+14.
    flac[8 + 13] = flac[8 + 13]! & 0xf0;
    flac.writeUInt32BE(0, 8 + 14);
    await expect(decodeAudio(flac, {}, { maxSeconds: 5 })).rejects.toBeInstanceOf(AudioTooLongError);
    const whole = await decodeAudio(flac, {}, { maxSeconds: 60 });
    expect(whole.samples.length).toBe(30 * 8000);
  });

  it('MP3 without a Xing/Info frame', async () => {
    const tagged = (await encodeAudio(tone(30, 8000), 8000, 'mp3')).data;
    const bare = tagged.subarray(parseMpegFrameHeader(tagged, 0)!.frameBytes); // drop the Info frame
    await expect(decodeAudio(Buffer.from(bare), {}, { maxSeconds: 5 })).rejects.toBeInstanceOf(AudioTooLongError);
    const whole = await decodeAudio(Buffer.from(bare), {}, { maxSeconds: 60 });
    expect(whole.samples.length / whole.channels / whole.sampleRate).toBeGreaterThan(29);
  });

  it('gives the same samples chunk by chunk as in one call', async () => {
    const flac = (await encodeAudio(tone(3, 8000), 8000, 'flac')).data;
    const chunked = await decodeAudio(flac, {}, { maxSeconds: 60 });
    const whole = await decodeAudio(flac, {});
    expect(Buffer.compare(Buffer.from(chunked.samples.buffer), Buffer.from(whole.samples.buffer))).toBe(0);
  });
});
