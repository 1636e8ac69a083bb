import { EventEmitter } from 'node:events';
import { CompiledQuery, Kysely, SqliteDialect, sql, type LogEvent } from 'kysely';
import { Migrator } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../shared/log.js';
import { AuthFailureRepository } from './auth-failures.js';
import { StoreError, parseOrThrow } from './errors.js';
import { GreetingRepository } from './greetings.js';
import { LineRepository } from './lines.js';
import { MessageRepository } from './messages.js';
import { StoreMigrationProvider } from './migrations.js';
import { StorePostgresDialect } from './postgres-introspector.js';
import { OutboxRepository } from './outbox.js';
import { OvhConsumerKeyRepository } from './ovh-consumer-keys.js';
import { RetentionLogRepository } from './retention-log.js';
import { parseSqliteUrl } from './sqlite-url.js';
import { openSqliteDatabase } from './sqlite-worker/open-database.js';
import { SqliteWorkerDialect } from './sqlite-worker/dialect.js';
import { SqliteWorkerHost } from './sqlite-worker/worker-host.js';
import { MwiContactRepository } from './mwi-contacts.js';
import { inTransaction, type Database, type StoreContext, type StoreDialect } from './tables.js';

export interface OpenStoreOptions {
  logger?: Logger;
  /** Wall clock in epoch ms for every instant the store writes itself (default Date.now). */
  clock?: () => number;
  /** PostgreSQL only: schema to work in (created if missing), set as search_path on every pooled connection. */
  schema?: string;
  /** PostgreSQL only: pool size (default 10). */
  poolSize?: number;
  /** SQLite only: how long a writer waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * SQLite only: run SQLite in a worker thread (default true), so no query blocks the caller's event loop; false
   * runs it on the caller's thread (cheaper to open: one-shot CLI commands). `?worker=0|1` in the URL wins.
   */
  sqliteWorker?: boolean;
  /** Called after every successful query with its duration in ms (metrics); must be cheap and must not throw. */
  onQueryDuration?: (durationMs: number) => void;
}

const OptionsSchema = z.object({
  logger: z.any().optional(),
  clock: z.custom<() => number>((v) => typeof v === 'function', { error: 'clock must be a function' }).optional(),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'schema must be a lowercase SQL identifier ([a-z_][a-z0-9_]*)' })
    .optional(),
  poolSize: z.number().int().min(1).max(1000).optional(),
  busyTimeoutMs: z.number().int().min(0).optional(),
  sqliteWorker: z.boolean().optional(),
  onQueryDuration: z.custom<(durationMs: number) => void>((v) => typeof v === 'function', { error: 'onQueryDuration must be a function' }).optional(),
});

/** Kysely's `log` option feeding `onQueryDuration` (successful queries only; errors are reported by the caller). */
function queryLog(onQueryDuration: ((durationMs: number) => void) | undefined): ((event: LogEvent) => void) | undefined {
  if (onQueryDuration === undefined) return undefined;
  return (event) => {
    if (event.level === 'query') onQueryDuration(event.queryDurationMillis);
  };
}

/** The repositories, bound either to the store or to one of its transactions. */
export interface Repositories {
  readonly lines: LineRepository;
  readonly messages: MessageRepository;
  readonly greetings: GreetingRepository;
  readonly authFailures: AuthFailureRepository;
  readonly outbox: OutboxRepository;
  readonly retentionLog: RetentionLogRepository;
  readonly ovhConsumerKeys: OvhConsumerKeyRepository;
  readonly mwiContacts: MwiContactRepository;
}

function repositories(ctx: StoreContext): Repositories {
  return {
    lines: new LineRepository(ctx),
    messages: new MessageRepository(ctx),
    greetings: new GreetingRepository(ctx),
    authFailures: new AuthFailureRepository(ctx),
    outbox: new OutboxRepository(ctx),
    retentionLog: new RetentionLogRepository(ctx),
    ovhConsumerKeys: new OvhConsumerKeyRepository(ctx),
    mwiContacts: new MwiContactRepository(ctx),
  };
}

/**
 * The persistent state of répondeur on SQLite or PostgreSQL. Concurrency: on SQLite Kysely serialises every
 * query and transaction on the single better-sqlite3 connection (its adapter does not support multiple
 * connections, so a transaction holds the connection mutex until it ends); by default that connection lives in a
 * worker thread (src/store/sqlite-worker/), so a large INSERT never stalls the SIP/RTP loop. WAL and busy_timeout
 * cover other processes on the same file. On PostgreSQL a pool serves concurrent work and writers of one mailbox are
 * serialised by locking its line row.
 */
