/**
 * One call of the test user agent (test-ua.ts): the INVITE dialog seen from the UAC side (RFC 3261 §12) and its
 * RTP stream. Like the UA it is written from the RFC text alone and imports nothing from `src/sip` or `src/media`.
 */
import { performance } from 'node:perf_hooks';
import {
  buildSdp,
  layoutAudio,
  parseDtmfPayload,
  parseSdp,
  RtpStreamSender,
  type CodecOffer,
  type G711Codec,
  type OutgoingRtpPacket,
  type RtpPeer,
  type ReceivedRtpPacket,
  type SdpMedia,
} from './rtp-peer.js';
// test-ua.ts imports this module too: the helpers below are only called inside methods, after both have loaded.
import { newBranch, uriOf, type SipMessage, type TestUa } from './test-ua.js';

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

/** What the UA hands to a new call: the dialog state from the INVITE and its 2xx, and the media set up for it. */
export interface CallInit {
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
    // Packets already in flight when the call ends still count; then the port is released. (A linger nobody
    // awaits, not a wait: the tests that count packets wait for them by number.)
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
        if (i > 0) await new Promise((r) => setTimeout(r, o.gapMs ?? 100)); // the pause between two key presses, on the wire
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
  /**
   * Waits for audio louder than `threshold` followed by `silenceMs` of quiet; resolves to the last loud arrival.
   * `afterMs` (a performance.now() instant, e.g. taken once keys were sent): only audio arriving after it counts,
   * so the end of an earlier prompt does not stand for the answer to those keys when the server is slow to start it.
   */
  async waitForAudioSilence(o: { silenceMs?: number; threshold?: number; timeoutMs?: number; afterMs?: number } = {}): Promise<number> {
    const silenceMs = o.silenceMs ?? 500;
    const threshold = o.threshold ?? 64;
    const afterMs = o.afterMs ?? -Infinity;
    let lastLoud = -1;
    await this.#waitFor(
      () => {
        const packets = this.rtp.packets;
        for (let i = packets.length - 1; i >= 0 && packets[i]!.arrivalMs > afterMs; i--) {
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
