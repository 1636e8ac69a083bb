/**
 * Messages between the store (main thread) and the SQLite worker thread (worker.ts), over the worker's own port.
 * Values travel by structured clone: a Buffer arrives as a plain Uint8Array, and each side turns it back.
 */

/** `workerData` of the SQLite worker. */
export interface SqliteWorkerData {
  /** A file path, or `:memory:`. */
  path: string;
  busyTimeoutMs: number;
}

/** An error raised in the worker, carried with what the store's error mapping reads (name, code). */
export interface RemoteError {
  name: string;
  message: string;
  /** better-sqlite3's SqliteError code (`SQLITE_CONSTRAINT_UNIQUE`, …). */
  code?: string;
  stack?: string;
}

export type ToSqliteWorker =
  | { type: 'query'; id: number; sql: string; parameters: readonly unknown[] }
  /** Close the database and end the thread (queries posted before it are answered first). */
  | { type: 'close' };

export type FromSqliteWorker =
  | { type: 'ready' }
  | { type: 'openFailed'; error: RemoteError }
  | { type: 'result'; id: number; rows: Record<string, unknown>[]; numAffectedRows?: bigint; insertId?: bigint; spent?: ArrayBuffer[] }
  | { type: 'failed'; id: number; error: RemoteError; spent?: ArrayBuffer[] };
/*
 * `spent`: the query's large blob parameters (a message's WAV), done with once the statement ran, sent back by
 * transfer for the store's thread to drop. This thread allocates little, so V8 collects here seldom and a dead
 * WAV's memory (outside the heap) would wait for it: tens of MB when many deposits end together. The main thread
 * collects its young generation many times a second, and frees them there.
 */
