/**
 * The transaction layer (RFC 3261 §17): owns every live transaction, matches incoming requests (§17.2.3) and
 * responses (§17.1.3) to them, creates server transactions for new requests, and forgets transactions the
 * moment they terminate.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Peer, SipMessage, SipRequest, SipResponse } from '../message.js';
import { InviteServerTransaction, type TransactionContext } from './invite-server.js';
import { getTag } from '../headers.js';
import { clientKey, cseqOf, hasMagicCookie, legacyServerKey, parseTopVia, serverKey, TransactionKeyError, type CSeq, type TopVia } from './keys.js';
import { NonInviteClientTransaction, type ClientContext, type NonInviteClientEvents } from './non-invite-client.js';
import { NonInviteServerTransaction } from './non-invite-server.js';
import { resolveTimers, type TimerValues } from './timers.js';
import { normalizeAddress } from '../transport/response-route.js';

export { newBranch } from './keys.js';

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export type ReceiveRequestResult =
  /** A new request: the TU must answer it through `tx.respond()`. */
  | { kind: 'new'; tx: ServerTransaction }
  /** A retransmission or the ACK of a non-2xx response: absorbed or answered by its transaction. */
  | { kind: 'handled' }
  /** An ACK that belongs to no transaction — the ACK of a 2xx (RFC 6026): for the dialog layer. */
  | { kind: 'ack-2xx' }
  /** Via or CSeq unusable for matching; `reason` says what is wrong (the caller may answer 400). */
  | { kind: 'invalid'; reason: string };

export interface TransactionLayerContext {
  clock: Clock;
  /** T1/T2/T4 in ms; missing values take the RFC 3261 defaults. */
  timers?: Partial<TimerValues>;
  /** Sends a request of a client transaction (or any message) to `dest`. */
  send(msg: SipMessage, dest: Peer): void;
  /** Sends a response of a server transaction back to where the request came from (§18.2.2). */
  sendResponse(res: SipResponse, source: Peer): void;
  logger?: Logger;
}

/** Same transport, address and port (the connection id is ignored: a failed connect has none yet). */
function samePeer(a: Peer, b: Peer): boolean {
  return a.transport === b.transport && a.port === b.port && normalizeAddress(a.address) === normalizeAddress(b.address);
}

/** §18: TCP is our reliable transport; UDP needs the retransmission timers. */
function isReliable(peer: Peer): boolean {
  return peer.transport === 'TCP';
}

export class TransactionLayer {
  readonly timers: TimerValues;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #serverContexts: { reliable: TransactionContext; unreliable: TransactionContext };
  readonly #clientContexts: { reliable: ClientContext; unreliable: ClientContext };
  readonly #servers = new Map<string, ServerTransaction>();
  readonly #clients = new Map<string, NonInviteClientTransaction>();

