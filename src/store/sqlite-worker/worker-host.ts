import { SqliteWorkerDatabase } from './worker-database.js';
import type { SqliteWorkerData } from './protocol.js';

/**
 * The store's SQLite worker thread, replaced by a fresh one when it dies while the store is open (an uncaught error
 * or a heap limit in the thread): the queries it held are rejected with SqliteWorkerLostError, and the next query
 * starts a new worker on the same file, so one lost thread does not leave the server without its store. A
 * transaction under way when its thread died is not carried over (see the driver, dialect.ts): SQLite keeps nothing
 * of an uncommitted transaction, and the rest of it is refused.
 */
export class SqliteWorkerHost {
  readonly #options: SqliteWorkerData;
  readonly #onReplaced: ((reason: Error) => void) | undefined;
  #current: SqliteWorkerDatabase;
  #replacing: Promise<SqliteWorkerDatabase> | undefined;
  #closing = false;
  /** Worker threads started to replace a lost one. */
  replacements = 0;

  private constructor(options: SqliteWorkerData, first: SqliteWorkerDatabase, onReplaced?: (reason: Error) => void) {
    this.#options = options;
    this.#current = first;
    this.#onReplaced = onReplaced;
  }

  /** Opens the database in a first worker thread (StoreError when it cannot be opened). */
  static async open(options: SqliteWorkerData, onReplaced?: (reason: Error) => void): Promise<SqliteWorkerHost> {
    return new SqliteWorkerHost(options, await SqliteWorkerDatabase.open(options), onReplaced);
  }

  /** The worker in use (its thread's 'exit' event, `terminate()` and pending queries, for tests and metrics). */
  get current(): SqliteWorkerDatabase {
    return this.#current;
  }

  get thread(): SqliteWorkerDatabase['thread'] {
    return this.#current.thread;
  }

  get pendingQueries(): number {
    return this.#current.pendingQueries;
  }

  /** The worker to post the next query to: the current one, or a new one when it was lost with the store open. */
  database(): Promise<SqliteWorkerDatabase> | SqliteWorkerDatabase {
    const lost = this.#current.lost;
    if (lost === undefined || this.#closing) return this.#current;
    this.#replacing ??= SqliteWorkerDatabase.open(this.#options).then(
      (db) => {
        this.#current = db;
        this.#replacing = undefined;
        this.replacements++;
        this.#onReplaced?.(lost);
        return db;
      },
      (err: unknown) => {
        this.#replacing = undefined;
        throw err;
      },
    );
    return this.#replacing;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#replacing?.catch(() => undefined);
    await this.#current.close();
  }
}
