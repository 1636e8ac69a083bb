import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeG711, encodeG711, type G711Codec } from '../../src/media/g711.js';
import { RtpRecorder } from '../../src/media/recorder.js';
import { freeSampleBatches } from '../../src/media/sample-batch-pool.js';
import { ManualClock } from '../../src/shared/clock.js';
import { decodeWav } from '../../src/shared/audio/wav.js';
import { recoverSpooledWav } from '../../src/media/wav-spool.js';
import { until } from '../helpers/wait.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Pkt {
  seq: number;
  ts: number;
  ssrc: number;
  pt: number;
  payload: Uint8Array;
}

/** A stream of `count` packets of `ptimeMs` carrying a ramp so every sample is distinguishable. */
function stream(count: number, ptimeMs: number, codec: G711Codec, seq0 = 1000, ts0 = 50_000, ssrc = 0x1111, base = 0): Pkt[] {
  const spp = ptimeMs * 8;
  return Array.from({ length: count }, (_, k) => {
    const pcm = Int16Array.from({ length: spp }, (_, i) => ((base + k * spp + i) * 37) % 20000 - 10000);
    return { seq: (seq0 + k) & 0xffff, ts: (ts0 + k * spp) >>> 0, ssrc, pt: codec === 'PCMU' ? 0 : 8, payload: encodeG711(codec, pcm) };
  });
}

function decodedOf(p: Pkt): Int16Array {
  return decodeG711(p.pt === 0 ? 'PCMU' : 'PCMA', p.payload);
}

function concat(parts: Int16Array[]): number[] {
  return parts.flatMap((p) => Array.from(p));
}

let n = 0;
async function record(packets: Pkt[], opts: { jitterPackets?: number } = {}): Promise<{ samples: number[]; rec: RtpRecorder }> {
  const rec = await RtpRecorder.create({ path: join(dir, `r${n++}.wav`), fsync: false, ...opts });
  for (const p of packets) rec.pushRtp(p.seq, p.ts, p.ssrc, p.pt, p.payload);
  const res = await rec.finish();
  const wav = decodeWav(await readFile(res.path));
  expect(wav.samples.length).toBe(res.samples);
  expect(res.durationMs).toBe(res.samples / 8);
  return { samples: Array.from(wav.samples), rec };
}

