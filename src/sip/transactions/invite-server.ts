/**
 * The INVITE server transaction of RFC 3261 §17.2.1 as amended by RFC 6026 §7.1 (Figure 7 there):
 *
 *                                 |INVITE
 *                                 |pass INV to TU, send 100
 *              INVITE             V
 *              send last 1xx +-----------+ 101-199 from TU
 *                   +--------|           |--------+ send response
 *                   +------->| Proceeding|<-------+
 *                            +-----------+
 *      300-699 from TU         |       |       2xx from TU
 *      send response           |       |       send response
 *            +-----------------+       +----------------+
 *            V                                          V
 *      +-----------+ INVITE / send response       +-----------+ INVITE: absorb
 *      | Completed | Timer G / send response      | Accepted  | 2xx from TU: send
 *      +-----------+                              +-----------+ ACK: to TU
 *         |      |  Timer H / inform TU                |
 *         | ACK  +------------------------+           | Timer L
 *         V                               V           V
 *      +-----------+  Timer I          +------------------+
 *      | Confirmed |------------------>|    Terminated    |
 *      +-----------+  (ACK: absorb)    +------------------+
 *
 * Any state but Terminated also goes to Terminated on a transport error (§17.2.4).
 */
import type { Clock } from '../../shared/clock.js';
import type { Peer, SipRequest, SipResponse } from '../message.js';
import { createResponse } from '../response.js';
import { assertStatusCode, Listeners, StateCell, TimerSet } from './machine.js';
import { nextRetransmitInterval, sixtyFourT1, type TimerValues } from './timers.js';

export type InviteServerState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

/** What a server transaction needs from the layer that owns it. */
export interface TransactionContext {
  clock: Clock;
  timers: TimerValues;
  /** §17: timers G, I, J depend on it; true for TCP. */
  reliable: boolean;
  send(res: SipResponse, source: Peer): void;
}

export interface InviteServerEvents {
  /** Timer H fired: "the ACK was never received" for our non-2xx final response. */
  onTimeout?(): void;
  /** The transport could not send a response (§17.2.4). */
  onTransportError?(error?: unknown): void;
  /** The transaction reached Terminated; it must be forgotten. */
  onTerminated?(): void;
}

const EDGES: Readonly<Record<InviteServerState, readonly InviteServerState[]>> = {
  Proceeding: ['Proceeding', 'Completed', 'Accepted', 'Terminated'],
  Completed: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Accepted: ['Terminated'],
  Terminated: [],
};

export class InviteServerTransaction {
  readonly request: SipRequest;
  readonly source: Peer;
  readonly #ctx: TransactionContext;
  readonly #state = new StateCell<InviteServerState>('InviteServerTransaction', 'Proceeding', EDGES);
  readonly #timers: TimerSet<'G' | 'H' | 'I' | 'L'>;
  readonly #listeners = new Listeners<InviteServerEvents>();
  #lastProvisional: SipResponse;
  #finalResponse: SipResponse | undefined;
  #retransmitInterval = 0;

  constructor(request: SipRequest, source: Peer, ctx: TransactionContext, events: InviteServerEvents = {}) {
    if (request.method !== 'INVITE') throw new TypeError(`InviteServerTransaction needs an INVITE, got ${request.method}`);
    this.request = request;
    this.source = source;
    this.#ctx = ctx;
    this.#timers = new TimerSet(ctx.clock);
    this.#listeners.add(events);
    // §17.2.1: "When a server transaction is constructed for a request, it enters the "Proceeding" state. The server
    // transaction MUST generate a 100 (Trying) response unless it knows that the TU will generate a provisional or
    // final response within 200 ms" — we cannot know that, so the 100 always goes out.
    this.#lastProvisional = createResponse(request, 100);
    this.#transmit(this.#lastProvisional);
  }

  get state(): InviteServerState {
    return this.#state.value;
  }

  /** The final response the TU passed down (the first one for 2xx), once there is one. */
  get finalResponse(): SipResponse | undefined {
    return this.#finalResponse;
  }

  /** Adds listeners (the TU of a transaction the layer created); returns a function removing them. */
  subscribe(events: InviteServerEvents): () => void {
    return this.#listeners.add(events);
  }

