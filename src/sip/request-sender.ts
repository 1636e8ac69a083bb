/**
 * The UAC side of the user agent (RFC 3261 §8.1, §12.2.1): builds the requests we send — in a dialog (BYE, NOTIFY)
 * or out of any (the unsolicited MWI NOTIFY) —, finds their next hop and runs each in a client transaction.
 */
import { lookup } from 'node:dns/promises';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '../shared/log.js';
import { Headers, createRequest, type Peer, type SipRequest, type SipResponse, type TransportName } from './message.js';
import { parseUri } from './headers.js';
import { newTag, type UasDialogState } from './dialog.js';
import type { TransactionLayer } from './transactions/transaction-layer.js';
import { newBranch } from './transactions/keys.js';
import type { SipTransport } from './transport/transport.js';

/** Headers and body added to a request we send. */
export interface OutgoingExtras {
  headers?: Record<string, string>;
  body?: { contentType: string; data: Buffer };
}

export interface RequestSenderDeps {
  transport: SipTransport;
  layer: TransactionLayer;
  logger: Logger;
  /** Our Contact URI for a transport. */
  contactUri: (transport: TransportName) => string;
  /** User-Agent of our requests. */
  serverName: string;
  /** Host of our Call-IDs when it differs from the transport's address. */
  publicHost?: string;
}

export class RequestSender {
  readonly #deps: RequestSenderDeps;

  constructor(deps: RequestSenderDeps) {
    this.#deps = deps;
  }

  /** Sends `method` in the dialog (BYE, NOTIFY); resolves with its final response, or null (timeout, no route). */
  async sendInDialog(dialog: UasDialogState, method: string, extra: OutgoingExtras = {}): Promise<SipResponse | null> {
    const transport = dialog.peer.transport;
    const sentBy = this.#deps.transport.viaSentBy(transport);
    const via = `SIP/2.0/${transport} ${sentBy};branch=${newBranch()};rport`;
    const { request, nextHopUri } = dialog.buildRequest(method, via, extra.body);
    for (const [k, v] of Object.entries(extra.headers ?? {})) request.headers.append(k, v);
    // RFC 6665 §8.2.1 (NOTIFY is a target refresh request): "NOTIFY requests MUST contain a Contact header field".
    if (method === 'NOTIFY') request.headers.append('Contact', `<${this.#deps.contactUri(transport)}>`);
    request.headers.append('User-Agent', this.#deps.serverName);
    let dest: Peer;
    try {
      dest = await this.#resolve(nextHopUri, dialog.peer);
    } catch (err) {
      this.#deps.logger.warn({ callId: dialog.callId, err: (err as Error).message, uri: nextHopUri }, `cannot resolve where to send ${method}`);
      return null;
    }
    return this.#finalResponse(request, dest);
  }

  /**
   * Sends an out-of-dialog request to `targetUri` (the unsolicited MWI NOTIFY) in a non-INVITE client transaction
   * (timers E/F/K); resolves with its final response, or null (time-out, transport error, unresolvable host).
   * RFC 3261 §8.1.1: "A valid SIP request formulated by a UAC MUST, at a minimum, contain the following header
   * fields: To, From, CSeq, Call-ID, Max-Forwards, and Via"; the From tag is new (§8.1.1.3), no To tag (§8.1.1.2).
   */
  async sendOutOfDialog(method: string, targetUri: string, extra: OutgoingExtras & { from: string }): Promise<SipResponse | null> {
    let dest: Peer;
    try {
      dest = await this.#resolve(targetUri, { transport: 'UDP', address: '', port: 0 });
    } catch (err) {
      this.#deps.logger.warn({ err: (err as Error).message, uri: targetUri }, `cannot resolve where to send ${method}`);
      return null;
    }
    const h = new Headers();
    h.append('Via', `SIP/2.0/${dest.transport} ${this.#deps.transport.viaSentBy(dest.transport)};branch=${newBranch()};rport`);
    h.append('Max-Forwards', '70');
    h.append('From', `<${extra.from}>;tag=${newTag()}`);
    h.append('To', `<${targetUri}>`);
    h.append('Call-ID', `${randomUUID()}@${this.#deps.publicHost || this.#deps.transport.address}`);
    h.append('CSeq', `1 ${method}`);
    h.append('Contact', `<${this.#deps.contactUri(dest.transport)}>`);
    for (const [k, v] of Object.entries(extra.headers ?? {})) h.append(k, v);
    h.append('User-Agent', this.#deps.serverName);
    if (extra.body) h.append('Content-Type', extra.body.contentType);
    const request = createRequest(method, targetUri, h, extra.body?.data ?? Buffer.alloc(0));
    return this.#finalResponse(request, dest);
  }

  /** Sends `request` in a client transaction; resolves with its final response, or null (time-out, transport error). */
  #finalResponse(request: SipRequest, dest: Peer): Promise<SipResponse | null> {
    return new Promise((resolve) => {
      this.#deps.layer.sendRequest(request, dest, {
        onResponse: (res: SipResponse) => {
          if (res.status >= 200) resolve(res);
        },
        onTimeout: () => resolve(null),
        onTransportError: () => resolve(null),
      });
    });
  }

  /** Where a request to `uri` goes (a simplified RFC 3263: IP literal or A/AAAA lookup, no NAPTR/SRV). */
  async #resolve(uri: string, peer: Peer): Promise<Peer> {
    const u = parseUri(uri);
    const t = u.params.get('transport');
    const transport: TransportName = t ? (t.toUpperCase() === 'TCP' ? 'TCP' : 'UDP') : peer.transport;
    const address = isIP(u.host) ? u.host : (await lookup(u.host)).address;
    const port = u.port ?? 5060;
    const dest: Peer = { transport, address, port };
    // Reuse the connection the dialog came in on (the peer can only read on it when behind NAT, cf. RFC 5923).
    if (transport === 'TCP' && peer.transport === 'TCP' && peer.connectionId !== undefined) dest.connectionId = peer.connectionId;
    return dest;
  }
}
