/**
 * Media in worker threads (media.workers ≥ 1) over real sockets: a WorkerMediaSession's prompt reaches a UDP peer
 * as the encoded prompt, RFC 4733 DTMF sent to it comes back as a 'dtmf' event, a recording of sent RTP is a WAV of
 * exactly the sent samples, closing frees the port, and a worker that is terminated ends its sessions ('lost').
 */
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MediaWorkerPool, MediaWorkerLostError, PortsExhaustedError, spoolWavSamples, splitPortRange, type MediaSession } from '../../src/media/index.js';
import { RtpPeer, RtpStreamSender, encodeG711, g711RoundTrip } from '../helpers/rtp-peer.js';
import { rtpBlock } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';

const logger = pino({ level: 'silent' });
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function pool(workers: number, range = rtpBlock(), youngGenerationMb?: number): MediaWorkerPool {
  const p = new MediaWorkerPool({ workers, portMin: range.rtpMin, portMax: range.rtpMax, host: '127.0.0.1', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20, logger, youngGenerationMb });
  cleanup.push(() => p.stop());
  return p;
}

/** One pool of two workers for the tests that need no pool of their own (starting workers under ts-jest is slow). */
let sharedPool: MediaWorkerPool | undefined;
function twoWorkers(): MediaWorkerPool {
  if (sharedPool === undefined) {
    const range = rtpBlock();
    sharedPool = new MediaWorkerPool({ workers: 2, portMin: range.rtpMin, portMax: range.rtpMax, host: '127.0.0.1', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20, logger });
  }
  return sharedPool;
}
afterAll(() => sharedPool?.stop());

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  cleanup.push(() => p.close());
  return p;
}

