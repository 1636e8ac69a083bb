/**
 * The UAS core (RFC 3261 §8.2, §12, §13.3, §15): takes requests from the transaction layer, validates them,
 * routes in-dialog requests to their dialog, answers OPTIONS / CANCEL / unknown methods, and hands new INVITEs
 * to the application through the 'invite' event (an IncomingInvite). The requests we send go through its
 * RequestSender (request-sender.ts).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Peer, SipMessage, SipRequest, SipResponse, TransportName } from './message.js';
import { createNotAcceptableHere, createResponse } from './response.js';
import { getTag, parseCSeq } from './headers.js';
import { dialogKey, newTag, type UasDialogState } from './dialog.js';
import { SipDialog, type DialogHost } from './sip-dialog.js';
import { IncomingInvite } from './incoming-invite.js';
import { negotiateOffer, SdpNegotiationError, type OfferNegotiation } from './sdp.js';
import { sdpOf } from './body.js';
import { resolveTimers, type TimerValues } from './transactions/timers.js';
import { TransactionLayer } from './transactions/transaction-layer.js';
import type { InviteServerTransaction } from './transactions/invite-server.js';
import type { SipTransport } from './transport/transport.js';
import { checkRequest } from './request-checks.js';
import type { AdmissionControl, CallTicket } from './admission.js';
import { RequestSender, type OutgoingExtras } from './request-sender.js';

/** Methods we implement (Allow, §20.5). */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'SUBSCRIBE'] as const;
/** Event packages we notify (RFC 6665 §8.2.2, Allow-Events): RFC 3842 message-summary (src/mwi/). */
export const ALLOWED_EVENTS = ['message-summary'] as const;
/** Methods we know of but do not support: 405 with Allow (§8.2.1). Anything else is 501 (§21.5.2). */
const KNOWN_METHODS = new Set(['REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'UPDATE', 'MESSAGE', 'REFER', 'PUBLISH']);
export const ACCEPTED_BODIES = ['application/sdp', 'application/dtmf-relay', 'application/dtmf'];

export interface UserAgentOptions {
  transport: SipTransport;
  logger: Logger;
  clock?: Clock;
  timers?: Partial<TimerValues>;
  /** User part of our Contact URI. */
  contactUser?: string;
  /** Host to advertise in Contact and Via (defaults to the transport's address). */
  publicHost?: string;
  serverName?: string;
  /** Per-source rate and half-open limits, global caps, scanner drops (none when absent). */
  admission?: AdmissionControl;
}

/** Takes every SUBSCRIBE (new or in a subscription dialog) once the generic checks passed; answers it on `tx`. */
export type SubscribeHandler = (req: SipRequest, source: Peer, tx: { respond(res: SipResponse): void }) => void;

export declare interface SipUserAgent {
  on(event: 'invite', listener: (invite: IncomingInvite) => void): this;
}

/** The ticket of an INVITE when no admission control is configured. */
const NO_TICKET: CallTicket = { confirmed: true, ended: false, confirm: () => {}, end: () => {} };

export class SipUserAgent extends EventEmitter implements DialogHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly logger: Logger;
  readonly #transport: SipTransport;
  readonly #layer: TransactionLayer;
  readonly #sender: RequestSender;
  readonly #dialogs = new Map<string, SipDialog>();
  readonly #invites = new Map<object, IncomingInvite>();
  readonly #opts: UserAgentOptions;
  /** Set by drain(): the Retry-After (seconds) of the 503 that new INVITEs and OPTIONS get. */
  #drainRetryAfter: number | undefined;
  #subscribeHandler: SubscribeHandler | undefined;
  #registerHandler: ((req: SipRequest, source: Peer, tx: { respond(res: SipResponse): void }) => boolean) | undefined;

  constructor(opts: UserAgentOptions) {
    super();
    this.#opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.timers = resolveTimers(opts.timers);
    this.logger = opts.logger;
    this.#transport = opts.transport;
    this.#layer = new TransactionLayer({
      clock: this.clock,
      timers: this.timers,
      send: (msg, dest) => this.#transport.send(msg, dest),
      sendResponse: (res, source) => this.#transport.sendResponse(res, source),
      logger: this.logger,
    });
    this.#sender = new RequestSender({
      transport: this.#transport,
      layer: this.#layer,
      logger: this.logger,
      contactUri: (transport) => this.#contactUri(transport),
      serverName: opts.serverName ?? 'repondeur',
      ...(opts.publicHost !== undefined ? { publicHost: opts.publicHost } : {}),
    });
    this.#transport.on('message', (msg: SipMessage, source: Peer) => this.#receive(msg, source));
    // §8.1.3.1 / §17.1.4 / §17.2.4: transport failures reach the transactions that were using that peer.
    this.#transport.on('transportError', (dest: Peer, err: Error) => this.#layer.transportError(dest, err));
  }

  /** Live dialogs (for tests, metrics and shutdown). */
  get dialogCount(): number {
    return this.#dialogs.size;
  }

  get transactionCount(): number {
    return this.#layer.size;
  }

  #receive(msg: SipMessage, source: Peer): void {
    try {
      if (msg.kind === 'response') {
        this.#layer.receiveResponse(msg, source);
        return;
      }
      this.#receiveRequest(msg, source);
    } catch (err) {
      this.logger.error({ err, callId: msg.headers.get('Call-ID') }, 'error while handling a SIP message');
    }
  }

  #receiveRequest(req: SipRequest, source: Peer): void {
    if (!this.#admitRequest(req, source)) return;
    const outcome = this.#layer.receiveRequest(req, source);
    if (outcome.kind === 'handled') return;
    if (outcome.kind === 'invalid') {
      // §8.2 / §21.4.1: a request we cannot even match to a transaction is answered 400 with what is wrong
      // (never for an ACK, which gets no response, §17.1.1.3).
      if (req.method !== 'ACK') {
        const res = createResponse(req, 400, `Bad Request (${outcome.reason})`.slice(0, 120), newTag());
        res.headers.append('Warning', `399 repondeur "${outcome.reason.replace(/"/g, "'")}"`);
        try {
          this.#transport.sendResponse(res, source);
        } catch (err) {
          this.logger.debug({ err: (err as Error).message }, 'cannot route a 400 for an unmatchable request');
        }
      }
      return;
    }
    const cseq = parseCSeq(req.headers.get('CSeq') ?? '');
    if (outcome.kind === 'ack-2xx') {
      // §17.2.3 / RFC 6026: the ACK for a 2xx is not part of the INVITE transaction; it goes to the dialog.
      const dialog = this.#findDialog(req);
      dialog?.receiveAck(req, cseq.seq);
      return;
    }
    const tx = outcome.tx;
    const respond = (status: number, reason?: string, headers: Record<string, string> = {}): void => {
      const res = createResponse(req, status, reason, getTag(req.headers.get('To') ?? '') ? undefined : newTag());
      for (const [k, v] of Object.entries(headers)) res.headers.append(k, v);
      tx.respond(res);
    };

    const problem = checkRequest(req);
    if (problem) {
      respond(problem.status, problem.reason, problem.headers);
      return;
    }

    if (req.method === 'CANCEL') return this.#receiveCancel(req, respond);
    if (req.method === 'SUBSCRIBE' && this.#subscribeHandler) return this.#subscribeHandler(req, source, tx);
    if (req.method === 'REGISTER' && this.#registerHandler?.(req, source, tx)) return;

    const toTag = getTag(req.headers.get('To') ?? '');
    if (toTag) return this.#receiveInDialog(req, source, cseq.seq, tx, respond);

    // §21.5.4: 503 "The server is temporarily unable to process the request due to a temporary overloading or
    // maintenance of the server. ... the server MAY indicate when the client should retry the request in a
    // Retry-After header field." Proxies probing with OPTIONS take the 503 as "stop routing here".
    if (this.#drainRetryAfter !== undefined && (req.method === 'INVITE' || req.method === 'OPTIONS')) {
      return respond(503, 'Service Unavailable', { 'Retry-After': String(this.#drainRetryAfter) });
    }
    switch (req.method) {
      case 'INVITE':
        return this.#receiveInvite(req, source, cseq.seq, tx as InviteServerTransaction, respond);
      case 'OPTIONS':
        // §11.2: "The response to an OPTIONS is constructed using the standard rules for a SIP response ... Allow,
        // Accept, Accept-Encoding, Accept-Language, and Supported header fields SHOULD be present".
        return respond(200, 'OK', this.#capabilities());
      case 'BYE':
      case 'INFO':
        // §15.1.2: "If the BYE does not match an existing dialog, the UAS core SHOULD generate a 481".
        return respond(481, 'Call/Transaction Does Not Exist');
      default:
        return this.#rejectMethod(req, respond);
    }
  }

  #capabilities(): Record<string, string> {
    return {
      Allow: ALLOWED_METHODS.join(', '),
      'Allow-Events': ALLOWED_EVENTS.join(', '),
      Accept: ACCEPTED_BODIES.join(', '),
      'Accept-Encoding': 'identity',
      'Accept-Language': 'fr, en',
      Server: this.#opts.serverName ?? 'repondeur',
    };
  }

  #rejectMethod(req: SipRequest, respond: (s: number, r?: string, h?: Record<string, string>) => void): void {
    // §8.2.1: "If the UAS recognizes but does not support the method of a request, it MUST generate a 405 (Method
    // Not Allowed) response ... The UAS MUST also add an Allow header field to the 405 (Method Not Allowed) response."
    // §21.5.2: 501 "is the appropriate response when a UAS does not recognize the request method".
    const known = KNOWN_METHODS.has(req.method);
    respond(known ? 405 : 501, known ? 'Method Not Allowed' : 'Not Implemented', { Allow: ALLOWED_METHODS.join(', ') });
  }

  #receiveCancel(req: SipRequest, respond: (s: number, r?: string) => void): void {
    // §9.2: "If the UAS did not find a matching transaction for the CANCEL according to the procedure above, it
    // SHOULD respond to the CANCEL with a 481 (Call Leg/Transaction Does Not Exist). ... Regardless of the method
    // of the original request, as long as the CANCEL matched an existing transaction, the UAS answers the CANCEL
    // request itself with a 200 (OK) response."
    const inviteTx = this.#layer.findInviteTransactionForCancel(req);
    if (!inviteTx) return respond(481, 'Call/Transaction Does Not Exist');
    respond(200, 'OK');
    const invite = this.#invites.get(inviteTx);
    if (invite) {
      invite.cancel();
      this.#invites.delete(inviteTx);
    }
  }

  #receiveInvite(req: SipRequest, source: Peer, seq: number, tx: InviteServerTransaction, respond: (s: number, r?: string, h?: Record<string, string>) => void): void {
    let offer: string | undefined;
    try {
      offer = sdpOf(req);
    } catch (err) {
      return respond(400, `Bad Request (${(err as Error).message})`.slice(0, 120));
    }
    let negotiation: OfferNegotiation | undefined;
    if (offer !== undefined) {
      // The offer is negotiated once, here, before the application spends an RTP port on it; `accept` only writes
      // the answer. §13.3.1.3 / RFC 3264 §6: an offer we cannot take gets 488.
      try {
        negotiation = negotiateOffer(offer);
      } catch (err) {
        if (!(err instanceof SdpNegotiationError)) throw err;
        return tx.respond(createNotAcceptableHere(req, err, newTag()));
      }
    }
    const ticket = this.#admitInvite(req, source, respond);
    if (!ticket) return;
    const callId = req.headers.get('Call-ID') ?? '';
    const logger = this.logger.child({ callId });
    let dialogCreated = false;
    const invite = new IncomingInvite(req, source, tx, seq, this, logger, (d) => {
      this.#dialogs.set(d.state.key, d);
      dialogCreated = true;
      // Half-open until the ACK of our 2xx; a call until the dialog ends (BYE, or BYE after 64*T1 without ACK).
      d.once('ack', () => ticket.confirm());
      d.once('terminated', () => ticket.end());
    }, negotiation);
    this.#invites.set(tx, invite);
    tx.subscribe({
      onTerminated: () => {
        this.#invites.delete(tx);
        // Rejected, cancelled or never answered: the attempt ends with its transaction (Timer H, I or L).
        if (!dialogCreated) ticket.end();
      },
    });
    logger.info({ from: req.headers.get('From'), to: req.headers.get('To'), uri: req.uri, transport: source.transport }, 'incoming INVITE');
    if (this.listenerCount('invite') === 0) {
      invite.reject(480, 'Temporarily Unavailable');
      return;
    }
    this.emit('invite', invite);
  }

  /** Admission's cheap per-request check, before any transaction is created: true to go on. */
  #admitRequest(req: SipRequest, source: Peer): boolean {
    const admission = this.#opts.admission;
    if (!admission) return true;
    const verdict = admission.checkRequest(req.method, req.headers.get('User-Agent'), source.address);
    if (verdict.kind === 'accept') return true;
    if (verdict.kind === 'reject' && req.method !== 'ACK') {
      // RFC 3261 §21.5.4: 503 "The server MAY indicate when the client should retry the request in a Retry-After
      // header field." Sent statelessly (§8.2.7), so that a flood creates no transaction.
      const res = createResponse(req, 503, verdict.reason, getTag(req.headers.get('To') ?? '') ? undefined : newTag());
      res.headers.append('Retry-After', String(verdict.retryAfterSeconds));
      try {
        this.#transport.sendResponse(res, source);
      } catch (err) {
        this.logger.debug({ err: (err as Error).message }, 'cannot route a 503 for a rate-limited request');
      }
    }
    return false;
  }

  /** Admission's per-source half-open and global caps for a new INVITE: its ticket, or undefined once refused (503). */
  #admitInvite(req: SipRequest, source: Peer, respond: (s: number, r?: string, h?: Record<string, string>) => void): CallTicket | undefined {
    const admission = this.#opts.admission;
    if (!admission) return NO_TICKET;
    const verdict = admission.admitInvite(source.address);
    if (verdict.kind === 'accept') return verdict.ticket;
    this.logger.debug({ callId: req.headers.get('Call-ID'), source: source.address, reason: verdict.reason }, 'INVITE refused by admission control');
    respond(503, verdict.reason, { 'Retry-After': String(verdict.retryAfterSeconds) });
    return undefined;
  }

  #findDialog(req: SipRequest): SipDialog | undefined {
    const callId = req.headers.get('Call-ID') ?? '';
    const localTag = getTag(req.headers.get('To') ?? '') ?? '';
    const remoteTag = getTag(req.headers.get('From') ?? '') ?? '';
    return this.#dialogs.get(dialogKey(callId, localTag, remoteTag));
  }

  #receiveInDialog(req: SipRequest, source: Peer, seq: number, tx: { respond(res: SipResponse): void }, respond: (s: number, r?: string, h?: Record<string, string>) => void): void {
    const dialog = this.#findDialog(req);
    // §12.2.2: "If the UAS wishes to reject the request because it does not wish to recreate the dialog, it MUST
    // respond to the request with a 481 (Call/Transaction Does Not Exist) status code".
    if (!dialog) return respond(481, 'Call/Transaction Does Not Exist');
    if (!dialog.state.acceptSequence(seq, req.method)) return respond(500, 'Out Of Order CSeq', { 'Retry-After': '1' });
    switch (req.method) {
      case 'BYE':
        respond(200, 'OK');
        dialog.receiveBye();
        return;
      case 'INVITE':
        dialog.receiveReinvite(tx, req, seq, source);
        return;
      case 'INFO':
        respond(200, 'OK');
        dialog.emit('info', req);
        return;
      case 'OPTIONS':
        return respond(200, 'OK', this.#capabilities());
      default:
        return this.#rejectMethod(req, respond);
    }
  }

  // ---- DialogHost -------------------------------------------------------------------------------------------

  sendResponse(res: SipResponse, peer: Peer): void {
    this.#transport.sendResponse(res, peer);
  }

  decorate(res: SipResponse, peer: Peer): void {
    res.headers.set('Contact', `<${this.#contactUri(peer.transport)}>`);
    res.headers.set('Allow', ALLOWED_METHODS.join(', '));
    res.headers.set('Server', this.#opts.serverName ?? 'repondeur');
  }

  #contactUri(transport: TransportName): string {
    const host = this.#opts.publicHost || this.#transport.address;
    const h = host.includes(':') ? `[${host}]` : host;
    const t = transport === 'TCP' ? ';transport=tcp' : '';
    return `sip:${this.#opts.contactUser ?? 'repondeur'}@${h}:${this.#transport.port}${t}`;
  }

  /** Offers every REGISTER to `handler`; it answers and returns true, or returns false for the usual 405. */
  onRegister(handler: (req: SipRequest, source: Peer, tx: { respond(res: SipResponse): void }) => boolean): void {
    this.#registerHandler = handler;
  }

  /** Routes every SUBSCRIBE to `handler` (the MWI notifier); without one SUBSCRIBE gets 405 as before. */
  onSubscribe(handler: SubscribeHandler): void {
    this.#subscribeHandler = handler;
  }

  /** Sends `method` in the dialog (BYE, NOTIFY); resolves with its final response, or null (timeout, no route). */
  sendInDialog(dialog: UasDialogState, method: string, extra: OutgoingExtras = {}): Promise<SipResponse | null> {
    return this.#sender.sendInDialog(dialog, method, extra);
  }

  /** Sends an out-of-dialog request to `targetUri` (the unsolicited MWI NOTIFY): see RequestSender.sendOutOfDialog. */
  sendOutOfDialog(method: string, targetUri: string, extra: OutgoingExtras & { from: string }): Promise<SipResponse | null> {
    return this.#sender.sendOutOfDialog(method, targetUri, extra);
  }

  forget(dialog: SipDialog): void {
    this.#dialogs.delete(dialog.state.key);
  }

  /** Shutdown, first step: new INVITEs and out-of-dialog OPTIONS get 503 with Retry-After; dialogs go on. */
  drain(retryAfterSeconds: number): void {
    this.#drainRetryAfter = Math.max(0, Math.round(retryAfterSeconds));
  }

  get draining(): boolean {
    return this.#drainRetryAfter !== undefined;
  }

  /** Ends every dialog with BYE (process shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#dialogs.values()].map((d) => d.shutdown()));
  }
}
