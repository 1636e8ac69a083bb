import { join } from 'node:path';
import { reencodeStoredWav } from '../shared/audio/transcode.js';
import { AUDIO_FORMAT_INFO, AudioFormatError, type AudioFormat, type EncodedAudio } from '../shared/audio/index.js';
import { PoolBusyError, WorkerLostError, WorkerPool, WorkerTaskError, WorkerTimeoutError } from '../shared/worker-pool.js';
import { ApiError } from './errors.js';
import type { GreetingJob, GreetingResult } from './greeting-decode.js';
import { announcedDurationMs } from './upload-probe.js';

/** Longest greeting accepted (a greeting is played to every caller; ten minutes is already far beyond use). */
export const MAX_GREETING_MS = 10 * 60_000;

/** Greeting conversions run in this many worker threads; beyond them, this many wait; more are refused 503. */
const GREETING_WORKERS = 1;
const GREETING_QUEUE = 2;
/** Slack on the header's announced duration (encoder padding, rounding) before refusing without decoding. */
const ANNOUNCED_SLACK_MS = 2_000;
/** A conversion running longer is abandoned (its worker terminated and replaced) and the upload refused. */
const GREETING_TIMEOUT_MS = 60_000;
/** Heap of each greeting worker: a hostile file makes it die (and be replaced), not the process swell. */
const GREETING_WORKER_HEAP_MB = 256;

let pool: WorkerPool<GreetingJob, GreetingResult> | undefined;
function greetingPool(): WorkerPool<GreetingJob, GreetingResult> {
  pool ??= new WorkerPool({
    script: join(__dirname, 'greeting-worker.js'),
    size: GREETING_WORKERS,
    maxQueue: GREETING_QUEUE,
    timeoutMs: GREETING_TIMEOUT_MS,
    resourceLimits: { maxOldGenerationSizeMb: GREETING_WORKER_HEAP_MB },
  });
  return pool;
}

/** Stops the greeting workers (tests, shutdown); the next upload starts them again. */
export async function closeGreetingWorkers(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

/**
 * Turns an uploaded audio file (WAV, AU, AIFF, FLAC, MP3 or Ogg, any rate and channel count) into the form
 * greetings are stored in: 8 kHz mono 16-bit PCM WAV. The container header is checked first (a lying WAV size
 * or an announced duration past the limit is refused before decoding); decoding and resampling run in a worker
 * thread, never on the SIP/RTP event loop. AudioFormatError (→ 400) for anything unreadable; 503 when the
 * workers are all busy. With `handOver`, the caller gives `file` up: its memory is transferred to the worker,
 * not copied (when the Buffer spans its whole ArrayBuffer), and `file` is empty afterwards.
 */
export async function greetingFromUpload(
  file: Buffer,
  hint: { filename?: string; mimeType?: string },
  options: { handOver?: boolean } = {},
): Promise<{ wav: Buffer; durationMs: number }> {
  const announced = announcedDurationMs(file);
  if (announced !== undefined && announced > MAX_GREETING_MS + ANNOUNCED_SLACK_MS) throw tooLong(announced);
  let result: GreetingResult;
  try {
    const whole = file.byteOffset === 0 && file.byteLength === file.buffer.byteLength && !(file.buffer instanceof SharedArrayBuffer);
    const bytes = whole ? new Uint8Array(file.buffer, 0, file.byteLength) : file;
    const transfer = options.handOver === true && whole ? [file.buffer as ArrayBuffer] : [];
    result = await greetingPool().run({ bytes, hint, maxMs: MAX_GREETING_MS + ANNOUNCED_SLACK_MS }, transfer);
  } catch (err) {
    throw uploadError(err);
  }
  if (result.durationMs > MAX_GREETING_MS) throw tooLong(result.durationMs);
  return { wav: Buffer.from(result.wav.buffer, result.wav.byteOffset, result.wav.byteLength), durationMs: result.durationMs };
}

/** What the client is told when the conversion failed: 400 for the file's fault, 503 for ours; never a 500. */
function uploadError(err: unknown): Error {
  const busy = (message: string) => new ApiError(503, message, { 'retry-after': '5' });
  if (err instanceof PoolBusyError) return busy('the server is busy converting other greetings: try again in a few seconds');
  if (err instanceof WorkerTaskError && err.remoteName === 'AudioFormatError') return new AudioFormatError(err.message);
  if (err instanceof WorkerTaskError && err.remoteName === 'AudioTooLongError') {
    return new ApiError(400, `file: the greeting lasts more than ${MAX_GREETING_MS / 1000} s allowed`);
  }
  if (err instanceof WorkerTimeoutError) return new ApiError(400, 'file: the audio took too long to decode');
  if (err instanceof WorkerLostError && err.outOfMemory) return new ApiError(400, 'file: the audio needs too much memory to decode');
  if (err instanceof WorkerLostError) return busy('the greeting converter failed: try again in a few seconds');
  return err instanceof Error ? err : new Error(String(err));
}

function tooLong(durationMs: number): ApiError {
  return new ApiError(400, `file: the greeting lasts ${Math.round(durationMs / 1000)} s, at most ${MAX_GREETING_MS / 1000} s allowed`);
}

/** {@link reencodeStoredWav} for an HTTP download: a full encoder queue is 503 `busy` with Retry-After. */
export async function transcodeStoredWav(stored: Buffer, format: AudioFormat): Promise<EncodedAudio> {
  try {
    return await reencodeStoredWav(stored, format);
  } catch (err) {
    if (err instanceof PoolBusyError) {
      throw new ApiError(503, 'the server is busy encoding other recordings: try again in a few seconds', { 'retry-after': '2' });
    }
    throw err;
  }
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
