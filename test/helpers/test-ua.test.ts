/**
 * The test user agent and prompt matcher, checked against a tiny fake UAS written here on bare dgram (its own
 * text parsing: nothing shared with the UA under test).
 */
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { alaw } from 'alawmulaw';
import { TestUa, type TestCall } from './test-ua.js';
import { buildRtpPacket, g711RoundTrip, RtpMutations } from './rtp-peer.js';
import { expectPromptsHeard, findSequence, findTone, isBeep } from './prompt-match.js';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../src/ivr/prompts/catalog.js';
import { startServerProcess } from './server-process.js';
import { until } from './wait.js';

/** Deterministic speech-like test signal: a few drifting partials plus noise, with silent edges. */
function signal(samples: number, seed: number, silentEdges = 0): Int16Array {
  let state = seed;
  const rand = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const out = new Int16Array(samples + 2 * silentEdges);
  for (let i = 0; i < samples; i++) {
    const t = i / 8000;
    const env = Math.sin((Math.PI * i) / samples);
    const v = 4000 * Math.sin(2 * Math.PI * (300 + 40 * seed) * t + 3 * Math.sin(7 * t)) + 2500 * Math.sin(2 * Math.PI * 1270 * t) + 1500 * rand();
    out[silentEdges + i] = Math.round(v * env);
  }
  return out;
}

function tone(freq: number, ms: number, amplitude = 8000): Int16Array {
  const n = (ms * 8) | 0;
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / 8000)));
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const header = (text: string, name: string): string | undefined =>
  new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text.split('\r\n\r\n')[0]!)?.[1]?.trim();
const startLine = (text: string): string => text.slice(0, text.indexOf('\r\n'));
const bodyOf = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4);

interface RtpSeen {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  payload: Buffer;
}

/** A minimal UAS: answers INVITE (or rejects it), records every datagram, can stream RTP and hang up. */
class FakeUas {
  readonly sip = createSocket('udp4');
  readonly rtp = createSocket('udp4');
  readonly messages: string[] = [];
  readonly rtpSeen: RtpSeen[] = [];
  readonly toTag = 'uastag77';
  invite?: string;
  #ua?: RemoteInfo;
  constructor(readonly behaviour: { reject?: number; repeatFinal?: number; recordRoute?: string[]; answerPts?: string } = {}) {}

  async start(): Promise<void> {
    await new Promise<void>((r) => this.sip.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.rtp.bind(0, '127.0.0.1', r));
    this.rtp.on('message', (b) => this.rtpSeen.push({ pt: b[1]! & 0x7f, marker: (b[1]! & 0x80) !== 0, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), payload: b.subarray(12) }));
    this.sip.on('message', (b, rinfo) => this.#onSip(b.toString(), rinfo));
  }

  get address(): string {
    return `127.0.0.1:${this.sip.address().port}`;
  }

  get contact(): string {
    return `sip:uas@127.0.0.1:${this.sip.address().port}`;
  }

  received(method: string): string[] {
    return this.messages.filter((m) => m.startsWith(`${method} `));
  }

