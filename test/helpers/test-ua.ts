/**
 * A test SIP user agent (UAC over UDP) with an RTP endpoint, for integration tests of the voicemail server.
 * It is built from the RFC text alone — messages are written and read as text here, media in rtp-peer.ts —
 * and imports nothing from `src/sip` or `src/media`, so that a bug in our stack cannot cancel itself out.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  buildSdp,
  layoutAudio,
  parseDtmfPayload,
  parseSdp,
  RtpPeer,
  RtpStreamSender,
  type CodecOffer,
  type G711Codec,
  type OutgoingRtpPacket,
  type ReceivedRtpPacket,
  type SdpMedia,
} from './rtp-peer.js';

/** RFC 3261 §17.1.1.1: "T1 ... 500 ms default"; T2 "4 s". */
export const T1_MS = 500;
export const T2_MS = 4000;

/** RFC 3261 §7.3.3 compact header forms. */
const COMPACT: Readonly<Record<string, string>> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported', s: 'subject', e: 'content-encoding',
};
/** Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1). */
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact']);

/** A SIP message as received: the raw text and a minimal parse of it. */
export class SipMessage {
  readonly startLine: string;
  readonly headers = new Map<string, string[]>();
  readonly body: string;
  /** Responses: the status code and reason phrase. Requests: the method and Request-URI. */
  readonly status?: number;
  readonly reason?: string;
  readonly method?: string;
  readonly uri?: string;

  private constructor(readonly raw: string, startLine: string, body: string) {
    this.startLine = startLine;
    this.body = body;
    const status = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
    const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(startLine);
    if (status) [this.status, this.reason] = [Number(status[1]), status[2]!];
    else if (request) [this.method, this.uri] = [request[1]!, request[2]!];
  }

  /** Parses one datagram; returns a string saying why it is not a SIP message. */
  static parse(raw: string): SipMessage | string {
    const headEnd = raw.indexOf('\r\n\r\n');
    if (headEnd < 0) return 'no empty line after the headers';
    // RFC 3261 §7.3.1: header fields can be extended over multiple lines by preceding each extra line with whitespace.
    const lines = raw.slice(0, headEnd).replace(/\r\n[ \t]+/g, ' ').split('\r\n');
    const startLine = lines[0]!;
    if (!/^SIP\/2\.0 \d{3}/.test(startLine) && !/^[A-Z]+ \S+ SIP\/2\.0$/.test(startLine)) return `bad start line: ${startLine}`;
    let body = raw.slice(headEnd + 4);
    const msg = new SipMessage(raw, startLine, body);
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return `bad header line: ${line}`;
      let name = line.slice(0, colon).trim().toLowerCase();
      name = COMPACT[name] ?? name;
      const value = line.slice(colon + 1).trim();
      const values = LIST_HEADERS.has(name) ? splitList(value) : [value];
      msg.headers.set(name, [...(msg.headers.get(name) ?? []), ...values]);
    }
    const length = msg.header('content-length');
    if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0 || n > Buffer.byteLength(body)) return `bad Content-Length ${length} (body has ${Buffer.byteLength(body)} bytes)`;
      body = Buffer.from(body).subarray(0, n).toString('utf8');
    }
    return Object.assign(msg, { body });
  }

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  headerAll(name: string): string[] {
    return this.headers.get(name.toLowerCase()) ?? [];
  }

  /** The CSeq number and method. */
  get cseq(): { seq: number; method: string } {
    const [seq, method] = (this.header('cseq') ?? '').split(/\s+/);
    return { seq: Number(seq), method: method ?? '' };
  }

  /** The `tag` parameter of a From/To value. */
  tag(name: 'from' | 'to'): string | undefined {
    return /;\s*tag=([^;>\s]+)/i.exec(this.header(name) ?? '')?.[1];
  }

  /** The branch of the top Via. */
  get branch(): string | undefined {
    return /;\s*branch=([^;\s]+)/i.exec(this.header('via') ?? '')?.[1];
  }
}

