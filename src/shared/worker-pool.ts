import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Thrown by {@link WorkerPool.run} when every worker is busy and the queue is full (answer 503, try later). */
export class PoolBusyError extends Error {
  override readonly name = 'PoolBusyError';
}

/** An error thrown inside a worker, carried back with its name so the caller can map it (e.g. to a 400). */
export class WorkerTaskError extends Error {
  override readonly name = 'WorkerTaskError';
  constructor(
    readonly remoteName: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by {@link WorkerPool.run} when the job outlived `timeoutMs`: its worker was terminated and replaced. */
export class WorkerTimeoutError extends Error {
  override readonly name = 'WorkerTimeoutError';
}

/**
 * Thrown by {@link WorkerPool.run} when the worker died under the job (crash, `resourceLimits` exceeded: then
 * `outOfMemory`); the worker is replaced for the next jobs.
 */
export class WorkerLostError extends Error {
  override readonly name = 'WorkerLostError';
  readonly outOfMemory: boolean;
  constructor(message: string, options: { cause?: unknown; outOfMemory?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.outOfMemory = options.outOfMemory ?? false;
  }
}

interface Task {
  id: number;
  input: unknown;
  transfer: ArrayBuffer[];
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/**
 * Bootstrap of a worker whose script is TypeScript (jest runs the sources through ts-jest, so no compiled .js
 * sits next to them): `.ts` files are transpiled on require, and `./x.js` imports resolve to `./x.ts`.
 */
const TS_BOOTSTRAP = `
const Module = require('node:module');
const fs = require('node:fs');
const ts = require('typescript');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  try { return resolve.call(this, request, parent, ...rest); }
  catch (err) {
    if (/^\\.\\.?\\//.test(request) && request.endsWith('.js')) return resolve.call(this, request.slice(0, -3) + '.ts', parent, ...rest);
    throw err;
  }
};
require.extensions['.ts'] = (m, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  m._compile(out.outputText, filename);
};
require(require('node:worker_threads').workerData.__script);
`;

/**
 * Starts a worker thread on `script` (the absolute path of a compiled `.js`), or on its `.ts` twin through the
 * TypeScript bootstrap when the `.js` is absent (ts-jest runs the sources, no compiled file next to them).
 * `workerData` reaches the script as is (plus `__script` under the bootstrap).
 */
export function startScriptWorker(
  script: string,
  options: { workerData?: Record<string, unknown>; resourceLimits?: import('node:worker_threads').ResourceLimits | undefined } = {},
): Worker {
  const ts = script.replace(/\.js$/, '.ts');
  const common = options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits };
  return existsSync(script) || !existsSync(ts)
    ? new Worker(script, { ...common, workerData: options.workerData })
    : new Worker(TS_BOOTSTRAP, { ...common, eval: true, workerData: { ...options.workerData, __script: ts } });
}

/**
 * A small pool of worker threads running one script, with a bounded queue, so CPU-heavy jobs (audio decoding,
 * encoding) never run on the SIP/RTP event loop. The script answers `{ id, input }` messages with
 * `{ id, value }` or `{ id, error: { name, message } }` (see {@link serveWorkerTasks}). Workers are started
 * on first use, replaced when they die, and do not keep the process alive.
 */
export class WorkerPool<In, Out> {
  readonly #script: string;
  readonly #size: number;
  readonly #maxQueue: number;
  readonly #timeoutMs: number | undefined;
  readonly #resourceLimits: import('node:worker_threads').ResourceLimits | undefined;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Task>();
  readonly #queue: Task[] = [];
  #started = 0;
  #nextId = 1;
  #closed = false;

  /**
   * `script`: absolute path of the compiled `.js` worker; its `.ts` twin is used when it is absent (tests).
   * `timeoutMs`: a job running longer gets its worker terminated (WorkerTimeoutError). `resourceLimits`: heap
   * caps of each worker, so one job cannot take the process's memory (WorkerLostError, `outOfMemory`).
   */
  constructor(options: {
    script: string;
    size: number;
    maxQueue: number;
    timeoutMs?: number;
    resourceLimits?: import('node:worker_threads').ResourceLimits;
  }) {
    this.#script = options.script;
    this.#timeoutMs = options.timeoutMs;
    this.#resourceLimits = options.resourceLimits;
    this.#size = Math.max(1, options.size);
    this.#maxQueue = Math.max(0, options.maxQueue);
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  run(input: In, transfer: ArrayBuffer[] = []): Promise<Out> {
    if (this.#closed) return Promise.reject(new Error('worker pool closed'));
    const saturated = this.#idle.length === 0 && this.#started >= this.#size;
    if (saturated && this.#queue.length >= this.#maxQueue) {
      return Promise.reject(new PoolBusyError(`all ${this.#size} workers busy and ${this.#queue.length} jobs queued`));
    }
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, input, transfer, resolve: resolve as (v: unknown) => void, reject });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) task.reject(new Error('worker pool closed'));
    const workers = [...this.#idle.splice(0), ...this.#busy.keys()];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined && this.#started < this.#size) worker = this.#spawn();
      if (worker === undefined) return;
      const task = this.#queue.shift()!;
      this.#busy.set(worker, task);
      worker.ref();
      if (this.#timeoutMs !== undefined) {
        task.timer = setTimeout(() => {
          if (this.#busy.get(worker) !== task) return;
          this.#busy.delete(worker);
          task.reject(new WorkerTimeoutError(`the job took longer than ${this.#timeoutMs} ms`));
          void worker.terminate(); // its 'exit' replaces it
        }, this.#timeoutMs);
        task.timer.unref();
      }
      worker.postMessage({ id: task.id, input: task.input }, task.transfer);
    }
  }

  #spawn(): Worker {
    const worker = startScriptWorker(this.#script, { resourceLimits: this.#resourceLimits });
    this.#started++;
    worker.on('message', (message: { id: number; value?: unknown; error?: { name: string; message: string } }) => {
      const task = this.#busy.get(worker);
      if (task === undefined || task.id !== message.id) return;
      this.#busy.delete(worker);
      clearTimeout(task.timer);
      worker.unref();
      this.#idle.push(worker);
      if (message.error) task.reject(new WorkerTaskError(message.error.name, message.error.message));
      else task.resolve(message.value);
      this.#dispatch();
    });
    const lost = (error: Error) => {
      const task = this.#busy.get(worker);
      this.#busy.delete(worker);
      const i = this.#idle.indexOf(worker);
      if (i >= 0) this.#idle.splice(i, 1);
      if (this.#started > 0) this.#started--;
      worker.removeAllListeners();
      worker.on('error', () => undefined);
      if (task !== undefined) {
        clearTimeout(task.timer);
        const outOfMemory = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        task.reject(new WorkerLostError(`the worker died: ${error.message}`, { cause: error, outOfMemory }));
      }
      if (!this.#closed) this.#dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`worker exited with code ${code}`)));
    worker.unref();
    return worker;
  }
}

/** The worker side: answers each `{ id, input }` with the handler's value, or its error's name and message. */
export function serveWorkerTasks<In, Out>(
  port: import('node:worker_threads').MessagePort,
  handler: (input: In) => Promise<{ value: Out; transfer?: ArrayBuffer[] }>,
): void {
  port.on('message', async ({ id, input }: { id: number; input: In }) => {
    try {
      const { value, transfer } = await handler(input);
      port.postMessage({ id, value }, transfer ?? []);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id, error: { name: e.name, message: e.message } });
    }
  });
}
