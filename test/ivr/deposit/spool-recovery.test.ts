/**
 * Spool recovery in-process: spool files as a crashed process leaves them (a spool WAV never closed, so its header
 * still says 0 bytes) are turned into messages by recoverSpooledMessages, against a real SQLite store.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { DepositSpool, recoverSpooledMessages, spoolDir, spoolName } from '../../../src/ivr/deposit/index.js';
import { multiTone } from '../../../src/media/index.js';
import { decodeWav, wavHeader } from '../../../src/shared/audio/wav.js';
import { openStore, type Store } from '../../../src/store/index.js';

const LINE = '+33912345678';
const logger = pino({ level: 'silent' });
let dir: string;
let store: Store;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deposit-spool-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  await store.lines.create({ number: LINE, routing: 'voicemail', settings: { redirectionEmails: [{ email: 'a@example.org', type: 'simple' }] } });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = () => loadConfig({}, { storage: { dir }, voicemail: { minMessageSeconds: 1 } });

/** A spool as a crashed process leaves it: sidecar + WAV whose header sizes were never patched. */
async function crashedSpool(callId: string, samples: Int16Array, line = LINE): Promise<DepositSpool> {
  const spool = DepositSpool.forCall(dir, callId);
  await spool.writeSidecar({ version: 1, callId, line, caller: '+33611223344', callerName: 'Alice', callee: line, startedAt: 1_700_000_000_000 });
  const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  // The header as WavSpoolWriter writes it first (sizes 0, patched only on close), the samples, and half a sample
  // more, as a write cut in the middle would leave.
  writeFileSync(spool.wavPath, Buffer.concat([wavHeader(0), bytes, Buffer.from([0x12])]));
  return spool;
}

describe('spool naming', () => {
  test('Call-IDs with unsafe characters map to distinct, safe names', () => {
    const a = spoolName('abc/../x@host');
    const b = spoolName('abc_.._x@host');
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(spoolName('x'.repeat(500)).length).toBeLessThanOrEqual(64 + 13);
  });
});

describe('recoverSpooledMessages', () => {
  test('stores the audio up to the crash with the sidecar details, notifies, and deletes the spool', async () => {
    const audio = multiTone([500], 2500);
    const spool = await crashedSpool('crash-1@host', audio);
    const notified: string[] = [];
    const onStored = (id: string): void => void notified.push(id);
    store.events.on('messageStored', onStored);
    const ids = await recoverSpooledMessages({ store, config: config(), logger }).finally(() => store.events.off('messageStored', onStored));
    expect(ids).toHaveLength(1);
    expect(notified).toEqual(ids);
    const message = await store.messages.get(ids[0]!);
    expect(message).toMatchObject({ line: LINE, caller: '+33611223344', callerName: 'Alice', callee: LINE, durationMs: 2500, creationDatetime: 1_700_000_000_000 });
    const storedBytes = await store.messages.getAudio(ids[0]!);
    const stored = decodeWav(storedBytes);
    expect(stored.samples).toEqual(audio);
    // No round trip: the stored audio is the spool file itself, its sizes repaired, its torn half-sample dropped.
    expect(storedBytes.equals(Buffer.concat([wavHeader(audio.byteLength), Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength)]))).toBe(true);
    expect(existsSync(spool.wavPath)).toBe(false);
    expect(existsSync(spool.sidecarPath)).toBe(false);
    const outbox = await store.outbox.listForMessage(ids[0]!);
    expect(outbox.map((j) => j.recipient)).toEqual(['a@example.org']);
  });

  test('a partial message shorter than minMessageSeconds is discarded', async () => {
    await crashedSpool('short@host', multiTone([500], 400));
    expect(await recoverSpooledMessages({ store, config: config(), logger })).toEqual([]);
    expect(readdirSync(spoolDir(dir))).toEqual([]);
  });

  test('leftovers without a sidecar, without a WAV, or with a broken sidecar are deleted, not stored', async () => {
    const before = (await store.messages.list({ line: LINE })).length;
    const orphan = DepositSpool.forCall(dir, 'orphan@host');
    writeFileSync(orphan.wavPath, Buffer.alloc(100));
    const lonely = DepositSpool.forCall(dir, 'lonely@host');
    await lonely.writeSidecar({ version: 1, callId: 'lonely@host', line: LINE, caller: null, callerName: null, callee: LINE, startedAt: 1 });
    const broken = await crashedSpool('broken@host', multiTone([500], 2000));
    writeFileSync(broken.sidecarPath, '{"version":1,');
    expect(await recoverSpooledMessages({ store, config: config(), logger })).toEqual([]);
    expect(readdirSync(spoolDir(dir))).toEqual([]);
    expect((await store.messages.list({ line: LINE })).length).toBe(before);
  });

  test('a deposit for a line deleted meanwhile is dropped', async () => {
    await store.lines.create({ number: '+33912000001', routing: 'voicemail' });
    await crashedSpool('gone@host', multiTone([500], 2000), '+33912000001');
    await store.lines.delete('+33912000001');
    expect(await recoverSpooledMessages({ store, config: config(), logger })).toEqual([]);
    expect(readdirSync(spoolDir(dir))).toEqual([]);
  });

  test('no spool directory: nothing to do', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'deposit-nospool-'));
    try {
      expect(await recoverSpooledMessages({ store, config: loadConfig({}, { storage: { dir: empty } }), logger })).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