function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`) or an addr-spec. */
export function uriOf(nameAddr: string): string {
  const angle = /<([^>]*)>/.exec(nameAddr);
  return angle ? angle[1]! : nameAddr.split(';')[0]!.trim();
}

/** Host and port of a SIP URI (`sip:user@host:port;params`). */
export function hostPortOf(uri: string): { host: string; port: number } {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(uri);
  if (!m) throw new Error(`not a SIP URI: ${uri}`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 5060 };
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

export function newBranch(): string {
  // RFC 3261 §8.1.1.7: "the branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"".
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

export interface TestUaOptions {
  /** The server's SIP address, `host:port`. */
  server: string;
  localIp?: string;
  localPort?: number;
  /** How long to wait for a final response to any request (default 15 s). */
  timeoutMs?: number;
}

export interface InviteOptions {
  to: string;
  from: string;
  codecs?: CodecOffer[];
  /** telephone-event payload types to offer ([] for none; default [101]). */
  telephoneEvent?: number[];
  ptimeMs?: number;
  extraHeaders?: Record<string, string>;
  /** Default `sip:<to>@<server>`. */
  requestUri?: string;
  /** Send the INVITE without an offer: the server's 2xx carries the offer and our ACK the answer. */
  noSdp?: boolean;
  /** Called for every provisional response. */
  onProvisional?: (response: SipMessage) => void;
}

export interface InviteResult {
  status: number;
  response: SipMessage;
  /** Every response received for the INVITE, provisional ones included. */
  responses: SipMessage[];
  /** Present for a 2xx: the established call. */
  call?: TestCall;
  /** The same object as `call`. */
  dialog?: TestCall;
  /** The INVITE as sent. */
  request: string;
}

interface PendingTransaction {
  method: string;
  onResponse: (response: SipMessage, rinfo: { address: string; port: number }) => void;
  /** Stops the timers and rejects the waiting promise (when the UA closes). */
  abort?: (reason: Error) => void;
}

/** The UAC: one UDP socket, any number of calls. */
export class TestUa {
  readonly #socket: Socket;
  readonly #server: { host: string; port: number };
  readonly #transactions = new Map<string, PendingTransaction>();
  readonly #calls = new Map<string, TestCall>();
  #closed = false;
  readonly timeoutMs: number;
  /** Every datagram sent and received, in order, for diagnostics. */
  readonly trace: Array<{ dir: 'in' | 'out'; text: string; at: number }> = [];
  /** Datagrams that could not be parsed, with the reason. */
  readonly rejected: string[] = [];

  private constructor(socket: Socket, readonly localIp: string, readonly localPort: number, server: { host: string; port: number }, timeoutMs: number) {
    this.#socket = socket;
    this.#server = server;
    this.timeoutMs = timeoutMs;
    socket.on('message', (buf, rinfo) => this.#onDatagram(buf.toString('utf8'), rinfo));
  }

  static async create(o: TestUaOptions): Promise<TestUa> {
    const m = /^([^:]+):(\d+)$/.exec(o.server);
    if (!m) throw new TypeError(`server must be "host:port", got ${JSON.stringify(o.server)}`);
    const localIp = o.localIp ?? '127.0.0.1';
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.localPort ?? 0, localIp, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new TestUa(socket, localIp, socket.address().port, { host: m[1]!, port: Number(m[2]) }, o.timeoutMs ?? 15000);
  }

  get server(): { host: string; port: number } {
    return this.#server;
  }

  /** Where to send a request for `uri`: its host when that is an IP literal, else the configured server. */
  destinationOf(uri: string): { host: string; port: number } {
    const hp = hostPortOf(uri);
    return isIP(hp.host) ? hp : this.#server;
  }

  /** Sends raw text to an address (or the server); does nothing once the UA is closed (late retransmission timers). */
  sendRaw(text: string, to: { host: string; port: number } = this.#server): void {
    if (this.#closed) return;
    this.trace.push({ dir: 'out', text, at: Date.now() });
    this.#socket.send(text, to.port, to.host);
  }

  /**
   * Sends a request and retransmits it until a response arrives. RFC 3261 §17.1.2.2 (non-INVITE): "Timer E
   * ... set to fire in T1 seconds ... If timer E fires while still in this state, the timer is reset, but this
   * time with a value of MIN(2*T1, T2)"; §17.1.1.2 (INVITE): timer A doubles and stops on a provisional.
   * `onResponse` sees every response; the returned promise settles with the first final one.
   */
  request(text: string, to: { host: string; port: number }, onResponse?: (r: SipMessage) => void): Promise<SipMessage> {
    if (this.#closed) return Promise.reject(new Error('the test UA is closed'));
    const parsed = SipMessage.parse(text);
    if (typeof parsed === 'string') throw new Error(`test UA built a bad request (${parsed}):\n${text}`);
    const branch = parsed.branch!;
    const method = parsed.method!;
    return new Promise((resolve, reject) => {
      let interval = T1_MS;
      let retransmit: NodeJS.Timeout | undefined;
      const schedule = (): void => {
        retransmit = setTimeout(() => {
          this.sendRaw(text, to);
          interval = method === 'INVITE' ? interval * 2 : Math.min(interval * 2, T2_MS);
          schedule();
        }, interval);
      };
      const timeout = setTimeout(() => {
        clearTimeout(retransmit);
        this.#transactions.delete(branch);
        reject(new Error(`no final response to ${method} within ${this.timeoutMs} ms (branch ${branch}); trace:\n${this.traceText(6)}`));
      }, this.timeoutMs);
      this.#transactions.set(branch, {
        method,
        onResponse: (response) => {
          onResponse?.(response);
          if (response.status! < 200) {
            if (method === 'INVITE') clearTimeout(retransmit);
            return;
          }
          clearTimeout(retransmit);
          clearTimeout(timeout);
          this.#transactions.delete(branch);
          resolve(response);
        },
        abort: (reason) => {
          clearTimeout(retransmit);
          clearTimeout(timeout);
          reject(reason);
        },
      });
      this.sendRaw(text, to);
      schedule();
    });
  }

  /** The last `n` trace entries as text. */
  traceText(n = 10): string {
    return this.trace.slice(-n).map((t) => `--- ${t.dir} ---\n${t.text}`).join('\n');
  }

  /** Places a call and resolves after the final response (the ACK is sent before resolving). */
  async invite(o: InviteOptions): Promise<InviteResult> {
    const codecs = o.codecs ?? [{ pt: 8, name: 'PCMA' as const }, { pt: 0, name: 'PCMU' as const }];
    const telephoneEvent = o.telephoneEvent ?? [101];
    const ptimeMs = o.ptimeMs ?? 20;
    const rtp = await RtpPeer.open(this.localIp);
    const sessionId = randomInt(1, 2 ** 31);
    const offer = buildSdp({ address: this.localIp, port: rtp.localPort, codecs, telephoneEvent, ptimeMs, sessionId });
    const requestUri = o.requestUri ?? `sip:${o.to}@${this.#server.host}:${this.#server.port}`;
    const callId = `${randomBytes(10).toString('hex')}@${this.localIp}`;
    const fromTag = newTag();
    const branch = newBranch();
    const from = `<sip:${o.from}@${this.localIp}>;tag=${fromTag}`;
    const to = `<sip:${o.to}@${this.#server.host}>`;
    const body = o.noSdp ? '' : offer;
    const lines = [
      `INVITE ${requestUri} SIP/2.0`,
      this.via(branch),
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: ${this.contact}`,
      'Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE',
      'User-Agent: repondeur-test-ua',
      ...Object.entries(o.extraHeaders ?? {}).map(([k, v]) => `${k}: ${v}`),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    const invite = lines.join('\r\n');
    const responses: SipMessage[] = [];
    const destination = this.destinationOf(requestUri);
    let final: SipMessage;
    try {
      final = await this.request(invite, destination, (r) => {
        responses.push(r);
        if (r.status! < 200) o.onProvisional?.(r);
      });
    } catch (err) {
      rtp.close();
      throw err;
    }
    const status = final.status!;
    if (status >= 300) {
      this.ackNon2xx(invite, final, destination, branch);
      rtp.close();
      return { status, response: final, responses, request: invite };
    }
    const call = new TestCall(this, {
      callId, from, to, inviteCSeq: 1, response: final, rtp, sdp: { codecs, telephoneEvent, ptimeMs, sessionId }, lateOffer: o.noSdp === true,
    });
    this.#calls.set(callId, call);
    call.sendAck(final);
    return { status, response: final, responses, call, dialog: call, request: invite };
  }

  /**
   * RFC 3261 §17.1.1.3: "The ACK request constructed by the client transaction MUST contain values for the
   * Call-ID, From, and Request-URI that are equal to the values of those header fields in the request passed to
   * the transport by the client transaction ... The To header field in the ACK MUST equal the To header field in
   * the response being acknowledged ... the ACK MUST contain a single Via header field, and this MUST be equal
   * to the top Via header field of the original request ... The CSeq header field in the ACK MUST contain the same
   * value for the sequence number as was present in the original request, but the method parameter MUST be equal
   * to "ACK"."
   */
  ackNon2xx(invite: string, response: SipMessage, to: { host: string; port: number }, branch: string): void {
    const req = SipMessage.parse(invite) as SipMessage;
    const ack = [
      `ACK ${req.uri} SIP/2.0`,
      this.via(branch),
      'Max-Forwards: 70',
      `From: ${req.header('from')}`,
      `To: ${response.header('to')}`,
      `Call-ID: ${req.header('call-id')}`,
      `CSeq: ${req.cseq.seq} ACK`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    this.sendRaw(ack, to);
    // Retransmissions of the final response are absorbed by re-sending the same ACK (§17.1.1.2, state Completed).
    this.#transactions.set(branch, { method: 'INVITE', onResponse: () => this.sendRaw(ack, to) });
    setTimeout(() => this.#transactions.delete(branch), 64 * T1_MS).unref();
  }

  via(branch: string): string {
    return `Via: SIP/2.0/UDP ${this.localIp}:${this.localPort};branch=${branch};rport`;
  }

  get contact(): string {
    return `<sip:testua@${this.localIp}:${this.localPort}>`;
  }

  #onDatagram(text: string, rinfo: { address: string; port: number }): void {
    if (text.trim() === '') return; // keep-alive CRLFs
    this.trace.push({ dir: 'in', text, at: Date.now() });
    const msg = SipMessage.parse(text);
    if (typeof msg === 'string') {
      this.rejected.push(`${rinfo.address}:${rinfo.port}: ${msg}`);
      return;
    }
    if (msg.status !== undefined) {
      const tx = msg.branch ? this.#transactions.get(msg.branch) : undefined;
      if (tx && tx.method === msg.cseq.method) return tx.onResponse(msg, rinfo);
      // A retransmitted 2xx to an INVITE whose transaction is over: the dialog re-sends its ACK (§13.2.2.4).
      const call = this.#calls.get(msg.header('call-id') ?? '');
      if (call && msg.cseq.method === 'INVITE' && msg.status >= 200 && msg.status < 300) call.sendAck(msg);
      return;
    }
    const call = this.#calls.get(msg.header('call-id') ?? '');
    if (msg.method === 'ACK') return;
    if (!call && msg.method === 'OPTIONS') return this.respond(msg, rinfo, 200, 'OK');
    if (!call) return this.respond(msg, rinfo, 481, 'Call/Transaction Does Not Exist');
    call.onRequest(msg, rinfo);
  }

  /** Sends a response to `request`, back to where it came from (RFC 3581 symmetric response routing). */
  respond(request: SipMessage, rinfo: { address: string; port: number }, status: number, reason: string, extra: string[] = [], body = ''): void {
    let to = request.header('to') ?? '';
    if (!/;\s*tag=/i.test(to)) to += `;tag=${newTag()}`;
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...request.headerAll('via').map((v) => `Via: ${v}`),
      `From: ${request.header('from')}`,
      `To: ${to}`,
      `Call-ID: ${request.header('call-id')}`,
      `CSeq: ${request.header('cseq')}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.sendRaw(lines.join('\r\n'), { host: rinfo.address, port: rinfo.port });
  }

  /** Closes the SIP socket and every call's RTP socket (no BYE is sent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of this.#transactions.values()) tx.abort?.(new Error(`the test UA was closed while waiting for a response to ${tx.method}`));
    this.#transactions.clear();
    for (const call of this.#calls.values()) call.closeMedia();
    this.#calls.clear();
    this.#socket.close();
  }
}


export interface SendAudioOptions {
  /** Default: the codec of the SDP answer. */
  codec?: G711Codec;
  /** Default: the answer's payload type for `codec` (0 PCMU, 8 PCMA when it has none). */
  pt?: number;
  ptimeMs?: number;
  /**
   * Rewrites the packet list before sending (see RtpMutations). Packets go out in list order, each no earlier
   * than its `offsetMs`: moving a packet later in the list delays it, removing one leaves its slot empty.
   */
  mutate?: (packets: OutgoingRtpPacket[]) => OutgoingRtpPacket[];
  startSeq?: number;
  ssrc?: number;
}

