import { describe, expect, test } from '@jest/globals';
import { alaw, mulaw } from 'alawmulaw';
import { decodeG711, encodeG711 } from '../../src/media/g711.js';
import { WavFormatError, decodeWav, encodeWav } from '../../src/shared/audio/wav.js';
import { beep, dtmfTone, silence } from '../../src/media/tones.js';

const everySample = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

describe('G.711 tables', () => {
  test('PCMU encode/decode match alawmulaw for every value', () => {
    expect(Array.from(encodeG711('PCMU', everySample))).toEqual(Array.from(mulaw.encode(everySample)));
    expect(Array.from(decodeG711('PCMU', everyByte))).toEqual(Array.from(mulaw.decode(everyByte)));
  });
  test('PCMA encode/decode match alawmulaw for every value', () => {
    expect(Array.from(encodeG711('PCMA', everySample))).toEqual(Array.from(alaw.encode(everySample)));
    expect(Array.from(decodeG711('PCMA', everyByte))).toEqual(Array.from(alaw.decode(everyByte)));
  });
  test('decode → encode is the identity on code words (PCMA all, PCMU except negative zero)', () => {
    expect(Array.from(encodeG711('PCMA', decodeG711('PCMA', everyByte)))).toEqual(Array.from(everyByte));
    const mu = Array.from(encodeG711('PCMU', decodeG711('PCMU', everyByte)));
    expect(mu.filter((b, i) => b !== i)).toEqual([0xff]); // 0x7f (−0) re-encodes as 0xff (+0)
  });
});

function wavWith(format: number, bits: number, channels: number, data: Buffer, rate = 8000): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('WAV', () => {
  const pcm = Int16Array.from([0, 1000, -1000, 32767, -32768, 12345]);
  test('encodeWav → decodeWav round-trips 16-bit mono', () => {
    const buf = encodeWav(pcm, 16000);
    expect(buf.length).toBe(44 + 12);
    expect(buf.readUInt32LE(40)).toBe(12);
    const d = decodeWav(buf);
    expect(d).toMatchObject({ sampleRate: 16000, channels: 1 });
    expect(Array.from(d.samples)).toEqual(Array.from(pcm));
  });
  test('8-bit, 24-bit, 32-bit, float and G.711 WAVs decode', () => {
    expect(Array.from(decodeWav(wavWith(1, 8, 1, Buffer.from([128, 255, 0]))).samples)).toEqual([0, 127 << 8, -32768]);
    const b24 = Buffer.alloc(6);
    b24.writeIntLE(0x123456, 0, 3);
    b24.writeIntLE(-0x800000, 3, 3);
    expect(Array.from(decodeWav(wavWith(1, 24, 1, b24)).samples)).toEqual([0x1234, -32768]);
    const b32 = Buffer.alloc(4);
    b32.writeInt32LE(1000 * 65536, 0);
    expect(Array.from(decodeWav(wavWith(1, 32, 1, b32)).samples)).toEqual([1000]);
    const f = Buffer.alloc(8);
    f.writeFloatLE(0.5, 0);
    f.writeFloatLE(-1, 4);
    expect(Array.from(decodeWav(wavWith(3, 32, 1, f)).samples)).toEqual([16384, -32768]);
    const a = Buffer.from(alaw.encode(pcm));
    expect(Array.from(decodeWav(wavWith(6, 8, 1, a)).samples)).toEqual(Array.from(alaw.decode(a)));
    const u = Buffer.from(mulaw.encode(pcm));
    expect(Array.from(decodeWav(wavWith(7, 8, 1, u)).samples)).toEqual(Array.from(mulaw.decode(u)));
  });
  test('stereo is mixed down to mono', () => {
    const st = Buffer.alloc(8);
    st.writeInt16LE(1000, 0);
    st.writeInt16LE(3000, 2);
    st.writeInt16LE(-100, 4);
    st.writeInt16LE(-300, 6);
    const d = decodeWav(wavWith(1, 16, 2, st, 44100));
    expect(d).toMatchObject({ sampleRate: 44100, channels: 2 });
    expect(Array.from(d.samples)).toEqual([2000, -200]);
  });
  test('bad files give WavFormatError with a reason', () => {
    expect(() => decodeWav(Buffer.from('hello'))).toThrow(WavFormatError);
    expect(() => decodeWav(Buffer.from('RIFF\0\0\0\0AVI LIST'))).toThrow(/RIFF\/WAVE/);
    expect(() => decodeWav(wavWith(2, 4, 1, Buffer.alloc(4)))).toThrow(/format tag 0x0002/);
    expect(() => decodeWav(wavWith(1, 12, 1, Buffer.alloc(4)))).toThrow(/bit depth 12/);
    expect(() => decodeWav(encodeWav(pcm).subarray(0, 36))).toThrow(/no data chunk/);
  });
});

describe('tones', () => {
  test('beep is 300 ms of 1 kHz at 8 kHz; silence is zeros', () => {
    const b = beep();
    expect(b.length).toBe(2400);
    expect(b[2]).toBe(Math.round(8000 * Math.sin(Math.PI / 2)));
    expect(silence(20).every((s) => s === 0)).toBe(true);
    expect(silence(20).length).toBe(160);
    expect(() => dtmfTone('x')).toThrow(RangeError);
  });
});
