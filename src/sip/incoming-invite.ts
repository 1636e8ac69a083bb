/**
 * A dialog-creating INVITE waiting for the application's decision (RFC 3261 §13.3.1): ring, reject, redirect,
 * or accept with an SDP answer (or an offer when the INVITE had none). `cancelled` tells when a CANCEL ended it first.
 */
import type { Logger } from '../shared/log.js';
import type { Peer, SipRequest, SipResponse } from './message.js';
import { createResponse } from './response.js';
import { UasDialogState, newTag } from './dialog.js';
import { SipDialog, type DialogHost, type InviteResponder } from './sip-dialog.js';
import { createOffer, type LocalMedia, type NegotiatedMedia, type OfferNegotiation } from './sdp.js';
import { sdpOf } from './body.js';

export class InviteStateError extends Error {
  override name = 'InviteStateError';
}

export class IncomingInvite {
  readonly request: SipRequest;
  readonly source: Peer;
  readonly logger: Logger;
  readonly localTag = newTag();
  readonly #tx: InviteResponder;
  readonly #host: DialogHost;
  readonly #cseq: number;
  readonly #onDialog: (d: SipDialog) => void;
  /** The INVITE's offer, negotiated once by the user agent before the application saw the call. */
  readonly #negotiation: OfferNegotiation | undefined;
  #final = false;
  #cancelled = false;

  constructor(
    request: SipRequest,
    source: Peer,
    tx: InviteResponder,
    cseq: number,
    host: DialogHost,
    logger: Logger,
    onDialog: (d: SipDialog) => void,
    negotiation?: OfferNegotiation,
  ) {
    this.#negotiation = negotiation;
    this.request = request;
    this.source = source;
    this.#tx = tx;
    this.#cseq = cseq;
    this.#host = host;
    this.logger = logger;
    this.#onDialog = onDialog;
  }

  get callId(): string {
    return this.request.headers.get('Call-ID') ?? '';
  }

  /** The SDP offer of the INVITE, if it had one. */
  get offer(): string | undefined {
    try {
      return sdpOf(this.request);
    } catch {
      return undefined; // the user agent already answered 400 to a broken multipart body
    }
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** True once a final response was sent (or a CANCEL answered 487). */
  get answered(): boolean {
    return this.#final;
  }

  #respond(res: SipResponse): void {
    if (this.#final) throw new InviteStateError(`INVITE ${this.callId} already has a final response`);
    if (res.status >= 200) this.#final = true;
    this.#tx.respond(res);
  }

  /** Sends a provisional response (180 Ringing by default) carrying our To tag (§13.3.1.1). */
  progress(status = 180, reason?: string): void {
    if (this.#final) return;
    const res = createResponse(this.request, status, reason, this.localTag);
    this.#host.decorate(res, this.source);
    this.#copyRecordRoute(res);
    this.#tx.respond(res);
  }

  /**
   * §12.1.1: "When a UAS responds to a request with a response that establishes a dialog (such as a 2xx to
   * INVITE), the UAS MUST copy all Record-Route header field values from the request into the response
   * (including the URIs, URI parameters, and any Record-Route header field parameters, whether they are known or
   * unknown to the UAS) and MUST maintain the order of those values."
   * A provisional response with our To tag creates an early dialog, so it carries them too.
   */
  #copyRecordRoute(res: SipResponse): void {
    for (const rr of this.request.headers.getAll('Record-Route')) res.headers.append('Record-Route', rr);
  }

  /** Final error response (§13.3.1.3 / §13.3.1.2 for 3xx). Ignored after a CANCEL already ended the INVITE. */
  reject(status: number, reason?: string, headers: Record<string, string> = {}): void {
    if (this.#final && this.#cancelled) return;
    const res = createResponse(this.request, status, reason, this.localTag);
    for (const [k, v] of Object.entries(headers)) res.headers.append(k, v);
    this.#respond(res);
  }

  /** §13.3.1.2: "If the UAS redirects the request, it MUST place the alternative locations in Contact header fields." */
  redirect(targets: string[], status = 302): void {
    if (this.#final && this.#cancelled) return;
    const res = createResponse(this.request, status, undefined, this.localTag);
    for (const t of targets) res.headers.append('Contact', `<${t}>`);
    this.#respond(res);
  }

  /**
   * §13.3.1.4: "If the UAS decides to accept the INVITE, it MUST respond with a 2xx ... If the INVITE request
   * contained an offer, and the UAS had not yet sent an answer, the 2xx MUST contain an answer. If the INVITE did
   * not contain an offer, the 2xx MUST contain an offer if the UAS had not yet sent an offer."
   * The offer was negotiated when the INVITE arrived (an unusable one got 488 then): here only our answer is written,
   * with the address and port the application opened.
   */
  accept(local: LocalMedia): SipDialog {
    const media: NegotiatedMedia | undefined = this.#negotiation?.media;
    const body = this.#negotiation ? this.#negotiation.answer(local) : createOffer(local);
    const res = createResponse(this.request, 200, 'OK', this.localTag);
    res.headers.append('Content-Type', 'application/sdp');
    res.body = Buffer.from(body);
    this.#host.decorate(res, this.source);
    this.#copyRecordRoute(res);
    if (this.#final) throw new InviteStateError(`INVITE ${this.callId} already has a final response`);
    this.#final = true;
    const state = new UasDialogState(this.request, this.localTag, this.source, this.#cseq);
    const dialog = new SipDialog(state, this.#host, local, media, this.logger);
    this.#onDialog(dialog);
    dialog.send2xx(this.#tx, res, this.#cseq, this.source, this.#negotiation === undefined);
    return dialog;
  }

  /** Called by the user agent when a matching CANCEL arrives (§9.2): 487 to the INVITE if still unanswered. */
  cancel(): boolean {
    if (this.#final) return false;
    this.#cancelled = true;
    // §9.2: "the UAS ... SHOULD immediately respond to the INVITE with a 487 (Request Terminated)."
    this.#respond(createResponse(this.request, 487, 'Request Terminated', this.localTag));
    return true;
  }
}
