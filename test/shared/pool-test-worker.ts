/** Worker of worker-pool.test.ts: `spin` never answers, `crash` exits the thread, `hog` fills its heap, else echoes. */
import { parentPort } from 'node:worker_threads';
import { serveWorkerTasks } from '../../src/shared/worker-pool.js';

if (parentPort === null) throw new Error('must run in a worker thread');
serveWorkerTasks<string, string>(parentPort, async (input) => {
  if (input === 'spin') for (;;);
  if (input === 'crash') process.exit(3);
  if (input === 'hog') {
    const hoard: number[][] = [];
    for (;;) hoard.push(Array.from({ length: 100_000 }, (_, i) => i * 1.5));
  }
  return { value: `echo:${input}` };
});
