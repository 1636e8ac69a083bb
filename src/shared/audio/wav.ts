import { endianness } from 'node:os';
import { readInterleaved, type SampleEncoding } from './pcm-layout.js';
import { SAMPLE_RATE } from './sample-rate.js';

/**
 * The one RIFF/WAVE codec: recordings, prompts, greetings, spool files and uploads are all read by
 * {@link readWav} (structure) and written by {@link encodeWav} / {@link wavHeader}; {@link decodeWav} gives mono
 * 16-bit PCM, the upload decoder (decode.ts) floats through {@link wavSampleEncoding}.
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

/** The format tags of the "fmt " chunk this code knows (WAVE_FORMAT_EXTENSIBLE carries the real one in its SubFormat). */
export const WAVE_FORMAT_PCM = 0x0001;
export const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
export const WAVE_FORMAT_ALAW = 0x0006;
export const WAVE_FORMAT_MULAW = 0x0007;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** 16-bit samples in memory have the WAV byte order: whole blocks are copied instead of converted one by one. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** Not a WAV file, or one this codec cannot read; `file` (when known) starts the message. */
export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
  constructor(
    readonly reason: string,
    readonly file?: string,
  ) {
    super(file === undefined ? reason : `${file}: ${reason}`);
  }
}

export interface DecodedWav {
  sampleRate: number;
  /** Channel count of the file; `samples` is always the mono mix. */
  channels: number;
  samples: Int16Array;
}

/** The 44-byte header of a 16-bit PCM WAV (mono unless told) holding `dataBytes` bytes of samples. */
export function wavHeader(dataBytes: number, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), WAV_RIFF_SIZE_OFFSET);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, WAV_DATA_SIZE_OFFSET);
  return h;
}

/** A canonical 16-bit PCM WAV (header by {@link wavHeader}) of `pcm`, interleaved when `channels` > 1. */
export function encodeWav(pcm: Int16Array, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`encodeWav: invalid sample rate ${sampleRate}`);
  const out = Buffer.allocUnsafe(WAV_HEADER_BYTES + pcm.length * 2);
  wavHeader(pcm.length * 2, sampleRate, channels).copy(out, 0);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.length * 2), WAV_HEADER_BYTES);
  else for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, WAV_HEADER_BYTES + i * 2);
  return out;
}

