/**
 * Admission control for a SIP server on a public address, in the spirit of Kamailio's pike module and Asterisk's
 * call limits: scanners (SIPVicious `friendly-scanner` sweeps) and INVITE floods must not take the service down.
 *
 *  - a token bucket per source address limits the request rate; past `dropAfterRefusals` refusals in a row the
 *    source is no longer answered at all (answering a flood amplifies it), until its bucket refills completely;
 *  - a per-source cap on half-open INVITEs: not yet answered, or answered but not yet ACKed;
 *  - global caps on concurrent calls and on calls not yet ACKed; the cap on calls defaults to the capacity measured
 *    on a 2-core machine (`npm run bench`, README "Capacity");
 *  - an overload guard: while the event loop's recent p99 delay exceeds `maxEventLoopDelayMs` (and at least
 *    `eventLoopGuardMinCalls` calls are up, so that a lone stall on a quiet server refuses nobody), new INVITEs get
 *    503 + Retry-After, before the calls already up lose media quality; likewise while more than
 *    `maxLateSendShare` of the RTP frames sent over the last second left late (late-send-monitor.ts): the media
 *    threads falling behind is the first sign of overload when media runs off the SIP thread;
 *  - requests from known scanner User-Agents are dropped silently.
 *
 * Memory is bounded: sources are kept in least-recently-used order, idle ones are swept as requests come, and at
 * most `maxTrackedSources` are tracked (the least recently seen one is forgotten first).
 * Time comes from an injectable Clock (milliseconds), so the logic is tested on a manual clock.
 */
import { systemClock, type Clock } from '../shared/clock.js';
import { AdmissionOptionsSchema, type AdmissionOptions } from '../shared/config.js';
import type { LateSendProbe } from './late-send-monitor.js';
import type { LoopDelayProbe } from './loop-delay.js';

