import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeWav } from '../../src/shared/audio/wav.js';
import { decodeAudio } from '../../src/shared/audio/index.js';
import { OPERATOR_TOKEN, ENGINES, call, depositMessage, enc, freshLine, startHarness, type Harness } from './harness.js';

const V1 = '/api/v1';
const op = { token: OPERATOR_TOKEN };

/** ffmpeg arguments making 1.5 s of a 440 Hz tone in each upload format, at rates and channel counts a user might send. */
const UPLOADS: Record<string, { file: string; args: string[] }> = {
  wav: { file: 'g.wav', args: ['-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le'] },
  mp3: { file: 'g.mp3', args: ['-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k'] },
  ogg: { file: 'g.ogg', args: ['-ar', '48000', '-ac', '1', '-c:a', 'libvorbis'] },
  flac: { file: 'g.flac', args: ['-ar', '16000', '-ac', '1', '-c:a', 'flac'] },
  aiff: { file: 'g.aiff', args: ['-ar', '22050', '-ac', '1', '-c:a', 'pcm_s16be'] },
  au: { file: 'g.au', args: ['-ar', '8000', '-ac', '1', '-c:a', 'pcm_mulaw'] },
};

let dir: string;
const files: Record<string, Buffer> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repondeur-audio-'));
  for (const [format, { file, args }] of Object.entries(UPLOADS)) {
    const out = join(dir, file);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.5', ...args, '-y', out]);
    files[format] = readFileSync(out);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function upload(bytes: Buffer, filename: string): FormData {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), filename);
  return form;
}

/** Duration in ms of the audio ffmpeg decodes from the file (an independent decoder), resampled to 8 kHz mono. */
function ffmpegMs(bytes: Buffer, ext: string): number {
  const path = join(dir, `probe.${ext}`);
  writeFileSync(path, bytes);
  const pcm = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', '8000', '-']);
  return (pcm.length / 2 / 8000) * 1000;
}

