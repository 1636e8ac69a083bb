/**
 * Several nodes on one database, started at the same moment: migrations run under a lock and the demo line is
 * created atomically, so every node comes up and the line exists once. Real processes on a fresh PostgreSQL
 * database, and the store functions in-process under concurrency.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { PG_URL, TestDatabase } from '../helpers/test-database.js';

const DEMO_LINE = '+33912345678';

/** A fresh, empty PostgreSQL database; `drop` removes it (with any connection left). */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `repondeur_cluster_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

describe('N nodes started at once on an empty PostgreSQL database', () => {
  test('all 4 come up, the schema is migrated once and the demo line exists once', async () => {
    const db = await freshDatabase();
    const started: ServerProcess[] = [];
    try {
      const results = await Promise.allSettled(
        [0, 1, 2, 3].map(() => startServerProcess({ REPONDEUR_DATABASE_URL: db.url, REPONDEUR_DEMO_ENABLED: 'true' })),
      );
      for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures).toEqual([]);
      expect(started).toHaveLength(4);
      const migrated = started.flatMap((s) => s.logs.filter((l) => l.msg === 'store migration applied'));
      // Every migration applied exactly once, by whichever node got the lock first.
      const names = migrated.map((l) => String(l.migration));
      expect(names[0]).toBe('0001_initial');
      expect(new Set(names).size).toBe(names.length);
      const provisioned = started.flatMap((s) => s.logs.filter((l) => String(l.msg).startsWith('demo line provisioned')));
      expect(provisioned).toHaveLength(1);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ number: string }>('select number from lines');
        expect(rows.map((r) => r.number)).toEqual([DEMO_LINE]);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(started.map((s) => s.stop()));
      for (const s of started) rmSync(s.dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});

describe('N nodes started at once on one empty SQLite file', () => {
  test('all 4 come up and the demo line is provisioned once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-sqlite-nodes-'));
    const url = `sqlite:${join(dir, 'shared.db')}`;
    const started: ServerProcess[] = [];
    try {
      const results = await Promise.allSettled([0, 1, 2, 3].map(() => startServerProcess({ REPONDEUR_DATABASE_URL: url, REPONDEUR_DEMO_ENABLED: 'true' })));
      for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      const applied = started.flatMap((s) => s.logs.filter((l) => l.msg === 'store migration applied')).map((l) => String(l.migration));
      expect(applied[0]).toBe('0001_initial');
      expect(new Set(applied).size).toBe(applied.length);
      expect(started.flatMap((s) => s.logs.filter((l) => String(l.msg).startsWith('demo line provisioned')))).toHaveLength(1);
    } finally {
      await Promise.all(started.map((s) => s.stop()));
      for (const s of started) rmSync(s.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('store start-up functions under concurrency (PostgreSQL, fresh schema)', () => {
  const tdb = new TestDatabase('postgres');
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await tdb.cleanup();
  });

  test('20 openStore at once on the same empty schema all succeed', async () => {
    const opened = await Promise.allSettled(Array.from({ length: 20 }, () => openStore(tdb.url, { schema: tdb.schema, poolSize: 2 })));
    for (const r of opened) if (r.status === 'fulfilled') stores.push(r.value);
    expect(opened.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  });

  test('50 concurrent lines.ensure of one number: exactly one creates it, all see the same line', async () => {
    const store = await tdb.open({ poolSize: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (stores[i % stores.length] ?? store).lines.ensure({ number: '+33912000777', routing: 'voicemail', pin: '1234' })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.line.createdAt)).size).toBe(1);
    expect((await store.lines.list()).map((l) => l.number)).toEqual(['+33912000777']);
    // An existing line is left as it is.
    const again = await store.lines.ensure({ number: '+33912000777', routing: 'fax' });
    expect(again).toMatchObject({ created: false, line: { routing: 'voicemail', hasPin: true } });
  });
});

describe('store start-up functions under concurrency (SQLite)', () => {
  const tdb = new TestDatabase('sqlite');
  afterAll(() => tdb.cleanup());

  test('50 concurrent lines.ensure of one number: exactly one creates it', async () => {
    const store = await tdb.open();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.lines.ensure({ number: '+33912000778' })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await store.lines.list()).map((l) => l.number)).toEqual(['+33912000778']);
  });
});
