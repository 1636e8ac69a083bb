import { afterAll, describe, expect, it } from '@jest/globals';
import { encodeAudio } from '../../../src/shared/audio/index.js';
import { closeEncodeWorkers, encodeAudioOffThread, encodeAudioWhenFree } from '../../../src/shared/audio/encode-pool.js';
import { PoolBusyError } from '../../../src/shared/worker-pool.js';

function tone(samples: number, rate: number): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return pcm;
}

afterAll(() => closeEncodeWorkers());

describe('encoding in worker threads', () => {
  it.each(['mp3', 'ogg', 'flac', 'wav', 'au', 'aiff'] as const)('gives the same %s bytes as encodeAudio on the main thread', async (format) => {
    const pcm = tone(8000, 8000);
    const inThread = await encodeAudio(pcm, 8000, format);
    const offThread = await encodeAudioOffThread(pcm, 8000, format);
    expect(offThread.mimeType).toBe(inThread.mimeType);
    expect(Buffer.compare(offThread.data, inThread.data)).toBe(0);
    // The caller's PCM is left intact (copied to the worker, not transferred).
    expect(pcm.length).toBe(8000);
  });

  it('refuses past the bounded queue, while the waiting variant gets every file', async () => {
    const pcm = tone(80_000, 8000);
    const burst = await Promise.allSettled(Array.from({ length: 12 }, () => encodeAudioOffThread(pcm, 8000, 'flac')));
    const refused = burst.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PoolBusyError);
    const waited = await Promise.all(Array.from({ length: 12 }, () => encodeAudioWhenFree(pcm, 8000, 'flac')));
    const expected = (await encodeAudio(pcm, 8000, 'flac')).data;
    for (const file of waited) expect(Buffer.compare(file.data, expected)).toBe(0);
  });
});
