/**
 * `media.workers` ≥ 1: N worker threads carry the calls' media (media-worker.ts), so sending RTP, pacing, recording
 * and DTMF detection leave the SIP thread and use the other cores. Worker k owns the k-th share of the RTP port
 * range (its sockets are bound there, its port allocator hands out only those ports); a new call goes to the
 * worker with the fewest calls, then to the others when that one's share is full, and only when every share is
 * full does opening throw {@link PortsExhaustedError} (the caller answers 503).
 *
 * A worker that dies is logged, its calls get a 'lost' event (SipCall ends them with a BYE), and it is started
 * again on the same share after a pause. `stop()` terminates every worker.
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/log.js';
import { startScriptWorker } from '../../shared/worker-pool.js';
import type { MediaSession, MediaSessionFactory } from '../media-session.js';
import { PacingStats } from '../pacer.js';
import { PortsExhaustedError } from '../port-allocator.js';
import type { RtpPacketTotals } from '../rtp-counters.js';
import { FromWorker, ToWorker, type FromWorkerMessage, type ToWorkerMessage, type WorkerInit, type WorkerLoad } from './protocol.js';
import { RecordingProgressSlots } from './progress-slots.js';
import { MediaWorkerLostError, WorkerMediaSession, type MediaWorkerChannel } from './worker-session.js';

/** A dead worker is started again after this pause (a worker that dies at start does not spin). */
const RESTART_DELAY_MS = 1000;

export interface MediaWorkerPoolOptions {
  workers: number;
  /** The whole RTP range (inclusive), split into one share per worker. */
  portMin: number;
  portMax: number;
  /** Address the RTP sockets bind. */
  host: string;
  recvBufferSize: number;
  sendBufferSize: number;
  logger: Logger;
  /**
   * V8's young generation of each worker, in MiB (`resourceLimits.maxYoungGenerationSizeMb`); 0 keeps V8's default
   * (~48 MiB on 64-bit). A worker's garbage is mostly received datagrams that die within a frame: a small young
   * generation collects them as often and keeps the worker's heap (and RSS) small (BENCHMARKS.md, "the workers' young generation").
   */
  youngGenerationMb?: number;
  /** The worker script (default the compiled media-worker.js next to this file, or its .ts twin under ts-jest). */
  script?: string;
}

interface PendingOpen {
  resolve(session: WorkerMediaSession | 'exhausted'): void;
  reject(err: Error): void;
  logger: Logger | undefined;
}

/** One worker thread and what the main thread knows of it. */
class MediaWorker implements MediaWorkerChannel {
  readonly index: number;
  readonly portMin: number;
  readonly portMax: number;
  readonly progress: RecordingProgressSlots;
  readonly #progressBuffer: SharedArrayBuffer;
  readonly sessions = new Map<number, WorkerMediaSession>();
  readonly opening = new Map<number, PendingOpen>();
  thread: Worker | null = null;
  /** The last load report, and the counters of the threads that ran this share before (restarts). */
  load: WorkerLoad | null = null;
  readonly retired: RtpPacketTotals = { received: 0, sent: 0, sentLate: 0, lost: 0 };

