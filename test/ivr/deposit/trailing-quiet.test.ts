import { describe, expect, test } from '@jest/globals';
import { trailingQuietMs } from '../../../src/ivr/deposit/index.js';
import { concatPcm, multiTone, silence } from '../../../src/media/index.js';

describe('trailingQuietMs (minimum-length check of silence-ended recordings)', () => {
  test('counts the quiet tail in 20 ms frames, capped', () => {
    const voice = multiTone([400], 1000);
    expect(trailingQuietMs(concatPcm([voice, silence(600)]), 2000)).toBe(600);
    expect(trailingQuietMs(concatPcm([voice, silence(3000)]), 2000)).toBe(2000);
  });
  test('no tail when the recording ends in voice (the phone stopped sending)', () => {
    expect(trailingQuietMs(multiTone([400], 1000), 2000)).toBe(0);
    expect(trailingQuietMs(new Int16Array(0), 2000)).toBe(0);
  });
});
