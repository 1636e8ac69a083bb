import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { encodeWav } from '../../src/shared/audio/wav.js';
import { openStore, type OpenStoreOptions, type Store } from '../../src/store/index.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabaseOptions {
  /** Prefix of the temp directory (default `repondeur-db-`). */
  tempPrefix?: string;
  /** Prefix of the PostgreSQL schema name, followed by 12 random hex digits (default `t_`). */
  schemaPrefix?: string;
}

/**
 * The one test database of the suite: a fresh SQLite file in a temp dir, or a fresh PostgreSQL schema
 * `<schemaPrefix><random>` (set as search_path on every pooled connection by the store). Both engines get the
 * temp dir `dir`, for whatever else a test keeps next to the database. `cleanup` closes the stores opened
 * through {@link TestDatabase.open}, removes the temp dir and drops the schema.
 */
export class TestDatabase {
  readonly url: string;
  readonly schema: string | undefined;
  /** The temp directory (removed by `cleanup`): the SQLite file, and whatever else the test keeps there. */
  readonly dir: string;
  readonly #stores: Store[] = [];

  constructor(
    readonly engine: Engine,
    options: TestDatabaseOptions = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), options.tempPrefix ?? 'repondeur-db-'));
    if (engine === 'sqlite') {
      this.url = `sqlite:${join(this.dir, 'store.db')}`;
    } else {
      this.schema = `${options.schemaPrefix ?? 't_'}${randomBytes(6).toString('hex')}`;
      this.url = PG_URL;
    }
  }

  async open(options: OpenStoreOptions = {}): Promise<Store> {
    const store = await openStore(this.url, { ...options, schema: this.schema });
    this.#stores.push(store);
    return store;
  }

  async cleanup(): Promise<void> {
    for (const store of this.#stores) await store.close();
    rmSync(this.dir, { recursive: true, force: true });
    if (this.schema !== undefined) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${this.schema}" cascade`);
      } finally {
        await client.end();
      }
    }
  }
}

/**
 * A generator of fresh E.164 line numbers `<prefix><pid % 1000, 3 digits><sequence, 4 digits>`, so tests
 * sharing a database never collide.
 */
export function lineNumbers(prefix: string): () => string {
  let seq = 0;
  return () => {
    seq += 1;
    return `${prefix}${String(process.pid % 1000).padStart(3, '0')}${String(seq).padStart(4, '0')}`;
  };
}

/** `seconds` of a 440 Hz tone as 16-bit mono PCM WAV at `rate` (what deposits and uploads store). */
export function toneWav(seconds: number, rate = 8000): Buffer {
  const pcm = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return encodeWav(pcm, rate);
}
