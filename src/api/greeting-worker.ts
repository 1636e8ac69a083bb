/** Worker thread entry: converts uploaded greetings off the SIP/RTP event loop (see audio.ts). */
import { parentPort } from 'node:worker_threads';
import { serveWorkerTasks } from '../shared/worker-pool.js';
import { convertGreeting, type GreetingJob, type GreetingResult } from './greeting-decode.js';

if (parentPort === null) throw new Error('greeting-worker must run in a worker thread');
serveWorkerTasks<GreetingJob, GreetingResult>(parentPort, async (job) => {
  const result = await convertGreeting(job);
  const wav = result.wav;
  // Transfer the WAV's memory back instead of copying it (a fresh buffer when it shares a pooled slab).
  const own = wav.byteOffset === 0 && wav.byteLength === wav.buffer.byteLength ? wav : new Uint8Array(wav);
  return { value: { wav: own, durationMs: result.durationMs }, transfer: [own.buffer as ArrayBuffer] };
});
