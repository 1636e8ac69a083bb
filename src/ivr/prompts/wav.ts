import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';
import { readPcm16LE, readWav, WAVE_FORMAT_PCM, WavFormatError } from '../../shared/audio/wav.js';

const CONVERT = 'convert with: sox in.wav -e signed-integer -b 16 -r 8000 -c 1 out.wav';

/**
 * Decodes a prompt: the shared WAV reader, then the strict check that the file is what prompts are played as,
 * 8 kHz mono 16-bit PCM (prompts are decoded once at load time, so this favours precise errors over leniency).
 * `source` names the file in the {@link WavFormatError}.
 */
export function decodePromptWav(bytes: Uint8Array, source: string): Int16Array {
  let layout;
  try {
    layout = readWav(bytes);
  } catch (err) {
    if (err instanceof WavFormatError) throw new WavFormatError(err.reason, source);
    throw err;
  }
  const { formatTag, channels, sampleRate, bitsPerSample } = layout;
  if (formatTag !== WAVE_FORMAT_PCM) throw new WavFormatError(`format tag 0x${formatTag.toString(16)} is not PCM (${CONVERT})`, source);
  if (channels !== 1 || sampleRate !== SAMPLE_RATE || bitsPerSample !== 16) {
    throw new WavFormatError(
      `${sampleRate} Hz, ${channels} channel(s), ${bitsPerSample}-bit: prompts must be ${SAMPLE_RATE} Hz mono 16-bit (${CONVERT})`,
      source,
    );
  }
  return readPcm16LE(layout.data);
}
