/**
 * The one time source of the process, injected into everything that reads the time or waits on it (SIP
 * transactions and dialogs, the call flows, the recorder, the pacer, the outbox worker, retention), so tests can
 * drive it by hand instead of sleeping.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic: for durations, deadlines and timers. */
  now(): number;
  /** Milliseconds since the Unix epoch: for instants written down (database rows, mail dates, retention cut-offs). */
  wallNow(): number;
  /** Runs `fn` once after `ms`; the timer does not keep the process alive. */
  setTimer(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(ms, fn) {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return { cancel: () => clearTimeout(h) };
  },
};

/**
 * A clock that only moves when told to: `advance(ms)` fires due timers in order. Its wall time starts at
 * `wallStart` (epoch ms) and moves with it.
 */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #wallStart: number;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(wallStart = 1_700_000_000_000) {
    this.#wallStart = wallStart;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#wallStart + this.#now;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { cancel: () => void this.#timers.delete(id) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.#timers) if (t.at <= target && (t.at < nextAt || (t.at === nextAt && id < nextId))) { nextAt = t.at; nextId = id; }
      if (nextId < 0) break;
      const t = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.#now = t.at;
      t.fn();
    }
    this.#now = target;
  }

  /**
   * Moves time forward by `ms` in steps of `stepMs`, letting promise callbacks and I/O run between steps (for
   * code that awaits between two timers, e.g. a call flow).
   */
  async advanceAsync(ms: number, stepMs = 10): Promise<void> {
    const target = this.#now + ms;
    while (this.#now < target) {
      this.advance(Math.min(stepMs, target - this.#now));
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Number of timers still armed. */
  get pending(): number {
    return this.#timers.size;
  }
}
