import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type OpenStoreOptions, type Store } from '../../../src/store/index.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * One database per engine per test file: a fresh SQLite file in a temp dir, or a fresh PostgreSQL schema
 * `t_<random>` (set as search_path on every pooled connection by the store, dropped by `cleanup`).
 */
export class TestDatabase {
  readonly engine: Engine;
  readonly url: string;
  readonly schema: string | undefined;
  readonly #dir: string | undefined;
  readonly #stores: Store[] = [];

  constructor(engine: Engine) {
    this.engine = engine;
    if (engine === 'sqlite') {
      this.#dir = mkdtempSync(join(tmpdir(), 'repondeur-store-'));
      this.url = `sqlite:${join(this.#dir, 'store.db')}`;
    } else {
      this.schema = `t_${randomBytes(6).toString('hex')}`;
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
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
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

let lineSeq = 0;
/** A fresh E.164 line number for each call, so tests sharing a database never collide. */
export function freshLine(): string {
  lineSeq += 1;
  return `+3391${String(process.pid % 1000).padStart(3, '0')}${String(lineSeq).padStart(4, '0')}`;
}

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
