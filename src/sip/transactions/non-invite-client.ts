/**
 * The non-INVITE client transaction of RFC 3261 §17.1.2 (Figure 6), used for the BYE and NOTIFY we send:
 *
 *                                |Request from TU
 *                                |send request
 *            Timer E             V
 *            send request  +-----------+
 *                +---------|           |-------------------+
 *                |         |  Trying   |  Timer F          |
 *                +-------->|           |  or Transport Err.|
 *                          +-----------+  inform TU        |
 *             200-699         |  |                         |
 *             resp. to TU     |  |1xx                      |
 *             +---------------+  |resp. to TU              |
 *             |                  |                         |
 *             |   Timer E        V       Timer F           |
 *             |   send req +-----------+ or Transport Err. |
 *             |  +---------|           | inform TU         |
 *             |  |         | Proceeding|------------------>|
 *             |  +-------->|           |-----+             |
 *             |            +-----------+     |1xx          |
 *             |              |      ^        |resp to TU   |
 *             | 200-699      |      +--------+             |
 *             | resp. to TU  |                             |
 *             |              |                             |
 *             |              V                             |
 *             |            +-----------+                   |
 *             |            |           |                   |
 *             |            | Completed |                   |
 *             |            |           |                   |
 *             |            +-----------+                   |
 *             |              ^   |                         |
 *             |              |   | Timer K                 |
 *             +--------------+   | -                       |
 *                                |                         |
 *                                V                         |
 *          NOTE:           +-----------+                   |
 *                          |           |                   |
 *      transitions         | Terminated|<------------------+
 *      labeled with        |           |
 *      the event           +-----------+
 *      over the action
 *      to take
 */
import type { Clock } from '../../shared/clock.js';
import type { Peer, SipRequest, SipResponse } from '../message.js';
import { StateCell, TimerSet } from './machine.js';
import { nextRetransmitInterval, sixtyFourT1, type TimerValues } from './timers.js';

export type NonInviteClientState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

/** What a client transaction needs from the layer that owns it. */
export interface ClientContext {
  clock: Clock;
  timers: TimerValues;
  /** §17.1.2.2: Timer E runs only on unreliable transports, Timer K is zero on reliable ones. */
  reliable: boolean;
  send(req: SipRequest, dest: Peer): void;
}

export interface NonInviteClientEvents {
  /** Every response that the state machine passes up (1xx, then the first final response). */
  onResponse(res: SipResponse): void;
  /** Timer F fired before any final response. */
  onTimeout(): void;
  /** The transport failed to send the request (§17.1.4); when absent, onTimeout is called instead. */
  onTransportError?(error?: unknown): void;
  /** The transaction reached Terminated; it must be forgotten. */
  onTerminated?(): void;
}