export class Store implements Repositories {
  readonly dialect: StoreDialect;
  readonly db: Kysely<Database>;
  readonly lines: LineRepository;
  readonly messages: MessageRepository;
  readonly greetings: GreetingRepository;
  readonly authFailures: AuthFailureRepository;
  readonly outbox: OutboxRepository;
  readonly retentionLog: RetentionLogRepository;
  readonly ovhConsumerKeys: OvhConsumerKeyRepository;
  readonly mwiContacts: MwiContactRepository;
  readonly #clock: () => number;
  /**
   * 'mailboxChanged' (line): a message of the line was stored, moved, heard or deleted (read by MWI, src/mwi/).
   * 'messageStored' (messageId, line): a new message and its outbox jobs were committed (read by the mailer,
   * src/notify/worker.ts). Both are emitted after the commit.
   */
  readonly events = new EventEmitter();
  readonly #mailboxChanged = (line: string): void => void this.events.emit('mailboxChanged', line);
  readonly #messageStored = (messageId: string, line: string): void => void this.events.emit('messageStored', messageId, line);
  /** SQLite in a worker thread: its handle (the thread's 'exit' event, pending queries, replacements); undefined otherwise. */
  readonly sqliteWorker: SqliteWorkerHost | undefined;
  #closed = false;