  /** A response from the TU. Throws TransactionStateError when the state machine has no such edge. */
  respond(res: SipResponse): void {
    assertStatusCode('InviteServerTransaction', res.status);
    if (res.status < 200) {
      // §17.2.1: "The TU passes any number of provisional responses to the server transaction. So long as the server
      // transaction is in the "Proceeding" state, each of these MUST be passed to the transport layer for transmission."
      this.#state.moveTo('Proceeding', `${res.status} from TU`);
      this.#lastProvisional = res;
      this.#transmit(res);
    } else if (res.status < 300) {
      if (this.#state.value === 'Accepted') {
        // RFC 6026 §7.1: "Any 2xx responses passed from the TU to the server transaction in the "Accepted" state
        // MUST be passed to the transport layer for transmission." (the TU's §13.3.1.4 retransmissions)
        this.#transmit(res);
        return;
      }
      // RFC 6026 §7.1: "If, while in the "Proceeding" state, the TU passes a 2xx response to the server transaction,
      // the server transaction MUST pass this response to the transport layer for transmission. It is not
      // retransmitted by the server transaction; retransmissions of 2xx responses are handled by the TU. The server
      // transaction MUST then transition to the "Accepted" state."
      this.#state.moveTo('Accepted', `${res.status} from TU`);
      this.#finalResponse = res;
      // RFC 6026 §8 (update of §17.2.1): "When the INVITE server transaction enters the "Accepted" state, Timer L MUST be set to fire
      // in 64*T1 for all transports."
      this.#timers.start('L', sixtyFourT1(this.#ctx.timers), () => this.#terminate());
      this.#transmit(res);
    } else {
      // §17.2.1: "While in the "Proceeding" state, if the TU passes a response with status code from 300 to 699 to
      // the server transaction, the response MUST be passed to the transport layer for transmission, and the state
      // machine MUST enter the "Completed" state."
      this.#state.moveTo('Completed', `${res.status} from TU`);
      this.#finalResponse = res;
      const t = this.#ctx.timers;
      // "For unreliable transports, timer G is set to fire in T1 seconds, and is not set to fire for reliable transports."
      if (!this.#ctx.reliable) {
        this.#retransmitInterval = t.T1;
        this.#timers.start('G', this.#retransmitInterval, () => this.#onTimerG());
      }
      // "When the "Completed" state is entered, timer H MUST be set to fire in 64*T1 seconds for all transports."
      this.#timers.start('H', sixtyFourT1(t), () => this.#onTimerH());
      this.#transmit(res);
    }
  }

  /**
   * A request that matched this transaction: a retransmitted INVITE or the ACK of a non-2xx response. Returns
   * false when the request is not the transaction's to consume — an ACK in Accepted state, which acknowledges a
   * 2xx and belongs to the dialog (RFC 6026 §7.1) — and true when it was absorbed or answered here.
   */
  receiveRequest(req: SipRequest, _source: Peer): boolean {
    const state = this.#state.value;
    if (req.method === 'ACK') {
      if (state === 'Accepted') return false;
      if (state === 'Completed') {
        // §17.2.1: "If an ACK is received while the server transaction is in the "Completed" state, the server
        // transaction MUST transition to the "Confirmed" state. As Timer G is ignored in this state, any
        // retransmissions of the response will cease."
        this.#state.moveTo('Confirmed', 'ACK');
        this.#timers.cancel('G');
        this.#timers.cancel('H');
        // "When this state is entered, timer I is set to fire in T4 seconds for unreliable transports, and zero
        // seconds for reliable transports."
        this.#timers.start('I', this.#ctx.reliable ? 0 : this.#ctx.timers.T4, () => this.#terminate());
      }
      // "The purpose of the "Confirmed" state is to absorb any additional ACK messages that arrive".
      return true;
    }
    if (state === 'Proceeding') {
      // §17.2.1: "If a request retransmission is received while in the "Proceeding" state, the most recent provisional
      // response that was received from the TU MUST be passed to the transport layer for retransmission."
      this.#transmit(this.#lastProvisional);
    } else if (state === 'Completed') {
      // "Furthermore, while in the "Completed" state, if a request retransmission is received, the server SHOULD
      // pass the response to the transport for retransmission."
      this.#transmit(this.#finalResponse!);
    }
    // RFC 6026 §7.1: "While in the "Accepted" state, any retransmissions of the INVITE received will match this
    // transaction state machine and will be absorbed by the machine without changing its state. These
    // retransmissions are not passed onto the TU." Confirmed and Terminated absorb them likewise.
    return true;
  }

  /**
   * The transport failed to deliver a response. §17.2.4: "the server transaction … SHOULD inform the TU that a
   * failure has occurred, and SHOULD transition to the terminated state."
   */
  transportError(error?: unknown): void {
    if (this.#state.value === 'Terminated') return;
    this.#terminate(() => this.#listeners.emit('onTransportError', error));
  }

  #onTimerG(): void {
    // §17.2.1: "If timer G fires, the response is passed to the transport layer once more for retransmission, and
    // timer G is set to fire in MIN(2*T1, T2) seconds. From then on, when timer G fires, the response is passed to
    // the transport again for transmission, and timer G is reset with a value that doubles, unless that value
    // exceeds T2, in which case it is reset with the value of T2."
    this.#retransmitInterval = nextRetransmitInterval(this.#retransmitInterval, this.#ctx.timers);
    this.#timers.start('G', this.#retransmitInterval, () => this.#onTimerG());
    this.#transmit(this.#finalResponse!);
  }

  #onTimerH(): void {
    // §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK was never received. In this
    // case, the server transaction MUST transition to the "Terminated" state, and MUST indicate to the TU that a
    // transaction failure has occurred."
    this.#terminate(() => this.#listeners.emit('onTimeout'));
  }

  /** Enters Terminated: timers cancelled first, then `inform` (failure to the TU), then onTerminated. */
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
