import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { WorkerLostError, WorkerPool, WorkerTimeoutError } from '../../src/shared/worker-pool.js';

const script = join(__dirname, 'pool-test-worker.js'); // absent: its .ts twin is run

describe('WorkerPool limits', () => {
  it('terminates a job past timeoutMs and serves the next job with a fresh worker', async () => {
    const pool = new WorkerPool<string, string>({ script, size: 1, maxQueue: 2, timeoutMs: 1_500 });
    try {
      await expect(pool.run('spin')).rejects.toBeInstanceOf(WorkerTimeoutError);
      await expect(pool.run('after')).resolves.toBe('echo:after');
    } finally {
      await pool.close();
    }
  });

  it("counts a job's time limit from the worker's start, not the start-up of a fresh worker", async () => {
    const slow = join(__dirname, 'pool-slow-start-worker.js'); // absent: its .ts twin is run
    const pool = new WorkerPool<string, string>({ script: slow, size: 1, maxQueue: 2, timeoutMs: 1_000 });
    try {
      await expect(pool.run('first')).resolves.toBe('echo:first');
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker that exits under a job, rejecting that job with WorkerLostError', async () => {
    const pool = new WorkerPool<string, string>({ script, size: 1, maxQueue: 2 });
    try {
      const queued = pool.run('queued behind the crash');
      await expect(pool.run('crash')).rejects.toBeInstanceOf(WorkerLostError);
      await expect(queued).resolves.toBe('echo:queued behind the crash');
    } finally {
      await pool.close();
    }
  });

  it('kills a worker past its heap limit (outOfMemory) instead of letting the process grow', async () => {
    const pool = new WorkerPool<string, string>({ script, size: 1, maxQueue: 1, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    try {
      const error = await pool.run('hog').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerLostError);
      expect((error as WorkerLostError).outOfMemory).toBe(true);
      await expect(pool.run('again')).resolves.toBe('echo:again');
    } finally {
      await pool.close();
    }
  });
});