  #respond(req: string, rinfo: RemoteInfo, status: string, extra: string[] = [], body = ''): void {
    const vias = req.split('\r\n').filter((l) => /^(Via|v):/i.test(l));
    const to = header(req, 'To')!;
    const text = [
      `SIP/2.0 ${status}`, ...vias, `From: ${header(req, 'From')}`, `To: ${/tag=/.test(to) ? to : `${to};tag=${this.toTag}`}`,
      `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`, ...extra, `Content-Length: ${Buffer.byteLength(body)}`, '', body,
    ].join('\r\n');
    this.sip.send(text, rinfo.port, rinfo.address);
  }

  #onSip(text: string, rinfo: RemoteInfo): void {
    this.messages.push(text);
    const method = startLine(text).split(' ')[0];
    if (method === 'INVITE' && this.invite) {
      // A re-INVITE: accept it with the same answer, moved to another port to show the UA follows.
      const sdp = bodyOf(this.invite).replace(/m=audio \d+/, 'm=audio 40000');
      this.#respond(text, rinfo, '200 OK', [`Contact: <${this.contact}>`, 'Content-Type: application/sdp'], sdp.replace(/^c=.*$/m, 'c=IN IP4 127.0.0.1'));
    } else if (method === 'INVITE') {
      this.invite = text;
      this.#ua = rinfo;
      this.#respond(text, rinfo, '100 Trying');
      const final = (): void => {
        if (this.behaviour.reject) return this.#respond(text, rinfo, `${this.behaviour.reject} Busy Here`);
        const sdp = ['v=0', 'o=uas 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${this.rtp.address().port} RTP/AVP ${this.behaviour.answerPts ?? '8 101'}`,
          'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', ''].join('\r\n');
        this.#respond(text, rinfo, '200 OK', [`Contact: <${this.contact}>`, ...(this.behaviour.recordRoute ?? []).map((r) => `Record-Route: ${r.replace('{uas}', this.address)}`), 'Content-Type: application/sdp'], sdp);
      };
      // The peer behaviour under test: a 2xx retransmitted (RFC 3261 §13.3.1.4) at the fake UAS's own pace.
      for (let i = 0; i <= (this.behaviour.repeatFinal ?? 0); i++) setTimeout(final, 20 + i * 60);
    } else if (method === 'BYE' || method === 'INFO' || method === 'OPTIONS') {
      this.#respond(text, rinfo, '200 OK');
    }
  }

  /** The UA's RTP address from its offer. */
  get uaRtp(): { address: string; port: number } {
    const body = bodyOf(this.invite!);
    return { address: /c=IN IP4 (\S+)/.exec(body)![1]!, port: Number(/m=audio (\d+)/.exec(body)![1]) };
  }

  /** Sends PCM to the UA as PCMA packets (20 ms), optionally reshuffled; returns the packets' (seq, ts). */
  streamPcm(pcm: Int16Array, order?: (packets: Buffer[]) => Buffer[]): void {
    const packets: Buffer[] = [];
    for (let i = 0; i * 160 < pcm.length; i++) {
      const frame = new Int16Array(160);
      frame.set(pcm.subarray(i * 160, (i + 1) * 160));
      packets.push(buildRtpPacket({ payloadType: 8, marker: i === 0, sequenceNumber: 1000 + i, timestamp: 4_294_960_000 + i * 160, ssrc: 0x1234, payload: alaw.encode(frame) }));
    }
    const { address, port } = this.uaRtp;
    for (const p of order ? order(packets) : packets) this.rtp.send(p, port, address);
  }

  /** Hangs up towards the UA's Contact. */
  sendBye(): void {
    const inv = this.invite!;
    const text = [
      `BYE ${/<([^>]+)>/.exec(header(inv, 'Contact')!)![1]} SIP/2.0`, 'Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKuasbye1', 'Max-Forwards: 70',
      `From: ${header(inv, 'To')};tag=${this.toTag}`, `To: ${header(inv, 'From')}`, `Call-ID: ${header(inv, 'Call-ID')}`, 'CSeq: 1 BYE', 'Content-Length: 0', '', '',
    ].join('\r\n');
    this.sip.send(text, this.#ua!.port, this.#ua!.address);
  }

  close(): void {
    this.sip.close();
    this.rtp.close();
  }
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function setup(behaviour: ConstructorParameters<typeof FakeUas>[0] = {}): Promise<{ uas: FakeUas; ua: TestUa; call?: TestCall; result: Awaited<ReturnType<TestUa['invite']>> }> {
  const uas = new FakeUas(behaviour);
  await uas.start();
  const ua = await TestUa.create({ server: uas.address, timeoutMs: 3000 });
  cleanup.push(() => ua.close(), () => uas.close());
  const result = await ua.invite({ to: '+33912345678', from: '0611223344', extraHeaders: { Diversion: '<sip:+33100000000@x>;reason=no-answer' } });
  return { uas, ua, call: result.call, result };
}


describe('TestUa signalling', () => {
  test('INVITE carries the offer and extra headers; the 2xx is ACKed per §13.2.2.4 with the route set', async () => {
    const { uas, call, result } = await setup({ recordRoute: ['<sip:p1@{uas};lr>', '<sip:p2@{uas};lr>'] });
    expect(result.status).toBe(200);
    expect(result.responses.map((r) => r.status)).toEqual([100, 200]);
    const invite = uas.invite!;
    expect(startLine(invite)).toBe(`INVITE sip:+33912345678@${uas.address} SIP/2.0`);
    expect(header(invite, 'Diversion')).toBe('<sip:+33100000000@x>;reason=no-answer');
    expect(bodyOf(invite)).toMatch(/^m=audio \d+ RTP\/AVP 8 0 101\r$/m);
    expect(bodyOf(invite)).toContain('a=rtpmap:101 telephone-event/8000');
    expect(Number(header(invite, 'Content-Length'))).toBe(Buffer.byteLength(bodyOf(invite)));

    await until('uas.received(ACK).length === 1', () => uas.received('ACK').length === 1, 2000, 5);
    const ack = uas.received('ACK')[0]!;
    expect(startLine(ack)).toBe(`ACK ${uas.contact} SIP/2.0`);
    expect(header(ack, 'CSeq')).toBe('1 ACK');
    expect(header(ack, 'Call-ID')).toBe(header(invite, 'Call-ID'));
    expect(header(ack, 'From')).toBe(header(invite, 'From'));
    expect(header(ack, 'To')).toContain(`tag=${uas.toTag}`);
    const branch = (m: string): string => /branch=([^;\s]+)/.exec(header(m, 'Via')!)![1]!;
    expect(branch(ack)).toMatch(/^z9hG4bK/);
    expect(branch(ack)).not.toBe(branch(invite));
    // Record-Route p1, p2 → route set p2, p1 for the UAC; the ACK goes to p2 (the fake UAS's own address).
    expect(ack.split('\r\n').filter((l) => l.startsWith('Route:'))).toEqual([`Route: <sip:p2@${uas.address};lr>`, `Route: <sip:p1@${uas.address};lr>`]);
    expect(call!.audio).toEqual({ pt: 8, codec: 'PCMA' });
    expect(call!.telephoneEventPt).toBe(101);
    expect(call!.rtp.remote).toEqual({ address: '127.0.0.1', port: uas.rtp.address().port });
  });

  test('a retransmitted 2xx is ACKed again, identically', async () => {
    const { uas } = await setup({ repeatFinal: 2 });
    await until('uas.received(ACK).length === 3', () => uas.received('ACK').length === 3, 2000, 5);
    const acks = uas.received('ACK');
    expect(new Set(acks).size).toBe(1);
  });

  test('a non-2xx final response is ACKed per §17.1.1.3 (same branch, To from the response) and gives no call', async () => {
    const { uas, result } = await setup({ reject: 486, repeatFinal: 1 });
    expect(result.status).toBe(486);
    expect(result.call).toBeUndefined();
    await until('uas.received(ACK).length === 2', () => uas.received('ACK').length === 2, 2000, 5);
    const [ack] = uas.received('ACK');
    const invite = uas.invite!;
    expect(startLine(ack!)).toBe(startLine(invite).replace('INVITE', 'ACK'));
    expect(header(ack!, 'Via')).toBe(header(invite, 'Via'));
    expect(header(ack!, 'CSeq')).toBe('1 ACK');
    expect(header(ack!, 'To')).toBe(`${header(invite, 'To')};tag=${uas.toTag}`);
  });

  test('INFO DTMF and BYE are in-dialog requests with increasing CSeq, each waiting for its 200', async () => {
    const { uas, call } = await setup();
    const info = await call!.sendInfoDtmf('5');
    expect(info.status).toBe(200);
    const sent = uas.received('INFO')[0]!;
    expect(startLine(sent)).toBe(`INFO ${uas.contact} SIP/2.0`);
    expect(header(sent, 'Content-Type')).toBe('application/dtmf-relay');
    expect(bodyOf(sent)).toBe('Signal=5\r\nDuration=160\r\n');
    expect(header(sent, 'CSeq')).toBe('2 INFO');
    await call!.sendInfoDtmf('#', { contentType: 'application/dtmf' });
    expect(bodyOf(uas.received('INFO')[1]!)).toBe('#');
    expect((await call!.bye()).status).toBe(200);
    expect(header(uas.received('BYE')[0]!, 'CSeq')).toBe('4 BYE');
    expect(call!.ended).toBe('local');
    await expect(call!.bye()).rejects.toThrow(/already ended/);
  });

  test('late offer: INVITE without SDP, the answer goes in the ACK', async () => {
    const uas = new FakeUas();
    await uas.start();
    const ua = await TestUa.create({ server: uas.address, timeoutMs: 3000 });
    cleanup.push(() => ua.close(), () => uas.close());
    const { call } = await ua.invite({ to: '1', from: '2', noSdp: true });
    expect(bodyOf(uas.invite!)).toBe('');
    expect(header(uas.invite!, 'Content-Type')).toBeUndefined();
    await until('uas.received(ACK).length === 1', () => uas.received('ACK').length === 1, 2000, 5);
    const ack = uas.received('ACK')[0]!;
    expect(header(ack, 'Content-Type')).toBe('application/sdp');
    expect(bodyOf(ack)).toMatch(/^m=audio \d+ RTP\/AVP 8 101\r$/m);
    expect(call!.audio).toEqual({ pt: 8, codec: 'PCMA' });
  });

  test('reinvite sends an in-dialog INVITE with a new SDP version, applies the answer and ACKs with its CSeq', async () => {
    const { uas, call } = await setup();
    const r = await call!.reinvite({ direction: 'sendonly' });
    expect(r.status).toBe(200);
    const reinvite = uas.received('INVITE')[1]!;
    expect(header(reinvite, 'CSeq')).toBe('2 INVITE');
    expect(header(reinvite, 'To')).toContain(`tag=${uas.toTag}`);
    expect(bodyOf(reinvite)).toContain('a=sendonly');
    const version = (m: string): number => Number(/^o=\S+ \d+ (\d+)/m.exec(bodyOf(m))![1]);
    expect(version(reinvite)).toBe(version(uas.invite!) + 1);
    await until('uas.received(ACK).length === 2', () => uas.received('ACK').length === 2, 2000, 5);
    expect(header(uas.received('ACK')[1]!, 'CSeq')).toBe('2 ACK');
    expect(call!.rtp.remote?.port).toBe(40000);
  });

  test('waitForBye answers the server BYE with 200 and times out with a clear error otherwise', async () => {
    const { uas, ua, call } = await setup();
    await expect(call!.waitForBye(100)).rejects.toThrow(/timed out after \d+ ms waiting for a BYE/);
    uas.sendBye();
    const bye = await call!.waitForBye(2000);
    expect(bye.method).toBe('BYE');
    expect(call!.ended).toBe('remote');
    const ok = ua.trace.filter((t) => t.dir === 'out').at(-1)!.text;
    expect(startLine(ok)).toBe('SIP/2.0 200 OK');
    expect(header(ok, 'CSeq')).toBe('1 BYE');
    expect(header(ok, 'Via')).toBe('SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKuasbye1');
  });

  test('no answer at all: invite rejects naming the method and the timeout', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const ua = await TestUa.create({ server: `127.0.0.1:${silent.address().port}`, timeoutMs: 700 });
    cleanup.push(() => ua.close(), () => silent.close());
    const seen: string[] = [];
    silent.on('message', (b) => seen.push(b.toString()));
    await expect(ua.invite({ to: '1', from: '2' })).rejects.toThrow(/no final response to INVITE within 700 ms/);
    // Timer A: sent at 0, retransmitted at 500 ms.
    expect(seen.length).toBe(2);
    expect(seen[1]).toBe(seen[0]);
  });
});

