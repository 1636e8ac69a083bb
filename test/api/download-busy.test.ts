import { afterAll, expect, test } from '@jest/globals';
import { transcodeStoredWav } from '../../src/api/audio.js';
import { ApiError, toErrorResponse } from '../../src/api/errors.js';
import { encodeWav } from '../../src/shared/audio/wav.js';
import { closeEncodeWorkers } from '../../src/shared/audio/encode-pool.js';

afterAll(() => closeEncodeWorkers());

test('a burst of mp3 downloads past the encoder queue gets 503 busy with Retry-After; the others get their file', async () => {
  const stored = encodeWav(Int16Array.from({ length: 8000 * 20 }, (_, i) => ((i * 37) % 4000) - 2000), 8000);
  const burst = await Promise.allSettled(Array.from({ length: 12 }, () => transcodeStoredWav(stored, 'mp3')));
  const refused = burst.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  expect(refused.length).toBeGreaterThan(0);
  for (const error of refused) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).headers['retry-after']).toBeDefined();
    expect(toErrorResponse(error).status).toBe(503);
    expect(toErrorResponse(error).body.error).toBe('busy');
  }
  const served = burst.filter((r) => r.status === 'fulfilled');
  expect(served.length).toBeGreaterThan(0);
  for (const r of served) expect((r as PromiseFulfilledResult<{ mimeType: string }>).value.mimeType).toBe('audio/mpeg');
});
