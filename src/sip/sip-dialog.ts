/**
 * A confirmed UAS dialog at run time (RFC 3261 §12–§15): 2xx retransmission until ACK (§13.3.1.4), BYE in both
 * directions (§15), re-INVITE (§14), INFO (RFC 6086). The application sees it as an EventEmitter:
 *   'ack'        (ack: SipRequest)              the ACK for our 2xx arrived (its body holds the answer for a late offer);
 *                                               the user agent's admission control listens: the call stops being half-open
 *   'info'       (req: SipRequest)              an INFO within the dialog (already answered 200)
 *   'reoffer'    (media: NegotiatedMedia)       a re-INVITE changed the session (hold/unhold, new address)
 *   'terminated' (reason: DialogEndReason)      the dialog is over; emitted exactly once
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import type { Clock, Timer } from '../shared/clock.js';
import type { SipRequest, SipResponse, Peer } from './message.js';
import { createNotAcceptableHere, createResponse } from './response.js';
import type { UasDialogState } from './dialog.js';
import type { TimerValues } from './transactions/timers.js';
import { answerOffer, createOffer, readAnswer, SdpNegotiationError, type LocalMedia, type NegotiatedMedia } from './sdp.js';
import { sdpOf } from './body.js';

export type DialogEndReason = 'remote-bye' | 'local-bye' | 'ack-timeout' | 'bad-answer' | 'shutdown';

/** What a dialog needs from the user agent that owns it. */
export interface DialogHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  sendResponse(res: SipResponse, peer: Peer): void;
  /** Sends a request within the dialog through a non-INVITE client transaction; resolves with the final response or null on timeout. */
  sendInDialog(dialog: UasDialogState, method: string): Promise<SipResponse | null>;
  /**
   * Adds our Contact, Allow and Server headers to a response that establishes or refreshes the dialog. No Supported
   * header: we implement no option tag (no 100rel, timer, replaces…), and §20.37 "If empty, it means that no
   * extensions are supported" says no more than its absence does.
   */
  decorate(res: SipResponse, peer: Peer): void;
  forget(dialog: SipDialog): void;
}

/** A server INVITE transaction as seen by the dialog: it can be answered. */
export interface InviteResponder {
  respond(res: SipResponse): void;
}

interface Pending2xx {
  res: SipResponse;
  cseq: number;
  offeredInResponse: boolean;
  retransmit?: Timer;
  giveUp?: Timer;
}

export class SipDialog extends EventEmitter {
  readonly state: UasDialogState;
  readonly logger: Logger;
  readonly #host: DialogHost;
  #local: LocalMedia;
  #media: NegotiatedMedia | undefined;
  /** The 2xx waiting for its ACK, with the CSeq number of its INVITE. */
  #pending2xx: Pending2xx | undefined;
  /** A BYE the application asked for while our 2xx still waited for its ACK (§15: it must wait). */
  #deferredBye: { reason: DialogEndReason; resolve: () => void; done: Promise<void> } | undefined;
  #ended = false;

  constructor(state: UasDialogState, host: DialogHost, local: LocalMedia, media: NegotiatedMedia | undefined, logger: Logger) {
    super();
    this.state = state;
    this.#host = host;
    this.#local = local;
    this.#media = media;
    this.logger = logger;
  }

  get callId(): string {
    return this.state.callId;
  }