describe('TestCall media', () => {
  test('sendAudio: PCMA packets of one ptime, marker on the first, consecutive seq/ts, paced in real time', async () => {
    const { uas, call } = await setup();
    const pcm = signal(1000, 3);
    const t0 = Date.now();
    await call!.sendAudio(pcm);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    await until('uas.rtpSeen.length === 7', () => uas.rtpSeen.length === 7, 2000, 5);
    expect(uas.rtpSeen.map((p) => p.pt)).toEqual(Array(7).fill(8));
    expect(uas.rtpSeen.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    const s0 = uas.rtpSeen[0]!;
    uas.rtpSeen.forEach((p, i) => {
      expect(p.seq).toBe((s0.seq + i) & 0xffff);
      expect(p.ts).toBe((s0.ts + 160 * i) >>> 0);
      expect(p.payload.length).toBe(160);
    });
    const decoded = alaw.decode(Buffer.concat(uas.rtpSeen.map((p) => p.payload)));
    expect(Array.from(decoded.subarray(0, 1000))).toEqual(Array.from(g711RoundTrip('PCMA', pcm)));
    expect(decoded.subarray(1000).every((x) => Math.abs(x) <= 8)).toBe(true);
  });

  test('mutations reorder, duplicate and drop exactly the packets asked for', async () => {
    const { uas, call } = await setup();
    const pcm = signal(160 * 6, 4);
    await call!.sendAudio(pcm, { startSeq: 500, mutate: (p) => RtpMutations.swap(1, 2)(RtpMutations.duplicate(3)(RtpMutations.drop(4)(p))) });
    // All six were sent before sendAudio resolved: once six are in, none is still on the way.
    await until('uas.rtpSeen.length === 6', () => uas.rtpSeen.length >= 6, 2000, 5);
    expect(uas.rtpSeen.map((p) => p.seq)).toEqual([500, 502, 501, 503, 503, 505]);
    expect(call!.sent.map((p) => p.sequenceNumber)).toEqual([500, 502, 501, 503, 503, 505]);
  });

  test('sendDtmf4733: ≥3 progress packets then 3 end packets, one timestamp, marker on the first', async () => {
    const { uas, call } = await setup();
    await call!.sendDtmf4733('5', { durationMs: 100 });
    await until('uas.rtpSeen.length >= 8', () => uas.rtpSeen.length >= 8, 2000, 5);
    const pkts = uas.rtpSeen;
    expect(pkts.every((p) => p.pt === 101 && p.ts === pkts[0]!.ts)).toBe(true);
    expect(pkts.map((p) => p.marker)).toEqual([true, ...Array(pkts.length - 1).fill(false)]);
    const events = pkts.map((p) => ({ event: p.payload[0], end: (p.payload[1]! & 0x80) !== 0, duration: p.payload.readUInt16BE(2) }));
    expect(events.every((e) => e.event === 5)).toBe(true);
    const progress = events.filter((e) => !e.end);
    const ends = events.filter((e) => e.end);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(events.slice(-3)).toEqual(ends);
    expect(ends).toEqual(Array(3).fill({ event: 5, end: true, duration: 800 }));
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.duration).toBeGreaterThan(progress[i - 1]!.duration);
    await expect(call!.sendDtmf4733('x')).rejects.toThrow(/not a DTMF digit/);
  });

  test('received() lays audio on the timestamp timeline (reordered, duplicated, lost packets; timestamp wrap)', async () => {
    const { uas, call } = await setup();
    const pcm = signal(160 * 10, 5);
    uas.streamPcm(pcm, (p) => [p[0]!, p[2]!, p[1]!, p[3]!, p[3]!, p[4]!, p[6]!, p[7]!, p[8]!, p[9]!]);
    await call!.waitUntil(() => call!.packets.length === 10, { what: '10 packets' });
    const got = call!.received();
    const want = g711RoundTrip('PCMA', pcm);
    want.fill(0, 5 * 160, 6 * 160);
    expect(got.length).toBe(pcm.length);
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(findSequence(got, [pcm.subarray(0, 800)]).ok).toBe(true);
  });

  test('waitForAudioSilence resolves after sound then quiet', async () => {
    const { uas, call } = await setup();
    uas.streamPcm(concat(signal(800, 6), new Int16Array(800)));
    const lastLoud = await call!.waitForAudioSilence({ silenceMs: 150, timeoutMs: 2000 });
    expect(lastLoud).toBeGreaterThan(0);
  });

  test('waitForAudioSilence({ afterMs }) waits for audio arriving after that instant, not an earlier prompt\'s end', async () => {
    const { uas, call } = await setup();
    uas.streamPcm(concat(signal(800, 6), new Int16Array(800)));
    const first = await call!.waitForAudioSilence({ silenceMs: 150, timeoutMs: 2000 });
    const keysSent = performance.now();
    // Without afterMs the earlier sound would do at once; with it, nothing new came: it times out.
    await expect(call!.waitForAudioSilence({ silenceMs: 150, timeoutMs: 400 })).resolves.toBe(first);
    await expect(call!.waitForAudioSilence({ silenceMs: 150, timeoutMs: 400, afterMs: keysSent })).rejects.toThrow(/silence/);
    uas.streamPcm(concat(signal(800, 7), new Int16Array(800)));
    const answer = await call!.waitForAudioSilence({ silenceMs: 150, timeoutMs: 2000, afterMs: keysSent });
    expect(answer).toBeGreaterThan(keysSent);
  });
});

