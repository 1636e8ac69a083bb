import { describe, expect, test } from '@jest/globals';
import { PacingScheduler, type PacedJob } from '../../../src/media/pacer.js';

class FrameJob implements PacedJob {
  due: number;
  readonly lateness: number[] = [];
  #k = 0;
  constructor(readonly start: number, readonly ptime: number, readonly frames: number, readonly done: () => void) {
    this.due = start;
  }
  run(now: number): number {
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
    const sorted = [...all].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.99)]!).toBeLessThan(15);
    const snap = s.stats.snapshot();
    expect(snap.runs).toBe(all.length);
    expect(snap.histogram.reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(snap.p99Ms).toBeLessThanOrEqual(16);
    expect(s.cancel(jobs[0]!)).toBe(false);
  });
});
