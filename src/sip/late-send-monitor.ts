/**
 * The media's recent punctuality, for admission control's second overload guard. The event-loop guard watches the
 * SIP thread; with media in worker threads (or a machine short of CPU for any reason) the first sign of overload is
 * elsewhere: RTP frames leaving later than their 20/30 ms schedule, which the caller hears as jitter and then as
 * drop-outs. The players count every frame sent more than LATE_SEND_THRESHOLD_MS after its schedule (`sentLate`);
 * this monitor turns those totals into "the share of frames sent late over the last second", so that new INVITEs
 * are refused (503 + Retry-After) while the calls already up still sound right, instead of after they broke up.
 *
 * Measured on the 2-core bench machine (BENCHMARKS.md, 2026-12-02): at 500 concurrent Asterisk-shaped deposits
 * 0.4–1.4 % of frames were late and every caller heard RTP with no gap over 100 ms; at 600, 3.8–39 % were late and
 * callers heard gaps; past ~20,000 frames/s the share ran away to ~70 % and never came back while calls were up.
 */

/** Cumulative frame counters (since start): frames sent, and those sent late. */
export interface SendTotals {
  sent: number;
  sentLate: number;
}

/** What admission control asks: the share (0…1) of RTP frames sent late recently. */
export interface LateSendProbe {
  recentLateShare(): number;
}

export interface LateSendMonitorOptions {
  /** Reads the process's cumulative totals (all media threads). */
  totals: () => SendTotals;
  /** Sampling period (default 250 ms); the window is `windowSamples` periods (default 4: one second). */
  sampleMs?: number;
  windowSamples?: number;
  /** Fewer frames than this in the window: not judged (a handful of late frames on a quiet server is noise). */
  minFrames?: number;
  /** false: no timer, the owner calls sample() (tests). */
  autoStart?: boolean;
}

export class LateSendMonitor implements LateSendProbe {
  readonly #totals: () => SendTotals;
  readonly #windowSamples: number;
  readonly #minFrames: number;
  /** The last windowSamples + 1 readings, oldest first. */
  readonly #readings: SendTotals[] = [];
  readonly #timer: NodeJS.Timeout | null;

  constructor(options: LateSendMonitorOptions) {
    const sampleMs = options.sampleMs ?? 250;
    const windowSamples = options.windowSamples ?? 4;
    const minFrames = options.minFrames ?? 500;
    if (!(sampleMs >= 10)) throw new RangeError(`sampleMs must be ≥ 10, got ${sampleMs}`);
    if (!Number.isInteger(windowSamples) || windowSamples < 1) throw new RangeError(`windowSamples must be an integer ≥ 1, got ${windowSamples}`);
    if (!(minFrames >= 1)) throw new RangeError(`minFrames must be ≥ 1, got ${minFrames}`);
    this.#totals = options.totals;
    this.#windowSamples = windowSamples;
    this.#minFrames = minFrames;
    this.sample();
    this.#timer = options.autoStart === false ? null : setInterval(() => this.sample(), sampleMs);
    this.#timer?.unref();
  }

  /** Takes one reading of the totals (the timer does it every sampleMs). */
  sample(): void {
    const { sent, sentLate } = this.#totals();
    this.#readings.push({ sent, sentLate });
    if (this.#readings.length > this.#windowSamples + 1) this.#readings.shift();
  }

  /** Late frames / frames sent between the oldest reading of the window and now; 0 below minFrames. */
  recentLateShare(): number {
    const oldest = this.#readings[0];
    if (oldest === undefined) return 0;
    const now = this.#totals();
    const sent = now.sent - oldest.sent;
    if (sent < this.#minFrames) return 0;
    return Math.min(1, Math.max(0, (now.sentLate - oldest.sentLate) / sent));
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
