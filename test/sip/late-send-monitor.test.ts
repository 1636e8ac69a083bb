/**
 * LateSendMonitor: the share of RTP frames sent late over the last window of readings, which admission control's
 * second overload guard compares with `maxLateSendShare`. Driven reading by reading (autoStart false).
 */
import { describe, expect, test } from '@jest/globals';
import { LateSendMonitor } from '../../src/sip/late-send-monitor.js';

describe('LateSendMonitor', () => {
  test('the share counts only the frames of the last window, and old lateness ages out', () => {
    const totals = { sent: 0, sentLate: 0 };
    const m = new LateSendMonitor({ totals: () => totals, windowSamples: 4, minFrames: 100, autoStart: false });
    // A bad first second: 1000 frames, 300 late.
    totals.sent = 1000;
    totals.sentLate = 300;
    expect(m.recentLateShare()).toBeCloseTo(0.3);
    for (let i = 0; i < 4; i++) m.sample();
    // Four quarters of punctual media later, the window no longer holds the bad second.
    for (let i = 0; i < 4; i++) {
      totals.sent += 250;
      m.sample();
    }
    expect(m.recentLateShare()).toBe(0);
    // Part of a late quarter since the last reading counts at once, against the frames since the oldest reading
    // (four full quarters, 1000 frames, plus these 250).
    totals.sent += 250;
    totals.sentLate += 125;
    expect(m.recentLateShare()).toBeCloseTo(125 / 1250);
  });

  test('below minFrames nothing is judged (a few late frames on a quiet server are not overload)', () => {
    const totals = { sent: 0, sentLate: 0 };
    const m = new LateSendMonitor({ totals: () => totals, minFrames: 500, autoStart: false });
    totals.sent = 499;
    totals.sentLate = 499;
    expect(m.recentLateShare()).toBe(0);
    totals.sent = 500;
    expect(m.recentLateShare()).toBeCloseTo(499 / 500);
  });

  test('options are validated', () => {
    const totals = () => ({ sent: 0, sentLate: 0 });
    expect(() => new LateSendMonitor({ totals, sampleMs: 1, autoStart: false })).toThrow(/sampleMs/);
    expect(() => new LateSendMonitor({ totals, windowSamples: 0, autoStart: false })).toThrow(/windowSamples/);
    expect(() => new LateSendMonitor({ totals, minFrames: 0, autoStart: false })).toThrow(/minFrames/);
  });

  test('its timer samples on its own and stop() ends it', async () => {
    let reads = 0;
    const m = new LateSendMonitor({ totals: () => ({ sent: ++reads, sentLate: 0 }), sampleMs: 10 });
    const start = reads;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (reads >= start + 3) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    m.stop();
    const after = reads;
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toBe(after);
  });
});
