import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { NotFoundError, parseOrThrow } from './errors.js';
import { lineNumber } from './lines.js';
import { EpochMsSchema, type AudioFormat, type Notification, type NotificationType } from './schema.js';
import { inTransaction, type Database, type MessagesTable, type OutboxTable, type StoreContext } from './tables.js';

export type OutboxStatus = 'pending' | 'sent' | 'failed';
/** `relay`: the relay could not be reached or timed out (an outage); `reply`: it answered 4yz to this very mail. */
export type DeferralReason = 'relay' | 'reply';

/**
 * A durable e-mail notification job. `messageId` becomes null once the message is deleted; `message` is the copy
 * of what the e-mail text needs, taken when the job was enqueued (the audio itself is read from the message, so an
 * `attachment` job whose message is gone can only be sent as `simple`).
 */
export interface OutboxJob {
  id: string;
  messageId: string | null;
  line: string;
  recipient: string;
  type: NotificationType;
  format: AudioFormat;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  sentAt: number | null;
  smtpMessageId: string | null;
  createdAt: number;
  /** End of the lease while a sender holds the job; null when no one does. */
  leasedUntil: number | null;
  /** Why a pending job waits: the relay was unreachable, or it answered 4yz to this mail. */
  deferredFor: DeferralReason | null;
  message: { caller: string; callee: string; callerName: string | null; creationDatetime: number; durationMs: number };
}

function toJob(row: OutboxTable): OutboxJob {
  return {
    id: row.id,
    messageId: row.message_id,
    line: row.line,
    recipient: row.recipient,
    type: row.type as NotificationType,
    format: row.format as AudioFormat,
    status: row.status as OutboxStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
    sentAt: row.sent_at === null ? null : Number(row.sent_at),
    smtpMessageId: row.smtp_message_id,
    createdAt: Number(row.created_at),
    leasedUntil: row.leased_until === null || row.leased_until === undefined ? null : Number(row.leased_until),
    deferredFor: (row.deferred_for ?? null) as DeferralReason | null,
    message: {
      caller: row.caller,
      callee: row.callee,
      callerName: row.caller_name,
      creationDatetime: Number(row.message_datetime),
      durationMs: Number(row.duration_ms),
    },
  };
}

/** Inserts one pending job per notification for `message`, on `db` (the message's own transaction). */
export async function enqueueNotifications(
  db: Kysely<Database>,
  now: number,
  message: Pick<MessagesTable, 'id' | 'line' | 'caller' | 'callee' | 'caller_name' | 'creation_datetime' | 'duration_ms'>,
  notifications: readonly Notification[],
): Promise<OutboxJob[]> {
  if (notifications.length === 0) return [];
  const rows: OutboxTable[] = notifications.map((n) => ({
    id: randomUUID(),
    message_id: message.id,
    line: message.line,
    recipient: n.recipient,
    type: n.type,
    format: n.format,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    last_error: null,
    sent_at: null,
    smtp_message_id: null,
    created_at: now,
    caller: message.caller,
    callee: message.callee,
    caller_name: message.caller_name,
    message_datetime: message.creation_datetime,
    duration_ms: message.duration_ms,
    leased_until: null,
    deferred_for: null,
  }));
  await db.insertInto('outbox').values(rows).execute();
  return rows.map(toJob);
}

const ClaimSchema = z.strictObject({
  now: EpochMsSchema,
  limit: z.number().int().min(1).max(1000, { error: 'limit: at most 1000' }),
  leaseMs: z.number().int().min(1),
});