/** A 440 Hz tone at −12 dBFS, `ms` long (voice for the recorder's detector). */
function tone(ms: number): Int16Array {
  const pcm = new Int16Array(ms * 8);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return pcm;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const PCMA = { codec: 'PCMA' as const, payloadType: 8, ptimeMs: 20, telephoneEventPayloadTypes: [101] };

describe('MediaWorkerPool', () => {
  test('splits the RTP range into even/odd pairs, one share per worker', () => {
    expect(splitPortRange(20000, 20011, 2)).toEqual([
      { min: 20000, max: 20005 },
      { min: 20006, max: 20011 },
    ]);
    expect(() => splitPortRange(20000, 20003, 3)).toThrow(RangeError);
  });

  test("each worker runs with the configured young generation, also after a restart; 0 keeps V8's default", async () => {
    const small = pool(1, rtpBlock(), 6);
    await until('the worker online', () => small.shares[0]!.youngGenerationMb !== undefined, 10_000);
    expect(small.shares[0]!.youngGenerationMb).toBe(6);
    await small.terminateWorker(0);
    await until('the worker started again', () => small.shares[0]!.running && small.shares[0]!.youngGenerationMb !== undefined, 10_000);
    expect(small.shares[0]!.youngGenerationMb).toBe(6);
    const session = await small.open();
    session.close();
    const usual = pool(1, rtpBlock(), 0);
    await until('the worker online', () => (usual.shares[0]!.youngGenerationMb ?? -1) > 0, 10_000);
    expect(usual.shares[0]!.youngGenerationMb).toBeGreaterThan(6);
  });

  test('a prompt played by a worker arrives at the peer as the encoded prompt, frame for frame', async () => {
    const session = await twoWorkers().open();
    cleanup.push(() => session.close());
    const p = await peer();
    session.configure(PCMA);
    session.setRemote('127.0.0.1', p.localPort);
    const prompt = tone(500);
    await expect(session.play([prompt.subarray(0, 1000), prompt.subarray(1000)])).resolves.toBe('completed');
    await until('the 25 frames of the prompt', () => p.packets.length >= 25);
    const payloads = Buffer.concat(p.packets.map((x) => x.payload));
    expect(p.packets.every((x) => x.payloadType === 8)).toBe(true);
    expect(Buffer.compare(payloads, Buffer.from(encodeG711('PCMA', prompt)))).toBe(0);
  });

  test('RFC 4733 DTMF sent to a worker session comes back as a dtmf event', async () => {
    const session = await twoWorkers().open();
    cleanup.push(() => session.close());
    const digits: string[] = [];
    session.on('dtmf', (d) => digits.push(`${d.source}:${d.digit}`));
    session.configure(PCMA);
    const p = await peer();
    p.setRemote('127.0.0.1', session.port);
    await p.sendPaced(new RtpStreamSender().dtmfPackets('5', { pt: 101, durationMs: 100, intervalMs: 20 }));
    await until('the digit', () => digits.length > 0);
    expect(digits).toEqual(['rfc4733:5']);
  });

  test('a recording of the sent RTP is a WAV of exactly the sent samples; progress is seen while it runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repondeur-worker-rec-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const session = await twoWorkers().open();
    cleanup.push(() => session.close());
    session.configure(PCMA);
    const p = await peer();
    p.setRemote('127.0.0.1', session.port);
    const recording = session.startRecording({ path: join(dir, 'rec.wav'), flushMs: 100 });
    await recording.ready;
    const sent = tone(1000);
    await p.sendPaced(new RtpStreamSender().audioPackets(sent, { codec: 'PCMA', pt: 8, ptimeMs: 20 }));
    // In-order packets leave the jitter window as they arrive: the whole second is counted once the worker has it all
    // (finish() keeps only what arrived before it, as a hang-up does).
    await until('the whole second recorded', () => recording.durationMs >= 1000);
    expect(recording.voiceMs).toBeGreaterThanOrEqual(800);
    expect(recording.msSinceVoice).toBeLessThan(2000);
    const result = await recording.finish();
    expect(result.path).toBe(join(dir, 'rec.wav'));
    expect(result.samples).toBe(sent.length);
    expect(Array.from(spoolWavSamples(result.wav))).toEqual(Array.from(g711RoundTrip('PCMA', sent)));
  });

  test('close frees the port; when every share is full, open throws PortsExhaustedError', async () => {
    const { rtpMin } = rtpBlock();
    const media = pool(2, { rtpMin, rtpMax: rtpMin + 3 }); // two pairs: one per worker
    const a = await media.open();
    const b = await media.open();
    expect(new Set([a.port, b.port])).toEqual(new Set([rtpMin, rtpMin + 2]));
    await expect(media.open()).rejects.toThrow(PortsExhaustedError);
    expect(await canBind(a.port)).toBe(false);
    a.close();
    await until('the port free again', () => canBind(a.port));
    const c = await media.open();
    expect(c.port).toBe(a.port);
    b.close();
    c.close();
  });

  test('a worker that is terminated ends its sessions: lost event, play aborted, the recording is what its spool holds; it restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repondeur-worker-lost-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const media = pool(1);
    const session: MediaSession = await media.open();
    const p = await peer();
    session.configure(PCMA);
    session.setRemote('127.0.0.1', p.localPort);
    const lost: string[] = [];
    session.on('lost', (e) => lost.push(e.reason));
    const playing = session.play(tone(5000));
    const path = join(dir, 'lost.wav');
    const recording = session.startRecording({ path, flushMs: 100 });
    await recording.ready;
    p.setRemote('127.0.0.1', session.port);
    const sent = tone(500);
    await p.sendPaced(new RtpStreamSender().audioPackets(sent, { codec: 'PCMA', pt: 8, ptimeMs: 20 }));
    // Flushed every 100 ms: wait for 400 ms of it on disk (44-byte header + 2 bytes a sample).
    await until('the audio spooled', async () => (await stat(path)).size >= 44 + 2 * 3200);
    await media.terminateWorker(0);
    await expect(playing).resolves.toBe('aborted');
    const left = await recording.finish();
    expect(left.samples).toBeGreaterThanOrEqual(3200);
    expect(Array.from(spoolWavSamples(left.wav))).toEqual(Array.from(g711RoundTrip('PCMA', sent)).slice(0, left.samples));
    await until('the lost event', () => lost.length === 1);
    expect(lost[0]).toMatch(/exited/);
    session.close();
    await until('the worker started again', () => media.shares[0]!.running, 10_000);
    const again = await media.open();
    again.close();
    // A recording started on a session whose worker is gone fails at once.
    await expect(session.startRecording({ path: join(dir, 'late.wav'), flushMs: 100 }).ready).rejects.toThrow(MediaWorkerLostError);
  });
});
