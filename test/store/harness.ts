import { lineNumbers } from '../helpers/test-database.js';

export { ENGINES, PG_URL, TestDatabase, type Engine } from '../helpers/test-database.js';

/** A fresh E.164 line number for each call, so tests sharing a database never collide. */
export const freshLine = lineNumbers('+3391');

/** A small but real-looking WAV: RIFF header + `samples` bytes of distinct values (checks byte integrity). */
export function fakeWav(samples = 1600, seed = 1): Buffer {
  const data = Buffer.alloc(samples);
  for (let i = 0; i < samples; i++) data[i] = (i * 31 + seed * 7) & 0xff;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(6, 20); // A-law
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples, 40);
  return Buffer.concat([header, data]);
}
