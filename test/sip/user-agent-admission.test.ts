/**
 * Admission control wired into the UAS core: a real SipTransport on loopback, raw UDP peers on other loopback
 * addresses (127.0.0.2… are all local), the user agent's timers on a manual clock so that the 64*T1 ACK time-out is
 * driven by the test. Checks: half-open INVITEs beyond the per-source cap get 503 + Retry-After while another
 * source is served; a 2xx never ACKed frees its place when the session is ended with BYE after 64*T1; rate-limited
 * requests get 503 and then nothing; scanner User-Agents get nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { pino } from 'pino';
import { ManualClock } from '../../src/shared/clock.js';
import { AdmissionControl } from '../../src/sip/admission.js';
import { SipTransport } from '../../src/sip/transport/transport.js';
import { SipUserAgent } from '../../src/sip/user-agent.js';
import type { IncomingInvite } from '../../src/sip/incoming-invite.js';
import type { SipMessage } from '../../src/sip/message.js';

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
const T1 = 500;

interface Received {
  firstLine: string;
  status: number | null;
  headers: Map<string, string>;
}

function parseText(buf: Buffer): Received {
  const [head] = buf.toString('latin1').split('\r\n\r\n');
  const [firstLine, ...lines] = head!.split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const m = /^SIP\/2\.0 (\d{3})/.exec(firstLine!);
  return { firstLine: firstLine!, status: m ? Number(m[1]) : null, headers };
}

/** A UDP peer on its own loopback address that writes raw SIP and collects what comes back. */
class RawPeer {
  readonly received: Received[] = [];
  #waiters: Array<() => void> = [];
  #n = 0;
  private constructor(
    readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (b) => {
      this.received.push(parseText(b));
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(address: string): Promise<RawPeer> {
    const s = createSocket('udp4');
    s.bind(0, address);
    await once(s, 'listening');
    return new RawPeer(s, address, s.address().port);
  }

  request(method: string, target: number, o: { callId?: string; ua?: string; toTag?: string; fromTag?: string; cseq?: number; branch?: string; sdp?: boolean } = {}): { callId: string; branch: string } {
    const n = ++this.#n;
    const callId = o.callId ?? `c${n}-${this.address}-${Date.now()}`;
    const branch = o.branch ?? `z9hG4bK-${n}-${Math.random().toString(36).slice(2)}`;
    const body = o.sdp ? `v=0\r\no=- 1 1 IN IP4 ${this.address}\r\ns=-\r\nc=IN IP4 ${this.address}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n` : '';
    const lines = [
      `${method} sip:+33912345678@127.0.0.1:${target} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:caller@${this.address}>;tag=${o.fromTag ?? `f${n}`}`,
      `To: <sip:+33912345678@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${o.cseq ?? 1} ${method}`,
      `Contact: <sip:caller@${this.address}:${this.port}>`,
      ...(o.ua ? [`User-Agent: ${o.ua}`] : []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.socket.send(lines.join('\r\n'), target, '127.0.0.1');
    return { callId, branch };
  }

  /** The first final response of each transaction (2xx retransmissions left out). */
  finals(): Received[] {
    const seen = new Set<string>();
    return this.received.filter((r) => {
      const key = `${r.headers.get('call-id')} ${r.headers.get('cseq')}`;
      if (r.status === null || r.status < 200 || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  async until(pred: () => boolean): Promise<void> {
    while (!pred()) await new Promise<void>((r) => this.#waiters.push(r));
  }

  close(): void {
    this.socket.close();
  }
}

let transport: SipTransport;
let ua: SipUserAgent;
let admission: AdmissionControl;
const clock = new ManualClock();
const admissionClock = new ManualClock();
const peers: RawPeer[] = [];
/** Requests the transport handed to the user agent (its listener runs first), by source address. */
const handled = new Map<string, number>();

beforeAll(async () => {
  transport = new SipTransport({ host: '127.0.0.1', port: 0, transports: ['udp'], logger });
  await transport.start();
  admission = new AdmissionControl({ maxHalfOpenPerSource: 3, ratePerSecond: 1, burst: 20, dropAfterRefusals: 1, trustedSources: [] }, admissionClock);
  ua = new SipUserAgent({ transport, logger, clock, timers: { T1 }, admission });
  transport.on('message', (m: SipMessage, src: { address: string }) => {
    if (m.kind === 'request') handled.set(src.address, (handled.get(src.address) ?? 0) + 1);
  });
  ua.on('invite', (invite: IncomingInvite) => {
    invite.accept({ address: '127.0.0.1', port: 4002, sessionId: '1', sessionVersion: 1 });
  });
});

afterAll(async () => {
  for (const p of peers) p.close();
  await transport?.stop();
});

async function peer(address: string): Promise<RawPeer> {
  const p = await RawPeer.open(address);
  peers.push(p);
  return p;
}

async function handledFrom(p: RawPeer, n: number): Promise<void> {
  while ((handled.get(p.address) ?? 0) < n) await once(transport, 'message');
}

describe('admission control in the user agent', () => {
  test('INVITEs beyond the per-source half-open cap get 503 + Retry-After; another source is served; 64*T1 without ACK frees them', async () => {
    const flooder = await peer('127.0.0.2');
    for (let i = 0; i < 5; i++) flooder.request('INVITE', transport.port, { sdp: true });
    await flooder.until(() => flooder.finals().length === 5);
    const statuses = flooder.finals().map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    const refused = flooder.finals().filter((r) => r.status === 503);
    expect(refused).toHaveLength(2);
    expect(refused[0]!.firstLine).toBe('SIP/2.0 503 Service Unavailable (too many unanswered calls from your address)');
    expect(refused[0]!.headers.get('retry-after')).toBe('10');
    expect(admission.stats()).toMatchObject({ halfOpen: 3, calls: 3, rejectedHalfOpenPerSource: 2 });

    // Another caller gets through and ACKs: no longer half-open.
    const caller = await peer('127.0.0.3');
    const { callId } = caller.request('INVITE', transport.port, { sdp: true, fromTag: 'caller-tag' });
    await caller.until(() => caller.finals().length === 1);
    const ok = caller.finals()[0]!;
    expect(ok.status).toBe(200);
    const toTag = /;tag=([^;]+)/.exec(ok.headers.get('to') ?? '')![1]!;
    caller.request('ACK', transport.port, { callId, toTag, fromTag: 'caller-tag' });
    await handledFrom(caller, 2);
    expect(admission.stats()).toMatchObject({ halfOpen: 3, calls: 4 });

    // §13.3.1.4: no ACK for 64*T1 → BYE; the flooder's half-open places are free again.
    clock.advance(64 * T1);
    await flooder.until(() => flooder.received.filter((r) => r.firstLine.startsWith('BYE ')).length >= 3);
    expect(admission.stats()).toMatchObject({ halfOpen: 0, calls: 1 });
    flooder.request('INVITE', transport.port, { sdp: true });
    await flooder.until(() => flooder.finals().length === 6);
    expect(flooder.finals()[5]!.status).toBe(200);
  });

  test('a rate-limited source gets 503 + Retry-After, then silence; others still get OPTIONS answered', async () => {
    const noisy = await peer('127.0.0.4');
    for (let i = 0; i < 24; i++) noisy.request('OPTIONS', transport.port);
    await handledFrom(noisy, 24);
    await noisy.until(() => noisy.finals().length === 21);
    const statuses = noisy.finals().map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 503)).toHaveLength(1);
    expect(noisy.finals().find((r) => r.status === 503)!.headers.get('retry-after')).toBe('10');
    expect(admission.stats().droppedRate).toBe(3);
    const quiet = await peer('127.0.0.5');
    quiet.request('OPTIONS', transport.port);
    await quiet.until(() => quiet.finals().length === 1);
    expect(quiet.finals()[0]!.status).toBe(200);
  });

  test('a scanner User-Agent is not answered at all', async () => {
    const scanner = await peer('127.0.0.6');
    scanner.request('OPTIONS', transport.port, { ua: 'friendly-scanner' });
    scanner.request('INVITE', transport.port, { ua: 'sipvicious', sdp: true });
    await handledFrom(scanner, 2);
    scanner.request('OPTIONS', transport.port, { ua: 'Linphone/5.1' });
    await scanner.until(() => scanner.finals().length === 1);
    expect(scanner.received.map((r) => r.status)).toEqual([200]);
    expect(admission.stats().droppedScanner).toBe(2);
  });
});
