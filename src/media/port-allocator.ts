/**
 * Hands out even UDP ports for RTP (RFC 3550 §11: "RTP SHOULD use an even destination port number and
 * the corresponding RTCP stream SHOULD use the next higher (odd) destination port number"), round-robin
 * over [min, max] so a port just released is the last to be reused (stray packets of an ended call
 * then rarely reach a new one).
 */
export class PortsExhaustedError extends Error {
  override readonly name = 'PortsExhaustedError';
}

/** Bind errors after which the next port is tried instead of failing the call. */
const RETRYABLE_BIND_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

export class RtpPortAllocator {
  readonly min: number;
  readonly max: number;
  readonly #inUse = new Set<number>();
  #next: number;

  /** `min`/`max` are inclusive; `min` is rounded up to even; the odd port above each even one is kept for RTCP. */
  constructor(min: number, max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535) {
      throw new RangeError(`RTP port range must be integers within 1…65535, got ${min}…${max}`);
    }
    const evenMin = min + (min & 1);
    if (evenMin + 1 > max) throw new RangeError(`RTP port range ${min}…${max} holds no even/odd port pair`);
    this.min = evenMin;
    this.max = max;
    this.#next = evenMin;
  }

  /** Number of even ports in the range. */
  get capacity(): number {
    return Math.floor((this.max - 1 - this.min) / 2) + 1;
  }

  get inUse(): number {
    return this.#inUse.size;
  }

  /** Reserves the next free even port (round-robin). Throws {@link PortsExhaustedError} when none is free. */
  allocate(): number {
    const cap = this.capacity;
    for (let tried = 0; tried < cap; tried++) {
      const port = this.#next;
      this.#next = port + 2 > this.max - 1 ? this.min : port + 2;
      if (!this.#inUse.has(port)) {
        this.#inUse.add(port);
        return port;
      }
    }
    throw new PortsExhaustedError(`all ${cap} RTP ports in ${this.min}…${this.max} are in use`);
  }

  /** Returns a port to the pool. Releasing a port not held is a no-op. */
  release(port: number): void {
    this.#inUse.delete(port);
  }

  /**
   * Allocates ports and calls `bind(port)` until one binds; ports that fail with EADDRINUSE/EACCES/
   * EADDRNOTAVAIL (taken by another process) are skipped, other errors are rethrown. Throws
   * {@link PortsExhaustedError} after every port of the range failed once.
   */
  async acquire<T>(bind: (port: number) => Promise<T>): Promise<{ port: number; value: T }> {
    const cap = this.capacity;
    let lastError: unknown;
    for (let attempt = 0; attempt < cap; attempt++) {
      const port = this.allocate();
      try {
        return { port, value: await bind(port) };
      } catch (err) {
        this.release(port);
        const code = (err as NodeJS.ErrnoException).code;
        if (!code || !RETRYABLE_BIND_ERRORS.has(code)) throw err;
        lastError = err;
      }
    }
    throw new PortsExhaustedError(
      `no RTP port in ${this.min}…${this.max} could be bound (last error: ${(lastError as Error | undefined)?.message ?? 'none'})`,
    );
  }
}
