/**
 * UAS dialog state (RFC 3261 §12): identity, route set, remote target, sequence numbers, and the building of
 * requests within the dialog (§12.2.1.1).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Headers, createRequest, type Peer, type SipRequest } from './message.js';
import { getTag, parseNameAddr, parseUri } from './headers.js';

export type DialogState = 'confirmed' | 'terminated';

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

export class DialogStateError extends Error {
  override name = 'DialogStateError';
}

/** The dialog state held by a UAS after sending a 2xx to a dialog-creating INVITE. */
export class UasDialogState {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our To header value (with our tag), used as From in our requests (§12.2.1.1). */
  readonly localParty: string;
  /** Their From header value (with their tag), used as To in our requests. */
  readonly remoteParty: string;
  /** Where the INVITE came from: TCP requests reuse that connection. */
  readonly peer: Peer;
  #remoteTarget: string;
  readonly #routeSet: string[];
  #remoteSeq: number;
  #localSeq: number;
  #state: DialogState = 'confirmed';

  /**
   * §12.1.1: "The route set MUST be set to the list of URIs in the Record-Route header field from the request,
   * taken in order and preserving all URI parameters. ... The remote target MUST be set to the URI from the
   * Contact header field of the request. The remote sequence number MUST be set to the value of the sequence
   * number in the CSeq header field of the request. The local sequence number MUST be empty. The call identifier
   * component of the dialog ID MUST be set to the value of the Call-ID in the request. The local tag component of
   * the dialog ID MUST be set to the tag in the To field in the response to the request (which always includes a
   * tag), and the remote tag component of the dialog ID MUST be set to the tag from the From field in the request."
   */
  constructor(invite: SipRequest, localTag: string, peer: Peer, remoteSeq: number) {
    this.callId = invite.headers.get('Call-ID') ?? '';
    this.localTag = localTag;
    const from = invite.headers.get('From') ?? '';
    this.remoteTag = getTag(from) ?? '';
    const to = invite.headers.get('To') ?? '';
    this.localParty = getTag(to) ? to : `${to};tag=${localTag}`;
    this.remoteParty = from;
    this.peer = peer;
    this.#routeSet = invite.headers.getAll('Record-Route').map((rr) => rr.trim());
    this.#remoteTarget = contactUri(invite) ?? parseNameAddr(from).uri;
    this.#remoteSeq = remoteSeq;
    // We choose our first CSeq at random below 2**31 (§8.1.1.5 "MUST be less than 2**31").
    this.#localSeq = randomInt(1, 2 ** 20);
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  get state(): DialogState {
    return this.#state;
  }

  get remoteTarget(): string {
    return this.#remoteTarget;
  }

  get remoteSeq(): number {
    return this.#remoteSeq;
  }

  terminate(): void {
    this.#state = 'terminated';
  }

  /**
   * §12.2.2: "If the remote sequence number was not empty, but the sequence number of the request is lower than
   * the remote sequence number, the request is out of order and MUST be rejected with a 500 (Server Internal
   * Error) response. If the remote sequence number was not empty, and the sequence number of the request is
   * greater than the remote sequence number, the request is in order. ... the UAS MUST then set the remote
   * sequence number to the value of the sequence number in the CSeq header field value in the request."
   * Returns false for an out-of-order request. ACK and CANCEL carry the INVITE's number and are not checked.
   */
  acceptSequence(seq: number, method: string): boolean {
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (seq < this.#remoteSeq) return false;
    this.#remoteSeq = seq;
    return true;
  }

  /**
   * §12.2.2: "When a UAS receives a target refresh request, it MUST replace the dialog's remote target URI with the
   * URI from the Contact header field in that request, if present." (re-INVITE is a target refresh request.)
   */
  refreshTarget(req: SipRequest): void {
    const c = contactUri(req);
    if (c) this.#remoteTarget = c;
  }

  /**
   * Builds a request within the dialog (§12.2.1.1) and says where to send it.
   * "The URI in the To field of the request MUST be set to the remote URI from the dialog state. The tag in the To
   * header field of the request MUST be set to the remote tag of the dialog ID. The From URI of the request MUST be
   * set to the local URI from the dialog state. The tag in the From header field of the request MUST be set to the
   * local tag of the dialog ID. ... The Call-ID of the request MUST be set to the Call-ID of the dialog. Requests
   * within a dialog MUST contain strictly monotonically increasing and contiguous CSeq sequence numbers."
   * Routing: "If the route set is empty, the UAC MUST place the remote target URI into the Request-URI. ... If the
   * route set is not empty, and the first URI in the route set contains the lr parameter, the UAC MUST place the
   * remote target URI into the Request-URI and MUST include a Route header field containing the route set values in
   * order ... If the route set is not empty, and its first URI does not contain the lr parameter, the UAC MUST place
   * the first URI from the route set into the Request-URI, stripping any parameters that are not allowed in a
   * Request-URI. The UAC MUST add a Route header field containing the remainder of the route set values in order,
   * including all parameters. The UAC MUST then place the remote target URI into the Route header field as the last
   * value."
   */
  buildRequest(method: string, via: string, body?: { contentType: string; data: Buffer }): { request: SipRequest; nextHopUri: string } {
    if (this.#state === 'terminated' && method !== 'BYE') throw new DialogStateError(`dialog ${this.callId} is terminated: cannot send ${method}`);
    this.#localSeq += 1;
    const h = new Headers();
    h.append('Via', via);
    h.append('Max-Forwards', '70');
    let requestUri = this.#remoteTarget;
    let nextHopUri = this.#remoteTarget;
    if (this.#routeSet.length > 0) {
      const first = parseNameAddr(this.#routeSet[0]!).uri;
      nextHopUri = first;
      if (parseUri(first).params.has('lr')) {
        for (const r of this.#routeSet) h.append('Route', r);
      } else {
        // §19.1.1 table: of the URI components, only "method" and headers are not allowed in a Request-URI.
        const noHeaders = first.split('?')[0]!;
        requestUri = noHeaders.split(';').filter((p, i) => i === 0 || !/^method(=|$)/i.test(p)).join(';');
        for (const r of this.#routeSet.slice(1)) h.append('Route', r);
        h.append('Route', `<${this.#remoteTarget}>`);
      }
    }
    h.append('From', this.localParty);
    h.append('To', this.remoteParty);
    h.append('Call-ID', this.callId);
    h.append('CSeq', `${this.#localSeq} ${method}`);
    if (body) h.append('Content-Type', body.contentType);
    return { request: createRequest(method, requestUri, h, body?.data ?? Buffer.alloc(0)), nextHopUri };
  }
}

/** The URI of the first Contact of a request, if any. */
export function contactUri(req: SipRequest): string | undefined {
  const c = req.headers.get('Contact');
  if (!c || c.trim() === '*') return undefined;
  try {
    return parseNameAddr(c).uri;
  } catch {
    return undefined;
  }
}