/** One telephone-event heard from the server, grouped by RTP timestamp. */
export interface ReceivedDtmf {
  digit: string;
  timestamp: number;
  durationMs: number;
  packets: number;
  endPackets: number;
}

interface CallInit {
  callId: string;
  from: string;
  to: string;
  inviteCSeq: number;
  response: SipMessage;
  rtp: RtpPeer;
  sdp: { codecs: CodecOffer[]; telephoneEvent: number[]; ptimeMs: number; sessionId: number };
  lateOffer: boolean;
}

const DIGITS = '0123456789*#ABCD';

/** One established call (an INVITE dialog, RFC 3261 §12) and its RTP stream. */
export class TestCall {
  readonly callId: string;
  readonly rtp: RtpPeer;
  /** Requests the server sent in this dialog, in order. */
  readonly requests: SipMessage[] = [];
  /** Every RTP packet we sent, as sent (after `mutate`). */
  readonly sent: OutgoingRtpPacket[] = [];
  readonly #ua: TestUa;
  readonly #from: string;
  readonly #fromTag: string;
  #to: string;
  #remoteTarget = '';
  #routeSet: string[] = [];
  #cseq: number;
  readonly #inviteCSeq: number;
  readonly #lateOffer: boolean;
  readonly #sdp: CallInit['sdp'];
  #sdpVersion: number;
  #media: SdpMedia | null = null;
  #mediaError: string | undefined;
  readonly #acks = new Map<number, { text: string; to: { host: string; port: number } }>();
  readonly #sender = new RtpStreamSender();
  #sendChain: Promise<unknown> = Promise.resolve();
  #ended: { by: 'local' | 'remote'; bye?: SipMessage } | null = null;
  readonly #endWaiters = new Set<() => void>();

