import { describe, expect, test } from '@jest/globals';
import { encodeG711 } from '../../src/media/g711.js';
import { PacingScheduler } from '../../src/media/pacer.js';
import { PromptPlayer, type PlaybackFormat } from '../../src/media/player.js';
import { RtpHeaderView, parseRtp } from '../../src/media/rtp-packet.js';
import { SilencePacketSource, g711SilencePayload } from '../../src/media/silence.js';

interface Sent {
  marker: boolean;
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  payload: Buffer;
  datagram: Uint8Array;
}

/** A sink that keeps a copy of every datagram (the player reuses its silence buffers). */
function sink() {
  const sent: Sent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const v = new RtpHeaderView();
  return {
    sent,
    /** Resolves once `n` packets in all were sent. */
    until(n: number): Promise<void> {
      return sent.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
    },
    sendDatagram(datagram: Uint8Array): boolean {
      const copy = Buffer.from(datagram);
      expect(parseRtp(copy, v)).toBe('ok');
      sent.push({ marker: v.marker, pt: v.payloadType, seq: v.sequenceNumber, ts: v.timestamp, ssrc: v.ssrc, payload: copy.subarray(v.payloadOffset, v.payloadEnd), datagram });
      for (const w of waiters.filter((x) => sent.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      return true;
    },
  };
}

function expectContinuous(sent: Sent[], samplesPerFrame: number): void {
  for (let i = 1; i < sent.length; i++) {
    expect(sent[i]!.seq).toBe((sent[0]!.seq + i) & 0xffff);
    expect(sent[i]!.ts).toBe((sent[i - 1]!.ts + samplesPerFrame) >>> 0);
    expect(sent[i]!.ssrc).toBe(sent[0]!.ssrc);
  }
}

describe('SilencePacketSource', () => {
  test('G.711 silence payloads: 0xFF for PCMU, 0xD5 for PCMA, one frame of the ptime', () => {
    const pcmu = new SilencePacketSource({ codec: 'PCMU', payloadType: 0, ptimeMs: 20 });
    const d = pcmu.nextDatagram();
    expect(d.length).toBe(12 + 160);
    expect(d.subarray(12).every((b) => b === 0xff)).toBe(true);
    expect([pcmu.payloadType, pcmu.samplesPerFrame, pcmu.comfortNoise]).toEqual([0, 160, false]);
    const pcma = new SilencePacketSource({ codec: 'PCMA', payloadType: 8, ptimeMs: 30 });
    expect(pcma.nextDatagram().subarray(12)).toEqual(new Uint8Array(240).fill(0xd5));
    // The silence byte is what a decoded zero encodes to.
    expect(g711SilencePayload('PCMA', 10)).toEqual(encodeG711('PCMA', new Int16Array(80)));
    expect(g711SilencePayload('PCMU', 10)).toEqual(encodeG711('PCMU', new Int16Array(80)));
  });

  test('RFC 3389 comfort noise: the CN payload type and a one-byte noise level, clock still advancing by the ptime', () => {
    const cn = new SilencePacketSource({ codec: 'PCMA', payloadType: 8, ptimeMs: 20, comfortNoisePayloadType: 13 }, 64);
    const d = cn.nextDatagram();
    expect([cn.payloadType, cn.comfortNoise, cn.samplesPerFrame]).toEqual([13, true, 160]);
    expect(Array.from(d.subarray(12))).toEqual([64]);
    expect(() => new SilencePacketSource({ codec: 'PCMA', payloadType: 8, ptimeMs: 20 }, 128)).toThrow(RangeError);
  });

  test('datagrams come from a ring built once: no allocation per packet', () => {
    const s = new SilencePacketSource({ codec: 'PCMU', payloadType: 0, ptimeMs: 20 });
    const first = Array.from({ length: 8 }, () => s.nextDatagram());
    expect(new Set(first).size).toBe(8);
    expect(s.nextDatagram()).toBe(first[0]);
    expect(first[0]!.buffer).toBe(first[7]!.buffer);
  });

  test('a slot that may still sit in the socket send queue is never rewritten: a copy goes out instead', () => {
    const s = new SilencePacketSource({ codec: 'PCMA', payloadType: 8, ptimeMs: 20 });
    const ring = Array.from({ length: 8 }, () => s.nextDatagram());
    // Seven sends still queued in libuv: the oldest slot may be among them.
    const copy = s.nextDatagram(7);
    expect(ring).not.toContain(copy);
    expect(copy.buffer).not.toBe(ring[0]!.buffer);
    expect(copy.subarray(12)).toEqual(new Uint8Array(160).fill(0xd5));
    // Once the queue has drained, the ring is used again from where it stopped.
    expect(s.nextDatagram(0)).toBe(ring[0]);
  });

  test('matches() tells whether a re-INVITE needs new packets; bad ptime refused', () => {
    const s = new SilencePacketSource({ codec: 'PCMU', payloadType: 0, ptimeMs: 20 });
    expect(s.matches({ codec: 'PCMU', payloadType: 0, ptimeMs: 20 })).toBe(true);
    expect(s.matches({ codec: 'PCMA', payloadType: 0, ptimeMs: 20 })).toBe(false);
    expect(s.matches({ codec: 'PCMU', payloadType: 0, ptimeMs: 30 })).toBe(false);
    expect(s.matches({ codec: 'PCMU', payloadType: 0, ptimeMs: 20, comfortNoisePayloadType: 13 })).toBe(false);
    expect(() => new SilencePacketSource({ codec: 'PCMU', payloadType: 0, ptimeMs: 25 })).toThrow(/ptime/);
  });
});

describe('PromptPlayer filling pauses', () => {
  const PCMU: PlaybackFormat = { codec: 'PCMU', payloadType: 0, ptimeMs: 20 };

  test('silence, prompt, silence: one SSRC, contiguous sequence numbers and timestamps, marker at the talkspurt', async () => {
    const out = sink();
    const player = new PromptPlayer(out, new PacingScheduler());
    try {
      player.setSilenceFormat(PCMU);
      player.fillPauses(true);
      await out.until(5);
      const tone = Int16Array.from({ length: 480 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
      expect(await player.play(tone, PCMU)).toBe('completed');
      const afterPrompt = out.sent.length;
      await out.until(afterPrompt + 5);
      player.close();
      const sent = out.sent;
      expectContinuous(sent, 160);
      const promptAt = sent.findIndex((p) => !p.payload.every((b) => b === 0xff));
      expect(promptAt).toBeGreaterThanOrEqual(5);
      expect(Buffer.concat(sent.slice(promptAt, promptAt + 3).map((p) => p.payload))).toEqual(Buffer.from(encodeG711('PCMU', tone)));
      for (const [i, p] of sent.entries()) {
        if (i < promptAt || i >= promptAt + 3) expect(p.payload).toEqual(Buffer.alloc(160, 0xff));
        expect(p.marker).toBe(i === 0 || i === promptAt);
        expect(p.pt).toBe(0);
      }
      expect(player.silencePacketsSent).toBe(sent.length - 3);
      expect(player.packetsSent).toBe(sent.length);
    } finally {
      player.close();
    }
  });

  test('comfort noise in pauses when CN was negotiated, audio payload type for the prompt', async () => {
    const out = sink();
    const player = new PromptPlayer(out, new PacingScheduler());
    try {
      player.setSilenceFormat({ codec: 'PCMA', payloadType: 8, ptimeMs: 20, comfortNoisePayloadType: 13 });
      player.fillPauses(true);
      await out.until(3);
      expect(await player.play(new Int16Array(160).fill(3000), { codec: 'PCMA', payloadType: 8, ptimeMs: 20 })).toBe('completed');
      await out.until(out.sent.length + 2);
      player.close();
      expectContinuous(out.sent, 160);
      expect(out.sent.map((p) => p.pt).filter((pt) => pt === 8)).toHaveLength(1);
      for (const p of out.sent.filter((x) => x.pt === 13)) expect(Array.from(p.payload)).toEqual([70]);
    } finally {
      player.close();
    }
  });

  test('on hold nothing is sent, prompts still run; unhold resumes with the same SSRC, the next seq and a marker', async () => {
    const out = sink();
    const player = new PromptPlayer(out, new PacingScheduler());
    try {
      player.setSilenceFormat(PCMU);
      player.fillPauses(true);
      await out.until(3);
      player.setHeld(true);
      const beforeHold = out.sent.length;
      const t0 = performance.now();
      // A 200 ms prompt played while held takes its real time and sends nothing.
      expect(await player.play(new Int16Array(1600).fill(500), PCMU)).toBe('completed');
      const heldMs = performance.now() - t0;
      expect(out.sent.length).toBe(beforeHold);
      expect(player.streaming).toBe(false);
      player.setHeld(false);
      await out.until(beforeHold + 3);
      player.close();
      const [last, resumed] = [out.sent[beforeHold - 1]!, out.sent[beforeHold]!];
      expect(resumed.seq).toBe((last.seq + 1) & 0xffff);
      expect(resumed.ssrc).toBe(last.ssrc);
      expect(resumed.marker).toBe(true);
      // RFC 3550 §5.1: the timestamp followed the clock through the hold.
      expect((resumed.ts - last.ts) >>> 0).toBeGreaterThanOrEqual(Math.floor(heldMs * 8) - 160);
      expectContinuous(out.sent.slice(beforeHold), 160);
    } finally {
      player.close();
    }
  });

  test('silence packets reuse the precomputed datagrams', async () => {
    const out = sink();
    const player = new PromptPlayer(out, new PacingScheduler());
    try {
      player.setSilenceFormat(PCMU);
      player.fillPauses(true);
      await out.until(17);
      player.close();
      expect(new Set(out.sent.map((p) => p.datagram)).size).toBe(8);
    } finally {
      player.close();
    }
  });

  test('fillPauses(false) stops the stream after the current frame', async () => {
    const out = sink();
    const player = new PromptPlayer(out, new PacingScheduler());
    try {
      player.setSilenceFormat(PCMU);
      player.fillPauses(true);
      await out.until(2);
      player.fillPauses(false);
      // The scheduled frame still runs, sees nothing to send and ends the job.
      await player.play(new Int16Array(160), PCMU);
      expect(player.streaming).toBe(false);
    } finally {
      player.close();
    }
  });
});
