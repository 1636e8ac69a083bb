/**
 * The non-INVITE server transaction of RFC 3261 §17.2.2 (Figure 8):
 *
 *                           |Request received
 *                           |pass to TU
 *                           V
 *                     +-----------+
 *                     |           |
 *                     | Trying    |-------------+
 *                     |           |             |
 *                     +-----------+             |200-699 from TU
 *                           |                   |send response
 *                           |1xx from TU        |
 *                           |send response      |
 *                           |                   |
 *        Request            V      1xx from TU  |
 *        send response+-----------+send response|
 *            +--------|           |--------+    |
 *            |        | Proceeding|        |    |
 *            +------->|           |<-------+    |
 *     +<--------------|           |             |
 *     |Trnsprt Err    +-----------+             |
 *     |Inform TU            |                   |
 *     |                     |                   |
 *     |                     |200-699 from TU    |
 *     |                     |send response      |
 *     |  Request            V                   |
 *     |  send response+-----------+             |
 *     |      +--------|           |             |
 *     |      |        | Completed |<------------+
 *     |      +------->|           |
 *     +<--------------|           |
 *     |Trnsprt Err    +-----------+
 *     |Inform TU            |
 *     |                     |Timer J fires
 *     |                     |-
 *     |                     |
 *     |                     V
 *     |               +-----------+
 *     |               |           |
 *     +-------------->| Terminated|
 *                     |           |
 *                     +-----------+
 */
import type { Peer, SipRequest, SipResponse } from '../message.js';
import type { TransactionContext } from './invite-server.js';
import { assertStatusCode, Listeners, StateCell, TimerSet } from './machine.js';
import { sixtyFourT1 } from './timers.js';

export type NonInviteServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export interface NonInviteServerEvents {
  /** The transport could not send a response (§17.2.4). */
  onTransportError?(error?: unknown): void;
  /** The transaction reached Terminated; it must be forgotten. */
  onTerminated?(): void;
}

const EDGES: Readonly<Record<NonInviteServerState, readonly NonInviteServerState[]>> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Proceeding', 'Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

export class NonInviteServerTransaction {
  readonly request: SipRequest;
  readonly source: Peer;
  readonly #ctx: TransactionContext;
  readonly #state = new StateCell<NonInviteServerState>('NonInviteServerTransaction', 'Trying', EDGES);
  readonly #timers: TimerSet<'J'>;
  readonly #listeners = new Listeners<NonInviteServerEvents>();
  #lastResponse: SipResponse | undefined;

  constructor(request: SipRequest, source: Peer, ctx: TransactionContext, events: NonInviteServerEvents = {}) {
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError(`NonInviteServerTransaction cannot serve ${request.method}`);
    }
    this.request = request;
    this.source = source;
    this.#ctx = ctx;
    this.#timers = new TimerSet(ctx.clock);
    this.#listeners.add(events);
    // §17.2.2: "The state machine is initialized in the "Trying" state and is passed a request other than INVITE or
    // ACK when initialized."
  }

  get state(): NonInviteServerState {
    return this.#state.value;
  }

  /** The last response passed down by the TU, if any. */
  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  /** Adds listeners (the TU of a transaction the layer created); returns a function removing them. */
  subscribe(events: NonInviteServerEvents): () => void {
    return this.#listeners.add(events);
  }

  /**
   * A response from the TU. Final responses after the first are discarded (§17.2.2); any response after
   * termination throws TransactionStateError.
   */
  respond(res: SipResponse): void {
    assertStatusCode('NonInviteServerTransaction', res.status);
    const state = this.#state.value;
    if (state === 'Completed') {
      // §17.2.2: "Any other final responses passed by the TU to the server transaction MUST be discarded while in the
      // "Completed" state."
      if (res.status >= 200) return;
      this.#state.reject('Proceeding', `${res.status} from TU after the final response`);
    }
    if (res.status < 200) {
      // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response to the server transaction, the
      // server transaction MUST enter the "Proceeding" state. The response MUST be passed to the transport layer for
      // transmission. Any further provisional responses that are received from the TU while in the "Proceeding"
      // state MUST be passed to the transport layer for transmission."
      this.#state.moveTo('Proceeding', `${res.status} from TU`);
      this.#lastResponse = res;
      this.#transmit(res);
      return;
    }
    // "If the TU passes a final response (status codes 200-699) to the server while in the "Proceeding" state, the
    // transaction MUST enter the "Completed" state, and the response MUST be passed to the transport layer for
    // transmission." (the same holds from "Trying", Figure 8)
    this.#state.moveTo('Completed', `${res.status} from TU`);
    this.#lastResponse = res;
    // "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in 64*T1 seconds for
    // unreliable transports, and zero seconds for reliable transports."
    const j = this.#ctx.reliable ? 0 : sixtyFourT1(this.#ctx.timers);
    this.#transmit(res);
    if (this.#state.value === 'Completed') this.#timers.start('J', j, () => this.#terminate());
  }

  /** A retransmission of the request that created the transaction: absorbed or answered, never passed to the TU. */
  receiveRequest(_req: SipRequest, _source: Peer): void {
    switch (this.#state.value) {
      case 'Trying':
        // §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded."
        return;
      case 'Proceeding':
        // "If a retransmission of the request is received while in the "Proceeding" state, the most recently sent
        // provisional response MUST be passed to the transport layer for retransmission."
        this.#transmit(this.#lastResponse!);
        return;
      case 'Completed':
        // "While in the "Completed" state, the server transaction MUST pass the final response to the transport layer
        // for retransmission whenever a retransmission of the request is received."
        this.#transmit(this.#lastResponse!);
        return;
      case 'Terminated':
        return;
    }
  }

  /**
   * The transport failed to deliver a response. §17.2.4: "the server transaction … SHOULD inform the TU that a
   * failure has occurred, and SHOULD transition to the terminated state."
   */
  transportError(error?: unknown): void {
    if (this.#state.value === 'Terminated') return;
    this.#terminate(() => this.#listeners.emit('onTransportError', error));
  }

  /**
   * §17.2.2: "The server transaction remains in this state until Timer J fires, at which point it MUST transition
   * to the "Terminated" state." Timers are cancelled before the TU hears of it.
   */
  #terminate(inform?: () => void): void {
    this.#state.moveTo('Terminated');
    this.#timers.cancelAll();
    inform?.();
    this.#listeners.emit('onTerminated');
  }

  #transmit(res: SipResponse): void {
    try {
      this.#ctx.send(res, this.source);
    } catch (err) {
      this.transportError(err);
    }
  }
}
