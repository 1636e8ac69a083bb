import { describe, expect, test } from '@jest/globals';
import { readExtended, writeExtended } from '../../../src/shared/audio/aiff.js';
import { crc16, crc8 } from '../../../src/shared/audio/bit-writer.js';
import { crc16Arc } from '../../../src/shared/audio/crc16-arc.js';
import { FlacEncoder } from '../../../src/shared/audio/flac-encoder.js';
import { AudioFormatError, decodeAudio, durationMs, encodeAudio, isAudioFormat, resample, toTelephonyPcm } from '../../../src/shared/audio/index.js';
import { ffmpegDecodeToPcm, hasFfmpeg } from './signals.js';

const CHECK = Buffer.from('123456789', 'latin1');

describe('checksums (standard check values of "123456789")', () => {
  test('CRC-8 of FLAC frame headers', () => expect(crc8(CHECK)).toBe(0xf4));
  test('CRC-16 of FLAC frames', () => expect(crc16(CHECK)).toBe(0xfee8));
  test('CRC-16/ARC of the LAME tag', () => expect(crc16Arc(CHECK)).toBe(0xbb3d));
});

describe('AIFF 80-bit extended sample rate', () => {
  test.each([8000, 11025, 44100, 48000, 96000, 22050.5])('%d round-trips', (rate) => {
    const bytes = Buffer.alloc(10);
    writeExtended(bytes, 0, rate);
    expect(readExtended(bytes, 0)).toBe(rate);
  });
  test('8000 Hz has the well-known encoding 400B FA00 0000 0000 0000', () => {
    const bytes = Buffer.alloc(10);
    writeExtended(bytes, 0, 8000);
    expect(bytes.toString('hex')).toBe('400bfa00000000000000');
  });
});

describe('FlacEncoder', () => {
  const awkward = new Int16Array(4096 * 2 + 1000 + 7);
  let seed = 42;
  for (let i = 0; i < awkward.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    // a block of full-scale noise (verbatim wins), a constant block, then a ramp with extremes
    awkward[i] = i < 4096 ? (seed % 65536) - 32768 : i < 8192 ? -1234 : i % 2 ? 32767 : -32768;
  }

  test('losslessly codes noise, constant blocks, extremes and an odd-sized last block', async () => {
    const flac = new FlacEncoder(8000).encode(awkward);
    const decoded = toTelephonyPcm(await decodeAudio(flac));
    expect(decoded).toEqual(awkward);
  });

  (hasFfmpeg ? test : test.skip)('ffmpeg decodes the same samples (MD5 and CRCs accepted)', () => {
    const flac = new FlacEncoder(8000).encode(awkward);
    expect(ffmpegDecodeToPcm('flac', flac)).toEqual(awkward);
  });

  test('compresses a tone well below the raw size (fixed predictors, no LPC)', async () => {
    const tone = Int16Array.from({ length: 8000 * 10 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    const { data } = await encodeAudio(tone, 8000, 'flac');
    expect(data.length).toBeLessThan(tone.length * 2 * 0.6);
  });
});

describe('decodeAudio rejects unreadable input with AudioFormatError', () => {
  const wavHeader = Buffer.from('524946462400000057415645666d7420100000000100010040', 'hex');
  test.each([
    ['empty', Buffer.alloc(0), /empty/],
    ['random bytes', Buffer.from('this is not audio at all, just some text'), /unrecognised format/],
    ['a PNG', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), /unrecognised/],
    ['a truncated WAV header', wavHeader, /fmt /],
    ['a WAV of an unsupported codec', wavFile(0x55, 16), /unsupported format tag 0x0055/],
    ['a WAV with 0 channels', wavFile(1, 16, 0), /channel count 0/],
    ['an AU with encoding 23 (G.721)', auFile(23), /unsupported encoding 23/],
    ['an AIFF without SSND', Buffer.concat([Buffer.from('FORM\0\0\0\x04AIFF', 'latin1')]), /no COMM chunk/],
    ['an Ogg of an unknown codec', oggPage(Buffer.from('\x80theora', 'latin1')), /unsupported codec/],
    ['an Ogg with a broken second page', Buffer.concat([oggPage(Buffer.from('OpusHead', 'latin1')), Buffer.from('junkjunkjunkjunkjunkjunkjunkjunk')]), /lost page sync/],
    ['a FLAC marker and garbage', Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(200, 0x5a)]), /FLAC/],
    ['an ID3 tag with no MPEG frame', Buffer.concat([Buffer.from('ID3\x03\0\0\0\0\0\x02', 'latin1'), Buffer.from('xyzw')]), /no MPEG audio frame/],
  ])('%s', async (_label, data, message) => {
    const attempt = decodeAudio(data, { filename: 'greeting.bin', mimeType: 'audio/x-test' });
    await expect(attempt).rejects.toThrow(AudioFormatError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow(/greeting\.bin audio\/x-test/);
  });
});

describe('toTelephonyPcm, resample and durationMs', () => {
  test('downmixes channels by averaging', () => {
    const stereo = Float32Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0.5 : 0));
    const mono = toTelephonyPcm({ samples: stereo, sampleRate: 8000, channels: 2 });
    expect(mono.length).toBe(100);
    expect([...mono].every((v) => v === 8192)).toBe(true);
  });

  test('keeps DC level and length when resampling 44.1 kHz and 11025 Hz to 8 kHz', () => {
    for (const rate of [44100, 11025, 16000, 6000]) {
      const out = resample(new Float32Array(rate).fill(0.25), rate, 8000);
      expect(out.length).toBe(8000);
      expect(out[4000]).toBeCloseTo(0.25, 4);
    }
  });

  test('clips instead of wrapping around', () => {
    const loud = toTelephonyPcm({ samples: Float32Array.of(1, -1, 1.5), sampleRate: 8000, channels: 1 });
    expect([...loud]).toEqual([32767, -32768, 32767]);
  });

  test('durationMs of PCM and of decoded audio', () => {
    expect(durationMs(new Int16Array(12000))).toBe(1500);
    expect(durationMs(new Int16Array(16000), 16000)).toBe(1000);
    expect(durationMs({ samples: new Float32Array(88200), sampleRate: 44100, channels: 2 })).toBe(1000);
  });

  test('isAudioFormat', () => {
    expect(isAudioFormat('ogg')).toBe(true);
    expect(isAudioFormat('OGG')).toBe(false);
    expect(isAudioFormat(3)).toBe(false);
  });
});

function wavFile(tag: number, bits: number, channels = 1): Buffer {
  const out = Buffer.alloc(44 + 8);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(out.length - 8, 4);
  out.write('WAVEfmt ', 8, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(tag, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(8000, 24);
  out.writeUInt16LE(bits, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(8, 40);
  return out;
}

function auFile(encoding: number): Buffer {
  const out = Buffer.alloc(32);
  out.write('.snd', 0, 'latin1');
  out.writeUInt32BE(24, 4);
  out.writeUInt32BE(8, 8);
  out.writeUInt32BE(encoding, 12);
  out.writeUInt32BE(8000, 16);
  out.writeUInt32BE(1, 20);
  return out;
}

function oggPage(packet: Buffer): Buffer {
  const header = Buffer.alloc(28);
  header.write('OggS', 0, 'latin1');
  header[5] = 2; // beginning of stream
  header[26] = 1;
  header[27] = packet.length;
  return Buffer.concat([header, packet]);
}