  constructor(ctx: TransactionLayerContext) {
    if (typeof ctx?.send !== 'function' || typeof ctx.sendResponse !== 'function') {
      throw new TypeError('TransactionLayer needs send() and sendResponse() functions');
    }
    if (typeof ctx.clock?.setTimer !== 'function') throw new TypeError('TransactionLayer needs a clock');
    this.timers = resolveTimers(ctx.timers);
    this.#clock = ctx.clock;
    this.#logger = ctx.logger;
    const sendResponse = (res: SipResponse, source: Peer): void => ctx.sendResponse(res, source);
    const send = (req: SipRequest, dest: Peer): void => ctx.send(req, dest);
    const server = (reliable: boolean): TransactionContext => ({ clock: this.#clock, timers: this.timers, reliable, send: sendResponse });
    const client = (reliable: boolean): ClientContext => ({ clock: this.#clock, timers: this.timers, reliable, send });
    this.#serverContexts = { reliable: server(true), unreliable: server(false) };
    this.#clientContexts = { reliable: client(true), unreliable: client(false) };
  }

  /** Live transactions, server and client (for tests and leak checks). */
  get size(): number {
    return this.#servers.size + this.#clients.size;
  }

  /**
   * An incoming request. §17.2.3: "When a request is received from the network by the server, it has to be matched
   * to an existing transaction." A request that matches is given to its transaction; a new request other than ACK
   * gets a new server transaction.
   */
  receiveRequest(req: SipRequest, source: Peer): ReceiveRequestResult {
    let via: TopVia;
    let cseq: CSeq;
    try {
      via = parseTopVia(req);
      cseq = cseqOf(req);
    } catch (err) {
      if (err instanceof TransactionKeyError) return { kind: 'invalid', reason: err.message };
      throw err;
    }
    // §8.1.1.5: "The method MUST match that of the request."
    if (cseq.method !== req.method) return { kind: 'invalid', reason: `CSeq method ${cseq.method} differs from request method ${req.method}` };

    const found = this.#lookup(req, via, cseq);
    if (found.kind === 'collision') return { kind: 'invalid', reason: 'RFC 2543 request collides with a live transaction' };
    const tx = found.tx;

    if (req.method === 'ACK') {
      // §17: "If the response was a 2xx, the ACK is not considered part of the transaction." With RFC 6026 the ACK
      // of a 2xx reaches an INVITE transaction in "Accepted" state, or none at all: both go to the dialog layer.
      if (!(tx instanceof InviteServerTransaction)) return { kind: 'ack-2xx' };
      return tx.receiveRequest(req, source) ? { kind: 'handled' } : { kind: 'ack-2xx' };
    }
    if (tx) {
      tx.receiveRequest(req, source);
      return { kind: 'handled' };
    }

    const created = this.#createServer(req, source, found.key);
    // Only a transport failure while sending the 100 (Trying) can end a transaction inside its constructor.
    if (created.state === 'Terminated') return { kind: 'handled' };
    return { kind: 'new', tx: created };
  }

  /**
   * §9.2: "The TU determines the transaction to be cancelled by taking the CANCEL request, and then assuming that the
   * request method is anything but CANCEL or ACK and applying the transaction matching procedures of Section 17.2.3."
   */
  findInviteTransactionForCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    if (cancel.method !== 'CANCEL') return undefined;
    try {
      const asInvite: SipRequest = { ...cancel, method: 'INVITE' };
      const found = this.#lookup(asInvite, parseTopVia(cancel), cseqOf(cancel));
      return found.kind === 'match' && found.tx instanceof InviteServerTransaction ? found.tx : undefined;
    } catch (err) {
      if (err instanceof TransactionKeyError) return undefined;
      throw err;
    }
  }

  /**
   * Starts a non-INVITE client transaction; the request goes out at once. The caller has put a top Via with a fresh
   * branch from `newBranch()` (§8.1.1.7: "The branch parameter value MUST be unique across space and time for all
   * requests sent by the UA."). Throws TransactionKeyError when the Via or CSeq cannot identify the transaction.
   */
  sendRequest(req: SipRequest, dest: Peer, events: NonInviteClientEvents): NonInviteClientTransaction {
    const via = parseTopVia(req);
    const cseq = cseqOf(req);
    if (!hasMagicCookie(via.branch)) throw new TransactionKeyError(`top Via branch ${JSON.stringify(via.branch ?? '')} lacks the z9hG4bK magic cookie`);
    if (cseq.method !== req.method) throw new TransactionKeyError(`CSeq method ${cseq.method} differs from request method ${req.method}`);
    const key = clientKey(via.branch, cseq.method);
    if (this.#clients.has(key)) throw new TransactionKeyError(`a client transaction with branch ${via.branch} already exists`);

    let tx: NonInviteClientTransaction | undefined;
    const ctx = isReliable(dest) ? this.#clientContexts.reliable : this.#clientContexts.unreliable;
    tx = new NonInviteClientTransaction(req, dest, ctx, {
      ...events,
      onTerminated: () => {
        if (tx !== undefined && this.#clients.get(key) === tx) this.#clients.delete(key);
        this.#logger?.debug({ method: req.method, branch: via.branch }, 'client transaction terminated');
        events.onTerminated?.();
      },
    });
    if (tx.state !== 'Terminated') this.#clients.set(key, tx);
    return tx;
  }

  /**
   * An incoming response, matched per §17.1.3 (top Via branch and CSeq method). Returns false when no client
   * transaction matches: §18.1.2 "If none exists, the element MUST silently discard the response" (RFC 6026 §7.2
   * keeps that for 2xx too; we run no INVITE client transactions).
   */
  receiveResponse(res: SipResponse, _source: Peer): boolean {
    let via: TopVia;
    let cseq: CSeq;
    try {
      via = parseTopVia(res);
      cseq = cseqOf(res);
    } catch (err) {
      if (err instanceof TransactionKeyError) return false;
      throw err;
    }
    if (via.branch === undefined) return false;
    const tx = this.#clients.get(clientKey(via.branch, cseq.method));
    if (!tx) return false;
    tx.receiveResponse(res);
    return true;
  }

  /**
   * The transport reported that a message to `dest` could not be sent (it reports asynchronously: a UDP send
   * error, a refused or dropped TCP connection). Every live transaction talking to that peer is told.
   * Client side, §8.1.3.1: "If a fatal transport error is reported by the transport layer ... the condition MUST be
   * treated as if a 503 (Service Unavailable) status code has been received" and §17.1.4: "the client transaction
   * SHOULD inform the TU that a transport failure has occurred, and the client transaction SHOULD transition
   * directly to the "Terminated" state."
   * Server side, §17.2.4: "If the transport layer ... fails, [the server transaction] SHOULD try alternate
   * transports and addresses per §18.4 ... if those should all fail, the server transaction SHOULD inform the TU
   * that a failure has occurred, and SHOULD transition to the terminated state." We have no alternate address for
   * a response (it goes where the request came from, §18.2.2), so the transaction terminates. Returns how many
   * transactions were told.
   */
  transportError(dest: Peer, error: Error): number {
    let told = 0;
    for (const tx of [...this.#clients.values()]) {
      if (samePeer(tx.destination, dest)) {
        tx.transportError(error);
        told++;
      }
    }
    for (const tx of [...this.#servers.values()]) {
      if (samePeer(tx.source, dest)) {
        tx.transportError(error);
        told++;
      }
    }
    this.#logger?.debug({ dest, err: error.message, transactions: told }, 'transport error given to transactions');
    return told;
  }

  /**
   * Finds the server transaction of a request. With an RFC 3261 branch the key is (branch, sent-by, method); without
   * the magic cookie, §17.2.3: "the INVITE request matches a transaction if the Request-URI, To tag, From tag,
   * Call-ID, CSeq, and top Via header field match those of the INVITE request which created the transaction. …
   * The ACK request matches a transaction if the Request-URI, From tag, Call-ID, CSeq number (not the method), and
   * top Via header field match those of the INVITE request which created the transaction, and the To tag of the
   * ACK matches the To tag of the response sent by the server transaction. … For all other request methods, a
   * request is matched to a transaction if the Request-URI, To tag, From tag, Call-ID, CSeq (including the method),
   * and top Via header field match those of the request that created the transaction."
   */
  #lookup(req: SipRequest, via: TopVia, cseq: CSeq): { kind: 'match' | 'none'; key: string; tx?: ServerTransaction } | { kind: 'collision' } {
    if (hasMagicCookie(via.branch)) {
      const key = serverKey(via.branch, via.sentBy, req.method);
      const tx = this.#servers.get(key);
      return tx ? { kind: 'match', key, tx } : { kind: 'none', key };
    }
    const toTag = getTag(req.headers.get('To')) ?? '';
    if (req.method === 'INVITE' || req.method === 'ACK') {
      const key = legacyServerKey(req, via, cseq, 'INVITE');
      const tx = this.#servers.get(key);
      if (!(tx instanceof InviteServerTransaction)) return { kind: 'none', key };
      if (req.method === 'ACK') {
        const responseTag = getTag(tx.finalResponse?.headers.get('To'));
        return responseTag !== undefined && responseTag === toTag ? { kind: 'match', key, tx } : { kind: 'none', key };
      }
      return (getTag(tx.request.headers.get('To')) ?? '') === toTag ? { kind: 'match', key, tx } : { kind: 'collision' };
    }
    const key = legacyServerKey(req, via, cseq, `${req.method}\u0000${toTag}`);
    const tx = this.#servers.get(key);
    return tx ? { kind: 'match', key, tx } : { kind: 'none', key };
  }

  #createServer(req: SipRequest, source: Peer, key: string): ServerTransaction {
    const ctx = isReliable(source) ? this.#serverContexts.reliable : this.#serverContexts.unreliable;
    let tx: ServerTransaction | undefined;
    const onTerminated = (): void => {
      if (tx !== undefined && this.#servers.get(key) === tx) this.#servers.delete(key);
      this.#logger?.debug({ method: req.method, callId: req.headers.get('Call-ID') }, 'server transaction terminated');
    };
    tx = req.method === 'INVITE'
      ? new InviteServerTransaction(req, source, ctx, { onTerminated })
      : new NonInviteServerTransaction(req, source, ctx, { onTerminated });
    if (tx.state !== 'Terminated') this.#servers.set(key, tx);
    this.#logger?.debug({ method: req.method, callId: req.headers.get('Call-ID') }, 'server transaction created');
    return tx;
  }
}
