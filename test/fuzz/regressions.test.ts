/** Crashes the fuzzer found, kept as plain regression tests. */
import { afterAll, expect, test } from '@jest/globals';
import { closeGreetingWorkers, greetingFromUpload } from '../../src/api/audio.js';
import { encodeWav } from '../../src/shared/audio/wav.js';
import { AudioFormatError, resample } from '../../src/shared/audio/index.js';
import { cachedFilterCount, resamplerFor } from '../../src/shared/audio/resample.js';
import { answerOffer } from '../../src/sip/sdp.js';

test('sdp: a numeric-looking c= address ("100.1", made a number by sdp-transform) does not crash the answer', () => {
  const offer = 'v=0\r\no=- 1 1 IN IP4 10.10.100.1\r\ns=-\r\nc=IN IP4 100.1\r\nt=0 0\r\nm=audio 10 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  const { media } = answerOffer(offer, { address: '192.0.2.1', port: 40000, sessionId: '1', sessionVersion: 1 });
  expect(media.remoteAddress).toBe('100.1');
  expect(media.remotePort).toBe(10);
});

test('sdp: an rtpmap without encoding name ("a=rtpmap:112 8000", a number to sdp-transform) does not crash the answer', () => {
  const offer = 'v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 24 RTP/AVP 0 8 112\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:112 8000\r\n';
  const { media } = answerOffer(offer, { address: '192.0.2.1', port: 40000, sessionId: '1', sessionVersion: 1 });
  expect(media.codec).toBe('PCMU');
  expect(media.telephoneEventPayloadTypes).toEqual([]);
});

afterAll(() => closeGreetingWorkers());

/** A WAV (16-bit mono) of `samples` samples of a slow ramp, with `rate` written in its header. */
function wavAt(rate: number, samples: number): Buffer {
  return encodeWav(Int16Array.from({ length: samples }, (_, i) => (i % 200) * 50 - 5000), rate);
}

test('resample: an odd header rate (153 122 Hz: 8000/gcd = 4000 phases) uses the cheap interpolating resampler', () => {
  expect(resamplerFor(153_122, 8000)).toBe('interpolating');
  expect(resamplerFor(4_294_967_295, 8000)).toBe('interpolating');
  for (const usual of [11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000]) expect(resamplerFor(usual, 8000)).toBe('polyphase');
  const dc = resample(new Float32Array(153_122).fill(0.5), 153_122, 8000);
  expect(dc.length).toBe(8000);
  for (const v of dc) expect(v).toBeCloseTo(0.5, 5);
});

test('resample: the polyphase filter cache is bounded (LRU), whatever rates uploads declare', () => {
  for (let rate = 8001; rate < 8021; rate++) resample(new Float32Array(64), rate, 8000);
  expect(cachedFilterCount()).toBeLessThanOrEqual(4);
});

test('greeting: a WAV declaring 153 122 Hz converts to the right length', async () => {
  const { durationMs } = await greetingFromUpload(wavAt(153_122, 153_122 * 2), { filename: 'odd.wav' });
  expect(durationMs).toBe(2000);
});

test.each([
  ['one sample at 153 122 Hz', 153_122, 1],
  ['40 samples at 768 000 Hz (the highest rate a header may declare)', 768_000, 40],
])('greeting: %s decodes to 0 samples at 8 kHz and is refused', async (_name, rate, samples) => {
  const error = await greetingFromUpload(wavAt(rate, samples), { filename: 'tiny.wav' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AudioFormatError);
  expect((error as Error).message).toMatch(/no sample/);
});
