import { afterEach, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeG711, encodeG711 } from '../../src/media/g711.js';
import { PacingScheduler } from '../../src/media/pacer.js';
import { PortsExhaustedError, RtpPortAllocator } from '../../src/media/port-allocator.js';
import { RtpRecorder } from '../../src/media/recorder.js';
import { RtpHeaderView, parseRtp, writeRtpHeader } from '../../src/media/rtp-packet.js';
import { RtpSession, type DtmfEvent } from '../../src/media/rtp-session.js';
import { rtpPacketTotals } from '../../src/media/rtp-counters.js';
import { dtmfTone } from '../../src/media/tones.js';
import { decodeWav } from '../../src/shared/audio/wav.js';
import { until } from '../helpers/wait.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function udp(port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  cleanup.push(() => s.close());
  return s;
}

interface Received {
  marker: boolean;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
  at: number;
}

function collect(s: Socket): Received[] {
  const got: Received[] = [];
  const v = new RtpHeaderView();
  s.on('message', (m: Buffer) => {
    if (parseRtp(m, v) === 'ok') got.push({ marker: v.marker, pt: v.payloadType, seq: v.sequenceNumber, ts: v.timestamp, ssrc: v.ssrc, payload: m.subarray(v.payloadOffset, v.payloadEnd), at: performance.now() });
  });
  return got;
}

function rtp(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array, marker = false): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  writeRtpHeader(b, 0, marker, pt, seq, ts, ssrc);
  b.set(payload, 12);
  return b;
}