/** Little-endian 16-bit samples as a fresh Int16Array in host byte order (a trailing odd byte is dropped). */
export function readPcm16LE(bytes: Uint8Array): Int16Array {
  const samples = new Int16Array(bytes.byteLength >>> 1);
  if (LITTLE_ENDIAN) {
    new Uint8Array(samples.buffer).set(bytes.subarray(0, samples.length * 2));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  }
  return samples;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True when `bytes` starts with the 12-byte "RIFF" <size> "WAVE" signature. */
export function isRiffWave(bytes: Uint8Array): boolean {
  const b = asBuffer(bytes);
  return b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WAVE';
}

/** One chunk of a RIFF/WAVE file, as declared by its 8-byte header (its size may run past the end of the file). */
export interface RiffChunk {
  /** Four-character chunk id, e.g. "fmt " or "data". */
  id: string;
  /** Offset of the chunk header (id, then size). */
  headerOffset: number;
  /** Offset of the chunk body (`headerOffset + 8`). */
  bodyOffset: number;
  /** Body size the header declares. */
  size: number;
}

/**
 * Walks the chunks after the 12-byte RIFF/WAVE signature (which it does not check: see {@link isRiffWave}),
 * as long as a whole 8-byte chunk header is present.
 * ```
 * | chunk id (4) | size (LE u32) | body (size bytes, + 1 pad byte if size is odd) | next chunk ...
 * ```
 */
export function* riffChunks(bytes: Uint8Array): Generator<RiffChunk> {
  const b = asBuffer(bytes);
  let headerOffset = 12;
  while (headerOffset + 8 <= b.length) {
    const size = b.readUInt32LE(headerOffset + 4);
    const bodyOffset = headerOffset + 8;
    yield { id: b.toString('latin1', headerOffset, headerOffset + 4), headerOffset, bodyOffset, size };
    // RIFF chunks are padded to an even length.
    headerOffset = bodyOffset + size + (size & 1);
  }
}

/** The fields of a "fmt " chunk body every WAV reader needs. */
export interface WavFmtFields {
  /** The tag as written (WAVE_FORMAT_EXTENSIBLE included). */
  formatTag: number;
  /** For WAVE_FORMAT_EXTENSIBLE whose 40-byte extension is present: the tag the SubFormat GUID starts with. */
  subFormatTag: number | undefined;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

/**
 * Reads a "fmt " chunk body; `undefined` when it is shorter than the 16 bytes of the common fields
 * (declared or present in `bytes`).
 * ```
 *  0 format (u16) | 2 channels (u16) | 4 sampleRate (u32) | 8 byteRate (u32) | 12 blockAlign (u16) | 14 bits (u16)
 * 16 [extensible: cbSize (u16) | validBits (u16) | channelMask (u32) | 24 SubFormat GUID, starting with the format tag]
 * ```
 */
export function readFmtChunk(bytes: Uint8Array, chunk: RiffChunk): WavFmtFields | undefined {
  const b = asBuffer(bytes);
  const at = chunk.bodyOffset;
  if (chunk.size < 16 || at + 16 > b.length) return undefined;
  const formatTag = b.readUInt16LE(at);
  const extended = formatTag === WAVE_FORMAT_EXTENSIBLE && chunk.size >= 40 && at + 26 <= b.length;
  return {
    formatTag,
    subFormatTag: extended ? b.readUInt16LE(at + 24) : undefined,
    channels: b.readUInt16LE(at + 2),
    sampleRate: b.readUInt32LE(at + 4),
    blockAlign: b.readUInt16LE(at + 12),
    bitsPerSample: b.readUInt16LE(at + 14),
  };
}

/** The layout of a RIFF/WAVE file as its chunks declare it, before any sample is read ({@link readWav}). */
export interface WavLayout {
  /** The sample format (for WAVE_FORMAT_EXTENSIBLE, the tag its SubFormat GUID starts with). */
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** The bytes of the "data" chunk present in the file (a declared size past the end is clamped to it). */
  data: Buffer;
}

/**
 * Parses the structure of a RIFF/WAVE file: the "fmt " chunk and the "data" chunk, wherever they are. Reads no
 * sample: {@link decodeWav} (mono 16-bit), the prompt loader (strict 8 kHz PCM) and the upload decoder (float)
 * all start here. A data size of 0 or 0xFFFFFFFF (the placeholder of a streamed file) means "to the end".
 */
export function readWav(bytes: Uint8Array): WavLayout {
  const b = asBuffer(bytes);
  if (!isRiffWave(b)) throw new WavFormatError('not a RIFF/WAVE file (missing "RIFF"…"WAVE" signature)');
  let fmt: WavFmtFields | undefined;
  let data: Buffer | undefined;
  for (const chunk of riffChunks(b)) {
    const { id, bodyOffset: body, size } = chunk;
    if (id === 'fmt ') {
      if (body + size > b.length) throw new WavFormatError('fmt chunk runs past the end of the file');
      fmt = readFmtChunk(b, chunk);
      if (!fmt) throw new WavFormatError(`fmt chunk too short (${size} bytes, need 16)`);
      if (fmt.formatTag === WAVE_FORMAT_EXTENSIBLE && fmt.subFormatTag === undefined) {
        throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes');
      }
    } else if (id === 'data') {
      const end = size === 0 || size === 0xffffffff ? b.length : Math.min(b.length, body + size);
      data = b.subarray(body, end);
      if (fmt) break;
    }
  }
  if (!fmt) throw new WavFormatError('no fmt chunk before the end of the file');
  if (!data) throw new WavFormatError('no data chunk in the file');
  if (fmt.channels < 1) throw new WavFormatError('fmt chunk declares channel count 0');
  if (fmt.sampleRate < 1) throw new WavFormatError('fmt chunk declares a sample rate of 0');
  // The SubFormat GUID starts with the plain format tag (KSDATAFORMAT_SUBTYPE_PCM = 0x0001…).
  const formatTag = fmt.subFormatTag ?? fmt.formatTag;
  return { formatTag, channels: fmt.channels, sampleRate: fmt.sampleRate, bitsPerSample: fmt.bitsPerSample, data };
}

/** How the samples of `layout` are stored: PCM 8/16/24/32-bit, IEEE float 32/64, A-law or µ-law. */
export function wavSampleEncoding(layout: Pick<WavLayout, 'formatTag' | 'bitsPerSample'>): SampleEncoding {
  const { formatTag: format, bitsPerSample: bits } = layout;
  if (format === WAVE_FORMAT_PCM) {
    if (bits === 8) return { kind: 'uint8' };
    if (bits === 16 || bits === 24 || bits === 32) return { kind: 'int', bits, bigEndian: false };
    throw new WavFormatError(`unsupported PCM bit depth ${bits} (8, 16, 24 or 32 are read)`);
  }
  if (format === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32 || bits === 64) return { kind: 'float', bits, bigEndian: false };
    throw new WavFormatError(`unsupported float bit depth ${bits} (32 or 64 are read)`);
  }
  if (format === WAVE_FORMAT_ALAW || format === WAVE_FORMAT_MULAW) {
    if (bits !== 8) throw new WavFormatError(`G.711 WAV with ${bits} bits per sample (8 expected)`);
    return { kind: format === WAVE_FORMAT_ALAW ? 'alaw' : 'ulaw' };
  }
  throw new WavFormatError(`unsupported format tag 0x${format.toString(16).padStart(4, '0')} (PCM, float, A-law and µ-law are read)`);
}

/**
 * Decodes a RIFF/WAVE file to mono 16-bit PCM: PCM 8/16/24/32-bit, IEEE float 32/64, A-law and µ-law, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count (mixed down to mono by averaging). A data chunk whose declared size
 * runs past the end of the file (a file still being written) is read up to the last whole frame present.
 */
export function decodeWav(buf: Buffer | Uint8Array): DecodedWav {
  const layout = readWav(buf);
  const { formatTag, bitsPerSample, channels, sampleRate, data } = layout;
  if (LITTLE_ENDIAN && formatTag === WAVE_FORMAT_PCM && bitsPerSample === 16 && channels === 1) {
    // The common case (our own recordings and prompts): one block copy, nothing to mix or convert.
    return { sampleRate, channels: 1, samples: readPcm16LE(data) };
  }
  const interleaved = readInterleaved(data, 0, data.length, wavSampleEncoding(layout), channels);
  const frames = interleaved.length / channels;
  const samples = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let acc = 0;
    for (let c = 0; c < channels; c++) acc += interleaved[f * channels + c]!;
    const v = Math.round((acc / channels) * 32768);
    samples[f] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return { sampleRate, channels, samples };
}
