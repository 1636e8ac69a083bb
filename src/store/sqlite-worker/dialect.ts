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
import type { SqliteWorkerDatabase } from './worker-database.js';

/**
 * Kysely's SQLite dialect with every query run in the SQLite worker thread ({@link SqliteWorkerDatabase}) instead
 * of on the caller's event loop. SQL, adapter and introspection are Kysely's SQLite ones; only the driver differs.
 */
export class SqliteWorkerDialect implements Dialect {
  readonly #database: SqliteWorkerDatabase;
  constructor(config: { database: SqliteWorkerDatabase }) {
    this.#database = config.database;
  }
  createDriver(): Driver {
    return new SqliteWorkerDriver(this.#database);
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
  readonly #database: SqliteWorkerDatabase;
  readonly #mutex = new ConnectionMutex();

  constructor(database: SqliteWorkerDatabase) {
    this.#database = database;
    this.#connection = new SqliteWorkerConnection(database);
  }
  async init(): Promise<void> {
    // The database was opened (and its worker started) before Kysely was given it.
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
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
      await this.#database.close();
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
  readonly #database: SqliteWorkerDatabase;
  constructor(database: SqliteWorkerDatabase) {
    this.#database = database;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return (await this.#database.execute(compiledQuery.sql, compiledQuery.parameters)) as QueryResult<R>;
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