  /** The media both sides agreed on (undefined until the ACK brings the answer of a late offer). */
  get media(): NegotiatedMedia | undefined {
    return this.#media;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Sends a 2xx to an INVITE of this dialog and retransmits it until the ACK comes.
   * §13.3.1.4: "The 2xx response is passed to the transport with an interval that starts at T1 seconds and doubles
   * for each retransmission until it reaches T2 seconds ... The response MUST be retransmitted until an ACK is
   * received ... If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog
   * is confirmed, but the session SHOULD be terminated. This is accomplished with a BYE."
   * Over a reliable transport the transport delivers the 2xx; we only keep the 64*T1 guard (§17.1.1.2 Timer B idea).
   */
  send2xx(tx: InviteResponder, res: SipResponse, cseq: number, peer: Peer, offeredInResponse: boolean): void {
    const { clock, timers } = this.#host;
    this.#cancelPending();
    tx.respond(res);
    const pending: Pending2xx = { res, cseq, offeredInResponse };
    this.#pending2xx = pending;
    if (peer.transport === 'UDP') {
      let interval = timers.T1;
      const again = (): void => {
        if (this.#pending2xx !== pending) return;
        this.#host.sendResponse(res, peer);
        interval = Math.min(interval * 2, timers.T2);
        pending.retransmit = clock.setTimer(interval, again);
      };
      pending.retransmit = clock.setTimer(interval, again);
    }
    pending.giveUp = clock.setTimer(64 * timers.T1, () => {
      if (this.#pending2xx !== pending) return;
      this.logger.warn({ cseq }, 'no ACK for our 2xx after 64*T1: ending the session with BYE');
      this.#cancelPending();
      void this.bye('ack-timeout');
    });
  }

  /** True while our 2xx waits for its ACK. */
  get awaitingAck(): boolean {
    return this.#pending2xx !== undefined;
  }

  #cancelPending(): void {
    this.#pending2xx?.retransmit?.cancel();
    this.#pending2xx?.giveUp?.cancel();
    this.#pending2xx = undefined;
  }

  /** An ACK matched this dialog (§13.3.1.4 / §17.1.1.3: the ACK for a 2xx is a transaction of its own). */
  receiveAck(ack: SipRequest, cseq: number): void {
    const pending = this.#pending2xx;
    if (!pending || pending.cseq !== cseq) return; // a retransmitted ACK: nothing to do
    this.#cancelPending();
    if (pending.offeredInResponse) {
      // §13.2.1 / RFC 3264: with an offer in our 2xx, "the answer MUST be in the ACK".
      try {
        const answer = sdpOf(ack);
        if (answer === undefined) throw new SdpNegotiationError('ACK carries no SDP answer to our offer', 304);
        this.#media = readAnswer(answer);
        this.emit('reoffer', this.#media);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'unusable answer in ACK: ending the session');
        this.emit('ack', ack);
        void this.bye('bad-answer');
        return;
      }
    }
    this.emit('ack', ack);
    if (this.#deferredBye && !this.#ended) void this.bye(this.#deferredBye.reason);
  }

  /**
   * A re-INVITE within the dialog (§14.2). We answer re-INVITEs at once, so the §14.2 case of "a second INVITE
   * before [we send] the final response to a first INVITE" (500 + Retry-After) cannot arise. But while our 2xx to
   * the previous INVITE still waits for its ACK, that offer/answer exchange is incomplete (RFC 3264 §4: "an agent
   * MUST NOT generate a new offer until it has received an answer"), so a new offer collides with it and is
   * refused as glare: 491 (Request Pending), §14.2 / §21.4.27.
   */
  receiveReinvite(tx: InviteResponder, req: SipRequest, cseq: number, peer: Peer): void {
    if (this.#pending2xx) {
      tx.respond(createResponse(req, 491, 'Request Pending'));
      return;
    }
    this.state.refreshTarget(req);
    this.#local = { ...this.#local, sessionVersion: this.#local.sessionVersion + 1 };
    let body: string;
    let offeredInResponse = false;
    let offer: string | undefined;
    try {
      offer = sdpOf(req);
    } catch (err) {
      tx.respond(createResponse(req, 400, `Bad Request (${(err as Error).message})`.slice(0, 120)));
      return;
    }
    if (offer !== undefined) {
      let negotiated: { answer: string; media: NegotiatedMedia };
      try {
        negotiated = answerOffer(offer, this.#local);
      } catch (err) {
        if (!(err instanceof SdpNegotiationError)) throw err;
        // RFC 3261 §14.2: "If the UAS ... rejects the offer, it MUST ... return a 488 ... the session is unchanged."
        tx.respond(createNotAcceptableHere(req, err));
        return;
      }
      body = negotiated.answer;
      this.#media = negotiated.media;
      this.emit('reoffer', negotiated.media);
    } else {
      body = createOffer(this.#local);
      offeredInResponse = true;
    }
    const res = createResponse(req, 200, 'OK', this.state.localTag);
    res.headers.append('Content-Type', 'application/sdp');
    res.body = Buffer.from(body);
    this.#host.decorate(res, peer);
    this.send2xx(tx, res, cseq, peer, offeredInResponse);
  }

  /** BYE from the peer (§15.1.2): answered 200 by the caller; ends the dialog. */
  receiveBye(): void {
    this.#end('remote-bye');
  }

  /**
   * Ends the session from our side (§15.1.1): "The UAC MUST consider the session terminated (and therefore stop
   * sending or listening for media) as soon as the BYE request is passed to the client transaction."
   */
  async bye(reason: DialogEndReason = 'local-bye'): Promise<void> {
    if (this.#ended) return;
    // §15: "The callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its 2xx
    // response or until the server transaction times out." The 2xx keeps being retransmitted meanwhile
    // (§13.3.1.4); the BYE leaves on the ACK, or at 64*T1. Process shutdown does not wait.
    if (this.#pending2xx && reason !== 'shutdown') {
      if (!this.#deferredBye) {
        let resolve!: () => void;
        const done = new Promise<void>((r) => (resolve = r));
        this.#deferredBye = { reason, resolve, done };
        this.logger.info({ reason }, 'BYE held until the ACK of our 2xx (or 64*T1)');
      }
      return this.#deferredBye.done;
    }
    this.#cancelPending();
    const sending = this.#host.sendInDialog(this.state, 'BYE');
    this.#end(reason);
    const res = await sending;
    if (!res) this.logger.info('BYE got no response (Timer F)');
  }

  #end(reason: DialogEndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#deferredBye?.resolve();
    this.#deferredBye = undefined;
    this.#cancelPending();
    this.state.terminate();
    this.#host.forget(this);
    this.emit('terminated', reason);
  }

  /** Process shutdown: send BYE and forget. */
  shutdown(): Promise<void> {
    return this.bye('shutdown');
  }
}
