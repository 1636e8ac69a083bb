import { encodeWav } from '../shared/audio/wav.js';
import { AudioFormatError, decodeAudio, toTelephonyPcm } from '../shared/audio/index.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';

/** Input and output of one greeting conversion (run in a worker thread: see greeting-worker.ts). */
export interface GreetingJob {
  bytes: Uint8Array;
  hint: { filename?: string; mimeType?: string };
  /** Decoding stops (AudioTooLongError) as soon as this much audio has come out, whatever the header said. */
  maxMs: number;
}
export interface GreetingResult {
  wav: Uint8Array;
  durationMs: number;
}

/** Decodes any supported upload and converts it to 8 kHz mono 16-bit PCM WAV. CPU-heavy: never on the main thread. */
export async function convertGreeting(job: GreetingJob): Promise<GreetingResult> {
  const data = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const pcm = toTelephonyPcm(await decodeAudio(data, job.hint, { maxSeconds: job.maxMs / 1000 }));
  // E.g. one sample at 153 122 Hz: nothing is left at 8 kHz, and an empty greeting would be silence to callers.
  if (pcm.length === 0) throw new AudioFormatError('file: the audio is too short: it contains no sample once converted to 8 kHz');
  const durationMs = Math.round((pcm.length * 1000) / SAMPLE_RATE);
  return { wav: encodeWav(pcm, SAMPLE_RATE), durationMs };
}