  constructor(index: number, portMin: number, portMax: number) {
    this.index = index;
    this.portMin = portMin;
    this.portMax = portMax;
    this.#progressBuffer = RecordingProgressSlots.allocate(portMin, portMax);
    this.progress = new RecordingProgressSlots(this.#progressBuffer, portMin);
  }

  get init(): WorkerInit {
    return { portMin: this.portMin, portMax: this.portMax, progress: this.#progressBuffer };
  }

  /** Calls on this worker, those being opened included. */
  get calls(): number {
    return this.sessions.size + this.opening.size;
  }

  send(message: ToWorkerMessage, transfer: ArrayBuffer[] = []): void {
    this.thread?.postMessage(message, transfer);
  }
}

/** Splits min…max (inclusive) into `n` shares of whole even/odd port pairs (RFC 3550 §11: RTP even, RTCP odd). */
export function splitPortRange(min: number, max: number, n: number): Array<{ min: number; max: number }> {
  const evenMin = min + (min & 1);
  const pairs = Math.floor((max - evenMin + 1) / 2);
  if (n < 1 || pairs < n) throw new RangeError(`RTP range ${min}…${max} holds ${pairs} port pairs: too few for ${n} media workers`);
  const shares: Array<{ min: number; max: number }> = [];
  let at = evenMin;
  for (let k = 0; k < n; k++) {
    const take = Math.floor(pairs / n) + (k < pairs % n ? 1 : 0);
    shares.push({ min: at, max: at + 2 * take - 1 });
    at += 2 * take;
  }
  return shares;
}

export class MediaWorkerPool implements MediaSessionFactory {
  readonly #options: MediaWorkerPoolOptions;
  readonly #script: string;
  readonly #workers: MediaWorker[];
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #nextSid = 1;
  #stopped = false;

  constructor(options: MediaWorkerPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`media workers must be an integer ≥ 1, got ${options.workers}`);
    if (options.youngGenerationMb !== undefined && (!Number.isInteger(options.youngGenerationMb) || options.youngGenerationMb < 0)) {
      throw new RangeError(`media workers' young generation must be an integer ≥ 0 (MiB), got ${options.youngGenerationMb}`);
    }
    this.#options = options;
    this.#script = options.script ?? join(__dirname, 'media-worker.js');
    this.#workers = splitPortRange(options.portMin, options.portMax, options.workers).map((s, k) => new MediaWorker(k, s.min, s.max));
    for (const w of this.#workers) this.#start(w);
  }

  /** Each worker's port share and calls (tests, logs). */
  get shares(): Array<{ portMin: number; portMax: number; calls: number; running: boolean; youngGenerationMb: number | undefined }> {
    return this.#workers.map((w) => ({ portMin: w.portMin, portMax: w.portMax, calls: w.calls, running: w.thread !== null, youngGenerationMb: w.thread?.resourceLimits?.maxYoungGenerationSizeMb }));
  }

  #start(w: MediaWorker): void {
    const young = this.#options.youngGenerationMb ?? 0;
    const thread = startScriptWorker(this.#script, { workerData: { ...w.init }, ...(young > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {}) });
    w.thread = thread;
    // The SIP side decides when the process ends (stop() terminates the workers): a worker never keeps it alive.
    thread.unref();
    thread.on('message', (m: FromWorkerMessage) => this.#receive(w, m));
    thread.on('error', (err) => this.#options.logger.error({ err, worker: w.index }, 'media worker failed'));
    thread.on('exit', (code) => this.#exited(w, thread, code));
  }

  #receive(w: MediaWorker, m: FromWorkerMessage): void {
    switch (m.op) {
      case FromWorker.Load:
        w.load = m.load;
        return;
      case FromWorker.Opened: {
        const pending = w.opening.get(m.sid);
        w.opening.delete(m.sid);
        const session = new WorkerMediaSession(m.sid, m.port, w, pending?.logger);
        if (pending === undefined) {
          w.send({ op: ToWorker.Close, sid: m.sid });
          return;
        }
        w.sessions.set(m.sid, session);
        pending.resolve(session);
        return;
      }
      case FromWorker.OpenFailed: {
        const pending = w.opening.get(m.sid);
        w.opening.delete(m.sid);
        if (m.exhausted) pending?.resolve('exhausted');
        else pending?.reject(new Error(`media worker ${w.index}: ${m.message}`));
        return;
      }
      case FromWorker.Closed: {
        const session = w.sessions.get(m.sid);
        w.sessions.delete(m.sid);
        session?.receive(m);
        return;
      }
      default:
        w.sessions.get(m.sid)?.receive(m);
    }
  }

  #exited(w: MediaWorker, thread: Worker, code: number): void {
    if (w.thread !== thread) return;
    w.thread = null;
    if (w.load) for (const k of ['received', 'sent', 'sentLate', 'lost'] as const) w.retired[k] += w.load.rtp[k];
    w.load = null;
    const reason = this.#stopped ? 'media workers stopped' : `media worker ${w.index} exited (code ${code})`;
    if (!this.#stopped) this.#options.logger.error({ worker: w.index, code, calls: w.calls, ports: `${w.portMin}…${w.portMax}` }, 'media worker died: ending its calls');
    for (const p of w.opening.values()) p.reject(new MediaWorkerLostError(reason));
    w.opening.clear();
    const sessions = [...w.sessions.values()];
    w.sessions.clear();
    for (const s of sessions) s.lose(reason);
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (!this.#stopped) this.#start(w);
    }, RESTART_DELAY_MS);
    timer.unref();
    this.#restartTimers.add(timer);
  }

  /** A session on the least loaded worker with a free port; PortsExhaustedError when every share is full. */
  async open(deps: { logger?: Logger } = {}): Promise<MediaSession> {
    if (this.#stopped) throw new Error('media workers stopped');
    const candidates = this.#workers.filter((w) => w.thread !== null).sort((a, b) => a.calls - b.calls);
    for (const w of candidates) {
      try {
        const got = await this.#openOn(w, deps.logger);
        if (got !== 'exhausted') return got;
      } catch (err) {
        // The worker died while opening: another share may still take the call.
        if (!(err instanceof MediaWorkerLostError)) throw err;
      }
    }
    throw new PortsExhaustedError(`no RTP port free in ${this.#options.portMin}…${this.#options.portMax} (${this.#workers.length} media workers)`);
  }

  #openOn(w: MediaWorker, logger: Logger | undefined): Promise<WorkerMediaSession | 'exhausted'> {
    const sid = this.#nextSid++;
    const o = this.#options;
    return new Promise((resolve, reject) => {
      w.opening.set(sid, { resolve, reject, logger });
      w.send({ op: ToWorker.Open, sid, host: o.host, recvBufferSize: o.recvBufferSize, sendBufferSize: o.sendBufferSize });
    });
  }

  /** RTP packet totals of every worker (as of their last report, at most 250 ms old), restarts included. */
  rtpTotals(): RtpPacketTotals {
    const sum: RtpPacketTotals = { received: 0, sent: 0, sentLate: 0, lost: 0 };
    for (const w of this.#workers) {
      for (const k of ['received', 'sent', 'sentLate', 'lost'] as const) sum[k] += w.retired[k] + (w.load?.rtp[k] ?? 0);
    }
    return sum;
  }

  /** The workers' pacing lateness merged into one histogram (running workers; as of their last report). */
  pacingStats(): { stats: PacingStats; pendingJobs: number } {
    const stats = new PacingStats();
    let pendingJobs = 0;
    for (const w of this.#workers) {
      const p = w.load?.pacing;
      if (!p) continue;
      stats.add(p);
      pendingJobs += p.pendingJobs;
    }
    return { stats, pendingJobs };
  }

  /**
   * Terminates worker `index` as a crash would end it (its calls get 'lost', it starts again after a pause): for
   * operators unsticking a worker, and for the tests of that path.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.#workers[index]?.thread?.terminate();
  }

  /** Terminates every worker; their sessions get 'lost'. No thread is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#restartTimers) clearTimeout(t);
    this.#restartTimers.clear();
    await Promise.all(this.#workers.map((w) => w.thread?.terminate()));
  }
}