  constructor(ua: TestUa, init: CallInit) {
    this.#ua = ua;
    this.callId = init.callId;
    this.rtp = init.rtp;
    this.#from = init.from;
    this.#fromTag = /;tag=([^;]+)/.exec(init.from)![1]!;
    this.#to = init.response.header('to') ?? init.to;
    this.#cseq = this.#inviteCSeq = init.inviteCSeq;
    this.#lateOffer = init.lateOffer;
    this.#sdp = init.sdp;
    // RFC 4566 §5.2: the version "is increased when a modification is made to the session data".
    this.#sdpVersion = init.sdp.sessionId + 1;
    this.#applyDialogResponse(init.response, true);
  }

  /** The SDP answer (or, for a late offer, the server's offer) in force; null when it was unusable. */
  get media(): SdpMedia | null {
    return this.#media;
  }

  /** Why the server's SDP could not be used, if it could not. */
  get mediaError(): string | undefined {
    return this.#mediaError;
  }

  /** The negotiated audio payload type and codec: the first G.711 format of the server's m= line. */
  get audio(): { pt: number; codec: G711Codec } | null {
    const pt = this.#media?.payloadTypes.find((p) => this.rtp.codecs.has(p));
    return pt === undefined ? null : { pt, codec: this.rtp.codecs.get(pt)! };
  }

