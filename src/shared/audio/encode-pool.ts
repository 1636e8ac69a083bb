import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PoolBusyError, WorkerPool, WorkerTaskError } from '../../shared/worker-pool.js';
import { encodeAudio } from './encode.js';
import { AUDIO_FORMAT_INFO, AudioFormatError, type AudioFormat, type EncodedAudio } from './types.js';

/** Input and output of one encoding job (run in a worker thread: see encode-worker.ts). */
export interface EncodeJob {
  pcm: Int16Array;
  sampleRate: number;
  format: AudioFormat;
}
export interface EncodeResult {
  data: Uint8Array;
}

/**
 * Formats whose encoder costs real CPU (LAME, libvorbis, our FLAC encoder): they run in worker threads.
 * WAV, AU and AIFF are a header plus a byte swap at most, cheaper than the message copy to a worker.
 */
const HEAVY_FORMATS: ReadonlySet<AudioFormat> = new Set(['mp3', 'ogg', 'flac']);
/** Encoders run in this many worker threads; beyond them this many jobs wait; more are refused (PoolBusyError). */
const ENCODE_WORKERS = 1;
const ENCODE_QUEUE = 4;
/** A 10-minute 8 kHz message encodes in well under a second; past this the worker is deemed stuck and replaced. */
const ENCODE_TIMEOUT_MS = 60_000;

let pool: WorkerPool<EncodeJob, EncodeResult> | undefined;
function encodePool(): WorkerPool<EncodeJob, EncodeResult> {
  pool ??= new WorkerPool({
    script: join(__dirname, 'encode-worker.js'),
    size: ENCODE_WORKERS,
    maxQueue: ENCODE_QUEUE,
    timeoutMs: ENCODE_TIMEOUT_MS,
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  return pool;
}

/** Stops the encoding workers (tests, shutdown); the next encoding starts them again. */
export async function closeEncodeWorkers(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

/**
 * {@link encodeAudio}, byte for byte, with mp3/ogg/flac encoded in a worker thread. Throws PoolBusyError when
 * the workers are busy and the queue is full (a download answers 503; see {@link encodeAudioWhenFree}).
 */
export async function encodeAudioOffThread(pcm: Int16Array, sampleRate: number, format: AudioFormat): Promise<EncodedAudio> {
  if (!HEAVY_FORMATS.has(format) || !(pcm instanceof Int16Array)) return encodeAudio(pcm, sampleRate, format);
  let result: EncodeResult;
  try {
    // The PCM is copied (structured clone): the caller may still hold it (e.g. a cached stored message).
    result = await encodePool().run({ pcm, sampleRate, format });
  } catch (err) {
    if (err instanceof WorkerTaskError && err.remoteName === 'AudioFormatError') throw new AudioFormatError(err.message);
    throw err;
  }
  return { data: Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength), ...AUDIO_FORMAT_INFO[format] };
}

/** {@link encodeAudioOffThread} for callers that can wait (the mailer): a full queue is retried, not refused. */
export async function encodeAudioWhenFree(pcm: Int16Array, sampleRate: number, format: AudioFormat): Promise<EncodedAudio> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await encodeAudioOffThread(pcm, sampleRate, format);
    } catch (err) {
      if (!(err instanceof PoolBusyError)) throw err;
      await sleep(delay);
    }
  }
}