describe('RtpRecorder', () => {
  test.each([10, 20, 30])('in-order %i ms PCMA packets are recorded exactly', async (ptime) => {
    const pkts = stream(40, ptime, 'PCMA');
    const { samples } = await record(pkts);
    expect(samples).toEqual(concat(pkts.map(decodedOf)));
  });

  test('reordered and duplicated packets give exactly the in-order audio', async () => {
    const pkts = stream(30, 20, 'PCMU');
    const shuffled = [pkts[1]!, pkts[0]!, pkts[2]!, pkts[4]!, pkts[3]!, pkts[3]!, pkts[5]!, pkts[8]!, pkts[6]!, pkts[7]!, pkts[7]!, ...pkts.slice(9), pkts[12]!];
    const { samples, rec } = await record(shuffled);
    expect(samples).toEqual(concat(pkts.map(decodedOf)));
    expect(rec.stats.duplicates + rec.stats.late).toBe(3);
    expect(rec.stats.lost).toBe(0);
  });

  test('lost packets become silence of the right length (from timestamps)', async () => {
    const pkts = stream(20, 30, 'PCMA');
    const kept = pkts.filter((_, i) => i !== 5 && i !== 6 && i !== 15);
    const { samples, rec } = await record(kept);
    const expected = pkts.map((p, i) => (i === 5 || i === 6 || i === 15 ? new Int16Array(240) : decodedOf(p)));
    expect(samples).toEqual(concat(expected));
    expect(rec.stats.lost).toBe(3);
  });

  test('a silence-suppression timestamp gap without a sequence gap is filled', async () => {
    const pkts = stream(10, 20, 'PCMA');
    const moved = pkts.map((p, i) => (i >= 5 ? { ...p, ts: p.ts + 800 } : p));
    const { samples } = await record(moved);
    expect(samples).toEqual(concat([...pkts.slice(0, 5).map(decodedOf), new Int16Array(800), ...pkts.slice(5).map(decodedOf)]));
  });

  test('sequence numbers wrapping past 65535 keep their order', async () => {
    const pkts = stream(20, 20, 'PCMU', 65530, 0xffffff00);
    const swapped = [...pkts];
    [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
    const { samples } = await record(swapped);
    expect(samples).toEqual(concat(pkts.map(decodedOf)));
  });

  test('an SSRC change appends the new stream right after what was recorded', async () => {
    const a = stream(10, 20, 'PCMA', 100, 1000, 0xaaaa);
    const b = stream(10, 30, 'PCMU', 40000, 9_000_000, 0xbbbb, 777);
    const { samples, rec } = await record([...a, ...b]);
    expect(samples).toEqual(concat([...a, ...b].map(decodedOf)));
    expect(rec.stats.streams).toBe(2);
  });

  test('payload type decides the law packet by packet', async () => {
    const u = stream(6, 20, 'PCMU');
    const a = stream(6, 20, 'PCMA');
    const mixed = u.map((p, i) => (i % 2 ? a[i]! : p));
    const { samples } = await record([...mixed, { ...u[0]!, seq: 2000, pt: 13 }]);
    expect(samples).toEqual(concat(mixed.map(decodedOf)));
  });

  test('msSinceVoice follows the energy threshold', async () => {
    const clock = new ManualClock();
    const rec = await RtpRecorder.create({ path: join(dir, 'vad.wav'), fsync: false, jitterPackets: 1 }, clock);
    const loud = encodeG711('PCMA', Int16Array.from({ length: 160 }, (_, i) => (i % 2 ? 3000 : -3000)));
    const quiet = encodeG711('PCMA', Int16Array.from({ length: 160 }, (_, i) => (i % 2 ? 100 : -100)));
    clock.advance(1000);
    rec.pushRtp(1, 0, 5, 8, quiet);
    expect(rec.msSinceVoice).toBe(1000);
    rec.pushRtp(2, 160, 5, 8, loud);
    clock.advance(500);
    rec.pushRtp(3, 320, 5, 8, quiet);
    expect(rec.msSinceVoice).toBe(500);
    expect(rec.voiceMs).toBe(20);
    await rec.finish();
  });

  test('a spool left by a crash is recovered with the audio written so far', async () => {
    const path = join(dir, 'crash.wav');
    const rec = await RtpRecorder.create({ path, fsync: false, flushMs: 100 });
    const pkts = stream(50, 20, 'PCMA'); // 1 s → 10 batches of 100 ms
    for (const p of pkts) rec.pushRtp(p.seq, p.ts, p.ssrc, p.pt, p.payload);
    // The batches reach the disk; the process then "dies" (no finish).
    await until('the spooled batches on disk', () => statSync(path).size >= 44 + 7000 * 2, 10_000, 5);
    const raw = await readFile(path);
    expect(raw.readUInt32LE(40)).toBe(0); // header not yet patched
    await appendFile(path, Buffer.from([0x12])); // a torn half-sample
    const recovered = await recoverSpooledWav(path);
    expect(recovered.repaired).toBe(true);
    expect(recovered.samples).toBeGreaterThanOrEqual(7000);
    const wav = decodeWav(await readFile(path));
    expect(wav.samples.length).toBe(recovered.samples);
    expect(Array.from(wav.samples)).toEqual(concat(pkts.map(decodedOf)).slice(0, recovered.samples));
    expect((await recoverSpooledWav(path)).repaired).toBe(false);
    await rec.finish(); // releases the file handle of the "crashed" recorder
  });

  test('batches are reused only once written: recorders flushing at every packet, side by side, keep their own audio', async () => {
    // flushMs 20: each 20 ms packet fills a batch, handed to the spool while the writes queue up behind one another.
    // A batch taken back before its write completed would be overwritten by the next packet of either recorder.
    const a = await RtpRecorder.create({ path: join(dir, 'pool-a.wav'), fsync: false, flushMs: 20 });
    const b = await RtpRecorder.create({ path: join(dir, 'pool-b.wav'), fsync: false, flushMs: 20 });
    const pa = stream(120, 20, 'PCMU', 100, 0, 0xa, 0);
    const pb = stream(120, 20, 'PCMA', 900, 0, 0xb, 5000);
    for (let round = 0; round < 4; round++) {
      for (let k = round * 30; k < round * 30 + 30; k++) {
        a.pushRtp(pa[k]!.seq, pa[k]!.ts, pa[k]!.ssrc, pa[k]!.pt, pa[k]!.payload);
        b.pushRtp(pb[k]!.seq, pb[k]!.ts, pb[k]!.ssrc, pb[k]!.pt, pb[k]!.payload);
      }
      // Let the queued writes complete, so the next round records into batches given back.
      await until('batches written and given back', () => freeSampleBatches() >= 30, 10_000, 5);
    }
    const [ra, rb] = await Promise.all([a.finish(), b.finish()]);
    expect(Array.from(decodeWav(ra.wav).samples)).toEqual(concat(pa.map(decodedOf)));
    expect(Array.from(decodeWav(rb.wav).samples)).toEqual(concat(pb.map(decodedOf)));
    expect(Array.from(decodeWav(await readFile(ra.path)).samples)).toEqual(concat(pa.map(decodedOf)));
  });

  test('invalid options are refused precisely', async () => {
    await expect(RtpRecorder.create({ path: join(dir, 'x.wav'), jitterPackets: 0 })).rejects.toThrow(/jitterPackets/);
  });
});
