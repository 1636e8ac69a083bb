import { afterAll, expect, test } from '@jest/globals';
import { closeGreetingWorkers, greetingFromUpload } from '../../src/api/audio.js';
import { encodeWav } from '../../src/shared/audio/wav.js';

afterAll(() => closeGreetingWorkers());

function ownWav(samples: number): Buffer {
  const wav = encodeWav(new Int16Array(samples).map((_, i) => (i % 64) * 100), 16000);
  const own = new Uint8Array(new ArrayBuffer(wav.length)); // spans its whole ArrayBuffer, as readUploadedFile's result
  own.set(wav);
  return Buffer.from(own.buffer);
}

test('with handOver the upload memory is transferred to the worker (no copy), and the greeting comes back', async () => {
  const file = ownWav(16000);
  const { durationMs, wav } = await greetingFromUpload(file, { filename: 'g.wav' }, { handOver: true });
  expect(durationMs).toBe(1000);
  expect(wav.length).toBe(44 + 8000 * 2);
  expect(file.buffer.byteLength).toBe(0); // detached: it moved to the worker
});

test('without handOver the caller keeps its buffer', async () => {
  const file = ownWav(16000);
  await greetingFromUpload(file, { filename: 'g.wav' });
  expect(file.length).toBe(44 + 16000 * 2);
});
