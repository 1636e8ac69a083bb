/**
 * The load test's judge (bench/lib/recording-check.js checkDeposit) on made-up recordings of g711a.pcap played
 * three times: it must accept exactly a recording whose first play was cut at its start (sent before the beep) and
 * refuse any frame lost after that, a cut second play, silence inserted inside, or a missing end.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { checkDeposit, expectedFrames } from '../../bench/lib/recording-check.js';

const PCAP = '/usr/share/sip-tester/g711a.pcap';
const PLAYS = 3;

/** Silence, frames [from, to) except `drop`, `insertAt` zeros before frame `insertAt`, silence. */
function recording(frames: Int16Array[], from: number, to: number, opts: { drop?: number; insertAt?: number } = {}): Int16Array {
  const parts: Int16Array[] = [new Int16Array(800)];
  for (let i = from; i < to; i++) {
    if (i === opts.insertAt) parts.push(new Int16Array(240));
    if (i !== opts.drop) parts.push(frames[i]!);
  }
  parts.push(new Int16Array(500));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

(existsSync(PCAP) ? describe : describe.skip)('checkDeposit', () => {
  const frames = expectedFrames(PCAP, PLAYS);
  const perPlay = frames.length / PLAYS;

  test('accepts the three whole plays, and a first play cut at its start', () => {
    expect(checkDeposit(recording(frames, 0, frames.length), frames, PLAYS)).toMatchObject({ complete: true, lateStartFrames: 0, wholePlays: 3 });
    expect(checkDeposit(recording(frames, 24, frames.length), frames, PLAYS)).toMatchObject({ complete: true, lateStartFrames: 24, wholePlays: 2 });
    expect(checkDeposit(recording(frames, perPlay - 1, frames.length), frames, PLAYS).complete).toBe(true);
  });

  test('refuses a cut second play, a lost frame, inserted silence and a missing end', () => {
    expect(checkDeposit(recording(frames, perPlay, frames.length), frames, PLAYS).complete).toBe(false);
    expect(checkDeposit(recording(frames, 0, frames.length, { drop: 300 }), frames, PLAYS)).toMatchObject({ complete: false, missing: 1 });
    expect(checkDeposit(recording(frames, 10, frames.length, { drop: perPlay }), frames, PLAYS)).toMatchObject({ complete: false, missing: 1 });
    expect(checkDeposit(recording(frames, 0, frames.length, { insertAt: 400 }), frames, PLAYS)).toMatchObject({ complete: false, gapSamples: 240 });
    expect(checkDeposit(recording(frames, 0, frames.length - 8), frames, PLAYS).complete).toBe(false);
  });
});
