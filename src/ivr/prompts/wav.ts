import { isRiffWave, readFmtChunk, readPcm16LE, riffChunks, WAVE_FORMAT_PCM } from '../../media/wav.js';

/**
 * The smallest WAV reader the prompts need: RIFF/WAVE with 16-bit signed PCM, mono, at 8 kHz.
 * Prompts are decoded once at load time, so this favours precise errors over speed.
 *
 * ```
 *  0               4               8               12
 * +---------------+---------------+---------------+
 * | "RIFF"        | size (LE u32) | "WAVE"        |   then chunks, each word-aligned:
 * +---------------+---------------+---------------+
 * | chunk id (4)  | size (LE u32) | body (size bytes, + 1 pad byte if size is odd) ...
 * +---------------+---------------+------------------------------------------------+
 * "fmt " body:  format (u16: 1 = PCM, 0xFFFE = extensible) | channels (u16) | sample rate (u32)
 *               | byte rate (u32) | block align (u16) | bits per sample (u16) [| extension]
 * "data" body:  little-endian signed 16-bit samples
 * ```
 */

/** The only sample format prompts are accepted in: telephone narrowband, G.711's rate. */
export const PROMPT_SAMPLE_RATE = 8000;

/** A WAV file that is not 8 kHz mono 16-bit PCM, or is not a WAV file at all. */
export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/**
 * Decodes an 8 kHz mono 16-bit PCM WAV into a fresh Int16Array (host byte order).
 * `source` names the file in errors. The chunks are walked by the shared RIFF reader of `media/wav`;
 * this adds the strict format check.
 */
export function decodePromptWav(bytes: Uint8Array, source: string): Int16Array {
  if (!isRiffWave(bytes)) throw new WavFormatError(source, 'not a RIFF/WAVE file');
  let format: PromptFormat | undefined;
  for (const chunk of riffChunks(bytes)) {
    if (chunk.id === 'fmt ') {
      const fields = readFmtChunk(bytes, chunk);
      if (!fields) throw new WavFormatError(source, `truncated fmt chunk (${chunk.size} bytes)`);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format tag in the first two bytes of its SubFormat GUID (offset 24).
      const tag = fields.subFormatTag ?? fields.formatTag;
      format = { tag, channels: fields.channels, rate: fields.sampleRate, bits: fields.bitsPerSample };
    } else if (chunk.id === 'data') {
      if (!format) throw new WavFormatError(source, 'data chunk before fmt chunk');
      checkFormat(format, source);
      // sox and others may leave 0xFFFFFFFF or an over-long size when streaming: clamp to the file.
      const available = Math.min(chunk.size, bytes.byteLength - chunk.bodyOffset);
      return readPcm16LE(bytes.subarray(chunk.bodyOffset, chunk.bodyOffset + available));
    }
  }
  throw new WavFormatError(source, format ? 'no data chunk' : 'no fmt chunk');
}

interface PromptFormat {
  tag: number;
  channels: number;
  rate: number;
  bits: number;
}

function checkFormat(format: PromptFormat, source: string): void {
  if (format.tag !== WAVE_FORMAT_PCM) {
    throw new WavFormatError(source, `format tag 0x${format.tag.toString(16)} is not PCM (convert with: sox in.wav -e signed-integer -b 16 -r 8000 -c 1 out.wav)`);
  }
  if (format.channels !== 1 || format.rate !== PROMPT_SAMPLE_RATE || format.bits !== 16) {
    throw new WavFormatError(
      source,
      `${format.rate} Hz, ${format.channels} channel(s), ${format.bits}-bit: prompts must be ${PROMPT_SAMPLE_RATE} Hz mono 16-bit ` +
        '(convert with: sox in.wav -e signed-integer -b 16 -r 8000 -c 1 out.wav)',
    );
  }
}
