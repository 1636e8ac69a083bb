import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import type { QueryResult } from 'kysely';
import { startScriptWorker } from '../../shared/worker-pool.js';
import { handedOverBuffers } from '../blob-handover.js';
import { StoreError } from '../errors.js';
import type { FromSqliteWorker, RemoteError, SqliteWorkerData, ToSqliteWorker } from './protocol.js';

/**
 * The SQLite worker thread is gone (it crashed, was terminated, or its database was closed): the queries it held
 * are rejected with this, and so is every later one.
 */
export class SqliteWorkerLostError extends StoreError {
  override readonly name: string = 'SqliteWorkerLostError';
}

/** How long close() lets the worker finish its queries and close the file before it is terminated. */
const CLOSE_GRACE_MS = 10_000;

interface PendingQuery {
  resolve(result: QueryResult<unknown>): void;
  reject(error: Error): void;
}

/** The error the worker raised, rebuilt with the same class (SqliteError, TypeError, RangeError…), name and code. */
function reviveError(remote: RemoteError): Error {
  let error: Error;
  if (remote.name === 'SqliteError' && remote.code !== undefined) error = new SqliteDatabase.SqliteError(remote.message, remote.code);
  else if (remote.name === 'TypeError') error = new TypeError(remote.message);
  else if (remote.name === 'RangeError') error = new RangeError(remote.message);
  else {
    error = new Error(remote.message);
    error.name = remote.name;
    if (remote.code !== undefined) Object.assign(error, { code: remote.code });
  }
  if (remote.stack !== undefined) error.stack = `${remote.stack}\n    (in the SQLite worker thread)`;
  return error;
}

/** BLOB columns arrive as Uint8Arrays: callers get Buffers, as from better-sqlite3 itself (no copy). */
function withBuffers(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return rows;
}

/**
 * A better-sqlite3 database owned by a worker thread (worker.ts): {@link execute} posts one query and resolves
 * with its rows, or rejects with the error SQLite raised. Queries run one at a time in the order posted. The
 * thread keeps the process alive only while a query is pending; {@link close} ends it.
 */
export class SqliteWorkerDatabase {
  /** The worker thread (its 'exit' event, `terminate()` in tests). */
  readonly thread: Worker;
  readonly #pending = new Map<number, PendingQuery>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  /** Set once the thread cannot answer any more: every query is rejected with it. */
  #gone: Error | undefined;
  #closing = false;

  private constructor(thread: Worker, ready: { resolve(): void; reject(error: Error): void }, path: string) {
    this.thread = thread;
    let opened = false;
    thread.on('message', (message: FromSqliteWorker) => {
      if (message.type === 'ready') {
        opened = true;
        thread.unref();
        ready.resolve();
        return;
      }
      if (message.type === 'openFailed') {
        ready.reject(new StoreError(`cannot open SQLite database ${path}: ${message.error.message}`, { cause: reviveError(message.error) }));
        return;
      }
      const query = this.#pending.get(message.id);
      if (query === undefined) return;
      this.#settled(message.id);
      if (message.type === 'failed') query.reject(reviveError(message.error));
      else query.resolve({ rows: withBuffers(message.rows), numAffectedRows: message.numAffectedRows, insertId: message.insertId });
    });
    // An uncaught exception in the worker: 'exit' follows; the error says what happened.
    thread.on('error', (err) => this.#lose(new SqliteWorkerLostError(`the SQLite worker thread failed: ${err.message}`, { cause: err })));
    this.#exited = new Promise((resolve) => {
      thread.once('exit', (code) => {
        this.#lose(
          new SqliteWorkerLostError(
            this.#closing ? 'the store is closed' : `the SQLite worker thread exited (code ${code}) with the store open`,
          ),
        );
        if (!opened) ready.reject(this.#gone ?? new StoreError(`cannot open SQLite database ${path}: its worker exited`));
        resolve();
      });
    });
  }

  /** Starts the worker thread and opens the database in it; StoreError when it cannot be opened. */
  static async open(options: SqliteWorkerData): Promise<SqliteWorkerDatabase> {
    const workerData: SqliteWorkerData = { path: options.path, busyTimeoutMs: options.busyTimeoutMs };
    const thread = startScriptWorker(join(__dirname, 'worker.js'), { workerData });
    let ready!: { resolve(): void; reject(error: Error): void };
    const opened = new Promise<void>((resolve, reject) => (ready = { resolve, reject }));
    const database = new SqliteWorkerDatabase(thread, ready, options.path);
    try {
      await opened;
    } catch (err) {
      await database.#exited;
      throw err;
    }
    return database;
  }

  /** Why the thread can answer no more, when it was lost with the store open (not closed): undefined otherwise. */
  get lost(): Error | undefined {
    return this.#closing ? undefined : this.#gone;
  }

  /** Queries posted and not answered yet. */
  get pendingQueries(): number {
    return this.#pending.size;
  }

  execute(sql: string, parameters: readonly unknown[]): Promise<QueryResult<unknown>> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    if (this.#closing) return Promise.reject(new SqliteWorkerLostError('the store is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        // Blobs their owner handed over (blob-handover.ts) move to the worker; every other parameter is copied.
        this.thread.postMessage({ type: 'query', id, sql, parameters } satisfies ToSqliteWorker, handedOverBuffers(parameters));
      } catch (err) {
        // A parameter structured clone cannot copy (a function, a symbol): the query never left.
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.#pending.size === 0) this.thread.ref();
      this.#pending.set(id, { resolve, reject });
    });
  }

  /**
   * Lets the worker answer the queries already posted, close the file and end (idempotent); it is terminated if
   * it has not within {@link CLOSE_GRACE_MS}.
   */
  async close(): Promise<void> {
    if (!this.#closing && this.#gone === undefined) {
      this.#closing = true;
      this.thread.ref();
      this.thread.postMessage({ type: 'close' } satisfies ToSqliteWorker);
      const grace = setTimeout(() => void this.thread.terminate(), CLOSE_GRACE_MS);
      grace.unref();
      await this.#exited;
      clearTimeout(grace);
      return;
    }
    this.#closing = true;
    await this.#exited;
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0 && !this.#closing) this.thread.unref();
  }

  #lose(error: Error): void {
    this.#gone ??= error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const query of pending) query.reject(this.#gone);
  }
}
