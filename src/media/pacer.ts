/**
 * One scheduler paces every playing session of the process (no per-call setInterval).
 *
 * Jobs sit in a binary min-heap keyed on their absolute due time; a single timer wakes for the
 * earliest one and every job due within `coalesceMs` is run in the same wake-up, so 1000 sessions
 * at 20 ms ptime cost at most ~1000 timer wake-ups per second instead of 50 000. Each job returns its
 * next absolute due time (frame k at start + k·ptime), so lateness of one wake-up never accumulates.
 */
import { systemClock, type Clock, type Timer } from '../shared/clock.js';

export interface PacedJob {
  /** Absolute due time in scheduler milliseconds (performance.now() by default). */
  due: number;
  /** Runs the job; returns the next absolute due time, or NaN when the job is done. */
  run(now: number): number;
}

/** Lateness histogram: bucket 0 counts sends ahead of schedule, bucket i (1…BUCKETS−2) counts [i−1, i) ms late, the last ≥ BUCKETS−2 ms. */
export const LATENESS_BUCKETS = 52;

export interface PacingStatsSnapshot {
  /** Frames run. */
  runs: number;
  /** Frames run before their due time (within the coalescing window). */
  early: number;
  meanLatenessMs: number;
  maxLatenessMs: number;
  /** Upper bound (ms) under which 50 / 99 / 99.9 % of frames were sent, from the histogram. */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  histogram: number[];
}

export class PacingStats {
  readonly histogram = new Uint32Array(LATENESS_BUCKETS);
  runs = 0;
  sumLatenessMs = 0;
  maxLatenessMs = 0;

  record(latenessMs: number): void {
    this.runs++;
    if (latenessMs < 0) {
      this.histogram[0]!++;
      return;
    }
    this.sumLatenessMs += latenessMs;
    if (latenessMs > this.maxLatenessMs) this.maxLatenessMs = latenessMs;
    const b = 1 + Math.floor(latenessMs);
    this.histogram[b < LATENESS_BUCKETS ? b : LATENESS_BUCKETS - 1]!++;
  }

  /** Adds another scheduler's counts (a media worker's, as it reported them) to these. */
  add(other: { readonly histogram: ArrayLike<number>; runs: number; sumLatenessMs: number; maxLatenessMs: number }): void {
    for (let i = 0; i < LATENESS_BUCKETS; i++) this.histogram[i] = this.histogram[i]! + (other.histogram[i] ?? 0);
    this.runs += other.runs;
    this.sumLatenessMs += other.sumLatenessMs;
    if (other.maxLatenessMs > this.maxLatenessMs) this.maxLatenessMs = other.maxLatenessMs;
  }

  reset(): void {
    this.histogram.fill(0);
    this.runs = 0;
    this.sumLatenessMs = 0;
    this.maxLatenessMs = 0;
  }

  #percentile(q: number): number {
    const target = q * this.runs;
    let acc = 0;
    for (let i = 0; i < LATENESS_BUCKETS; i++) {
      acc += this.histogram[i]!;
      if (acc >= target && acc > 0) return i === LATENESS_BUCKETS - 1 ? Infinity : i;
    }
    return 0;
  }

  snapshot(): PacingStatsSnapshot {
    return {
      runs: this.runs,
      early: this.histogram[0]!,
      meanLatenessMs: this.runs ? this.sumLatenessMs / this.runs : 0,
      maxLatenessMs: this.maxLatenessMs,
      p50Ms: this.#percentile(0.5),
      p99Ms: this.#percentile(0.99),
      p999Ms: this.#percentile(0.999),
      histogram: Array.from(this.histogram),
    };
  }
}

export interface PacingSchedulerOptions {
  /** Jobs due up to this many ms after the wake-up instant run in the same wake-up (default 1). */
  coalesceMs?: number;
  /** Time source and wake-up timer (default the system clock: performance.now and an unref'd setTimeout). */
  clock?: Clock;
}

export class PacingScheduler {
  readonly stats = new PacingStats();
  /**
   * Wake-ups so far. A job may run several frames in one wake-up (catching up after a stall), and node:dgram hands
   * a datagram to the kernel only on the next tick: a job that reuses send buffers counts its sends per wake-up.
   */
  wakes = 0;
  readonly #heap: PacedJob[] = [];
  readonly #coalesceMs: number;
  readonly #now: () => number;
  readonly #clock: Clock;
  #timer: Timer | null = null;
  #timerAt = Infinity;

  constructor(options: PacingSchedulerOptions = {}) {
    const coalesce = options.coalesceMs ?? 1;
    if (!(coalesce >= 0 && coalesce <= 10)) throw new RangeError(`coalesceMs must be within 0…10, got ${coalesce}`);
    this.#coalesceMs = coalesce;
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    // The hot path reads the time once per wake-up: on the system clock, the same bare performance.now() as before.
    this.#now = clock === systemClock ? systemClock.now : () => clock.now();
  }

  now(): number {
    return this.#now();
  }

  /** Number of jobs waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Adds a job; it first runs at `job.due`. */
  schedule(job: PacedJob): void {
    this.#push(job);
    this.#arm();
  }

  /** Removes a job before it is due (e.g. an aborted prompt). Returns false when it was not waiting. */
  cancel(job: PacedJob): boolean {
    const heap = this.#heap;
    const i = heap.indexOf(job);
    if (i < 0) return false;
    const last = heap.pop()!;
    if (i < heap.length) {
      heap[i] = last;
      this.#siftUp(i);
      this.#siftDown(heap.indexOf(last));
    }
    this.#arm();
    return true;
  }

  #wake = (): void => {
    this.wakes++;
    this.#timer = null;
    this.#timerAt = Infinity;
    const heap = this.#heap;
    let now = this.#now();
    let ran = 0;
    while (heap.length > 0 && heap[0]!.due <= now + this.#coalesceMs) {
      const job = heap[0]!;
      this.stats.record(now - job.due);
      let next: number;
      try {
        next = job.run(now);
      } catch {
        next = NaN;
      }
      if (next === next && next > job.due) {
        job.due = next;
        this.#siftDown(0);
      } else {
        this.#pop();
      }
      // Re-read the clock now and then so a long batch does not judge later jobs against a stale instant.
      if ((++ran & 63) === 0) now = this.#now();
    }
    this.#arm();
  };

  #arm(): void {
    if (this.#heap.length === 0) {
      this.#timer?.cancel();
      this.#timer = null;
      this.#timerAt = Infinity;
      return;
    }
    const due = this.#heap[0]!.due;
    if (this.#timer && this.#timerAt <= due) return;
    this.#timer?.cancel();
    this.#timerAt = due;
    this.#timer = this.#clock.setTimer(Math.max(0, Math.floor(due - this.#now())), this.#wake);
  }

  #push(job: PacedJob): void {
    this.#heap.push(job);
    this.#siftUp(this.#heap.length - 1);
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const job = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]!.due <= job.due) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = job;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.#siftDown(0);
    }
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const job = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1]!.due < heap[c]!.due) c++;
      if (heap[c]!.due >= job.due) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = job;
  }
}

/** The process-wide scheduler used by sessions that are not given one. */
export const sharedPacingScheduler = new PacingScheduler({ clock: systemClock });
