import { checkHeaderNumbers, readInterleaved, type SampleEncoding } from './pcm-layout.js';
import { AudioFormatError, type DecodedAudio } from './types.js';

/**
 * AIFF file of 16-bit big-endian PCM: a FORM container holding a COMM and an SSND chunk.
 *
 * ```
 *  0 "FORM" | 4 size-8 (BE) | 8 "AIFF"
 * 12 "COMM" | 16 18 | 20 channels (16) | 22 sample frames (32) | 26 bits = 16 (16) | 28 sample rate (80-bit extended)
 * 38 "SSND" | 42 8 + data bytes | 46 offset = 0 | 50 block size = 0 | 54 samples (int16 BE, interleaved)
 * ```
 */
export function encodeAiff(pcm: Int16Array, sampleRate: number, channels = 1): Buffer {
  const dataBytes = pcm.length * 2;
  const out = Buffer.alloc(54 + dataBytes);
  out.write('FORM', 0, 'latin1');
  out.writeUInt32BE(46 + dataBytes, 4);
  out.write('AIFF', 8, 'latin1');
  out.write('COMM', 12, 'latin1');
  out.writeUInt32BE(18, 16);
  out.writeUInt16BE(channels, 20);
  out.writeUInt32BE(pcm.length / channels, 22);
  out.writeUInt16BE(16, 26);
  writeExtended(out, 28, sampleRate);
  out.write('SSND', 38, 'latin1');
  out.writeUInt32BE(8 + dataBytes, 42);
  for (let i = 0; i < pcm.length; i++) out.writeInt16BE(pcm[i]!, 54 + i * 2);
  return out;
}

/**
 * Writes a positive number as an IEEE 754 80-bit extended float (what AIFF uses for its sample rate):
 *
 * ```
 * | sign (1) | exponent (15, bias 16383) | mantissa (64, explicit integer bit) |
 * ```
 */
export function writeExtended(out: Buffer, at: number, value: number): void {
  out.fill(0, at, at + 10);
  if (!(value > 0) || !Number.isFinite(value)) return;
  const exponent = Math.floor(Math.log2(value));
  // Scale so the integer bit lands on bit 63; two 32-bit halves keep full double precision.
  const mantissa = value / 2 ** exponent; // in [1, 2)
  const high = Math.floor(mantissa * 2 ** 31);
  const low = Math.round((mantissa * 2 ** 31 - high) * 2 ** 32);
  out.writeUInt16BE(16383 + exponent, at);
  out.writeUInt32BE(high >>> 0, at + 2);
  out.writeUInt32BE(Math.min(low, 0xffffffff) >>> 0, at + 6);
}

/** Reads an 80-bit extended float (see writeExtended). */
export function readExtended(data: Buffer, at: number): number {
  const signAndExponent = data.readUInt16BE(at);
  const exponent = (signAndExponent & 0x7fff) - 16383;
  const high = data.readUInt32BE(at + 2);
  const low = data.readUInt32BE(at + 6);
  const magnitude = (high * 2 ** 32 + low) * 2 ** (exponent - 63);
  return signAndExponent & 0x8000 ? -magnitude : magnitude;
}

/** True when `data` starts like an AIFF or AIFF-C file. */
export function isAiff(data: Buffer): boolean {
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'FORM') return false;
  const kind = data.toString('latin1', 8, 12);
  return kind === 'AIFF' || kind === 'AIFC';
}

interface CommonChunk {
  channels: number;
  frames: number;
  bits: number;
  sampleRate: number;
  compression: string;
}

/** Decodes AIFF and AIFF-C (NONE/twos, sowt, fl32, fl64, alaw, ulaw, raw). */
export function decodeAiff(data: Buffer): DecodedAudio {
  const isAifc = data.toString('latin1', 8, 12) === 'AIFC';
  let common: CommonChunk | undefined;
  let sound: { start: number; length: number } | undefined;
  let offset = 12;
  while (offset + 8 <= data.length) {
    const id = data.toString('latin1', offset, offset + 4);
    const size = data.readUInt32BE(offset + 4);
    const body = offset + 8;
    if (id === 'COMM') {
      if (size < 18 || body + 18 > data.length) throw new AudioFormatError('AIFF: COMM chunk too short');
      common = {
        channels: data.readUInt16BE(body),
        frames: data.readUInt32BE(body + 2),
        bits: data.readUInt16BE(body + 6),
        sampleRate: readExtended(data, body + 8),
        compression: isAifc && size >= 22 ? data.toString('latin1', body + 18, body + 22) : 'NONE',
      };
    } else if (id === 'SSND') {
      if (body + 8 > data.length) throw new AudioFormatError('AIFF: SSND chunk too short');
      const skip = data.readUInt32BE(body);
      sound = { start: body + 8 + skip, length: Math.max(0, size - 8 - skip) };
    }
    // Chunks are padded to an even length.
    offset = body + size + (size & 1);
  }
  if (!common) throw new AudioFormatError('AIFF: no COMM chunk');
  if (!sound) throw new AudioFormatError('AIFF: no SSND chunk');
  checkHeaderNumbers('AIFF', common.channels, common.sampleRate);
  const encoding = aiffEncoding(common.compression, common.bits);
  const width = encoding.kind === 'int' || encoding.kind === 'float' ? encoding.bits / 8 : 1;
  const length = Math.min(sound.length, common.frames * common.channels * width);
  const samples = readInterleaved(data, sound.start, length, encoding, common.channels);
  return { samples, sampleRate: Math.round(common.sampleRate), channels: common.channels };
}

function aiffEncoding(compression: string, bits: number): SampleEncoding {
  switch (compression) {
    case 'NONE':
    case 'twos':
      if (bits <= 8) return { kind: 'int8' };
      if (bits <= 16) return { kind: 'int', bits: 16, bigEndian: true };
      if (bits <= 24) return { kind: 'int', bits: 24, bigEndian: true };
      if (bits <= 32) return { kind: 'int', bits: 32, bigEndian: true };
      break;
    case 'sowt':
      if (bits <= 8) return { kind: 'int8' };
      if (bits <= 16) return { kind: 'int', bits: 16, bigEndian: false };
      if (bits <= 24) return { kind: 'int', bits: 24, bigEndian: false };
      if (bits <= 32) return { kind: 'int', bits: 32, bigEndian: false };
      break;
    case 'raw ':
      return { kind: 'uint8' };
    case 'fl32':
    case 'FL32':
      return { kind: 'float', bits: 32, bigEndian: true };
    case 'fl64':
    case 'FL64':
      return { kind: 'float', bits: 64, bigEndian: true };
    case 'alaw':
    case 'ALAW':
      return { kind: 'alaw' };
    case 'ulaw':
    case 'ULAW':
      return { kind: 'ulaw' };
    default:
      throw new AudioFormatError(`AIFF-C: unsupported compression "${compression}"`);
  }
  throw new AudioFormatError(`AIFF: unsupported ${bits}-bit samples`);
}