describe('prompt matching', () => {
  const p1 = signal(4000, 1, 300);
  const p2 = signal(6000, 2, 200);
  const p3 = signal(3000, 7, 0);
  const stream = (...parts: Int16Array[]): Int16Array => g711RoundTrip('PCMA', concat(...parts));

  test('finds chunks in order at their exact positions', () => {
    const received = stream(new Int16Array(1234), p1, new Int16Array(400), p2, p3, new Int16Array(500));
    const r = findSequence(received, [p1, p2, p3], { labels: ['a', 'b', 'c'] });
    expect(r.ok).toBe(true);
    expect(r.matches.map((m) => m.chunkStart)).toEqual([1234, 1234 + p1.length + 400, 1234 + p1.length + 400 + p2.length]);
    expect(r.matches.every((m) => m.mismatches === 0)).toBe(true);
    expect(r.matches.map((m) => m.gapBefore)).toEqual([0, 400, 0]);
    const gappy = findSequence(received, [p1, p2, p3], { labels: ['a', 'b', 'c'], maxGapMs: 40 });
    expect(gappy.ok).toBe(false);
    if (!gappy.ok) expect(gappy.message).toBe('prompt sequence not contiguous: chunk #1 "b" found at 0.779 s, 0.050 s after the end of #0 "a" (at most 40 ms allowed)');
  });

  test('tolerates a cut first packet and a trimmed edge, but not a lost packet in the middle', () => {
    const cut = stream(p1.subarray(300 + 120), p2);
    expect(findSequence(cut, [p1, p2]).ok).toBe(true);
    const holed = stream(p1, p2);
    holed.fill(0, p1.length + 3000, p1.length + 3160);
    const r = findSequence(holed, [p1, p2], { labels: ['p1', 'p2'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/chunk #1 "p2".*not found/);
    expect(findSequence(holed, [p1, p2], { maxMismatchRatio: 0.03 }).ok).toBe(true);
  });

  test('a missing or misplaced prompt fails with a readable message', () => {
    const r = findSequence(stream(p1, p3), [p1, p2, p3], { labels: ['p1', 'p2', 'p3'] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing).toBe(1);
    expect(r.message).toContain('chunk #1 "p2"');
    expect(r.message).toContain('found before it: #0 "p1" at');
    expect(r.message).toMatch(/best normalised correlation 0\.\d{3}/);
    const swapped = findSequence(stream(p2, p1), [p1, p2], { labels: ['p1', 'p2'] });
    expect(swapped.ok).toBe(false);
    if (!swapped.ok) expect(swapped.message).toMatch(/occur earlier.*order differs/);
  });

  test('PCMU round trip differs from PCMA: searching with the wrong codec fails', () => {
    const received = stream(p1);
    expect(findSequence(received, [p1], { codec: 'PCMU' }).ok).toBe(false);
    expect(findSequence(g711RoundTrip('PCMU', p1), [p1], { codec: 'PCMU' }).ok).toBe(true);
  });

  describe('with the built-in prompt catalogue', () => {
    let catalog: PromptCatalog;
    beforeAll(async () => {
      catalog = await PromptCatalog.load(BUILTIN_PROMPT_DIR, ['fr']);
    });

    test('expectPromptsHeard finds catalogue prompts and names the missing one', () => {
      const ids = ['greeting_mailbox_of', 'greeting_leave_message'];
      const received = g711RoundTrip('PCMA', concat(new Int16Array(160), catalog.concat('fr', ids, 200), tone(1000, 300)));
      expect(expectPromptsHeard(received, catalog, 'fr', ids, 'PCMA')).toHaveLength(2);
      expect(() => expectPromptsHeard(received, catalog, 'fr', [...ids, 'goodbye'], 'PCMA')).toThrow(/chunk #2 "goodbye"/);
    });

    test('findTone / isBeep tell a beep from speech', () => {
      const speech = catalog.get('fr', 'greeting_leave_message');
      const received = g711RoundTrip('PCMA', concat(speech, new Int16Array(400), tone(1000, 250), new Int16Array(400)));
      const tones = findTone(received, 1000);
      expect(tones).toHaveLength(1);
      expect(tones[0]!.start).toBeGreaterThanOrEqual(speech.length);
      expect(tones[0]!.start).toBeLessThanOrEqual(speech.length + 400 + 160);
      expect(tones[0]!.durationMs).toBeGreaterThanOrEqual(220);
      expect(findTone(received, 440)).toHaveLength(0);
      expect(isBeep(tone(425, 200))).toBe(true);
      expect(isBeep(speech)).toBe(false);
    });
  });
});

describe('end to end against repondeur serve', () => {
  test('calling the demo line plays the default greeting, then the beep', async () => {
    const server = await startServerProcess();
    try {
      await callDemoLine(server.sipPort);
    } finally {
      await server.stop();
    }
  });
});

/** The demo line answers with the system greeting: "Vous êtes bien sur la messagerie du 0 9 1 2 3 4 5 6 7 8. Veuillez laisser
 * votre message après le bip, puis raccrochez ou appuyez sur dièse.", then a 1 kHz beep (src/ivr/deposit/greeting.ts). */
async function callDemoLine(sipPort: number): Promise<void> {
  const catalog = await PromptCatalog.load(BUILTIN_PROMPT_DIR, ['fr']);
  const ua = await TestUa.create({ server: `127.0.0.1:${sipPort}` });
  cleanup.push(() => ua.close());
  const result = await ua.invite({ to: '+33912345678', from: '0611223344', codecs: [{ pt: 8, name: 'PCMA' }] });
  expect(result.status).toBe(200);
  const call = result.call!;
  expect(call.audio).toEqual({ pt: 8, codec: 'PCMA' });
  const ids = ['greeting_mailbox_of', ...'0912345678'.split('').map((d) => `number_${d}`), 'greeting_leave_message', 'greeting_then_hang_up'];
  const greetingMs = catalog.durationMs('fr', ids);
  await call.waitUntil(() => findTone(call.received(), 1000, { minDurationMs: 200 }).length > 0, { timeoutMs: greetingMs + 10000, what: 'the 1 kHz beep' });
  const heard = call.received();
  // The server puts short pauses between prompts; anything else in between (a wrong prompt) breaks the sequence.
  const matches = expectPromptsHeard(heard, catalog, 'fr', ids, 'PCMA', { maxGapMs: 300 });
  const beepAt = findTone(heard, 1000, { minDurationMs: 200 })[0]!;
  expect(beepAt.start).toBeGreaterThanOrEqual(matches.at(-1)!.end);
  await call.sendAudio(signal(8000, 9));
  expect((await call.bye()).status).toBe(200);
}