const ListSchema = z.strictObject({
  line: z.string().optional(),
  status: z.enum(['pending', 'sent', 'failed']).optional(),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

/** The durable e-mail outbox: jobs are enqueued with their message and claimed by the notifier. */
export class OutboxRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async get(id: string): Promise<OutboxJob> {
    const row = await this.#ctx.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`outbox job ${id} does not exist`);
    return toJob(row);
  }

  /**
   * Claims up to `limit` pending jobs due at `now`, oldest due first: each claimed job gets `attempts + 1` and a
   * lease — its `nextAttemptAt` moves to `now + leaseMs`, so a notifier that dies mid-send leaves the job to be
   * claimed again after the lease. On PostgreSQL rows are taken `FOR UPDATE SKIP LOCKED`, so concurrent claimers
   * never get the same job.
   */
  async claimDue(now: number, limit: number, leaseMs = 5 * 60_000): Promise<OutboxJob[]> {
    parseOrThrow(ClaimSchema, { now, limit, leaseMs });
    return inTransaction(this.#ctx.db, async (trx) => {
      let due = trx
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit);
      if (this.#ctx.dialect === 'postgres') due = due.forUpdate().skipLocked();
      const ids = (await due.execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      const rows = await trx
        .updateTable('outbox')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: now + leaseMs, leased_until: now + leaseMs }))
        .where('id', 'in', ids)
        .returningAll()
        .execute();
      const order = new Map(ids.map((id, i) => [id, i]));
      return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!).map(toJob);
    });
  }

  /** The job was accepted by the SMTP server. */
  async markSent(id: string, result: { smtpMessageId?: string | null; sentAt?: number } = {}): Promise<OutboxJob> {
    return this.#set(id, {
      status: 'sent',
      sent_at: result.sentAt ?? this.#ctx.clock(),
      smtp_message_id: result.smtpMessageId ?? null,
      last_error: null,
      leased_until: null,
      deferred_for: null,
    });
  }

  /** The attempt failed; try again at `nextAt`. `deferredFor` says whether the relay was down or answered 4yz. */
  async markRetry(id: string, nextAt: number, error: string, deferredFor: DeferralReason | null = null): Promise<OutboxJob> {
    parseOrThrow(EpochMsSchema, nextAt, 'nextAt');
    return this.#set(id, { status: 'pending', next_attempt_at: nextAt, last_error: error, leased_until: null, deferred_for: deferredFor });
  }

  /**
   * The relay accepts mail again: every pending job deferred because the relay was unreachable (`deferredFor` =
   * `relay`) and waiting out its back-off becomes due at `now`. A job held by a sender (an unexpired lease) is left
   * alone, so this never hands a job being sent to a second sender. Resolves to the number of jobs made due.
   */
  async wakeDeferredForRelay(now: number): Promise<number> {
    parseOrThrow(EpochMsSchema, now, 'now');
    const result = await this.#ctx.db
      .updateTable('outbox')
      .set({ next_attempt_at: now })
      .where('status', '=', 'pending')
      .where('deferred_for', '=', 'relay')
      .where('next_attempt_at', '>', now)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Whether some pending job waits for the relay to come back (the worker then probes the relay). */
  async hasDeferredForRelay(now: number): Promise<boolean> {
    const row = await this.#ctx.db
      .selectFrom('outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('deferred_for', '=', 'relay')
      .where('next_attempt_at', '>', now)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Operator "retry now", for one job or (`id` undefined) all: a failed job becomes pending with a fresh attempt
   * count; a pending job waiting out its back-off is made due (its attempt count kept, so a later failure backs off
   * as before). Both are due at `now`. A pending job held by a sender — its lease not yet over — is not touched:
   * it is being sent, and making it due would let a second sender take it and mail it twice. Resolves to the jobs
   * made due.
   */
  async retryNow(now: number, id?: string): Promise<OutboxJob[]> {
    parseOrThrow(EpochMsSchema, now, 'now');
    return inTransaction(this.#ctx.db, async (trx) => {
      let failed = trx
        .updateTable('outbox')
        .set({ status: 'pending', next_attempt_at: now, attempts: 0, leased_until: null, deferred_for: null })
        .where('status', '=', 'failed');
      if (id !== undefined) failed = failed.where('id', '=', id);
      let pending = trx
        .updateTable('outbox')
        .set({ next_attempt_at: now })
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]));
      if (id !== undefined) pending = pending.where('id', '=', id);
      const pendingRows = await pending.returningAll().execute();
      const failedRows = await failed.returningAll().execute();
      return [...failedRows, ...pendingRows].map(toJob);
    });
  }

  /** Gives up on the job (permanent SMTP rejection or attempts exhausted). */
  async markFailed(id: string, error: string): Promise<OutboxJob> {
    return this.#set(id, { status: 'failed', last_error: error, leased_until: null, deferred_for: null });
  }

  /** Every job of a message, in creation order. */
  async listForMessage(messageId: string): Promise<OutboxJob[]> {
    const rows = await this.#ctx.db
      .selectFrom('outbox')
      .selectAll()
      .where('message_id', '=', messageId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  /** Jobs newest first, optionally filtered by line and status (operator view). */
  async list(options: { line?: string; status?: OutboxStatus; limit?: number } = {}): Promise<OutboxJob[]> {
    const { line, status, limit } = parseOrThrow(ListSchema, options);
    let query = this.#ctx.db.selectFrom('outbox').selectAll();
    if (line !== undefined) query = query.where('line', '=', lineNumber(line));
    if (status !== undefined) query = query.where('status', '=', status);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toJob);
  }

  async #set(id: string, changes: Partial<OutboxTable>): Promise<OutboxJob> {
    const row = await this.#ctx.db.updateTable('outbox').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`outbox job ${id} does not exist`);
    return toJob(row);
  }
}