export const DEFAULT_SCANNER_USER_AGENTS = ['friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'sipsak', 'vaxsipuseragent', 'pplsip', 'iwar', 'sundayddr', 'smap', 'nessus'];

export const DEFAULT_ADMISSION_OPTIONS: AdmissionOptions = {
  enabled: true,
  ratePerSecond: 20,
  burst: 40,
  dropAfterRefusals: 10,
  maxHalfOpenPerSource: 20,
  // The largest row of the Asterisk-shaped bench series (README "Capacity", BENCHMARKS.md, 2026-12-02, idle 2-core
  // machine, SIPp beside the server, media both ways) where every message was stored whole with media workers: 800
  // concurrent 21 s deposits. The last row where callers also heard no drop-out was 500: the late-send guard below
  // refuses new calls from the point where the media falls behind, which comes first on a machine like that one.
  maxCalls: 800,
  maxHalfOpen: 800,
  maxEventLoopDelayMs: 200,
  eventLoopGuardMinCalls: 100,
  // 500 concurrent deposits on the bench machine: 0.4–1.4 % late and every caller clean; 600: 3.8 % and up, gaps heard.
  maxLateSendShare: 0.02,
  maxTrackedSources: 10000,
  sourceIdleSeconds: 60,
  retryAfterSeconds: 10,
  scannerUserAgents: DEFAULT_SCANNER_USER_AGENTS,
  trustedSources: ['127.0.0.1', '::1'],
};

/** What to do with a request: go on, answer it with this 503, or drop it without a word. */
export type AdmissionVerdict =
  | { kind: 'accept' }
  | { kind: 'reject'; status: 503; reason: string; retryAfterSeconds: number }
  | { kind: 'drop'; why: 'scanner' | 'rate' };

/** One admitted INVITE: half-open until `confirm()` (the ACK of our 2xx), counted as a call until `end()`. */
export interface CallTicket {
  readonly confirmed: boolean;
  readonly ended: boolean;
  confirm(): void;
  end(): void;
}

export interface AdmissionStats {
  trackedSources: number;
  calls: number;
  halfOpen: number;
  accepted: number;
  rejectedRate: number;
  droppedRate: number;
  droppedScanner: number;
  rejectedHalfOpenPerSource: number;
  rejectedMaxCalls: number;
  rejectedMaxHalfOpen: number;
  rejectedLoopDelay: number;
  rejectedLateSends: number;
  evictedSources: number;
}

interface SourceState {
  tokens: number;
  refilledAt: number;
  lastSeen: number;
  refusals: number;
  halfOpen: number;
  calls: number;
}

/** How many requests between two sweeps of idle sources. */
const SWEEP_EVERY = 256;

export class AdmissionControl {
  readonly options: AdmissionOptions;
  readonly #clock: Clock;
  readonly #sources = new Map<string, SourceState>();
  readonly #scanners: string[];
  readonly #trusted: Set<string>;
  #calls = 0;
  #halfOpen = 0;
  #sinceSweep = 0;
  readonly #counters = {
    accepted: 0,
    rejectedRate: 0,
    droppedRate: 0,
    droppedScanner: 0,
    rejectedHalfOpenPerSource: 0,
    rejectedMaxCalls: 0,
    rejectedMaxHalfOpen: 0,
    rejectedLoopDelay: 0,
    rejectedLateSends: 0,
    evictedSources: 0,
  };
  readonly #loopDelay: LoopDelayProbe | undefined;
  readonly #lateSends: LateSendProbe | undefined;

  /**
   * `loopDelay` and `lateSends` feed the overload guards (an EventLoopDelayMonitor and a LateSendMonitor in the
   * server); without one, its guard is off.
   */
  constructor(options: Partial<AdmissionOptions> = {}, clock: Clock = systemClock, loopDelay?: LoopDelayProbe, lateSends?: LateSendProbe) {
    this.options = AdmissionOptionsSchema.parse({ ...DEFAULT_ADMISSION_OPTIONS, ...options });
    this.#clock = clock;
    this.#loopDelay = loopDelay;
    this.#lateSends = lateSends;
    this.#scanners = this.options.scannerUserAgents.map((s) => s.toLowerCase());
    this.#trusted = new Set(this.options.trustedSources);
  }

  /**
   * The cheap check done on every request before any transaction exists: scanner User-Agent, then the source's
   * token bucket. ACKs are never limited (they carry no response and they close half-open calls).
   */
  checkRequest(method: string, userAgent: string | undefined, address: string): AdmissionVerdict {
    if (!this.options.enabled) return ACCEPT;
    if (userAgent && this.#isScanner(userAgent)) {
      this.#counters.droppedScanner++;
      return { kind: 'drop', why: 'scanner' };
    }
    if (method === 'ACK' || this.#trusted.has(address)) return ACCEPT;
    const src = this.#touch(address);
    this.#refill(src);
    if (src.tokens >= 1) {
      src.tokens -= 1;
      return ACCEPT;
    }
    src.refusals++;
    if (src.refusals > this.options.dropAfterRefusals) {
      this.#counters.droppedRate++;
      return { kind: 'drop', why: 'rate' };
    }
    this.#counters.rejectedRate++;
    return this.#reject('too many requests from your address');
  }

  /**
   * A new INVITE (outside any dialog) past checkRequest: admitted with a ticket, or refused with a 503 because
   * of the per-source half-open cap or a global cap.
   */
  admitInvite(address: string): { kind: 'accept'; ticket: CallTicket } | Extract<AdmissionVerdict, { kind: 'reject' }> {
    if (!this.options.enabled) return { kind: 'accept', ticket: this.#ticket(undefined) };
    const trusted = this.#trusted.has(address);
    const src = trusted ? undefined : this.#touch(address);
    if (src && src.halfOpen >= this.options.maxHalfOpenPerSource) {
      this.#counters.rejectedHalfOpenPerSource++;
      return this.#reject('too many unanswered calls from your address');
    }
    if (this.#calls >= this.options.maxCalls) {
      this.#counters.rejectedMaxCalls++;
      return this.#reject('too many calls in progress');
    }
    if (this.#halfOpen >= this.options.maxHalfOpen) {
      this.#counters.rejectedMaxHalfOpen++;
      return this.#reject('too many calls being set up');
    }
    // RFC 3261 §21.5.4: 503 "The server is temporarily unable to process the request due to a temporary overloading
    // […] The server MAY indicate when the client should retry the request in a Retry-After header field."
    const { maxEventLoopDelayMs, eventLoopGuardMinCalls } = this.options;
    if (this.#loopDelay && maxEventLoopDelayMs > 0 && this.#calls >= eventLoopGuardMinCalls && this.#loopDelay.recentP99Ms() > maxEventLoopDelayMs) {
      this.#counters.rejectedLoopDelay++;
      return this.#reject('overloaded');
    }
    const { maxLateSendShare } = this.options;
    if (this.#lateSends && maxLateSendShare > 0 && this.#calls >= eventLoopGuardMinCalls && this.#lateSends.recentLateShare() > maxLateSendShare) {
      this.#counters.rejectedLateSends++;
      return this.#reject('overloaded');
    }
    this.#counters.accepted++;
    return { kind: 'accept', ticket: this.#ticket(src) };
  }

  /** Counters for metrics. */
  stats(): AdmissionStats {
    return { trackedSources: this.#sources.size, calls: this.#calls, halfOpen: this.#halfOpen, ...this.#counters };
  }

  #ticket(src: SourceState | undefined): CallTicket {
    this.#calls++;
    this.#halfOpen++;
    if (src) {
      src.calls++;
      src.halfOpen++;
    }
    let confirmed = false;
    let ended = false;
    const leaveHalfOpen = (): void => {
      if (confirmed) return;
      confirmed = true;
      this.#halfOpen--;
      if (src) src.halfOpen--;
    };
    return {
      get confirmed() {
        return confirmed;
      },
      get ended() {
        return ended;
      },
      confirm: () => {
        if (!ended) leaveHalfOpen();
      },
      end: () => {
        if (ended) return;
        leaveHalfOpen();
        ended = true;
        this.#calls--;
        if (src) src.calls--;
      },
    };
  }

  #reject(why: string): Extract<AdmissionVerdict, { kind: 'reject' }> {
    return { kind: 'reject', status: 503, reason: `Service Unavailable (${why})`, retryAfterSeconds: this.options.retryAfterSeconds };
  }

  #isScanner(userAgent: string): boolean {
    const ua = userAgent.toLowerCase();
    return this.#scanners.some((s) => ua.includes(s));
  }

  #refill(src: SourceState): void {
    const now = this.#clock.now();
    const { ratePerSecond, burst } = this.options;
    src.tokens = Math.min(burst, src.tokens + ((now - src.refilledAt) / 1000) * ratePerSecond);
    src.refilledAt = now;
    // A source that stayed quiet long enough for a full bucket is answered again.
    if (src.tokens >= burst) src.refusals = 0;
  }

  /** The source's state, moved to the most recently used end of the map (created when new). */
  #touch(address: string): SourceState {
    const now = this.#clock.now();
    let src = this.#sources.get(address);
    if (src) this.#sources.delete(address);
    else src = { tokens: this.options.burst, refilledAt: now, lastSeen: now, refusals: 0, halfOpen: 0, calls: 0 };
    src.lastSeen = now;
    this.#sources.set(address, src);
    if (++this.#sinceSweep >= SWEEP_EVERY) this.#sweep(now);
    if (this.#sources.size > this.options.maxTrackedSources) this.#evictOldest();
    return src;
  }

  /** Forgets idle sources from the least recently used end, stopping at the first one still active. */
  #sweep(now: number): void {
    this.#sinceSweep = 0;
    const idleMs = this.options.sourceIdleSeconds * 1000;
    for (const [address, src] of this.#sources) {
      if (now - src.lastSeen < idleMs) break;
      // A source with calls in progress keeps its place in line (its tickets hold a reference anyway).
      if (src.calls > 0) continue;
      this.#sources.delete(address);
    }
  }

  #evictOldest(): void {
    // Tickets keep a reference to their source's state, so a forgotten source's counts stay consistent.
    for (const address of this.#sources.keys()) {
      this.#sources.delete(address);
      this.#counters.evictedSources++;
      if (this.#sources.size <= this.options.maxTrackedSources) return;
    }
  }
}

const ACCEPT: AdmissionVerdict = { kind: 'accept' };