  constructor(db: Kysely<Database>, dialect: StoreDialect, clock: () => number, sqliteWorker?: SqliteWorkerHost) {
    this.db = db;
    this.dialect = dialect;
    this.#clock = clock;
    this.sqliteWorker = sqliteWorker;
    const repos = repositories({ db, dialect, clock, mailboxChanged: this.#mailboxChanged, messageStored: this.#messageStored });
    this.lines = repos.lines;
    this.messages = repos.messages;
    this.greetings = repos.greetings;
    this.authFailures = repos.authFailures;
    this.outbox = repos.outbox;
    this.retentionLog = repos.retentionLog;
    this.ovhConsumerKeys = repos.ovhConsumerKeys;
    this.mwiContacts = repos.mwiContacts;
  }

  /**
   * Runs `fn` in one transaction: its repositories commit together, or roll back together if `fn` throws. The
   * events of its changes are emitted once it has committed (none after a rollback).
   */
  async transaction<T>(fn: (tx: Repositories & { db: Kysely<Database> }) => Promise<T>): Promise<T> {
    const afterCommit: (() => void)[] = [];
    const result = await inTransaction(this.db, (trx) =>
      fn({
        ...repositories({
          db: trx,
          dialect: this.dialect,
          clock: this.#clock,
          mailboxChanged: (line) => void afterCommit.push(() => this.#mailboxChanged(line)),
          messageStored: (id, line) => void afterCommit.push(() => this.#messageStored(id, line)),
        }),
        db: trx,
      }),
    );
    for (const emit of afterCommit) emit();
    return result;
  }

  /** Closes the database (idempotent); on SQLite in a worker, once the thread has ended. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.db.destroy();
  }
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable url)';
  }
}

interface OpenedSqlite {
  db: Kysely<Database>;
  worker: SqliteWorkerHost | undefined;
}

async function openSqlite(url: string, options: { busyTimeoutMs: number; worker: boolean; log: ((event: LogEvent) => void) | undefined; logger: Logger | undefined }): Promise<OpenedSqlite> {
  const location = parseSqliteUrl(url);
  const log = options.log ? { log: options.log } : {};
  if (location.worker ?? options.worker) {
    // Throws StoreError "cannot open SQLite database <path>: …" as the in-thread path below.
    const worker = await SqliteWorkerHost.open({ path: location.path, busyTimeoutMs: options.busyTimeoutMs }, (reason) =>
      options.logger?.error({ err: reason.message }, 'store: the SQLite worker thread was lost; a new one took over'),
    );
    return { db: new Kysely<Database>({ dialect: new SqliteWorkerDialect({ host: worker }), ...log }), worker };
  }
  let database: ReturnType<typeof openSqliteDatabase>;
  try {
    database = openSqliteDatabase(location.path, options.busyTimeoutMs);
  } catch (err) {
    throw new StoreError(`cannot open SQLite database ${location.path}: ${(err as Error).message}`, { cause: err });
  }
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }), ...log }), worker: undefined };
}

/** pg returns int8 (BIGINT, count(*)) as strings; every int8 the store holds is an epoch ms or a size. */
const parseInt8 = (value: string): number => Number(value);

function openPostgres(url: string, options: { schema?: string; poolSize?: number; logger?: Logger; log?: ((event: LogEvent) => void) | undefined }): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === pg.types.builtins.INT8 && format !== 'binary'
          ? parseInt8
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process: the pool replaces it.
  pool.on('error', (err) => options.logger?.warn({ err }, 'PostgreSQL idle client error'));
  const schema = options.schema;
  return new Kysely<Database>({
    // Its introspector reads only the store's schema: Kysely's own fails when another schema is dropped meanwhile.
    dialect: new StorePostgresDialect({
      pool,
      onCreateConnection:
        schema === undefined
          ? undefined
          : async (connection) => {
              await connection.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
            },
    }),
    ...(options.log ? { log: options.log } : {}),
  });
}

/**
 * Brings the schema to the latest migration while holding a lock, so that several nodes starting at the same moment
 * on one database never race on `create schema` / `create table` (PostgreSQL raises a unique violation on its
 * catalogs when two sessions create the same object concurrently, even with `if not exists`).
 *
 * PostgreSQL: a session-level `pg_advisory_lock` keyed by the target schema name, taken on one pinned pooled
 * connection, released on that same connection. SQLite: `BEGIN IMMEDIATE` (the writer lock of the file, waited for
 * up to busy_timeout), so a second process sees the first one's migrations committed.
 */
async function migrateUnderLock(db: Kysely<Database>, dialect: StoreDialect, schema: string | undefined, logger: Logger | undefined): Promise<void> {
  await db.connection().execute(async (conn) => {
    if (dialect === 'postgres') {
      const lockName = `repondeur:migrate:${schema ?? ''}`;
      await sql`select pg_advisory_lock(hashtext(${lockName}))`.execute(conn);
      try {
        if (schema !== undefined) await sql`create schema if not exists ${sql.id(schema)}`.execute(conn);
        const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(conn);
        const migrationTableSchema = rows[0]?.schema ?? undefined;
        if (migrationTableSchema === undefined) throw new StoreError('PostgreSQL search_path names no existing schema');
        await runMigrations(conn, dialect, migrationTableSchema, logger);
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${lockName}))`.execute(conn);
      }
      return;
    }
    await sql`begin immediate`.execute(conn);
    try {
      await runMigrations(conn, dialect, undefined, logger);
      await sql`commit`.execute(conn);
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

async function runMigrations(db: Kysely<Database>, dialect: StoreDialect, migrationTableSchema: string | undefined, logger: Logger | undefined): Promise<void> {
  // Kysely looks the migration table up across schemas; pinning it to ours keeps schemas independent.
  const migrator = new Migrator({ db, provider: new StoreMigrationProvider(dialect), migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) {
    if (r.status === 'Success') logger?.info({ migration: r.migrationName }, 'store migration applied');
    if (r.status === 'Error') logger?.error({ migration: r.migrationName }, 'store migration failed');
  }
  if (error !== undefined) throw error;
}

/**
 * Opens the store at `url` — `sqlite:<path>`, `sqlite::memory:` (either with `?worker=0|1`) or `postgres://…` —
 * and brings its schema to the latest migration. Throws StoreError when the database cannot be opened or migrated.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const opts = parseOrThrow(OptionsSchema, options, 'options');
  const logger = opts.logger as Logger | undefined;
  const clock = opts.clock ?? Date.now;
  let dialect: StoreDialect;
  let db: Kysely<Database>;
  let sqliteWorker: SqliteWorkerHost | undefined;
  if (typeof url !== 'string') throw new StoreError('database url must be a string');
  if (url.startsWith('sqlite:')) {
    dialect = 'sqlite';
    ({ db, worker: sqliteWorker } = await openSqlite(url, {
      busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
      worker: opts.sqliteWorker ?? true,
      log: queryLog(opts.onQueryDuration),
      logger,
    }));
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    dialect = 'postgres';
    db = openPostgres(url, { schema: opts.schema, poolSize: opts.poolSize, logger, log: queryLog(opts.onQueryDuration) });
  } else {
    throw new StoreError(`database url must start with sqlite: or postgres:// (got "${url.slice(0, 40)}")`);
  }

  try {
    await migrateUnderLock(db, dialect, opts.schema, logger);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    if (err instanceof StoreError) throw err;
    const where = dialect === 'postgres' ? describeUrl(url) : url;
    throw new StoreError(`cannot open the store at ${where}: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
  logger?.debug({ dialect }, 'store open');
  return new Store(db, dialect, clock, sqliteWorker);
}
