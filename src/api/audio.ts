import { decodeWav, encodeWav, WavFormatError } from '../media/wav.js';
import {
  AUDIO_FORMAT_INFO,
  decodeAudio,
  encodeAudio,
  toTelephonyPcm,
  TELEPHONY_RATE,
  type AudioFormat,
  type EncodedAudio,
} from '../notify/formats/index.js';
import { ApiError } from './errors.js';

/** Longest greeting accepted (a greeting is played to every caller; ten minutes is already far beyond use). */
export const MAX_GREETING_MS = 10 * 60_000;

/**
 * Turns an uploaded audio file (WAV, AU, AIFF, FLAC, MP3 or Ogg, any rate and channel count) into the form
 * greetings are stored in: 8 kHz mono 16-bit PCM WAV. AudioFormatError (→ 400) for anything unreadable.
 */
export async function greetingFromUpload(
  file: Buffer,
  hint: { filename?: string; mimeType?: string },
): Promise<{ wav: Buffer; durationMs: number }> {
  const pcm = toTelephonyPcm(await decodeAudio(file, hint));
  const durationMs = Math.round((pcm.length * 1000) / TELEPHONY_RATE);
  if (durationMs > MAX_GREETING_MS) {
    throw new ApiError(400, `file: the greeting lasts ${Math.round(durationMs / 1000)} s, at most ${MAX_GREETING_MS / 1000} s allowed`);
  }
  return { wav: encodeWav(pcm, TELEPHONY_RATE), durationMs };
}

/**
 * A stored message (a WAV of any PCM/G.711 layout) re-encoded as `format`. WAV downloads are always 16-bit
 * PCM, which every browser's <audio> plays (A-law WAV is not).
 */
export async function transcodeStoredWav(stored: Buffer, format: AudioFormat): Promise<EncodedAudio> {
  let decoded;
  try {
    decoded = decodeWav(stored);
  } catch (err) {
    if (err instanceof WavFormatError) throw new Error(`stored message audio is unreadable: ${err.message}`, { cause: err });
    throw err;
  }
  return encodeAudio(decoded.samples, decoded.sampleRate, format);
}

/** Content-Type and Content-Disposition of an audio download. */
export function downloadHeaders(format: AudioFormat, basename: string, inline: boolean): Record<string, string> {
  const { mimeType, extension } = AUDIO_FORMAT_INFO[format];
  return {
    'content-type': mimeType,
    'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${basename}.${extension}"`,
    'cache-control': 'private, no-store',
  };
}
