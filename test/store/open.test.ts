import { afterAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore, StoreError, ValidationError } from '../../src/store/index.js';
import { PG_URL, TestDatabase, fakeWav, freshLine } from './harness.js';

describe('openStore', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.cleanup();
  });

  test('rejects unknown URL schemes and bad options precisely', async () => {
    await expect(openStore('mysql://x')).rejects.toThrow(/must start with sqlite: or postgres:\/\//);
    await expect(openStore('sqlite::memory:', { schema: 'Bad-Name' })).rejects.toBeInstanceOf(ValidationError);
    await expect(openStore('sqlite:/nonexistent-dir/x/y.db')).rejects.toThrow(/cannot open SQLite database \/nonexistent-dir/);
  });

  test('an unreachable PostgreSQL is a StoreError without the password', async () => {
    const err = await openStore('postgres://u:secret@127.0.0.1:1/none').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/cannot open the store at postgres:\/\/127\.0\.0\.1:1\/none/);
    expect((err as Error).message).not.toContain('secret');
  });

  test.each(['sqlite', 'postgres'] as const)('%s: onQueryDuration gets the duration of every successful query, not of failed ones', async (engine) => {
    const tdb = new TestDatabase(engine);
    dbs.push(tdb);
    const durations: number[] = [];
    const store = await tdb.open({ onQueryDuration: (ms) => durations.push(ms) });
    const afterOpen = durations.length;
    expect(afterOpen).toBeGreaterThan(0); // the migrations' own queries
    await store.lines.create({ number: freshLine() });
    await store.lines.list();
    expect(durations.length).toBeGreaterThanOrEqual(afterOpen + 2);
    for (const ms of durations) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
    const beforeFailure = durations.length;
    // (The driver's error may come from another realm than jest's: compare its message, not its class.)
    const failure = await sql`selec 1`.execute(store.db).then(
      () => 'no error',
      (err: unknown) => String((err as { message?: unknown }).message),
    );
    expect(failure).toMatch(/syntax error/);
    expect(durations.length).toBe(beforeFailure);
  });

  test('onQueryDuration must be a function', async () => {
    await expect(openStore('sqlite::memory:', { onQueryDuration: 42 as unknown as () => void })).rejects.toThrow(/onQueryDuration must be a function/);
  });

  test('sqlite::memory: works', async () => {
    const store = await openStore('sqlite::memory:');
    expect(store.dialect).toBe('sqlite');
    await store.lines.create({ number: '+33912345678' });
    expect(await store.lines.list()).toHaveLength(1);
    await store.close();
    await store.close();
  });

  test('sqlite file: WAL, foreign keys on; data and migrations survive reopening', async () => {
    const tdb = new TestDatabase('sqlite');
    dbs.push(tdb);
    const first = await tdb.open();
    const line = freshLine();
    await first.lines.create({ number: line });
    const { message } = await first.messages.create({ line, caller: 'c', callee: line, durationMs: 1, wav: fakeWav(32) });
    await first.close();
    const second = await tdb.open();
    expect((await second.messages.getAudio(message.id)).equals(fakeWav(32))).toBe(true);
    const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(second.db);
    expect(rows[0]?.journal_mode).toBe('wal');
    await second.lines.delete(line);
    await expect(second.messages.get(message.id)).rejects.toThrow(/does not exist/);
  });

  test('postgres: tables live in the per-test schema, not in public; reopening is idempotent', async () => {
    const tdb = new TestDatabase('postgres');
    dbs.push(tdb);
    const store = await tdb.open();
    expect(store.dialect).toBe('postgres');
    await store.lines.create({ number: freshLine() });
    const again = await tdb.open({ poolSize: 2 });
    expect(await again.lines.list()).toHaveLength(1);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_schema: string }>(
        `select distinct table_schema from information_schema.tables where table_name = 'messages' and table_schema = $1`,
        [tdb.schema],
      );
      expect(rows).toEqual([{ table_schema: tdb.schema }]);
      const types = await client.query<{ column_name: string; data_type: string }>(
        `select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = 'messages'
         and column_name in ('audio', 'creation_datetime') order by column_name`,
        [tdb.schema],
      );
      expect(types.rows).toEqual([
        { column_name: 'audio', data_type: 'bytea' },
        { column_name: 'creation_datetime', data_type: 'bigint' },
      ]);
    } finally {
      await client.end();
    }
  });
});
