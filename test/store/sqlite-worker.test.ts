import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { ConflictError, NotFoundError, SqliteWorkerLostError, StoreError, openStore, type Store } from '../../src/store/index.js';
import { until } from '../helpers/wait.js';
import { TestDatabase, fakeWav, freshLine } from './harness.js';

/** Issue 12: SQLite runs in a worker thread (src/store/sqlite-worker/) unless asked otherwise. */
describe('SQLite in a worker thread', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.cleanup();
  });
  async function open(options: { sqliteWorker?: boolean } = {}): Promise<Store> {
    const tdb = new TestDatabase('sqlite');
    dbs.push(tdb);
    return tdb.open(options);
  }

  /**
   * Stores `count` messages of `wav` at once and counts the ticks of a 1 ms interval while they are in progress.
   * In-thread, better-sqlite3 answers every query synchronously and the whole batch runs in microtasks: the timer
   * cannot fire until it is over.
   */
  async function ticksDuringBatch(store: Store, line: string, wav: Buffer, count: number): Promise<{ ticks: number; maxDelayMs: number }> {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let ticks = 0;
    let inBatch = true;
    const interval = setInterval(() => {
      if (inBatch) ticks++;
    }, 1);
    delay.enable();
    try {
      await Promise.all(
        Array.from({ length: count }, () => store.messages.create({ line, caller: '+33612345678', callee: line, durationMs: 1000, wav })),
      );
    } finally {
      inBatch = false;
      clearInterval(interval);
      delay.disable();
    }
    return { ticks, maxDelayMs: delay.max / 1e6 };
  }

  test('the main event loop keeps running while the worker stores 5 MB blobs; in-thread it does not', async () => {
    const wav = fakeWav(5 * 1024 * 1024, 5);
    const worker = await open();
    expect(worker.sqliteWorker).toBeDefined();
    const workerLine = (await worker.lines.create({ number: freshLine() })).number;
    const offLoop = await ticksDuringBatch(worker, workerLine, wav, 12);
    expect({ ticks: offLoop.ticks > 0, maxDelayMs: offLoop.maxDelayMs }).toMatchObject({ ticks: true });
    expect((await worker.messages.countByDir(workerLine)).inbox).toBe(12);

    // The same batch on the caller's thread: the measurement does tell the two apart.
    const inThread = await open({ sqliteWorker: false });
    expect(inThread.sqliteWorker).toBeUndefined();
    const inThreadLine = (await inThread.lines.create({ number: freshLine() })).number;
    expect((await ticksDuringBatch(inThread, inThreadLine, wav, 12)).ticks).toBe(0);
  });

  test('BLOBs come back as byte-identical Buffers, large (transferred) and small (copied)', async () => {
    const store = await open();
    const line = (await store.lines.create({ number: freshLine() })).number;
    for (const wav of [fakeWav(300 * 1024, 7), fakeWav(100, 8), Buffer.concat([fakeWav(16, 9), randomBytes(200_000)])]) {
      const { message } = await store.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav });
      const audio = await store.messages.getAudio(message.id);
      expect(Buffer.isBuffer(audio)).toBe(true);
      expect(audio.equals(wav)).toBe(true);
    }
    // A Uint8Array view into a larger buffer is stored as its own bytes only.
    const backing = randomBytes(4096);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 100, 1000);
    await store.greetings.put(line, 'unavail', { durationMs: 1, wav: view });
    const greeting = await store.greetings.get(line, 'unavail');
    expect(Buffer.isBuffer(greeting?.wav)).toBe(true);
    expect(greeting?.wav.equals(backing.subarray(100, 1100))).toBe(true);
    const { rows } = await sql<{ b: unknown }>`select x'00ff10' as b`.execute(store.db);
    expect(Buffer.isBuffer(rows[0]?.b)).toBe(true);
    expect(rows[0]?.b).toEqual(Buffer.from([0, 0xff, 0x10]));
  });

  test('large blob parameters come back from the worker by transfer once stored (spent), stored or refused alike', async () => {
    const store = await open();
    const line = (await store.lines.create({ number: freshLine() })).number;
    const spent: number[][] = [];
    const listen = (m: { type: string; spent?: ArrayBuffer[] }): void => {
      if (m.type === 'result' || m.type === 'failed') spent.push((m.spent ?? []).map((b) => b.byteLength));
    };
    store.sqliteWorker!.thread.on('message', listen);
    try {
      const handed = fakeWav(300_000, 1);
      const copied = fakeWav(200_000, 2);
      const sizes = [handed.length, copied.length];
      const { message: a } = await store.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: handed }, { handOverAudio: true });
      const { message: b } = await store.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: copied });
      expect(spent.flat().filter((n) => n > 0)).toEqual(sizes);
      spent.length = 0;
      // A statement that fails still gives its blob back.
      const refused = fakeWav(150_000, 3);
      await expect(sql`insert into nonexistent_table values (${refused})`.execute(store.db)).rejects.toThrow(/nonexistent_table/);
      expect(spent).toEqual([[refused.length]]);
      spent.length = 0;
      await store.greetings.put(line, 'unavail', { durationMs: 1, wav: fakeWav(1000, 4) });
      expect(spent.flat()).toEqual([]); // small blobs are copied: nothing to give back
      expect((await store.messages.getAudio(a.id)).equals(fakeWav(300_000, 1))).toBe(true);
      expect((await store.messages.getAudio(b.id)).equals(copied)).toBe(true);
    } finally {
      store.sqliteWorker!.thread.off('message', listen);
    }
  });

  test('a unique violation maps to ConflictError, the driver error keeping its name, code and message', async () => {
    const worker = await open();
    const inThread = await open({ sqliteWorker: false });
    const number = freshLine();
    const driverErrors: { name: string; code: unknown; message: string }[] = [];
    for (const store of [worker, inThread]) {
      await store.lines.create({ number });
      const err = await store.lines.create({ number }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as Error).message).toBe(`line ${number} already exists`);
      const cause = (err as { cause?: unknown }).cause as Error & { code?: unknown };
      driverErrors.push({ name: cause.name, code: cause.code, message: cause.message });
    }
    expect(driverErrors[0]).toEqual(driverErrors[1]);
    expect(driverErrors[0]).toMatchObject({ name: 'SqliteError', code: expect.stringMatching(/^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/) });
  });

  test('a rolled-back transaction leaves nothing behind', async () => {
    const store = await open();
    const number = freshLine();
    const failed = await store
      .transaction(async (tx) => {
        await tx.lines.create({ number });
        await tx.messages.create({ line: number, caller: 'c', callee: number, durationMs: 1, wav: fakeWav(300 * 1024) });
        throw new Error('abandon the deposit');
      })
      .catch((e: unknown) => e);
    expect((failed as Error).message).toBe('abandon the deposit');
    await expect(store.lines.get(number)).rejects.toBeInstanceOf(NotFoundError);
    const { rows } = await sql<{ n: number }>`select count(*) as n from messages where line = ${number}`.execute(store.db);
    expect(rows[0]?.n).toBe(0);
    // The connection was released: the store goes on.
    await store.lines.create({ number });
  });

  test('closing the store lets the transaction under way commit, then ends the worker thread', async () => {
    const tdb = new TestDatabase('sqlite');
    dbs.push(tdb);
    const store = await openStore(tdb.url);
    const thread = store.sqliteWorker!.thread;
    const exitCode = new Promise<number>((resolve) => thread.once('exit', resolve));
    const number = freshLine();
    let began!: () => void;
    let finish!: () => void;
    const inTransaction = new Promise<void>((resolve) => (began = resolve));
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    const deposit = store.transaction(async (tx) => {
      await tx.lines.create({ number });
      began();
      await finishing;
      return tx.messages.create({ line: number, caller: 'c', callee: number, durationMs: 1, wav: fakeWav(1000) });
    });
    await inTransaction;
    const closed = store.close();
    finish();
    await closed;
    await expect(deposit).resolves.toMatchObject({ evicted: [] });
    expect(await exitCode).toBe(0);
    await expect(store.lines.list()).rejects.toThrow();
    const reopened = await tdb.open();
    expect((await reopened.messages.countByDir(number)).inbox).toBe(1);
  });

  test('a killed worker rejects the query it held; the next query runs on a new worker; close() still returns', async () => {
    const store = await open();
    const handle = store.sqliteWorker!;
    // A query that keeps the worker busy for a while (a recursive count), so it is pending when the thread dies.
    const slow = sql`with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) as n from c`
      .execute(store.db)
      .then(
        () => 'answered',
        (e: unknown) => e,
      );
    await until('the slow query to be posted', () => handle.pendingQueries > 0, 10_000, 1);
    const first = handle.thread;
    await first.terminate();
    const err = await slow;
    expect(err).toBeInstanceOf(SqliteWorkerLostError);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/the SQLite worker thread exited \(code 1\) with the store open/);
    const number = freshLine();
    await store.lines.create({ number, routing: 'voicemail' });
    expect((await store.lines.get(number)).number).toBe(number);
    expect(handle.replacements).toBe(1);
    expect(handle.thread).not.toBe(first);
    await store.close();
  });

  test('a worker lost inside a transaction: nothing of it is committed, the rest of it is refused, the store goes on', async () => {
    const store = await open();
    const handle = store.sqliteWorker!;
    const [kept, inside, after] = [freshLine(), freshLine(), freshLine()];
    await store.lines.create({ number: kept, routing: 'voicemail' });
    const outcome = await store.db
      .transaction()
      .execute(async (trx) => {
        await sql`update lines set routing = 'fax' where number = ${kept}`.execute(trx);
        await handle.thread.terminate();
        await sql`update lines set routing = 'fax' where number = ${inside}`.execute(trx);
        return 'committed';
      })
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(SqliteWorkerLostError);
    expect((outcome as Error).message).toMatch(/lost during this transaction/);
    expect((await store.lines.get(kept)).routing).toBe('voicemail');
    await store.lines.create({ number: after, routing: 'voicemail' });
    expect((await store.lines.get(after)).routing).toBe('voicemail');
    expect(handle.replacements).toBe(1);
    await store.close();
  });

  test('?worker=0 in the URL runs in-thread; bad URL parameters are refused', async () => {
    const tdb = new TestDatabase('sqlite');
    dbs.push(tdb);
    const inThread = await openStore(`${tdb.url}?worker=0`);
    expect(inThread.sqliteWorker).toBeUndefined();
    await inThread.lines.create({ number: freshLine() });
    await inThread.close();
    // The URL wins over the option; both name the same file.
    const worker = await openStore(`${tdb.url}?worker=1`, { sqliteWorker: false });
    expect(worker.sqliteWorker).toBeDefined();
    expect(await worker.lines.list()).toHaveLength(1);
    await worker.close();
    await expect(openStore(`${tdb.url}?worker=2`)).rejects.toThrow(/bad SQLite URL parameters "\?worker=2": worker must be 0 or 1/);
    await expect(openStore(`${tdb.url}?cache=shared`)).rejects.toThrow(/unknown parameter cache/);
    await expect(openStore('sqlite:/nonexistent-dir/x/y.db')).rejects.toThrow(/cannot open SQLite database \/nonexistent-dir\/x\/y\.db/);
  });
});
