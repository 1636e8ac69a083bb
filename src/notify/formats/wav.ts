import { checkHeaderNumbers, readInterleaved, type SampleEncoding } from './pcm-layout.js';
import { AudioFormatError, type DecodedAudio } from './types.js';

/**
 * Canonical RIFF/WAVE file of 16-bit little-endian PCM (44-byte header).
 *
 * ```
 *  0  "RIFF" | 4 size-8 (LE) | 8 "WAVE"
 * 12  "fmt " | 16 16 | 20 format=1 | 22 channels | 24 sampleRate | 28 byteRate | 32 blockAlign | 34 bits=16
 * 36  "data" | 40 data bytes | 44 samples (int16 LE, interleaved)
 * ```
 */
export function encodeWav(pcm: Int16Array, sampleRate: number, channels = 1): Buffer {
  const dataBytes = pcm.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, 44 + i * 2);
  return out;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** True when `data` starts like a RIFF/WAVE file. */
export function isWav(data: Buffer): boolean {
  return data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WAVE';
}

/** Decodes RIFF/WAVE: PCM 8/16/24/32-bit, IEEE float 32/64, A-law, µ-law, and WAVE_FORMAT_EXTENSIBLE of those. */
export function decodeWav(data: Buffer): DecodedAudio {
  let format: { encoding: SampleEncoding; channels: number; sampleRate: number } | undefined;
  let offset = 12;
  while (offset + 8 <= data.length) {
    const id = data.toString('latin1', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = parseFmt(data, body, size);
    } else if (id === 'data') {
      if (!format) throw new AudioFormatError('WAV: "data" chunk before "fmt " chunk');
      // Streamed WAVs carry a placeholder size (0 or 0xFFFFFFFF): read what is there.
      const length = size === 0 || size === 0xffffffff ? data.length - body : size;
      const samples = readInterleaved(data, body, length, format.encoding, format.channels);
      return { samples, sampleRate: format.sampleRate, channels: format.channels };
    }
    // RIFF chunks are word-aligned: an odd-sized chunk is followed by a pad byte.
    offset = body + size + (size & 1);
  }
  throw new AudioFormatError(format ? 'WAV: no "data" chunk' : 'WAV: no "fmt " chunk');
}

function parseFmt(data: Buffer, at: number, size: number): { encoding: SampleEncoding; channels: number; sampleRate: number } {
  if (size < 16 || at + 16 > data.length) throw new AudioFormatError('WAV: "fmt " chunk too short');
  let tag = data.readUInt16LE(at);
  const channels = data.readUInt16LE(at + 2);
  const sampleRate = data.readUInt32LE(at + 4);
  const bits = data.readUInt16LE(at + 14);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then the SubFormat GUID whose first two bytes are the format tag.
    if (size < 40 || at + 26 > data.length) throw new AudioFormatError('WAV: truncated WAVE_FORMAT_EXTENSIBLE header');
    tag = data.readUInt16LE(at + 24);
  }
  checkHeaderNumbers('WAV', channels, sampleRate);
  return { encoding: wavEncoding(tag, bits), channels, sampleRate };
}

function wavEncoding(tag: number, bits: number): SampleEncoding {
  switch (tag) {
    case WAVE_FORMAT_PCM:
      if (bits === 8) return { kind: 'uint8' };
      if (bits === 16 || bits === 24 || bits === 32) return { kind: 'int', bits, bigEndian: false };
      break;
    case WAVE_FORMAT_IEEE_FLOAT:
      if (bits === 32 || bits === 64) return { kind: 'float', bits, bigEndian: false };
      break;
    case WAVE_FORMAT_ALAW:
      if (bits === 8) return { kind: 'alaw' };
      break;
    case WAVE_FORMAT_MULAW:
      if (bits === 8) return { kind: 'ulaw' };
      break;
    default:
      throw new AudioFormatError(`WAV: unsupported format tag 0x${tag.toString(16).padStart(4, '0')}`);
  }
  throw new AudioFormatError(`WAV: unsupported ${bits}-bit samples for format tag ${tag}`);
}
