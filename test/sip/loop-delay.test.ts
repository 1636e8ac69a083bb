/**
 * EventLoopDelayMonitor on the real event loop: a loop blocked for 120 ms at a time reads as a recent p99 delay of
 * that order (beyond the sampling period), which is what admission control's overload guard compares.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { EventLoopDelayMonitor } from '../../src/sip/loop-delay.js';
import { until } from '../helpers/wait.js';

let monitor: EventLoopDelayMonitor | undefined;
afterEach(() => monitor?.stop());

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the loop is busy */
  }
}

describe('EventLoopDelayMonitor', () => {
  test('a loop blocked in bursts of 120 ms reads a recent p99 delay above 80 ms', async () => {
    monitor = new EventLoopDelayMonitor({ resolutionMs: 1, windowMs: 400 });
    const m = monitor;
    const blocker = setInterval(() => block(120), 50);
    try {
      await until('the monitor sees the stalls', () => m.recentP99Ms() > 80, 10000);
    } finally {
      clearInterval(blocker);
    }
    expect(m.recentP99Ms()).toBeLessThan(1000);
  });
});
