import { alaw, mulaw } from 'alawmulaw';
import { AudioFormatError } from './types.js';

/** How one sample is stored in an uncompressed container. */
export type SampleEncoding =
  | { kind: 'int'; bits: 16 | 24 | 32; bigEndian: boolean }
  | { kind: 'int8' }
  | { kind: 'uint8' }
  | { kind: 'float'; bits: 32 | 64; bigEndian: boolean }
  | { kind: 'alaw' }
  | { kind: 'ulaw' };

/** Bytes one sample of `encoding` takes. */
export function bytesPerSample(encoding: SampleEncoding): number {
  switch (encoding.kind) {
    case 'int':
    case 'float':
      return encoding.bits / 8;
    default:
      return 1;
  }
}

/**
 * Reads interleaved samples of `channels` channels from `data[offset, offset + byteLength)` into floats in
 * [-1, 1]. A trailing partial frame (a truncated upload) is ignored rather than rejected.
 */
export function readInterleaved(
  data: Buffer,
  offset: number,
  byteLength: number,
  encoding: SampleEncoding,
  channels: number,
): Float32Array {
  const width = bytesPerSample(encoding);
  const available = Math.max(0, Math.min(byteLength, data.length - offset));
  const frames = Math.floor(available / (width * channels));
  const count = frames * channels;
  const out = new Float32Array(count);
  switch (encoding.kind) {
    case 'int8':
      for (let i = 0; i < count; i++) out[i] = data.readInt8(offset + i) / 128;
      break;
    case 'uint8':
      for (let i = 0; i < count; i++) out[i] = (data[offset + i]! - 128) / 128;
      break;
    case 'alaw':
      for (let i = 0; i < count; i++) out[i] = alaw.decodeSample(data[offset + i]!) / 32768;
      break;
    case 'ulaw':
      for (let i = 0; i < count; i++) out[i] = mulaw.decodeSample(data[offset + i]!) / 32768;
      break;
    case 'int':
      readIntegers(data, offset, count, encoding.bits, encoding.bigEndian, out);
      break;
    case 'float':
      for (let i = 0; i < count; i++) {
        const at = offset + i * width;
        const value =
          encoding.bits === 32
            ? encoding.bigEndian ? data.readFloatBE(at) : data.readFloatLE(at)
            : encoding.bigEndian ? data.readDoubleBE(at) : data.readDoubleLE(at);
        out[i] = Number.isFinite(value) ? Math.max(-1, Math.min(1, value)) : 0;
      }
      break;
  }
  return out;
}

function readIntegers(data: Buffer, offset: number, count: number, bits: 16 | 24 | 32, bigEndian: boolean, out: Float32Array): void {
  const width = bits / 8;
  const scale = 1 / 2 ** (bits - 1);
  for (let i = 0; i < count; i++) {
    const at = offset + i * width;
    const value = bigEndian ? data.readIntBE(at, width) : data.readIntLE(at, width);
    out[i] = value * scale;
  }
}

/** Throws unless `value` is a plausible count of channels / sample rate read from a header. */
export function checkHeaderNumbers(container: string, channels: number, sampleRate: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > 32) {
    throw new AudioFormatError(`${container}: unsupported channel count ${channels}`);
  }
  if (!Number.isFinite(sampleRate) || sampleRate < 1000 || sampleRate > 768_000) {
    throw new AudioFormatError(`${container}: unsupported sample rate ${sampleRate}`);
  }
}
