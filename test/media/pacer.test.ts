import { describe, expect, test } from '@jest/globals';
import { PacingScheduler, type PacedJob } from '../../src/media/pacer.js';
import { ManualClock } from '../../src/shared/clock.js';

/** Every run, in the order the scheduler made them: the due time of each. */
const runLog: number[] = [];

class FrameJob implements PacedJob {
  due: number;
  readonly lateness: number[] = [];
  #k = 0;
  constructor(readonly start: number, readonly ptime: number, readonly frames: number, readonly done: () => void) {
    this.due = start;
  }
  run(now: number): number {
    runLog.push(this.start + this.#k * this.ptime);
    this.lateness.push(now - (this.start + this.#k * this.ptime));
    if (++this.#k === this.frames) {
      this.done();
      return NaN;
    }
    return this.start + this.#k * this.ptime;
  }
}

describe('PacingScheduler', () => {
  test('runs many interleaved jobs on their absolute schedules, in due order, without drift', async () => {
    const s = new PacingScheduler();
    const t0 = s.now() + 5;
    let finished = 0;
    const jobs = Array.from({ length: 300 }, (_, i) => new FrameJob(t0 + ((i * 7.3) % 20), 20, 25, () => finished++));
    const cancelled = jobs.filter((_, i) => i % 10 === 3);
    await new Promise<void>((resolve) => {
      for (const j of jobs) s.schedule(j);
      for (const j of cancelled) expect(s.cancel(j)).toBe(true);
      const poll = setInterval(() => {
        if (finished === jobs.length - cancelled.length) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    expect(s.size).toBe(0);
    for (const j of cancelled) expect(j.lateness).toEqual([]);
    const all = jobs.filter((j) => !cancelled.includes(j)).flatMap((j) => j.lateness);
    expect(all.length).toBe(270 * 25);
    expect(Math.min(...all)).toBeGreaterThanOrEqual(-1); // at most the coalescing window early
    // Jobs run in due order: a frame due earlier never goes after one due later (however late the wake-up).
    for (let i = 1; i < runLog.length; i++) expect(runLog[i]!).toBeGreaterThanOrEqual(runLog[i - 1]!);
    const snap = s.stats.snapshot();
    expect(snap.runs).toBe(all.length);
    expect(snap.histogram.reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(s.cancel(jobs[0]!)).toBe(false);
  });

  test('on a manual clock: each frame runs at its due time (within the coalescing window), in due order, none early', () => {
    const clock = new ManualClock();
    const s = new PacingScheduler({ clock, coalesceMs: 1 });
    runLog.length = 0;
    let finished = 0;
    const jobs = Array.from({ length: 50 }, (_, i) => new FrameJob(5 + ((i * 7.3) % 20), 20, 10, () => finished++));
    for (const j of jobs) s.schedule(j);
    expect(s.cancel(jobs[3]!)).toBe(true);
    clock.advance(4);
    expect(runLog).toEqual([]);
    clock.advance(20 * 10 + 25);
    expect(finished).toBe(49);
    expect(s.size).toBe(0);
    expect(clock.pending).toBe(0);
    expect(jobs[3]!.lateness).toEqual([]);
    const all = jobs.filter((_, i) => i !== 3).flatMap((j) => j.lateness);
    expect(all).toHaveLength(49 * 10);
    // The wake-up is exactly on time; a frame due within the next millisecond runs with it, up to 1 ms early.
    expect(Math.min(...all)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...all)).toBeLessThanOrEqual(1);
    for (let i = 1; i < runLog.length; i++) expect(runLog[i]!).toBeGreaterThanOrEqual(runLog[i - 1]!);
  });
});
