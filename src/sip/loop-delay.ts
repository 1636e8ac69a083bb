/**
 * The event loop's recent delay, for admission control's overload guard: when the one loop that runs SIP, RTP
 * pacing and the call flows is already late, a new call would make every call in progress worse, so new INVITEs
 * are refused (503 + Retry-After) instead.
 *
 * A perf_hooks histogram samples the loop every `resolutionMs`; every `windowMs` the window's p99 is kept and the
 * histogram starts again, so "recent" means the last complete window (or the current one, when it is already
 * worse). The figure is the delay beyond the sampling period: an idle loop reads ~0, not `resolutionMs`.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** What admission control asks: the loop's recent p99 delay, in ms. */
export interface LoopDelayProbe {
  recentP99Ms(): number;
}

const NS_PER_MS = 1e6;
/** Fewer samples than this in the current window: it is not judged yet (the previous window speaks). */
const MIN_SAMPLES = 20;

export class EventLoopDelayMonitor implements LoopDelayProbe {
  readonly #histogram: IntervalHistogram;
  readonly #resolutionMs: number;
  readonly #timer: NodeJS.Timeout;
  #lastWindowP99Ms = 0;

  constructor(options: { resolutionMs?: number; windowMs?: number } = {}) {
    this.#resolutionMs = options.resolutionMs ?? 10;
    this.#histogram = monitorEventLoopDelay({ resolution: this.#resolutionMs });
    this.#histogram.enable();
    this.#timer = setInterval(() => {
      this.#lastWindowP99Ms = this.#p99();
      this.#histogram.reset();
    }, options.windowMs ?? 1000);
    this.#timer.unref();
  }

  recentP99Ms(): number {
    const current = this.#histogram.count >= MIN_SAMPLES ? this.#p99() : 0;
    return Math.max(this.#lastWindowP99Ms, current);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }

  #p99(): number {
    if (this.#histogram.count === 0) return 0;
    return Math.max(0, this.#histogram.percentile(99) / NS_PER_MS - this.#resolutionMs);
  }
}
