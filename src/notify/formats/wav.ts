import {
  isRiffWave,
  readFmtChunk,
  riffChunks,
  WAVE_FORMAT_ALAW,
  WAVE_FORMAT_EXTENSIBLE,
  WAVE_FORMAT_IEEE_FLOAT,
  WAVE_FORMAT_MULAW,
  WAVE_FORMAT_PCM,
  writePcm16Wav,
  type RiffChunk,
} from '../../media/wav.js';
import { checkHeaderNumbers, readInterleaved, type SampleEncoding } from './pcm-layout.js';
import { AudioFormatError, type DecodedAudio } from './types.js';

/**
 * Canonical RIFF/WAVE file of 16-bit little-endian PCM (44-byte header, written by the shared
 * `writePcm16Wav` of `media/wav`).
 *
 * ```
 *  0  "RIFF" | 4 size-8 (LE) | 8 "WAVE"
 * 12  "fmt " | 16 16 | 20 format=1 | 22 channels | 24 sampleRate | 28 byteRate | 32 blockAlign | 34 bits=16
 * 36  "data" | 40 data bytes | 44 samples (int16 LE, interleaved)
 * ```
 */
export function encodeWav(pcm: Int16Array, sampleRate: number, channels = 1): Buffer {
  return writePcm16Wav(pcm, sampleRate, channels);
}

/** True when `data` starts like a RIFF/WAVE file. */
export function isWav(data: Buffer): boolean {
  return isRiffWave(data);
}

/**
 * Decodes RIFF/WAVE: PCM 8/16/24/32-bit, IEEE float 32/64, A-law, µ-law, and WAVE_FORMAT_EXTENSIBLE of those.
 * The chunks are walked by the shared RIFF reader of `media/wav`; the samples are read as floats here.
 */
export function decodeWav(data: Buffer): DecodedAudio {
  let format: { encoding: SampleEncoding; channels: number; sampleRate: number } | undefined;
  for (const chunk of riffChunks(data)) {
    const { id, bodyOffset: body, size } = chunk;
    if (id === 'fmt ') {
      format = parseFmt(data, chunk);
    } else if (id === 'data') {
      if (!format) throw new AudioFormatError('WAV: "data" chunk before "fmt " chunk');
      // Streamed WAVs carry a placeholder size (0 or 0xFFFFFFFF): read what is there.
      const length = size === 0 || size === 0xffffffff ? data.length - body : size;
      const samples = readInterleaved(data, body, length, format.encoding, format.channels);
      return { samples, sampleRate: format.sampleRate, channels: format.channels };
    }
  }
  throw new AudioFormatError(format ? 'WAV: no "data" chunk' : 'WAV: no "fmt " chunk');
}

function parseFmt(data: Buffer, chunk: RiffChunk): { encoding: SampleEncoding; channels: number; sampleRate: number } {
  const fields = readFmtChunk(data, chunk);
  if (!fields) throw new AudioFormatError('WAV: "fmt " chunk too short');
  const { channels, sampleRate, bitsPerSample: bits } = fields;
  let tag = fields.formatTag;
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then the SubFormat GUID whose first two bytes are the format tag.
    if (fields.subFormatTag === undefined) throw new AudioFormatError('WAV: truncated WAVE_FORMAT_EXTENSIBLE header');
    tag = fields.subFormatTag;
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