  /** The server's telephone-event payload type, if it accepted one. */
  get telephoneEventPt(): number | undefined {
    for (const [pt, name] of this.#media?.encodings ?? []) if (name.toLowerCase() === 'telephone-event') return pt;
    return undefined;
  }

  get remoteTarget(): string {
    return this.#remoteTarget;
  }

  get routeSet(): readonly string[] {
    return this.#routeSet;
  }

  get remoteTag(): string | undefined {
    return /;\s*tag=([^;>\s]+)/i.exec(this.#to)?.[1];
  }

  /** Who ended the call, or null while it is up. */
  get ended(): 'local' | 'remote' | null {
    return this.#ended?.by ?? null;
  }

  #applyDialogResponse(response: SipMessage, initial: boolean): void {
    // RFC 3261 §12.1.2: "The route set MUST be set to the list of URIs in the Record-Route header field from the
    // response, taken in reverse order" and "The remote target MUST be set to the URI from the Contact header field".
    if (initial) this.#routeSet = [...response.headerAll('record-route')].reverse();
    const contact = response.header('contact');
    if (contact) this.#remoteTarget = uriOf(contact);
    else if (initial) this.#mediaError = `2xx has no Contact header`;
    if (response.body.trim() !== '') this.#applyRemoteSdp(response.body);
    else if (initial) this.#mediaError = 'final response carries no SDP';
  }

  #applyRemoteSdp(body: string): void {
    const media = parseSdp(body);
    if (typeof media === 'string') {
      this.#mediaError = media;
      return;
    }
    this.#media = media;
    this.#mediaError = undefined;
    this.rtp.setRemote(media.address, media.port);
    const codecs = new Map<number, G711Codec>();
    for (const [pt, name] of media.encodings) {
      const upper = name.toUpperCase();
      if (upper === 'PCMA' || upper === 'PCMU') codecs.set(pt, upper);
    }
    this.rtp.setCodecs(codecs);
  }

