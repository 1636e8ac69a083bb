/**
 * A test SIP user agent (UAC over UDP) with an RTP endpoint, for integration tests of the voicemail server.
 * It is built from the RFC text alone — messages are written and read as text here, media in rtp-peer.ts —
 * and imports nothing from `src/sip` or `src/media`, so that a bug in our stack cannot cancel itself out.
 * One established call (dialog and RTP) is a {@link TestCall}, in test-call.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { buildSdp, RtpPeer, type CodecOffer } from './rtp-peer.js';
import { TestCall } from './test-call.js';

export { TestCall, type CallInit, type ReceivedDtmf, type SendAudioOptions } from './test-call.js';

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
