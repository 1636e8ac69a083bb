import {
  CompiledQuery,
  IdentifierNode,
  RawNode,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  createQueryId,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { SqliteWorkerLostError } from './worker-database.js';
import type { SqliteWorkerHost } from './worker-host.js';

/**
 * Kysely's SQLite dialect with every query run in the SQLite worker thread ({@link SqliteWorkerHost}) instead
 * of on the caller's event loop. SQL, adapter and introspection are Kysely's SQLite ones; only the driver differs.
 */
export class SqliteWorkerDialect implements Dialect {
  readonly #host: SqliteWorkerHost;
  constructor(config: { host: SqliteWorkerHost }) {
    this.#host = config.host;
  }
  createDriver(): Driver {
    return new SqliteWorkerDriver(this.#host);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * As Kysely's SqliteDriver (node_modules/kysely/dist/cjs/dialect/sqlite/sqlite-driver.js): SQLite has one
 * connection, held under a mutex by one query or one whole transaction at a time.
 */
class SqliteWorkerDriver implements Driver {
  readonly #connection: SqliteWorkerConnection;
  readonly #host: SqliteWorkerHost;
  readonly #mutex = new ConnectionMutex();

  constructor(host: SqliteWorkerHost) {
    this.#host = host;
    this.#connection = new SqliteWorkerConnection(host);
  }
  async init(): Promise<void> {
    // The database was opened (and its worker started) before Kysely was given it.
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }
  async beginTransaction(): Promise<void> {
    await this.#connection.begin();
  }
  async commitTransaction(): Promise<void> {
    await this.#connection.end('commit');
  }
  async rollbackTransaction(): Promise<void> {
    await this.#connection.end('rollback');
  }
  async savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('savepoint', name), createQueryId()));
  }
  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('rollback to', name), createQueryId()));
  }
  async releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('release', name), createQueryId()));
  }
  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }
  /** Waits for the query or transaction holding the connection (a deposit being committed), then closes. */
  async destroy(): Promise<void> {
    await this.#mutex.lock();
    try {
      await this.#host.close();
    } finally {
      this.#mutex.unlock();
    }
  }
}

/** `<command> "<name>"`, the name quoted as an identifier (as Kysely's parseSavepointCommand does). */
function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

class SqliteWorkerConnection implements DatabaseConnection {
  readonly #host: SqliteWorkerHost;
  /** The worker a transaction began on, while one is open: its statements must all run there. */
  #transactionOn: Awaited<ReturnType<SqliteWorkerHost['database']>> | undefined;
  constructor(host: SqliteWorkerHost) {
    this.#host = host;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const database = await this.#host.database();
    if (this.#transactionOn !== undefined && database !== this.#transactionOn) {
      // Its worker died: SQLite kept nothing of the uncommitted transaction, and running the rest of it on the new
      // worker would commit half of it statement by statement.
      throw new SqliteWorkerLostError('the SQLite worker thread was lost during this transaction: nothing of it was committed');
    }
    return (await database.execute(compiledQuery.sql, compiledQuery.parameters)) as QueryResult<R>;
  }

  async begin(): Promise<void> {
    this.#transactionOn = await this.#host.database();
    try {
      await this.executeQuery(CompiledQuery.raw('begin'));
    } catch (err) {
      this.#transactionOn = undefined;
      throw err;
    }
  }

  /** Commits or rolls back; a rollback of a transaction whose worker was lost has nothing left to undo. */
  async end(command: 'commit' | 'rollback'): Promise<void> {
    try {
      if (command === 'rollback' && (await this.#host.database()) !== this.#transactionOn) return;
      await this.executeQuery(CompiledQuery.raw(command));
    } finally {
      this.#transactionOn = undefined;
    }
  }

  /** Select queries only, as Kysely's SQLite driver; the rows are fetched at once, then handed out by chunks. */
  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize = 1): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) throw new Error('Sqlite driver only supports streaming of select queries');
    const { rows } = await this.executeQuery<R>(compiledQuery);
    const size = Math.max(1, chunkSize);
    for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size) };
  }
}

/** Kysely's ConnectionMutex: lock() waits until the holder unlocks. */
class ConnectionMutex {
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.#held !== undefined) await this.#held;
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }

  unlock(): void {
    const release = this.#release;
    this.#held = undefined;
    this.#release = undefined;
    release?.();
  }
}
