/**
 * RTP loss counting from sequence numbers (RFC 3550 A.1 / A.3): gaps count, duplicates and reordering do not,
 * the 16-bit sequence wraps, and a restarted source re-syncs.
 */
import { describe, expect, test } from '@jest/globals';
import { RtpSequenceTracker } from '../../src/media/rtp-sequence.js';

function track(seqs: number[]): RtpSequenceTracker {
  const t = new RtpSequenceTracker();
  for (const s of seqs) t.push(s & 0xffff);
  return t;
}

describe('RtpSequenceTracker', () => {
  test('an unbroken stream loses nothing', () => {
    const t = track(Array.from({ length: 500 }, (_, i) => 1000 + i));
    expect(t.lost).toBe(0);
    expect(t.received).toBe(500);
  });

  test('a gap counts as the packets it skips', () => {
    expect(track([10, 11, 12, 15, 16]).lost).toBe(2);
    expect(track([10, 20]).lost).toBe(9);
  });

  test('the sequence wraps at 65535 without a loss, and a gap across the wrap counts', () => {
    const across = Array.from({ length: 40 }, (_, i) => 65520 + i); // 65520 … 65535, 0 … 23
    const t = track(across);
    expect(t.lost).toBe(0);
    expect(t.received).toBe(40);
    expect(track([65533, 65534, 65535, 0, 1]).lost).toBe(0);
    expect(track([65533, 65534, 1, 2]).lost).toBe(2); // 65535 and 0 missing
  });

  test('duplicates are not counted as received twice and hide no loss', () => {
    expect(track([1, 2, 2, 3, 3, 3, 4]).lost).toBe(0);
    // 5 is lost; the duplicated 4 must not make up for it.
    const t = track([1, 2, 3, 4, 4, 6, 7]);
    expect(t.lost).toBe(1);
    expect(t.received).toBe(6);
  });

  test('a reordered packet fills its gap', () => {
    expect(track([1, 2, 4, 3, 5, 7, 6, 8]).lost).toBe(0);
    expect(track([65534, 0, 65535, 1]).lost).toBe(0); // reordered across the wrap
    expect(track([1, 2, 4, 3, 3, 5]).lost).toBe(0); // late and then duplicated
  });

  test('a packet reordered more than the misorder window behind is a duplicate or stale, never a loss', () => {
    const seqs = Array.from({ length: 300 }, (_, i) => i);
    expect(track([...seqs, 10]).lost).toBe(0);
  });

  test('a large jump re-syncs when the next packet follows it (source restarted), keeping the earlier loss', () => {
    const t = track([100, 101, 103, 40000, 40001, 40002]);
    expect(t.lost).toBe(1); // 102; the restart itself is no loss
    // A single stray far packet is ignored.
    const stray = track([100, 101, 40000, 102, 103]);
    expect(stray.lost).toBe(0);
    expect(stray.received).toBe(4);
  });
});
