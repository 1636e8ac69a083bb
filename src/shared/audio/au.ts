import { checkHeaderNumbers, readInterleaved, type SampleEncoding } from './pcm-layout.js';
import { AudioFormatError, type DecodedAudio } from './types.js';

/**
 * Sun/NeXT audio file: a big-endian header of six 32-bit words, then the samples.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              magic = 0x2e736e64 (".snd")                      |
 * |              data offset (header size, >= 24)                 |
 * |              data size in bytes (0xffffffff = unknown)        |
 * |              encoding (3 = 16-bit linear PCM)                 |
 * |              sample rate                                      |
 * |              channels                                         |
 * |              annotation (optional, NUL-padded to the offset)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * Samples are big-endian and interleaved.
 */
export function encodeAu(pcm: Int16Array, sampleRate: number, channels = 1): Buffer {
  // The header is padded to 32 bytes with a NUL annotation, as sox and ffmpeg write it.
  const headerBytes = 32;
  const out = Buffer.alloc(headerBytes + pcm.length * 2);
  out.writeUInt32BE(AU_MAGIC, 0);
  out.writeUInt32BE(headerBytes, 4);
  out.writeUInt32BE(pcm.length * 2, 8);
  out.writeUInt32BE(AU_LINEAR_16, 12);
  out.writeUInt32BE(sampleRate, 16);
  out.writeUInt32BE(channels, 20);
  for (let i = 0; i < pcm.length; i++) out.writeInt16BE(pcm[i]!, headerBytes + i * 2);
  return out;
}

const AU_MAGIC = 0x2e736e64;
const AU_LINEAR_16 = 3;

/** The encodings of the .au specification that we read. */
const AU_ENCODINGS: Readonly<Record<number, SampleEncoding>> = {
  1: { kind: 'ulaw' },
  2: { kind: 'int8' },
  3: { kind: 'int', bits: 16, bigEndian: true },
  4: { kind: 'int', bits: 24, bigEndian: true },
  5: { kind: 'int', bits: 32, bigEndian: true },
  6: { kind: 'float', bits: 32, bigEndian: true },
  7: { kind: 'float', bits: 64, bigEndian: true },
  27: { kind: 'alaw' },
};

/** True when `data` starts with the ".snd" magic. */
export function isAu(data: Buffer): boolean {
  return data.length >= 4 && data.readUInt32BE(0) === AU_MAGIC;
}

/** Decodes a Sun/NeXT .au/.snd file (µ-law, A-law, 8/16/24/32-bit linear, float, double). */
export function decodeAu(data: Buffer): DecodedAudio {
  if (data.length < 24) throw new AudioFormatError('AU: header truncated');
  const dataOffset = data.readUInt32BE(4);
  const dataSize = data.readUInt32BE(8);
  const encodingCode = data.readUInt32BE(12);
  const sampleRate = data.readUInt32BE(16);
  const channels = data.readUInt32BE(20);
  if (dataOffset < 24 || dataOffset > data.length) throw new AudioFormatError(`AU: bad data offset ${dataOffset}`);
  const encoding = AU_ENCODINGS[encodingCode];
  if (!encoding) throw new AudioFormatError(`AU: unsupported encoding ${encodingCode}`);
  checkHeaderNumbers('AU', channels, sampleRate);
  const length = dataSize === 0xffffffff ? data.length - dataOffset : dataSize;
  return { samples: readInterleaved(data, dataOffset, length, encoding, channels), sampleRate, channels };
}
