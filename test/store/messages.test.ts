import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { NotFoundError, ValidationError, type Store } from '../../src/store/index.js';
import { ENGINES, TestDatabase, fakeWav, freshLine } from './harness.js';

const T0 = Date.UTC(2026, 0, 1);

describe.each(ENGINES)('messages on %s', (engine) => {
  let tdb: TestDatabase;
  let store: Store;
  let now = T0;
  beforeAll(async () => {
    tdb = new TestDatabase(engine);
    store = await tdb.open({ clock: () => now });
  });
  afterAll(async () => tdb.cleanup());

  async function newLine(): Promise<string> {
    return (await store.lines.create({ number: freshLine() })).number;
  }

  test('handOverAudio: on SQLite the WAV moves to the store thread (the caller\'s buffer is detached), on PostgreSQL it stays; the stored bytes are the same', async () => {
    const line = await newLine();
    const wav = fakeWav(300_000, 5);
    const copy = Buffer.from(wav);
    expect(wav.byteOffset === 0 && wav.byteLength === wav.buffer.byteLength).toBe(true);
    const { message } = await store.messages.create({ line, caller: '+33612345678', callee: line, durationMs: 37_500, wav }, { handOverAudio: true });
    expect(message.size).toBe(copy.length);
    expect(wav.buffer.byteLength).toBe(engine === 'sqlite' ? 0 : copy.length);
    expect((await store.messages.getAudio(message.id)).equals(copy)).toBe(true);
    // Without the option, or for a view into a larger buffer, nothing is detached.
    const kept = fakeWav(300_000, 6);
    await store.messages.create({ line, caller: '+33612345678', callee: line, durationMs: 37_500, wav: kept });
    expect(kept.buffer.byteLength).toBeGreaterThan(0);
    const big = Buffer.concat([fakeWav(300_000, 7), Buffer.alloc(10)]);
    const view = big.subarray(0, big.length - 10);
    const { message: fromView } = await store.messages.create({ line, caller: '+33612345678', callee: line, durationMs: 37_500, wav: view }, { handOverAudio: true });
    expect(big.buffer.byteLength).toBe(big.length);
    expect((await store.messages.getAudio(fromView.id)).equals(view)).toBe(true);
  });

  test('create, get, getAudio, list, move, delete with audio bytes intact', async () => {
    const line = await newLine();
    const wav = fakeWav(48_000, 3);
    const { message, evicted } = await store.messages.create({
      line,
      caller: '+33612345678',
      callee: line,
      callerName: 'Alice',
      durationMs: 6_499,
      wav,
    });
    expect(evicted).toEqual([]);
    expect(message).toMatchObject({
      line,
      caller: '+33612345678',
      callerName: 'Alice',
      creationDatetime: T0,
      duration: 6,
      durationMs: 6_499,
      dir: 'inbox',
      heardAt: null,
      size: wav.length,
    });
    expect(message.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await store.messages.get(message.id)).toEqual(message);
    const audio = await store.messages.getAudio(message.id);
    expect(Buffer.isBuffer(audio)).toBe(true);
    expect(audio.equals(wav)).toBe(true);

    const listed = await store.messages.list({ line });
    expect(listed).toEqual([message]);
    for (const m of listed) {
      expect(Object.keys(m)).not.toContain('audio');
      expect(Object.keys(m)).not.toContain('wav');
    }

    const moved = await store.messages.move(message.id, 'work');
    expect(moved.dir).toBe('work');
    expect(await store.messages.list({ line, dir: 'inbox' })).toEqual([]);
    expect((await store.messages.list({ line, dir: 'work' })).map((m) => m.id)).toEqual([message.id]);
    await expect(store.messages.move(message.id, 'trash' as 'old')).rejects.toThrow(/dir must be one of/);

    await store.messages.delete(message.id);
    await expect(store.messages.get(message.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.messages.getAudio(message.id)).rejects.toThrow(`message ${message.id} does not exist`);
    await expect(store.messages.delete(message.id)).rejects.toBeInstanceOf(NotFoundError);
    // A manual deletion is not an automatic one: nothing in the retention log.
    expect(await store.retentionLog.list({ line })).toEqual([]);
  });

  test('Uint8Array audio (not a Buffer) round-trips too', async () => {
    const line = await newLine();
    const wav = new Uint8Array(fakeWav(500, 9));
    const { message } = await store.messages.create({ line, caller: 'anonymous', callee: line, durationMs: 60, wav });
    expect(new Uint8Array(await store.messages.getAudio(message.id))).toEqual(wav);
  });

  test('list pages in creation order, countByDir counts every folder, markHeard files inbox under old', async () => {
    const line = await newLine();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const dir = i === 4 ? 'urgent' : 'inbox';
      const { message } = await store.messages.create({
        line, caller: `+3361000000${i}`, callee: line, durationMs: 1000, wav: fakeWav(100, i), dir, creationDatetime: T0 + i,
      });
      ids.push(message.id);
    }
    expect((await store.messages.list({ line, limit: 2, offset: 1 })).map((m) => m.id)).toEqual(ids.slice(1, 3));
    expect((await store.messages.list({ line, order: 'desc', limit: 1 })).map((m) => m.id)).toEqual([ids[4]]);
    expect(await store.messages.countByDir(line)).toEqual({ inbox: 4, old: 0, urgent: 1, work: 0, family: 0, friends: 0 });

    now = T0 + 60_000;
    const heard = await store.messages.markHeard(ids[0]!);
    expect(heard).toMatchObject({ dir: 'old', heardAt: T0 + 60_000 });
    now = T0 + 120_000;
    expect((await store.messages.markHeard(ids[0]!)).heardAt).toBe(T0 + 60_000);
    expect((await store.messages.markHeard(ids[4]!)).dir).toBe('old');
    await store.messages.move(ids[1]!, 'family');
    expect((await store.messages.markHeard(ids[1]!)).dir).toBe('family');
    expect(await store.messages.countByDir(line)).toEqual({ inbox: 2, old: 2, urgent: 0, work: 0, family: 1, friends: 0 });
    now = T0;
  });

  test('unknown line is NotFoundError; bad input is a ValidationError naming the field', async () => {
    const ghost = freshLine();
    await expect(
      store.messages.create({ line: ghost, caller: 'a', callee: 'b', durationMs: 1, wav: fakeWav(10) }),
    ).rejects.toThrow(new NotFoundError(`line ${ghost} does not exist`));
    await expect(store.messages.list({ line: ghost })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.messages.countByDir(ghost)).rejects.toBeInstanceOf(NotFoundError);
    const line = await newLine();
    const bad = store.messages.create({ line, caller: 'a', callee: 'b', durationMs: 1.5, wav: Buffer.alloc(0) });
    await expect(bad).rejects.toBeInstanceOf(ValidationError);
    await expect(
      store.messages.create({ line, caller: 'a', callee: 'b', durationMs: 1.5, wav: Buffer.alloc(0) }),
    ).rejects.toThrow(/durationMs must be whole.*wav must not be empty/);
  });

  test('count eviction at 100 keeps the newest 100, in any folder, and logs each with reason count', async () => {
    const line = await newLine();
    const created: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { message, evicted } = await store.messages.create(
        { line, caller: 'c', callee: line, durationMs: 10, wav: fakeWav(20, i), creationDatetime: T0 + i * 1000, dir: i % 2 ? 'old' : 'inbox' },
        { maxMessages: 100 },
      );
      expect(evicted).toEqual([]);
      created.push(message.id);
    }
    now = T0 + 500_000;
    const extra: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { message, evicted } = await store.messages.create(
        { line, caller: 'c', callee: line, durationMs: 10, wav: fakeWav(20, 200 + i), creationDatetime: T0 + 200_000 + i },
        { maxMessages: 100 },
      );
      expect(evicted).toEqual([created[i]]);
      extra.push(message.id);
    }
    const remaining = (await store.messages.list({ line })).map((m) => m.id);
    expect(remaining).toHaveLength(100);
    expect(remaining).toEqual([...created.slice(3), ...extra]);
    const log = await store.retentionLog.list({ line });
    expect(log.map((e) => e.messageId).sort()).toEqual(created.slice(0, 3).sort());
    for (const entry of log) {
      expect(entry).toMatchObject({ line, reason: 'count', at: T0 + 500_000 });
      expect(entry.details).toMatchObject({ maxMessages: 100 });
    }
    await expect(store.messages.getAudio(created[0]!)).rejects.toBeInstanceOf(NotFoundError);
    now = T0;
  });

  test('deleteOlderThan removes messages before the cutoff and logs reason age', async () => {
    const a = await newLine();
    const b = await newLine();
    const mk = async (line: string, at: number) =>
      (await store.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8), creationDatetime: at })).message.id;
    const oldA = await mk(a, 1_000);
    const oldB = await mk(b, 2_000);
    const fresh = await mk(a, 10_000);
    now = T0 + 7;
    expect(await store.messages.deleteOlderThan(5_000, { line: b })).toEqual([oldB]);
    expect(await store.messages.deleteOlderThan(5_000, { line: a })).toEqual([oldA]);
    expect(await store.messages.list({ line: a })).toHaveLength(1);
    expect((await store.messages.get(fresh)).id).toBe(fresh);
    const log = await store.retentionLog.list({ line: a });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ messageId: oldA, line: a, reason: 'age', at: T0 + 7, details: { cutoff: 5_000, creationDatetime: 1_000 } });
    expect((await store.retentionLog.list({ line: b }))[0]).toMatchObject({ messageId: oldB, reason: 'age' });
    now = T0;
  });

  test('delete with reason keepMessage is logged in the same transaction', async () => {
    const line = await newLine();
    const { message } = await store.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8) });
    await store.messages.delete(message.id, { reason: 'keepMessage', details: { sentTo: 2 } });
    expect(await store.retentionLog.list({ line })).toEqual([
      expect.objectContaining({ messageId: message.id, reason: 'keepMessage', details: { sentTo: 2 } }),
    ]);
  });

  test('200 concurrent creates into one mailbox are all stored', async () => {
    const line = await newLine();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        store.messages.create(
          { line, caller: `+336${String(i).padStart(8, '0')}`, callee: line, durationMs: 2000, wav: fakeWav(800, i) },
          { notifications: [{ recipient: 'box@example.org', type: 'attachment', format: 'mp3' }], maxMessages: 1000 },
        ),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toEqual([]);
    const listed = await store.messages.list({ line });
    expect(listed).toHaveLength(200);
    expect(new Set(listed.map((m) => m.caller)).size).toBe(200);
    const sample = listed[137]!;
    const i = Number(sample.caller.slice(4));
    expect((await store.messages.getAudio(sample.id)).equals(fakeWav(800, i))).toBe(true);
    expect(await store.outbox.list({ line, limit: 1000 })).toHaveLength(200);
  });

  test('concurrent creates over maxMessages never leave more than the limit', async () => {
    const line = await newLine();
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        store.messages.create(
          { line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(8, i), creationDatetime: T0 + i },
          { maxMessages: 10 },
        ),
      ),
    );
    const evicted = outcomes.flatMap((o) => o.evicted);
    expect(evicted).toHaveLength(50);
    expect(new Set(evicted).size).toBe(50);
    expect(await store.messages.list({ line })).toHaveLength(10);
    expect(await store.retentionLog.list({ line })).toHaveLength(50);
  });
});
