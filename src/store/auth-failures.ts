import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { parseOrThrow } from './errors.js';
import { lineNumber } from './lines.js';
import type { LockoutPolicy } from '../shared/config.js';
import { EpochMsSchema, type AuthSource } from './schema.js';
import type { AuthFailuresTable, StoreContext } from './tables.js';

/** One failed PIN entry, by phone (dialin) or on the web manager. */
export interface AuthFailure {
  id: string;
  line: string;
  source: AuthSource;
  remote: string | null;
  at: number;
}

export const DEFAULT_LOCKOUT_POLICY: Readonly<LockoutPolicy> = Object.freeze({
  maxFailures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
});

const LockoutPolicySchema = z.strictObject({
  maxFailures: z.number().int().min(1, { error: 'maxFailures must be ≥ 1' }),
  windowMs: z.number().int().min(1, { error: 'windowMs must be ≥ 1' }),
  lockMs: z.number().int().min(0, { error: 'lockMs must be ≥ 0' }),
});

const RecordSchema = z.strictObject({
  line: z.string({ error: 'line must be a string' }),
  source: z.enum(['dialin', 'web'], { error: 'source must be dialin or web' }),
  remote: z.string().max(256, { error: 'remote: at most 256 characters' }).nullish(),
  at: EpochMsSchema.optional(),
});

