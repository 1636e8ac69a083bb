import SqliteDatabase from 'better-sqlite3';

/**
 * Opens the database file the way the store needs it, on whichever thread calls this (the main thread in-thread,
 * the SQLite worker otherwise): WAL for files (readers and the writer of other processes do not block each
 * other), `busy_timeout` for another process's lock, foreign keys enforced (line deletion cascades). This module
 * imports nothing else, so that the worker starts quickly.
 */
export function openSqliteDatabase(path: string, busyTimeoutMs: number): SqliteDatabase.Database {
  const database = new SqliteDatabase(path);
  try {
    if (path !== ':memory:') database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw err;
  }
  return database;
}
