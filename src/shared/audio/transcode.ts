import { encodeAudioOffThread } from './encode-pool.js';
import type { AudioFormat, EncodedAudio } from './types.js';
import { decodeWav, WavFormatError } from './wav.js';

/**
 * A stored recording (a WAV of any PCM/G.711 layout) re-encoded as `format`, for the web download and the
 * operator CLI alike. WAV comes out as 16-bit PCM, which every browser's <audio> plays (A-law WAV is not);
 * mp3/ogg/flac are encoded in a worker thread and a full queue throws PoolBusyError (shared/worker-pool).
 */
export async function reencodeStoredWav(stored: Buffer, format: AudioFormat): Promise<EncodedAudio> {
  let decoded;
  try {
    decoded = decodeWav(stored);
  } catch (err) {
    if (err instanceof WavFormatError) throw new Error(`stored message audio is unreadable: ${err.message}`, { cause: err });
    throw err;
  }
  return encodeAudioOffThread(decoded.samples, decoded.sampleRate, format);
}
