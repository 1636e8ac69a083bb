/**
 * Recording progress shared between a media worker and the main thread without messages: one slot per even port
 * of the worker's share (a port belongs to one session at a time), three 64-bit integers each — samples recorded,
 * voice samples, and the instant of the last voice packet (ms on the process-wide epoch clock below). The worker
 * writes them as packets are recorded; the main thread's recording loop reads them whenever it re-checks its end
 * conditions. Atomics keep each value whole (a plain Float64 access may tear across threads).
 */
const FIELDS = 3;
const SAMPLES = 0;
const VOICE_SAMPLES = 1;
const LAST_VOICE_AT = 2;

/**
 * Milliseconds on a clock both threads read alike: the time origin (the thread's start, on the wall clock) plus
 * the monotonic time since. Used only for "how long since the last voice".
 */
export function epochNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class RecordingProgressSlots {
  readonly #values: BigInt64Array;
  readonly #portMin: number;

  /** `buffer` from {@link RecordingProgressSlots.allocate} for the same range. */
  constructor(buffer: SharedArrayBuffer, portMin: number) {
    this.#values = new BigInt64Array(buffer);
    this.#portMin = portMin + (portMin & 1);
  }

  /** Room for every even port in portMin…portMax. */
  static allocate(portMin: number, portMax: number): SharedArrayBuffer {
    const evenMin = portMin + (portMin & 1);
    const slots = Math.max(1, Math.floor((portMax - evenMin) / 2) + 1);
    return new SharedArrayBuffer(slots * FIELDS * BigInt64Array.BYTES_PER_ELEMENT);
  }

  #at(port: number): number {
    const at = ((port - this.#portMin) >> 1) * FIELDS;
    if (at < 0 || at + FIELDS > this.#values.length) throw new RangeError(`port ${port} has no progress slot`);
    return at;
  }

  /** A new recording on `port`: nothing recorded, no voice yet (silence counted from `startedAt`). */
  reset(port: number, startedAt: number): void {
    this.write(port, 0, 0, startedAt);
  }

  write(port: number, samples: number, voiceSamples: number, lastVoiceAt: number): void {
    const at = this.#at(port);
    Atomics.store(this.#values, at + SAMPLES, BigInt(samples));
    Atomics.store(this.#values, at + VOICE_SAMPLES, BigInt(voiceSamples));
    Atomics.store(this.#values, at + LAST_VOICE_AT, BigInt(Math.round(lastVoiceAt)));
  }

  samples(port: number): number {
    return Number(Atomics.load(this.#values, this.#at(port) + SAMPLES));
  }

  voiceSamples(port: number): number {
    return Number(Atomics.load(this.#values, this.#at(port) + VOICE_SAMPLES));
  }

  lastVoiceAt(port: number): number {
    return Number(Atomics.load(this.#values, this.#at(port) + LAST_VOICE_AT));
  }
}
