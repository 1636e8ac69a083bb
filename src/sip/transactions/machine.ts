/**
 * Plumbing shared by the transaction state machines: checked state transitions, named timers that all die with
 * the transaction, and listener fan-out.
 */
import type { Clock, Timer } from '../../shared/clock.js';

/** An internal error: the code asked a transaction for a move its state machine does not have. */
export class TransactionStateError extends Error {
  override name = 'TransactionStateError';
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
    detail?: string,
  ) {
    super(`${machine}: illegal transition ${from} → ${to}${detail ? ` (${detail})` : ''}`);
  }
}

/** The current state of one transaction, moving only along the edges of its diagram. */
export class StateCell<S extends string> {
  #state: S;
  readonly #machine: string;
  readonly #edges: Readonly<Record<S, readonly S[]>>;

  constructor(machine: string, initial: S, edges: Readonly<Record<S, readonly S[]>>) {
    this.#machine = machine;
    this.#state = initial;
    this.#edges = edges;
  }

  get value(): S {
    return this.#state;
  }

  /** Moves to `to`, or throws TransactionStateError naming both ends when the diagram has no such edge. */
  moveTo(to: S, detail?: string): void {
    if (!this.#edges[this.#state].includes(to)) throw new TransactionStateError(this.#machine, this.#state, to, detail);
    this.#state = to;
  }

  /** Throws the same error for an action not allowed in the current state (an edge to `to` that does not exist). */
  reject(to: string, detail?: string): never {
    throw new TransactionStateError(this.#machine, this.#state, to, detail);
  }
}

/**
 * Checks a response the TU passes down to a server transaction: §7.2 "The Status-Code is a 3-digit integer result
 * code" whose first digit (1-6) is its class. Throws RangeError naming the machine otherwise.
 */
export function assertStatusCode(machine: string, status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 699) {
    throw new RangeError(`${machine}: ${status} is not a SIP status code (100-699)`);
  }
}

/**
 * The timers a transaction has armed, by letter. Re-arming a letter cancels the previous one; `cancelAll()` on
 * termination leaves nothing behind in the clock. A zero delay (the reliable-transport value of Timers I, J and
 * K) runs the action at once instead of going through the clock.
 */
export class TimerSet<Name extends string> {
  readonly #clock: Clock;
  readonly #armed = new Map<Name, Timer>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  start(name: Name, ms: number, action: () => void): void {
    this.cancel(name);
    if (ms <= 0) {
      action();
      return;
    }
    const timer = this.#clock.setTimer(ms, () => {
      this.#armed.delete(name);
      action();
    });
    this.#armed.set(name, timer);
  }

  cancel(name: Name): void {
    const t = this.#armed.get(name);
    if (t) {
      t.cancel();
      this.#armed.delete(name);
    }
  }

  cancelAll(): void {
    for (const t of this.#armed.values()) t.cancel();
    this.#armed.clear();
  }

  get size(): number {
    return this.#armed.size;
  }
}

type Handler = ((...args: never[]) => void) | undefined;

/** Listeners of one transaction: the creator's plus any added later (e.g. the TU of a transaction the layer created). */
export class Listeners<E extends { [K in keyof E]?: Handler }> {
  readonly #all: Array<Partial<E>> = [];

  add(events: Partial<E>): () => void {
    this.#all.push(events);
    return () => {
      const i = this.#all.indexOf(events);
      if (i >= 0) this.#all.splice(i, 1);
    };
  }

  emit<K extends keyof E>(name: K, ...args: Parameters<NonNullable<E[K]>>): void {
    for (const l of [...this.#all]) {
      const fn = l[name] as ((...a: Parameters<NonNullable<E[K]>>) => void) | undefined;
      fn?.(...args);
    }
  }
}