const EDGES: Readonly<Record<NonInviteClientState, readonly NonInviteClientState[]>> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Proceeding', 'Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteClientTransaction {
  readonly request: SipRequest;
  readonly destination: Peer;
  readonly #ctx: ClientContext;
  readonly #events: NonInviteClientEvents;
  readonly #state = new StateCell<NonInviteClientState>('NonInviteClientTransaction', 'Trying', EDGES);
  readonly #timers: TimerSet<'E' | 'F' | 'K'>;
  #retransmitInterval: number;

  /** Sends the request at once and arms Timers E (unreliable only) and F. */
  constructor(request: SipRequest, dest: Peer, ctx: ClientContext, events: NonInviteClientEvents) {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError(`NonInviteClientTransaction cannot send ${request.method}`);
    }
    this.request = request;
    this.destination = dest;
    this.#ctx = ctx;
    this.#events = events;
    this.#timers = new TimerSet(ctx.clock);
    this.#retransmitInterval = ctx.timers.T1;
    // §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client transaction with a request. When
    // entering this state, the client transaction SHOULD set timer F to fire in 64*T1 seconds."
    this.#timers.start('F', sixtyFourT1(ctx.timers), () => this.#onTimerF());
    // "If an unreliable transport is in use, the client transaction MUST set timer E to fire in T1 seconds."
    if (!ctx.reliable) this.#timers.start('E', this.#retransmitInterval, () => this.#onTimerE());
    // "The request MUST be passed to the transport layer for transmission."
    this.#transmit();
  }

  get state(): NonInviteClientState {
    return this.#state.value;
  }

  /** A response matched to this transaction (§17.1.3). */
  receiveResponse(res: SipResponse): void {
    const state = this.#state.value;
    // §17.1.2.2: "Once the client transaction enters the "Completed" state, it MUST set Timer K … any
    // retransmissions of the final response that are received while in the "Completed" state … are absorbed"
    if (state === 'Completed' || state === 'Terminated') return;
    if (!Number.isInteger(res.status) || res.status < 100 || res.status > 699) return;
    if (res.status < 200) {
      // "If a provisional response is received while in the "Trying" state, the response MUST be passed to the TU,
      // and then the client transaction SHOULD move to the "Proceeding" state."
      this.#state.moveTo('Proceeding', `${res.status} received`);
      this.#events.onResponse(res);
      return;
    }
    // "If a final response (status codes 200-699) is received while in the "Trying" state, the response MUST be
    // passed to the TU, and the client transaction MUST transition to the "Completed" state." (likewise from
    // "Proceeding")
    this.#state.moveTo('Completed', `${res.status} received`);
    this.#timers.cancel('E');
    this.#timers.cancel('F');
    this.#events.onResponse(res);
    // "Once the client transaction enters the "Completed" state, it MUST set Timer K to fire in T4 seconds for
    // unreliable transports, and zero seconds for reliable transports."
    if (this.#state.value === 'Completed') {
      this.#timers.start('K', this.#ctx.reliable ? 0 : this.#ctx.timers.T4, () => this.#terminate());
    }
  }

  /**
   * The transport failed to send the request. §17.1.4: "the client transaction SHOULD inform the TU that a
   * transport failure has occurred, and the client transaction SHOULD transition directly to the "Terminated" state."
   */
  transportError(error?: unknown): void {
    const state = this.#state.value;
    if (state === 'Terminated') return;
    this.#terminate(() => (this.#events.onTransportError ? this.#events.onTransportError(error) : this.#events.onTimeout()));
  }

  #onTimerE(): void {
    if (this.#state.value === 'Trying') {
      // §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but this time with a value of
      // MIN(2*T1, T2). When the timer fires again, it is reset to a MIN(4*T1, T2)."
      this.#retransmitInterval = nextRetransmitInterval(this.#retransmitInterval, this.#ctx.timers);
    } else {
      // "If Timer E fires while in the "Proceeding" state, the request MUST be passed to the transport layer for
      // retransmission, and Timer E MUST be reset with a value of T2 seconds."
      this.#retransmitInterval = this.#ctx.timers.T2;
    }
    this.#timers.start('E', this.#retransmitInterval, () => this.#onTimerE());
    this.#transmit();
  }

  #onTimerF(): void {
    // §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying" state, the client transaction
    // SHOULD inform the TU about the timeout, and then it SHOULD enter the "Terminated" state." ("If timer F fires
    // while in the "Proceeding" state, the TU MUST be informed of a timeout, and the client transaction MUST
    // transition to the terminated state.")
    this.#terminate(() => this.#events.onTimeout());
  }

  /** §17.1.2.2: "If Timer K fires while in this state, the client transaction MUST transition to the "Terminated" state." */
  #terminate(inform?: () => void): void {
    this.#state.moveTo('Terminated');
    this.#timers.cancelAll();
    inform?.();
    this.#events.onTerminated?.();
  }

  #transmit(): void {
    try {
      this.#ctx.send(this.request, this.destination);
    } catch (err) {
      this.transportError(err);
    }
  }
}