function send(from: Socket, to: number, datagram: Buffer): Promise<void> {
  return new Promise((resolve) => from.send(datagram, to, '127.0.0.1', () => resolve()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cameBack = (p: { payload: Buffer }, pcm: Int16Array, codec: 'PCMA' | 'PCMU') => p.payload.equals(Buffer.from(encodeG711(codec, pcm)));

let nextBase = 41000;
async function openSession(pool?: RtpPortAllocator) {
  const ports = pool ?? new RtpPortAllocator(nextBase, (nextBase += 100) - 1);
  const session = await RtpSession.open(ports, { host: '127.0.0.1', bindRtcp: true }, { scheduler: new PacingScheduler() });
  cleanup.push(() => session.close());
  return { session, ports };
}

describe('RtpPortAllocator', () => {
  test('hands out even ports round-robin and skips ports bound by someone else', async () => {
    const ports = new RtpPortAllocator(40001, 40009);
    expect([ports.min, ports.capacity]).toEqual([40002, 4]);
    expect([ports.allocate(), ports.allocate()]).toEqual([40002, 40004]);
    ports.release(40002);
    expect(ports.allocate()).toBe(40006);
    expect(ports.allocate()).toBe(40008);
    expect(ports.allocate()).toBe(40002);
    expect(() => ports.allocate()).toThrow(PortsExhaustedError);
    expect(() => new RtpPortAllocator(5000, 5000)).toThrow(RangeError);

    await udp(40100); // taken by another "process"
    const pool = new RtpPortAllocator(40100, 40103);
    const { session } = await openSession(pool);
    expect(session.port).toBe(40102);
    session.close();
    expect(pool.inUse).toBe(0);
  });
});

describe('RtpSession', () => {
  test('symmetric RTP: sends to the source of received RTP rather than the SDP address', async () => {
    const { session } = await openSession();
    const sdpSock = await udp();
    const peer = await udp();
    const toSdp = collect(sdpSock);
    const toPeer = collect(peer);
    const latched: number[] = [];
    session.on('latched', ({ port }) => latched.push(port));
    session.setRemote('127.0.0.1', sdpSock.address().port);
    session.configure({ codec: 'PCMA', payloadType: 8 });
    await send(peer, session.port, rtp(8, 1, 0, 0x42, new Uint8Array(160).fill(0xd5)));
    await until('the session latched on the peer', () => session.remote?.port === peer.address().port);
    expect(session.remote).toEqual({ address: '127.0.0.1', port: peer.address().port });
    await session.play(new Int16Array(320));
    await until('two frames at the peer', () => toPeer.length >= 2);
    expect(toPeer.length).toBe(2);
    expect(toSdp.length).toBe(0);
    expect(latched).toEqual([peer.address().port]);
  });

  test('player: packet count, seq/timestamp continuity, marker, PCMA payload, pacing', async () => {
    const { session } = await openSession();
    const peer = await udp();
    const got = collect(peer);
    session.setRemote('127.0.0.1', peer.address().port);
    session.configure({ codec: 'PCMA', payloadType: 8, ptimeMs: 20 });
    const pcm = Int16Array.from({ length: 1000 }, (_, i) => Math.round(6000 * Math.sin(i / 5))); // 6.25 frames → 7
    const t0 = performance.now();
    expect(await session.play(pcm)).toBe('completed');
    const elapsed = performance.now() - t0;
    // Paced in real time, not sent in a burst: 7 frames of 20 ms cannot take less than 6 intervals.
    expect(elapsed).toBeGreaterThanOrEqual(118);
    expect(await session.play(pcm.subarray(0, 320))).toBe('completed'); // back-to-back: same talkspurt
    await sleep(300); // the gap under test: 300 ms without a prompt ends the talkspurt
    expect(await session.play(pcm.subarray(0, 160))).toBe('completed'); // after a gap: new talkspurt
    await until('the 10 frames at the peer', () => got.length >= 10);
    expect(got.length).toBe(7 + 2 + 1);
    for (let i = 1; i < got.length; i++) {
      expect(got[i]!.seq).toBe((got[0]!.seq + i) & 0xffff);
      expect(got[i]!.ssrc).toBe(got[0]!.ssrc);
      expect(got[i]!.pt).toBe(8);
    }
    for (let i = 1; i < 9; i++) expect(got[i]!.ts).toBe((got[0]!.ts + 160 * i) >>> 0);
    const gap = (got[9]!.ts - got[8]!.ts) >>> 0;
    expect(gap).toBeGreaterThan(160 + 8 * 250);
    expect(got.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false, false, false, true]);
    const sent = Buffer.concat(got.slice(0, 7).map((p) => p.payload));
    expect(sent.subarray(0, 1000)).toEqual(Buffer.from(encodeG711('PCMA', pcm)));
    expect(sent.subarray(1000).every((b) => b === 0xd5)).toBe(true);
    // Packet k never leaves before start + 20·k ms (how late it may be is the benchmark's business, not a test's).
    for (let k = 1; k < 7; k++) expect(got[k]!.at - t0).toBeGreaterThanOrEqual(20 * k - 2);
  });

  test('player: several arrays play back to back as one prompt, frames spanning their boundaries', async () => {
    const { session } = await openSession();
    const peer = await udp();
    const got = collect(peer);
    session.setRemote('127.0.0.1', peer.address().port);
    session.configure({ codec: 'PCMU', payloadType: 0, ptimeMs: 30 });
    const pcm = Int16Array.from({ length: 1000 }, (_, i) => Math.round(5000 * Math.sin(i / 7)));
    // 1000 samples cut at 100, 100 (an empty part) and 337: 5 frames of 240, the last one padded with silence.
    const parts = [pcm.subarray(0, 100), pcm.subarray(100, 100), pcm.subarray(100, 337), pcm.subarray(337)];
    expect(await session.play(parts)).toBe('completed');
    await sleep(30);
    expect(got.length).toBe(5);
    expect(got.map((p) => p.marker)).toEqual([true, false, false, false, false]);
    const sent = Buffer.concat(got.map((p) => p.payload));
    expect(sent.subarray(0, 1000)).toEqual(Buffer.from(encodeG711('PCMU', pcm)));
    expect(sent.subarray(1000).every((b) => b === 0xff)).toBe(true);
    expect(await session.play([new Int16Array(0)])).toBe('completed'); // nothing to send
  });

  test('player: a catch-up burst after a stall sends every frame once, with its own audio (no ring slot reused in flight)', async () => {
    // A clock the test moves by hand: time jumps 600 ms (a stalled loop) and the pacer then wakes once, so the
    // player runs 30 frames in one wake-up. node:dgram reads each datagram's bytes only on the next tick.
    let now = 0;
    let wake: (() => void) | null = null;
    const clock = { now: () => now, wallNow: () => now, setTimer: (_ms: number, fn: () => void) => ((wake = fn), { cancel: () => void (wake = null) }) };
    const ports = new RtpPortAllocator(nextBase, (nextBase += 100) - 1);
    const session = await RtpSession.open(ports, { host: '127.0.0.1' }, { scheduler: new PacingScheduler({ clock }) });
    cleanup.push(() => session.close());
    const peer = await udp();
    const got = collect(peer);
    session.setRemote('127.0.0.1', peer.address().port);
    session.configure({ codec: 'PCMU', payloadType: 0, ptimeMs: 20 });
    // 40 frames, each of its own level, so that a frame sent with another's bytes is seen.
    const pcm = Int16Array.from({ length: 40 * 160 }, (_, i) => 200 * (1 + Math.floor(i / 160)) * (i % 2 ? 1 : -1));
    const played = session.play(pcm);
    // One wake-up per macrotask, as timers fire: the sends of one wake-up go out before the next.
    const fire = async (): Promise<void> => {
      const fn = wake;
      wake = null;
      fn?.();
      await new Promise((r) => setImmediate(r));
    };
    await fire(); // frame 0 at t = 0
    now = 600;
    await fire(); // frames 1…30 in one wake-up
    for (let t = 620; t <= 800; t += 20) {
      now = t;
      await fire();
    }
    expect(await played).toBe('completed');
    // The silence that fills pauses comes from a ring too: 20 frames of it in one wake-up after another stall.
    session.fillPauses(true);
    await fire();
    now += 400;
    await fire();
    session.fillPauses(false);
    await until('the 61 frames at the peer', () => got.length >= 61);
    expect(got.map((p) => (p.seq - got[0]!.seq) & 0xffff)).toEqual(Array.from({ length: 61 }, (_, i) => i));
    const expected = Buffer.from(encodeG711('PCMU', pcm));
    for (let k = 0; k < 40; k++) expect(got[k]!.payload.equals(expected.subarray(k * 160, (k + 1) * 160))).toBe(true);
    expect(got.slice(40).every((p) => p.payload.length === 160 && p.payload.every((b) => b === 0xff))).toBe(true);
  });

  test('player stops on abort and resolves "aborted"; queued prompts play in order', async () => {
    const scheduler = new PacingScheduler();
    const ports = new RtpPortAllocator(nextBase, (nextBase += 100) - 1);
    const session = await RtpSession.open(ports, { host: '127.0.0.1' }, { scheduler });
    cleanup.push(() => session.close());
    const peer = await udp();
    const got = collect(peer);
    session.setRemote('127.0.0.1', peer.address().port);
    session.configure({ codec: 'PCMU', payloadType: 0, ptimeMs: 30 });
    const ac = new AbortController();
    const first = session.play(new Int16Array(8000 * 2).fill(1000), { signal: ac.signal });
    const second = session.play(new Int16Array(240).fill(-1000));
    // Abort once the peer has heard three frames of the 2 s prompt.
    await until('three frames at the peer', () => got.length >= 3, 10_000, 5);
    ac.abort();
    expect(await first).toBe('aborted');
    expect(await second).toBe('completed');
    await until('the second prompt at the peer', () => got.some((p) => cameBack(p, new Int16Array(240).fill(-1000), 'PCMU')));
    const firstPrompt = got.filter((p) => p.payload.equals(Buffer.from(encodeG711('PCMU', new Int16Array(240).fill(1000)))));
    expect(firstPrompt.length).toBeGreaterThanOrEqual(3);
    expect(firstPrompt.length).toBeLessThan(67); // far from the 67 frames of the whole prompt
    expect(got.length).toBe(firstPrompt.length + 1);
    expect(got.at(-1)!.payload).toEqual(Buffer.from(encodeG711('PCMU', new Int16Array(240).fill(-1000))));
    expect(got.every((p) => p.payload.length === 240)).toBe(true);
    const stats = scheduler.stats.snapshot();
    expect(stats.runs).toBe(got.length);
  });

  test('RFC 4733 on declared PT 101 and 96 gives one digit per key press; undeclared PT ignored', async () => {
    const { session } = await openSession();
    const peer = await udp();
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d) => digits.push(d));
    session.configure({ codec: 'PCMA', payloadType: 8, telephoneEventPayloadTypes: [101, 96] });
    let seq = 10;
    for (const [pt, ev, ts] of [[101, 4, 1000], [96, 11, 3000], [97, 7, 5000]] as const) {
      for (let i = 0; i < 10; i++) {
        const end = i >= 7;
        await send(peer, session.port, rtp(pt, seq++, ts, 0x77, Uint8Array.from([ev, (end ? 0x80 : 0) | 10, 0, 160 * Math.min(i + 1, 8)]), i === 0));
      }
    }
    await until('the 10 packets of the undeclared PT', () => session.stats.otherPayload >= 10);
    expect(digits).toEqual([{ digit: '4', source: 'rfc4733' }, { digit: '#', source: 'rfc4733' }]);
    expect(session.stats.otherPayload).toBe(10);
  });

  test('in-band DTMF when no telephone-event is declared', async () => {
    const { session } = await openSession();
    const peer = await udp();
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(`${d.source}:${d.digit}`));
    session.configure({ codec: 'PCMU', payloadType: 0 });
    const law = encodeG711('PCMU', dtmfTone('7', 100));
    for (let k = 0; k < 5; k++) await send(peer, session.port, rtp(0, k, k * 160, 1, law.subarray(k * 160, k * 160 + 160)));
    await until('the in-band digit', () => digits.length > 0);
    expect(digits).toEqual(['inband:7']);
  });

  test('received audio reaches the attached recorder; RTCP and malformed datagrams are dropped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sess-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const { session } = await openSession();
    const peer = await udp();
    session.configure({ codec: 'PCMA', payloadType: 8 });
    const rec = await RtpRecorder.create({ path: join(dir, 'm.wav'), fsync: false });
    session.attachRecorder(rec);
    const payloads = Array.from({ length: 10 }, (_, k) => encodeG711('PCMA', new Int16Array(240).fill(100 * k)));
    for (let k = 0; k < 10; k++) await send(peer, session.port, rtp(8, 500 + k, 90_000 + 240 * k, 9, payloads[k]!));
    await send(peer, session.port, Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])); // RTCP SR (muxed)
    await send(peer, session.port + 1, Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1])); // RTCP RR on port+1
    await send(peer, session.port, Buffer.from([0x40, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])); // version 1
    await send(peer, session.port, Buffer.from([0x8f, 8, 0, 1])); // too short
    await until('every datagram handled', () => session.stats.packetsReceived + session.stats.rtcp + session.stats.malformed >= 14);
    const res = await rec.finish();
    expect(res.samples).toBe(2400);
    const wav = decodeWav(await readFile(res.path));
    expect(Array.from(wav.samples)).toEqual(payloads.flatMap((p) => Array.from(decodeG711('PCMA', p))));
    expect(session.stats).toMatchObject({ packetsReceived: 10, rtcp: 2, malformed: 2 });
  });

  test('process totals: packets received and sent, and per-source sequence gaps added as lost when the session closes', async () => {
    const { session } = await openSession();
    const peer = await udp();
    const got = collect(peer);
    session.configure({ codec: 'PCMA', payloadType: 8 });
    const start = { ...rtpPacketTotals };
    const silence = encodeG711('PCMA', new Int16Array(160));
    // Source 1: 104 missing, 106 duplicated, 108 before 107. Source 2 wraps: 65534, 65535, 0, 2 (1 missing).
    const one = [100, 101, 102, 103, 105, 106, 106, 108, 107, 109];
    const two = [65534, 65535, 0, 2];
    for (const seq of one) await send(peer, session.port, rtp(8, seq, seq * 160, 1, silence));
    for (const seq of two) await send(peer, session.port, rtp(8, seq, seq * 160, 2, silence));
    const sent = one.length + two.length;
    await until('every packet received', () => session.stats.packetsReceived >= sent, 10_000, 5);
    expect(session.stats.packetsReceived).toBe(sent);
    expect(rtpPacketTotals.received - start.received).toBe(sent);
    expect(session.packetsLost).toBe(2);
    expect(rtpPacketTotals.lost).toBe(start.lost); // added at close
    expect(await session.play(new Int16Array(1600))).toBe('completed'); // 10 frames of 20 ms to the latched peer
    expect(rtpPacketTotals.sent - start.sent).toBe(session.player.packetsSent);
    expect(session.player.packetsSent).toBe(10);
    expect(rtpPacketTotals.sentLate - start.sentLate).toBeLessThanOrEqual(10);
    session.close();
    session.close();
    expect(rtpPacketTotals.lost - start.lost).toBe(2);
    await until('the 10 frames at the peer', () => got.length >= 10, 10_000, 5);
    expect(got).toHaveLength(10);
  });

  test('configure and setRemote refuse bad input precisely', async () => {
    const { session } = await openSession();
    expect(() => session.configure({ codec: 'G729' as 'PCMA', payloadType: 18 })).toThrow(/codec/);
    expect(() => session.configure({ codec: 'PCMA', payloadType: 8, ptimeMs: 25 })).toThrow(/ptimeMs/);
    expect(() => session.configure({ codec: 'PCMA', payloadType: 101, telephoneEventPayloadTypes: [101] })).toThrow(/telephone-event/);
    expect(() => session.setRemote('127.0.0.1', 70000)).toThrow(/port/);
    await expect(RtpSession.open(new RtpPortAllocator(42000, 42010), { host: '' })).rejects.toThrow(/host/);
  });
});
