import { endianness } from 'node:os';
import { decodeTableFor } from './g711.js';

/**
 * RIFF/WAVE reading and writing for prompts and recordings.
 *
 * Canonical header written by {@link encodeWav} (44 bytes, little-endian):
 * ```
 *  0 "RIFF"  4 riffSize=36+dataBytes  8 "WAVE"
 * 12 "fmt "  16 fmtSize=16  20 format=1 (PCM)  22 channels=1  24 sampleRate
 * 28 byteRate=rate*2  32 blockAlign=2  34 bitsPerSample=16
 * 36 "data"  40 dataBytes  44 samples…
 * ```
 */
export const WAV_HEADER_BYTES = 44;
/** Byte offsets of the two size fields a streaming writer patches when it finishes. */
export const WAV_RIFF_SIZE_OFFSET = 4;
export const WAV_DATA_SIZE_OFFSET = 40;

const FORMAT_PCM = 0x0001;
/** 16-bit samples in memory have the WAV byte order: whole blocks are copied instead of converted one by one. */
const LITTLE_ENDIAN = endianness() === 'LE';
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;

export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
}

export interface DecodedWav {
  sampleRate: number;
  /** Channel count of the file; `samples` is always the mono mix. */
  channels: number;
  samples: Int16Array;
}

/** The 44-byte header of a 16-bit mono PCM WAV holding `dataBytes` bytes of samples. */
export function wavHeader(dataBytes: number, sampleRate = 8000): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), WAV_RIFF_SIZE_OFFSET);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, WAV_DATA_SIZE_OFFSET);
  return h;
}

/** Encodes 16-bit linear PCM as a mono RIFF/WAVE file. */
export function encodeWav(pcm: Int16Array, rate = 8000): Buffer {
  if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`encodeWav: invalid sample rate ${rate}`);
  const out = Buffer.allocUnsafe(WAV_HEADER_BYTES + pcm.length * 2);
  wavHeader(pcm.length * 2, rate).copy(out, 0);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.length * 2), WAV_HEADER_BYTES);
  else for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, WAV_HEADER_BYTES + i * 2);
  return out;
}

interface FmtChunk {
  format: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function parseFmt(buf: Buffer, off: number, size: number): FmtChunk {
  if (size < 16) throw new WavFormatError(`fmt chunk too short (${size} bytes, need 16)`);
  let format = buf.readUInt16LE(off);
  const channels = buf.readUInt16LE(off + 2);
  const sampleRate = buf.readUInt32LE(off + 4);
  const blockAlign = buf.readUInt16LE(off + 12);
  const bits = buf.readUInt16LE(off + 14);
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes');
    // The SubFormat GUID starts with the plain format tag (KSDATAFORMAT_SUBTYPE_PCM = 0x0001…).
    format = buf.readUInt16LE(off + 24);
  }
  if (channels < 1) throw new WavFormatError('fmt chunk declares 0 channels');
  if (sampleRate < 1) throw new WavFormatError('fmt chunk declares a sample rate of 0');
  return { format, channels, sampleRate, blockAlign, bits };
}

/** Returns a reader giving sample `i` of the interleaved data as a float in [-32768, 32767]. */
function sampleReader(fmt: FmtChunk, data: Buffer): (i: number) => number {
  const { format, bits } = fmt;
  if (format === FORMAT_PCM) {
    if (bits === 8) return (i) => (data[i]! - 128) << 8;
    if (bits === 16) return (i) => data.readInt16LE(i * 2);
    if (bits === 24) return (i) => data.readIntLE(i * 3, 3) / 256;
    if (bits === 32) return (i) => data.readInt32LE(i * 4) / 65536;
    throw new WavFormatError(`unsupported PCM bit depth ${bits} (8, 16, 24 or 32 are read)`);
  }
  if (format === FORMAT_IEEE_FLOAT) {
    if (bits === 32) return (i) => data.readFloatLE(i * 4) * 32768;
    if (bits === 64) return (i) => data.readDoubleLE(i * 8) * 32768;
    throw new WavFormatError(`unsupported float bit depth ${bits} (32 or 64 are read)`);
  }
  if (format === FORMAT_ALAW || format === FORMAT_MULAW) {
    if (bits !== 8) throw new WavFormatError(`G.711 WAV with ${bits} bits per sample (8 expected)`);
    const table = decodeTableFor(format === FORMAT_ALAW ? 'PCMA' : 'PCMU');
    return (i) => table[data[i]!]!;
  }
  throw new WavFormatError(`unsupported WAV format tag 0x${format.toString(16)} (PCM, float, A-law and µ-law are read)`);
}

/**
 * Decodes a RIFF/WAVE file: PCM 8/16/24/32-bit, IEEE float 32/64, A-law and µ-law, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count (mixed down to mono by averaging). A data chunk whose
 * declared size runs past the end of the file (a file still being written) is read up to the last
 * whole frame present.
 */
export function decodeWav(buf: Buffer | Uint8Array): DecodedWav {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12) throw new WavFormatError(`file too short for a RIFF header (${b.length} bytes)`);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file (missing "RIFF"…"WAVE" signature)');
  }
  let fmt: FmtChunk | undefined;
  let data: Buffer | undefined;
  let off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (body + size > b.length) throw new WavFormatError('fmt chunk runs past the end of the file');
      fmt = parseFmt(b, body, size);
    } else if (id === 'data') {
      data = b.subarray(body, Math.min(b.length, body + size));
      if (fmt) break;
    }
    // RIFF chunks are padded to an even length.
    off = body + size + (size & 1);
  }
  if (!fmt) throw new WavFormatError('no fmt chunk before the end of the file');
  if (!data) throw new WavFormatError('no data chunk in the file');
  const bytesPerSample = Math.ceil(fmt.bits / 8);
  if (bytesPerSample < 1) throw new WavFormatError(`invalid bits per sample ${fmt.bits}`);
  const frameBytes = bytesPerSample * fmt.channels;
  const frames = Math.floor(data.length / frameBytes);
  if (LITTLE_ENDIAN && fmt.format === FORMAT_PCM && fmt.bits === 16 && fmt.channels === 1) {
    // The common case (our own recordings and prompts): one block copy, nothing to mix or convert.
    const samples = new Int16Array(frames);
    new Uint8Array(samples.buffer).set(data.subarray(0, frames * 2));
    return { sampleRate: fmt.sampleRate, channels: 1, samples };
  }
  const read = sampleReader(fmt, data);
  const samples = new Int16Array(frames);
  const ch = fmt.channels;
  for (let f = 0; f < frames; f++) {
    let acc = 0;
    for (let c = 0; c < ch; c++) acc += read(f * ch + c);
    const v = Math.round(acc / ch);
    samples[f] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
}