  /** Our SDP: the offer's codecs, narrowed to what `remote` has when answering it. */
  #localSdp(remote?: SdpMedia, override?: Partial<CallInit['sdp']> & { direction?: SdpMedia['direction'] }): string {
    const codecs = override?.codecs ?? this.#sdp.codecs;
    const events = override?.telephoneEvent ?? this.#sdp.telephoneEvent;
    return buildSdp({
      address: this.#ua.localIp,
      port: this.rtp.localPort,
      codecs: remote ? codecs.filter((c) => remote.encodings.get(c.pt)?.toUpperCase() === c.name).slice(0, 1) : codecs,
      telephoneEvent: remote ? events.filter((pt) => remote.encodings.get(pt)?.toLowerCase() === 'telephone-event') : events,
      ptimeMs: override?.ptimeMs ?? this.#sdp.ptimeMs,
      sessionId: this.#sdp.sessionId,
      version: this.#sdpVersion++,
      direction: override?.direction,
    });
  }

  /**
   * Builds an in-dialog request. RFC 3261 §12.2.1.1: "If the route set is not empty, and the first URI in the
   * route set contains the lr parameter ... the UAC MUST place the remote target URI into the Request-URI and
   * MUST include a Route header field containing the route set values in order"; without lr, "the UAC MUST place
   * the first URI from the route set into the Request-URI ... [and] the remote target as the last value".
   */
  #build(method: string, seq: number, extra: string[], body = '', contentType = 'application/sdp'): { text: string; to: { host: string; port: number }; branch: string } {
    let requestUri = this.#remoteTarget;
    let routes = this.#routeSet;
    const first = routes[0];
    if (first !== undefined && !/;\s*lr\b/i.test(uriOf(first))) {
      requestUri = uriOf(first);
      routes = [...routes.slice(1), `<${this.#remoteTarget}>`];
    }
    const branch = newBranch();
    const text = [
      `${method} ${requestUri} SIP/2.0`,
      this.#ua.via(branch),
      'Max-Forwards: 70',
      ...routes.map((r) => `Route: ${r}`),
      `From: ${this.#from}`,
      `To: ${this.#to}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${seq} ${method}`,
      ...extra,
      ...(body ? [`Content-Type: ${contentType}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    return { text, to: this.#ua.destinationOf(first !== undefined ? uriOf(first) : this.#remoteTarget), branch };
  }

  /**
   * Acknowledges a 2xx (first or retransmitted). RFC 3261 §13.2.2.4: "The UAC core MUST generate an ACK request
   * for each 2xx received ... The sequence number of the CSeq header field MUST be the same as the INVITE being
   * acknowledged, but the CSeq method MUST be ACK". With a late offer the ACK carries our answer.
   */
  sendAck(response: SipMessage): void {
    const seq = response.cseq.seq;
    let ack = this.#acks.get(seq);
    if (!ack) {
      const answer = this.#lateOffer && seq === this.#inviteCSeq && this.#media ? this.#localSdp(this.#media) : '';
      ack = this.#build('ACK', seq, [], answer);
      this.#acks.set(seq, ack);
    }
    this.#ua.sendRaw(ack.text, ack.to);
  }

  /** The ACKs sent so far (one per acknowledged INVITE), as text. */
  get acks(): string[] {
    return [...this.#acks.values()].map((a) => a.text);
  }

  /** Handles a request from the server in this dialog: BYE ends the call; everything else gets a 200. */
  onRequest(request: SipMessage, rinfo: { address: string; port: number }): void {
    this.requests.push(request);
    // RFC 3261 §12.2.2: "If the request has a tag in the To header field, but the dialog identifier does not match
    // any existing dialogs ... the UAS MUST respond to the request with a 481".
    if (request.tag('to') !== this.#fromTag) {
      this.#ua.respond(request, rinfo, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (request.method === 'BYE') {
      this.#ua.respond(request, rinfo, 200, 'OK');
      this.#end('remote', request);
    } else if (request.method === 'INVITE') {
      if (request.body.trim() !== '') this.#applyRemoteSdp(request.body);
      const answer = this.#localSdp(this.#media ?? undefined);
      this.#ua.respond(request, rinfo, 200, 'OK', [`Contact: ${this.#ua.contact}`, 'Content-Type: application/sdp'], answer);
    } else {
      this.#ua.respond(request, rinfo, 200, 'OK');
    }
  }

  #end(by: 'local' | 'remote', bye?: SipMessage): void {
    if (this.#ended) return;
    this.#ended = { by, bye };
    for (const w of this.#endWaiters) w();
    // Packets already in flight when the call ends still count; then the port is released.
    setTimeout(() => this.rtp.close(), 100);
  }

  closeMedia(): void {
    this.rtp.close();
  }

  /** Sends any in-dialog request and resolves with the final response (whatever its status). */
  async request(method: string, o: { headers?: Record<string, string>; body?: string; contentType?: string } = {}): Promise<SipMessage> {
    const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
    const req = this.#build(method, ++this.#cseq, extra, o.body ?? '', o.contentType);
    return this.#ua.request(req.text, req.to);
  }

  #expect2xx(what: string, response: SipMessage): SipMessage {
    if (response.status! >= 300) throw new Error(`${what} was answered ${response.startLine}:\n${response.raw}`);
    return response;
  }

  /** Hangs up and waits for the 200. */
  async bye(): Promise<SipMessage> {
    if (this.#ended) throw new Error(`cannot send BYE: the call was already ended (${this.#ended.by})`);
    const response = await this.request('BYE');
    this.#end('local');
    return this.#expect2xx('BYE', response);
  }

  /** Resolves with the server's BYE (already answered 200), or rejects after `timeoutMs`. */
  waitForBye(timeoutMs = 30000): Promise<SipMessage> {
    return this.#waitFor(() => this.#ended !== null, timeoutMs, 'a BYE from the server').then(() => {
      if (this.#ended!.by !== 'remote') throw new Error('the call was ended by us, not by the server');
      return this.#ended!.bye!;
    });
  }

  /** SIP INFO DTMF (application/dtmf-relay: "Signal=5" / "Duration=160"; application/dtmf: the digit alone); waits for a 2xx. */
  async sendInfoDtmf(digit: string, o: { contentType?: 'application/dtmf-relay' | 'application/dtmf'; durationMs?: number } = {}): Promise<SipMessage> {
    const d = digit.toUpperCase();
    if (d.length !== 1 || !DIGITS.includes(d)) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
    const contentType = o.contentType ?? 'application/dtmf-relay';
    const body = contentType === 'application/dtmf' ? d : `Signal=${d}\r\nDuration=${o.durationMs ?? 160}\r\n`;
    return this.#expect2xx('INFO', await this.request('INFO', { body, contentType }));
  }

  /** Re-INVITE with a new offer; ACKs the final response. */
  async reinvite(o: Partial<CallInit['sdp']> & { direction?: SdpMedia['direction'] } = {}): Promise<{ status: number; response: SipMessage }> {
    const seq = ++this.#cseq;
    const req = this.#build('INVITE', seq, [`Contact: ${this.#ua.contact}`], this.#localSdp(undefined, o));
    const response = await this.#ua.request(req.text, req.to);
    if (response.status! < 300) {
      this.#applyDialogResponse(response, false);
      this.sendAck(response);
    } else {
      this.#ua.ackNon2xx(req.text, response, req.to, req.branch);
    }
    return { status: response.status!, response };
  }

  #requireMedia(): SdpMedia {
    if (!this.#media) throw new Error(`no usable SDP from the server: ${this.#mediaError ?? 'none received'}`);
    if (this.#ended) throw new Error(`the call has ended (${this.#ended.by})`);
    return this.#media;
  }

  #enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#sendChain.then(job);
    this.#sendChain = run.catch(() => undefined);
    return run;
  }

  /** Sends 8 kHz PCM as RTP paced in real time; sends queue behind one another. */
  async sendAudio(pcm: Int16Array, o: SendAudioOptions = {}): Promise<void> {
    this.#requireMedia();
    const negotiated = this.audio;
    const codec = o.codec ?? negotiated?.codec ?? 'PCMA';
    const answered = [...this.rtp.codecs].find(([, c]) => c === codec)?.[0];
    const pt = o.pt ?? answered ?? (codec === 'PCMA' ? 8 : 0);
    const ptimeMs = o.ptimeMs ?? this.#media!.ptimeMs ?? this.#sdp.ptimeMs;
    return this.#enqueue(async () => {
      let packets = this.#sender.audioPackets(pcm, { codec, pt, ptimeMs, startSeq: o.startSeq, ssrc: o.ssrc });
      if (o.mutate) packets = o.mutate(packets);
      this.sent.push(...packets);
      await this.rtp.sendPaced(packets);
    });
  }

  /**
   * Sends digits as RFC 4733 telephone-events (each: progress packets every `intervalMs`, then the end
   * packet three times, all with the same timestamp), `gapMs` apart.
   */
  async sendDtmf4733(digits: string, o: { pt?: number; durationMs?: number; intervalMs?: number; gapMs?: number; volume?: number } = {}): Promise<void> {
    this.#requireMedia();
    const pt = o.pt ?? this.telephoneEventPt ?? 101;
    const durationMs = o.durationMs ?? 100;
    const intervalMs = o.intervalMs ?? this.#sdp.ptimeMs;
    for (const d of digits) if (!DIGITS.includes(d.toUpperCase())) throw new RangeError(`not a DTMF digit: ${JSON.stringify(d)} in ${JSON.stringify(digits)}`);
    return this.#enqueue(async () => {
      for (let i = 0; i < digits.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, o.gapMs ?? 100));
        const packets = this.#sender.dtmfPackets(digits[i]!, { pt, durationMs, intervalMs, volume: o.volume });
        this.sent.push(...packets);
        await this.rtp.sendPaced(packets);
      }
    });
  }

  /** Every RTP packet received so far, in arrival order, with arrival times. */
  get packets(): readonly ReceivedRtpPacket[] {
    return this.rtp.packets;
  }

  /** All audio received so far, decoded and laid out on the RTP timestamp timeline (gaps are silence). */
  received(): Int16Array {
    return layoutAudio(this.rtp.packets, { codecs: this.rtp.codecs });
  }

  /** The telephone-events the server sent, one entry per event (grouped by timestamp). */
  receivedDtmf(): ReceivedDtmf[] {
    const pt = this.telephoneEventPt;
    const events = new Map<number, ReceivedDtmf>();
    for (const p of this.rtp.packets) {
      if (p.payloadType !== pt) continue;
      const e = parseDtmfPayload(p.payload);
      if (!e) continue;
      const entry = events.get(p.timestamp) ?? { digit: DIGITS[e.event] ?? `event ${e.event}`, timestamp: p.timestamp, durationMs: 0, packets: 0, endPackets: 0 };
      entry.packets++;
      if (e.end) entry.endPackets++;
      entry.durationMs = Math.max(entry.durationMs, e.duration / 8);
      events.set(p.timestamp, entry);
    }
    return [...events.values()];
  }

  /** Polls `predicate` until it holds; rejects naming `what` after `timeoutMs`. */
  waitUntil(predicate: () => boolean, o: { timeoutMs?: number; what?: string } = {}): Promise<void> {
    return this.#waitFor(predicate, o.timeoutMs ?? 10000, o.what ?? 'the condition');
  }

  /**
   * Waits until some audio louder than `threshold` has arrived and then `silenceMs` passed with no packet
   * louder than it (quiet packets or none at all). Resolves with the arrival time of the last loud packet.
   */
  async waitForAudioSilence(o: { silenceMs?: number; threshold?: number; timeoutMs?: number } = {}): Promise<number> {
    const silenceMs = o.silenceMs ?? 500;
    const threshold = o.threshold ?? 64;
    let lastLoud = -1;
    await this.#waitFor(
      () => {
        const packets = this.rtp.packets;
        for (let i = packets.length - 1; i >= 0; i--) {
          const s = packets[i]!.samples;
          if (s && s.some((x) => x > threshold || x < -threshold)) {
            lastLoud = packets[i]!.arrivalMs;
            break;
          }
        }
        return lastLoud >= 0 && performance.now() - lastLoud >= silenceMs;
      },
      o.timeoutMs ?? 30000,
      `${silenceMs} ms of silence after audio louder than ${threshold}`,
    );
    return lastLoud;
  }

  #waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!predicate()) return false;
        clearInterval(poll);
        clearTimeout(timer);
        this.#endWaiters.delete(onEnd);
        resolve();
        return true;
      };
      const onEnd = (): void => void check();
      const poll = setInterval(check, 10);
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.#endWaiters.delete(onEnd);
        const elapsed = Math.round(performance.now() - started);
        reject(new Error(`timed out after ${elapsed} ms waiting for ${what} (call ${this.callId}: ${this.rtp.packets.length} RTP packets received, ended: ${this.ended ?? 'no'}); last SIP:\n${this.#ua.traceText(4)}`));
      }, timeoutMs);
      this.#endWaiters.add(onEnd);
      check();
    });
  }
}
