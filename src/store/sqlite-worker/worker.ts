/**
 * The SQLite worker thread: owns the better-sqlite3 database and runs each query it is sent, one at a time, in
 * the order sent, so the synchronous driver never blocks the SIP/RTP event loop (issue 12). It answers as
 * Kysely's own SqliteDriver would (node_modules/kysely/dist/cjs/dialect/sqlite/sqlite-driver.js): rows for
 * statements that return data, changes and last rowid for the others.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import { openSqliteDatabase } from './open-database.js';
import type { FromSqliteWorker, RemoteError, SqliteWorkerData, ToSqliteWorker } from './protocol.js';

/** Prepared statements kept by SQL text (the store issues a few dozen distinct queries); oldest evicted first. */
const STATEMENT_CACHE_SIZE = 200;
/** Blobs this large are transferred back instead of copied (their ArrayBuffer is the blob's own, see below). */
const TRANSFER_MIN_BYTES = 64 * 1024;

function describeError(err: unknown): RemoteError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}

/** Structured clone delivered the caller's Buffers as Uint8Arrays: better-sqlite3 binds Buffers as BLOBs. */
function bindable(parameters: readonly unknown[]): unknown[] {
  return parameters.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

/** `value`'s ArrayBuffer when `value` is a large blob spanning the whole of it (so detaching it touches nothing else). */
function ownLargeBuffer(value: unknown): ArrayBuffer | null {
  if (!(value instanceof Uint8Array) || value.byteLength < TRANSFER_MIN_BYTES || value.byteOffset !== 0) return null;
  return value.buffer instanceof ArrayBuffer && value.buffer.byteLength === value.byteLength ? value.buffer : null;
}

/**
 * The ArrayBuffers of large blob values, to transfer rather than copy. better-sqlite3 copies each BLOB into a
 * Buffer of its own (never a slice of Node's small-buffer pool, which is for < 4 KiB), so a Buffer spanning its
 * whole ArrayBuffer can be detached here without touching anything else.
 */
function transferables(rows: Record<string, unknown>[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const row of rows) {
    for (const value of Object.values(row)) {
      const buffer = ownLargeBuffer(value);
      if (buffer !== null) out.push(buffer);
    }
  }
  return out;
}

class StatementCache {
  readonly #statements = new Map<string, SqliteDatabase.Statement>();
  constructor(readonly database: SqliteDatabase.Database) {}

  get(sql: string): SqliteDatabase.Statement {
    let statement = this.#statements.get(sql);
    if (statement !== undefined) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      this.#statements.delete(sql);
    } else {
      statement = this.database.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }
}

/** The large blob parameters' ArrayBuffers (each their own, from the transfer or clone): `spent` of protocol.ts. */
function spentBuffers(parameters: readonly unknown[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const p of parameters) {
    const buffer = ownLargeBuffer(p);
    if (buffer !== null && !out.includes(buffer)) out.push(buffer);
  }
  return out;
}

/** Posts `reply` with the buffers to transfer; copies instead if one cannot be detached after all. */
function post(port: MessagePort, reply: FromSqliteWorker, transfer: ArrayBuffer[]): void {
  try {
    port.postMessage(reply, transfer);
  } catch {
    port.postMessage({ ...reply, spent: undefined });
  }
}

function answer(port: MessagePort, statements: StatementCache, id: number, sql: string, parameters: readonly unknown[]): void {
  const spent = spentBuffers(parameters);
  let reply: FromSqliteWorker;
  try {
    const statement = statements.get(sql);
    const bound = bindable(parameters);
    if (statement.reader) {
      reply = { type: 'result', id, rows: statement.all(bound) as Record<string, unknown>[] };
    } else {
      const { changes, lastInsertRowid } = statement.run(bound);
      reply = { type: 'result', id, rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
    }
  } catch (err) {
    post(port, { type: 'failed', id, error: describeError(err), ...(spent.length > 0 ? { spent } : {}) }, spent);
    return;
  }
  if (spent.length > 0) reply.spent = spent;
  post(port, reply, [...transferables(reply.rows), ...spent]);
}

function main(port: MessagePort): void {
  const { path, busyTimeoutMs } = workerData as SqliteWorkerData;
  let database: SqliteDatabase.Database;
  try {
    database = openSqliteDatabase(path, busyTimeoutMs);
  } catch (err) {
    port.postMessage({ type: 'openFailed', error: describeError(err) } satisfies FromSqliteWorker);
    port.close();
    return;
  }
  const statements = new StatementCache(database);
  port.on('message', (message: ToSqliteWorker) => {
    if (message.type === 'query') {
      answer(port, statements, message.id, message.sql, message.parameters);
      return;
    }
    // 'close': nothing is left to answer (messages are handled in order); the thread ends with its port.
    database.close();
    port.close();
  });
  port.postMessage({ type: 'ready' } satisfies FromSqliteWorker);
}

if (parentPort === null) throw new Error('the SQLite worker must run in a worker thread');
main(parentPort);