const ListSchema = z.strictObject({
  line: z.string().optional(),
  since: EpochMsSchema.optional(),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

function toFailure(row: AuthFailuresTable): AuthFailure {
  return { id: row.id, line: row.line, source: row.source as AuthSource, remote: row.remote, at: Number(row.at) };
}

/**
 * The instant until which the failures (ascending instants) lock the line, or null: the latest failure `f`
 * still within `lockMs` of `now` that completes `maxFailures` failures inside `(f - windowMs, f]` locks until
 * `f + lockMs`.
 */
export function computeLockedUntil(ascendingAts: readonly number[], now: number, policy: LockoutPolicy): number | null {
  let first = ascendingAts.length - 1;
  for (let last = ascendingAts.length - 1; last >= 0; last--) {
    const at = ascendingAts[last]!;
    if (at > now) continue;
    if (at + policy.lockMs <= now) return null;
    if (first > last) first = last;
    while (first > 0 && ascendingAts[first - 1]! > at - policy.windowMs) first--;
    if (last - first + 1 >= policy.maxFailures) return at + policy.lockMs;
  }
  return null;
}

/** Failed PIN attempts across calls and web logins, shared by every process on the database. */
export class AuthFailureRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Records a failure (the line need not exist: probes of unknown numbers are recorded too). */
  async record(input: { line: string; source: AuthSource; remote?: string | null; at?: number }): Promise<AuthFailure> {
    const f = parseOrThrow(RecordSchema, input);
    const row: AuthFailuresTable = {
      id: randomUUID(),
      line: lineNumber(f.line),
      source: f.source,
      remote: f.remote ?? null,
      at: f.at ?? this.#ctx.clock(),
    };
    await this.#ctx.db.insertInto('auth_failures').values(row).execute();
    return toFailure(row);
  }

  /**
   * Reserves one PIN attempt on the line, atomically with the lockout check, before the PIN is verified: the
   * reservation is recorded as a failure at once, so attempts in flight count toward `maxFailures` and N
   * parallel attempts can never check more than `maxFailures` PINs. The caller then verifies the PIN and, when
   * it is right, calls {@link clear} (which removes the reservation too). `locked` when no slot is left.
   *
   * Atomicity: PostgreSQL takes a per-line transaction-scoped advisory lock (every process on the database
   * serialises on it); SQLite runs the count and the insert in one BEGIN IMMEDIATE transaction, which holds the
   * database's write lock from the first read.
   */
  async reserveAttempt(
    input: { line: string; source: AuthSource; remote?: string | null; at?: number },
    policy: Partial<LockoutPolicy> = {},
  ): Promise<{ kind: 'reserved'; failure: AuthFailure } | { kind: 'locked'; until: number }> {
    const f = parseOrThrow(RecordSchema, input);
    const p = parseOrThrow(LockoutPolicySchema, { ...DEFAULT_LOCKOUT_POLICY, ...policy }, 'policy');
    const line = lineNumber(f.line);
    const now = f.at ?? this.#ctx.clock();
    const row: AuthFailuresTable = { id: randomUUID(), line, source: f.source, remote: f.remote ?? null, at: now };
    const { db, dialect } = this.#ctx;
    if (db.isTransaction) throw new TypeError('reserveAttempt must not run inside a transaction');
    return db.connection().execute(async (conn) => {
      await sql.raw(dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
      try {
        if (dialect === 'postgres') {
          await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`repondeur.pin-lockout:${line}`}, 0))`.execute(conn);
        }
        const rows = await conn
          .selectFrom('auth_failures')
          .select('at')
          .where('line', '=', line)
          .where('at', '>', now - p.lockMs - p.windowMs)
          .orderBy('at')
          .execute();
        // A concurrent attempt may have read its clock a moment after this one yet reserved first: its
        // reservation counts as made now (rows are sorted, so clamping keeps them sorted).
        const ats = rows.map((r) => Math.min(Number(r.at), now));
        const until = computeLockedUntil(ats, now, p);
        // With lockMs = 0 a full window locks nothing by itself: the in-flight count still caps the attempts.
        const inWindow = ats.filter((at) => at > now - p.windowMs).length;
        if (until !== null || inWindow >= p.maxFailures) {
          await sql.raw('COMMIT').execute(conn);
          return { kind: 'locked' as const, until: until ?? now + 1000 };
        }
        await conn.insertInto('auth_failures').values(row).execute();
        await sql.raw('COMMIT').execute(conn);
        return { kind: 'reserved' as const, failure: toFailure(row) };
      } catch (err) {
        await sql.raw('ROLLBACK').execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Failures of the line at or after `since`. */
  async count(line: string, since: number): Promise<number> {
    const { n } = await this.#ctx.db
      .selectFrom('auth_failures')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('line', '=', lineNumber(line))
      .where('at', '>=', parseOrThrow(EpochMsSchema, since, 'since'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Epoch ms until which PIN entry is refused for the line, or null when it is not locked at `now`. */
  async lockedUntil(line: string, now: number, policy: Partial<LockoutPolicy> = {}): Promise<number | null> {
    const p = parseOrThrow(LockoutPolicySchema, { ...DEFAULT_LOCKOUT_POLICY, ...policy }, 'policy');
    parseOrThrow(EpochMsSchema, now, 'now');
    const rows = await this.#ctx.db
      .selectFrom('auth_failures')
      .select('at')
      .where('line', '=', lineNumber(line))
      .where('at', '>', now - p.lockMs - p.windowMs)
      .where('at', '<=', now)
      .orderBy('at')
      .execute();
    return computeLockedUntil(
      rows.map((r) => Number(r.at)),
      now,
      p,
    );
  }

  /** Forgets the line's failures after a successful login; returns how many were removed. */
  async clear(line: string): Promise<number> {
    const result = await this.#ctx.db.deleteFrom('auth_failures').where('line', '=', lineNumber(line)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Failures newest first (operator view), optionally of one line and/or since an instant. */
  async list(options: { line?: string; since?: number; limit?: number } = {}): Promise<AuthFailure[]> {
    const { line, since, limit } = parseOrThrow(ListSchema, options);
    let query = this.#ctx.db.selectFrom('auth_failures').selectAll();
    if (line !== undefined) query = query.where('line', '=', lineNumber(line));
    if (since !== undefined) query = query.where('at', '>=', since);
    const rows = await query.orderBy('at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toFailure);
  }

  /** Housekeeping: deletes failures older than `before`; returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom('auth_failures')
      .where('at', '<', parseOrThrow(EpochMsSchema, before, 'before'))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
