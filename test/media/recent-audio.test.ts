/**
 * RecentAudioPackets (a media worker's memory of the audio received while nothing records): it keeps copies, so a
 * datagram's memory is not held, and replays exactly what it was given since an instant, oldest first.
 */
import { describe, expect, test } from '@jest/globals';
import { RecentAudioPackets } from '../../src/media/worker/recent-audio.js';
import type { RtpAudioSink } from '../../src/media/recorder.js';
import { epochNowMs } from '../../src/media/worker/progress-slots.js';

interface Got {
  seq: number;
  timestamp: number;
  ssrc: number;
  payloadType: number;
  payload: number[];
}

function collector(): { sink: RtpAudioSink; got: Got[] } {
  const got: Got[] = [];
  return { got, sink: { pushRtp: (seq, timestamp, ssrc, payloadType, payload) => got.push({ seq, timestamp, ssrc, payloadType, payload: Array.from(payload) }) } };
}

const payloadOf = (k: number, length = 160): Uint8Array => Uint8Array.from({ length }, (_, i) => (k * 7 + i) & 0xff);

describe('RecentAudioPackets', () => {
  test('replays copies: the datagram buffer a payload came from may be reused at once', () => {
    const recent = new RecentAudioPackets();
    const datagram = new Uint8Array(172);
    for (let k = 0; k < 5; k++) {
      datagram.set(payloadOf(k), 12);
      recent.pushRtp(k, k * 160, 0x1234, 0, datagram.subarray(12));
    }
    datagram.fill(0xee);
    const { sink, got } = collector();
    expect(recent.replayInto(sink, -Infinity)).toBe(5);
    expect(got.map((g) => g.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(got.map((g) => g.payload)).toEqual([0, 1, 2, 3, 4].map((k) => Array.from(payloadOf(k))));
    expect(got[3]).toMatchObject({ timestamp: 480, ssrc: 0x1234, payloadType: 0 });
    // Replaying forgets them.
    expect(recent.replayInto(sink, -Infinity)).toBe(0);
  });

  test('keeps the last 32 packets, and only those that arrived at or after the instant asked', () => {
    const recent = new RecentAudioPackets();
    for (let k = 0; k < 40; k++) recent.pushRtp(k, k * 160, 1, 8, payloadOf(k));
    const { sink, got } = collector();
    recent.replayInto(sink, -Infinity);
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: 32 }, (_, i) => i + 8));
    expect(got[0]!.payload).toEqual(Array.from(payloadOf(8)));

    recent.pushRtp(100, 0, 1, 8, payloadOf(100));
    const later = collector();
    expect(recent.replayInto(later.sink, epochNowMs() + 60_000)).toBe(0);
  });

  test('payloads of other lengths: 30 ms grows the ring (the packets kept move with it), one over 120 ms is kept apart', () => {
    const recent = new RecentAudioPackets();
    recent.pushRtp(1, 0, 1, 0, payloadOf(1, 160));
    recent.pushRtp(2, 160, 1, 0, payloadOf(2, 240));
    recent.pushRtp(3, 400, 1, 0, payloadOf(3, 80));
    recent.pushRtp(4, 480, 1, 0, payloadOf(4, 2000));
    recent.pushRtp(5, 2480, 1, 0, payloadOf(5, 240));
    const { sink, got } = collector();
    recent.replayInto(sink, -Infinity);
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(got.map((g) => g.payload)).toEqual([payloadOf(1, 160), payloadOf(2, 240), payloadOf(3, 80), payloadOf(4, 2000), payloadOf(5, 240)].map((p) => Array.from(p)));
  });

  test('clear() forgets everything', () => {
    const recent = new RecentAudioPackets();
    for (let k = 0; k < 3; k++) recent.pushRtp(k, k * 160, 1, 0, payloadOf(k));
    recent.clear();
    const { sink, got } = collector();
    expect(recent.replayInto(sink, -Infinity)).toBe(0);
    expect(got).toEqual([]);
  });
});
