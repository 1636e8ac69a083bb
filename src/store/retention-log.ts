import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { parseOrThrow } from './errors.js';
import { lineNumber } from './lines.js';
import { EpochMsSchema, type RetentionReason } from './schema.js';
import type { Database, RetentionLogTable, StoreContext } from './tables.js';

/** One automatic deletion of a message. */
export interface RetentionLogEntry {
  id: string;
  messageId: string;
  line: string;
  reason: RetentionReason;
  at: number;
  details: Record<string, unknown>;
}

export interface RetentionRecord {
  messageId: string;
  line: string;
  reason: RetentionReason;
  details?: Record<string, unknown>;
}

const INSERT_BATCH = 500;

/** Inserts retention log rows on `db` (the caller's transaction, so the log and the deletion commit together). */
export async function recordRetention(db: Kysely<Database>, at: number, records: readonly RetentionRecord[]): Promise<void> {
  // Batches keep each statement under SQLite's bound-parameter limit (32766) and PostgreSQL's (65535).
  for (let start = 0; start < records.length; start += INSERT_BATCH) {
    await db
      .insertInto('retention_log')
      .values(
        records.slice(start, start + INSERT_BATCH).map((r) => ({
          id: randomUUID(),
          message_id: r.messageId,
          line: r.line,
          reason: r.reason,
          at,
          details: JSON.stringify(r.details ?? {}),
        })),
      )
      .execute();
  }
}

function toEntry(row: RetentionLogTable): RetentionLogEntry {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    details = { raw: row.details };
  }
  return {
    id: row.id,
    messageId: row.message_id,
    line: row.line,
    reason: row.reason as RetentionReason,
    at: Number(row.at),
    details,
  };
}

const ListSchema = z.strictObject({
  line: z.string().optional(),
  since: EpochMsSchema.optional(),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

/** The log of automatic deletions (reason count, age or keepMessage), for the operator. */
export class RetentionLogRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Records deletions done outside the store's own eviction (e.g. after e-mailing when keepMessage is false). */
  async record(records: readonly RetentionRecord[]): Promise<void> {
    await recordRetention(
      this.#ctx.db,
      this.#ctx.clock(),
      records.map((r) => ({ ...r, line: lineNumber(r.line) })),
    );
  }

  /** Entries newest first, optionally for one line and/or since an instant. */
  async list(options: { line?: string; since?: number; limit?: number } = {}): Promise<RetentionLogEntry[]> {
    const { line, since, limit } = parseOrThrow(ListSchema, options);
    let query = this.#ctx.db.selectFrom('retention_log').selectAll();
    if (line !== undefined) query = query.where('line', '=', lineNumber(line));
    if (since !== undefined) query = query.where('at', '>=', since);
    const rows = await query.orderBy('at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toEntry);
  }
}
