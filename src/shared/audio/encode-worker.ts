/** Worker thread entry: encodes mono PCM as mp3/ogg/flac off the SIP/RTP event loop (see encode-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { serveWorkerTasks } from '../../shared/worker-pool.js';
import { encodeAudio } from './encode.js';
import type { EncodeJob, EncodeResult } from './encode-pool.js';

if (parentPort === null) throw new Error('encode-worker must run in a worker thread');
serveWorkerTasks<EncodeJob, EncodeResult>(parentPort, async (job) => {
  const { data } = await encodeAudio(job.pcm, job.sampleRate, job.format);
  // Transfer the file's memory back instead of copying it (a fresh buffer when it shares a pooled slab).
  const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? new Uint8Array(data.buffer) : new Uint8Array(data);
  return { value: { data: own }, transfer: [own.buffer as ArrayBuffer] };
});