describe.each(ENGINES)('audio on %s', (engine) => {
  let h: Harness;
  let line: string;
  beforeAll(async () => {
    h = await startHarness(engine);
    line = freshLine();
    await h.store.lines.create({ number: line, pin: '1234' });
  });
  afterAll(async () => {
    await h.close();
  });

  test.each(Object.keys(UPLOADS))('a %s greeting is stored as 8 kHz mono 16-bit WAV of the same length', async (format) => {
    const kind = 'unavail';
    const r = await call(h.base, 'POST', `${V1}/lines/${enc(line)}/voicemail/greetings/${kind}`, {
      ...op,
      body: upload(files[format]!, UPLOADS[format]!.file),
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ kind, duration: 2 });
    expect(Math.abs(r.json.durationMs - 1500)).toBeLessThan(60);
    const stored = await h.store.greetings.get(line, kind);
    const wav = decodeWav(stored!.wav);
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 1 });
    expect(stored!.wav.readUInt16LE(34)).toBe(16);
    expect(Math.abs(wav.samples.length - 12000)).toBeLessThan(500);

    const listed = await call(h.base, 'GET', `${V1}/lines/${enc(line)}/voicemail/greetings`, op);
    expect(listed.json.map((g: { kind: string }) => g.kind)).toEqual([kind]);
    const down = await call(h.base, 'GET', `${V1}/lines/${enc(line)}/voicemail/greetings/${kind}/download`, op);
    expect(down.headers.get('content-type')).toBe('audio/wav');
    expect(down.bytes.equals(stored!.wav)).toBe(true);
  });

  test('a FLAC whose header gives no length (total samples 0) is refused 400 once decoding passes the limit', async () => {
    const out = join(dir, 'long.flac');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '660', '-c:a', 'flac', '-y', out]);
    const flac = readFileSync(out);
    flac[8 + 13] = flac[8 + 13]! & 0xf0; // STREAMINFO total samples := 0 ("unknown")
    flac.writeUInt32BE(0, 8 + 14);
    const r = await call(h.base, 'POST', `${V1}/lines/${enc(line)}/voicemail/greetings/temp`, { ...op, body: upload(flac, 'long.flac') });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/more than 600 s/);
    expect(await h.store.greetings.get(line, 'temp')).toBeUndefined();
  });

  test('the duration the container header announces is checked before decoding: a 2 s FLAC declaring 20 min is refused', async () => {
    const out = join(dir, 'short.flac');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=f=440:r=8000:d=2', '-c:a', 'flac', '-y', out]);
    const flac = readFileSync(out);
    // STREAMINFO total samples := 20 min at 8 kHz. Decoding would find 2 s (and store it); only the header says 1200 s.
    const total = 1200 * 8000;
    flac[8 + 13] = (flac[8 + 13]! & 0xf0) | Math.floor(total / 2 ** 32);
    flac.writeUInt32BE(total % 2 ** 32, 8 + 14);
    const r = await call(h.base, 'POST', `${V1}/lines/${enc(line)}/voicemail/greetings/temp`, { ...op, body: upload(flac, 'short.flac') });
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/lasts 1200 s, at most 600 s/);
    expect(await h.store.greetings.get(line, 'temp')).toBeUndefined();
  });

  test('unreadable uploads are 400 and store nothing; oversized ones are 413', async () => {
    const kind = 'busy';
    const url = `${V1}/lines/${enc(line)}/voicemail/greetings/${kind}`;
    const junk = await call(h.base, 'POST', url, { ...op, body: upload(Buffer.from('this is not audio at all'), 'x.wav') });
    expect(junk.status).toBe(400);
    expect(junk.json.error).toBe('invalid_request');
    const truncated = await call(h.base, 'POST', url, { ...op, body: upload(files.mp3!.subarray(0, 3), 'x.mp3') });
    expect(truncated.status).toBe(400);
    expect((await call(h.base, 'POST', url, { ...op, body: { file: 'x' } })).status).toBe(400);
    expect((await call(h.base, 'POST', url, { ...op, body: new FormData() })).status).toBe(400);

    const big = Buffer.alloc(21 * 1024 * 1024, 1);
    files.wav!.copy(big, 0, 0, 44);
    const tooLarge = await call(h.base, 'POST', url, { ...op, body: upload(big, 'big.wav') });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error).toBe('payload_too_large');
    expect(await h.store.greetings.get(line, kind)).toBeUndefined();

    expect((await call(h.base, 'POST', `${V1}/lines/${enc(line)}/voicemail/greetings/welcome`, { ...op, body: upload(files.wav!, 'g.wav') })).status).toBe(400);
    expect((await call(h.base, 'GET', `${V1}/lines/${enc(line)}/voicemail/greetings/${kind}/download`, op)).status).toBe(404);
    expect((await call(h.base, 'DELETE', `${V1}/lines/${enc(line)}/voicemail/greetings/${kind}`, op)).status).toBe(404);
    expect((await call(h.base, 'POST', `${V1}/lines/${enc(freshLine())}/voicemail/greetings/${kind}`, { ...op, body: upload(files.wav!, 'g.wav') })).status).toBe(404);
  });

  test('deleting a greeting removes it', async () => {
    await call(h.base, 'POST', `${V1}/lines/${enc(line)}/voicemail/greetings/name`, { ...op, body: upload(files.au!, 'n.au') });
    expect(await h.store.greetings.get(line, 'name')).toBeDefined();
    expect((await call(h.base, 'DELETE', `${V1}/lines/${enc(line)}/voicemail/greetings/name`, op)).status).toBe(204);
    expect(await h.store.greetings.get(line, 'name')).toBeUndefined();
  });

  const MIME = { wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', flac: 'audio/flac', aiff: 'audio/aiff', au: 'audio/basic' };
  test.each(Object.entries(MIME))('a message downloads as %s (%s) that decodes to its duration', async (format, mime) => {
    const message = await depositMessage(h.store, line, 3);
    const url = `${V1}/lines/${enc(line)}/voicemail/directories/${message.id}/download?format=${format}`;
    const r = await call(h.base, 'GET', url, op);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(mime);
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="message-${message.id}.${format}"`);
    const decoded = await decodeAudio(r.bytes);
    const ms = (decoded.samples.length / decoded.channels / decoded.sampleRate) * 1000;
    expect(Math.abs(ms - 3000)).toBeLessThan(80);
    expect(Math.abs(ffmpegMs(r.bytes, format) - 3000)).toBeLessThan(150);

    const inline = await call(h.base, 'GET', `${url}&inline=1`, op);
    expect(inline.headers.get('content-disposition')).toMatch(/^inline;/);
  });

  test('download with an unknown format is 400', async () => {
    const message = await depositMessage(h.store, line, 1);
    const r = await call(h.base, 'GET', `${V1}/lines/${enc(line)}/voicemail/directories/${message.id}/download?format=wma`, op);
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('audioFormat');
  });
});
