/** Worker of worker-pool.test.ts: takes 1.5 s to load (as a fresh worker may on a loaded machine), then echoes. */
import { parentPort } from 'node:worker_threads';
import { serveWorkerTasks } from '../../src/shared/worker-pool.js';

if (parentPort === null) throw new Error('must run in a worker thread');
const loadedAt = Date.now() + 1_500;
while (Date.now() < loadedAt);
serveWorkerTasks<string, string>(parentPort, async (input) => ({ value: `echo:${input}` }));
