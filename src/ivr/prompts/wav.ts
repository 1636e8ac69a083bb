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

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

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
 * `source` names the file in errors.
 */
export function decodePromptWav(bytes: Uint8Array, source: string): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fourcc = (offset: number): string =>
    String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);

  if (bytes.byteLength < 12 || fourcc(0) !== 'RIFF' || fourcc(8) !== 'WAVE') {
    throw new WavFormatError(source, 'not a RIFF/WAVE file');
  }
  let format: { tag: number; channels: number; rate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = fourcc(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) throw new WavFormatError(source, `truncated fmt chunk (${size} bytes)`);
      let tag = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format tag in the first two bytes of its SubFormat GUID (offset 24).
      if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.byteLength) tag = view.getUint16(body + 24, true);
      format = { tag, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!format) throw new WavFormatError(source, 'data chunk before fmt chunk');
      checkFormat(format, source);
      // sox and others may leave 0xFFFFFFFF or an over-long size when streaming: clamp to the file.
      const available = Math.min(size, bytes.byteLength - body);
      const samples = new Int16Array(available >>> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + 2 * i, true);
      return samples;
    }
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(source, format ? 'no data chunk' : 'no fmt chunk');
}

function checkFormat(format: { tag: number; channels: number; rate: number; bits: number }, source: string): void {
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
