import { randomUUID } from 'node:crypto';
import { types } from 'node:util';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { handOverBlob } from './blob-handover.js';
import { NotFoundError, parseOrThrow } from './errors.js';
import { lineNumber, readSettings, requireLine } from './lines.js';
import { enqueueNotifications, type OutboxJob } from './outbox.js';
import { notificationsFor } from './recipients.js';
import { recordRetention } from './retention-log.js';
import {
  EpochMsSchema,
  FOLDERS,
  FolderSchema,
  NotificationSchema,
  RETENTION_REASONS,
  type Folder,
  type RetentionReason,
} from './schema.js';
import { inTransaction, toBuffer, type Database, type MessagesTable, type StoreContext } from './tables.js';

/** A voicemail message without its audio (fetch that with `getAudio`). */
export interface Message {
  id: string;
  line: string;
  caller: string;
  callee: string;
  callerName: string | null;
  creationDatetime: number;
  /** Whole seconds, rounded, as the operator API reports it. */
  duration: number;
  durationMs: number;
  dir: Folder;
  heardAt: number | null;
  /** Size of the WAV in bytes. */
  size: number;
}

/** Cross-realm safe (Jest runs tests in a VM context): Buffers and Uint8Arrays from any realm. */
export const WavBytesSchema = z
  .custom<Uint8Array>((v) => types.isUint8Array(v), { error: 'wav must be a Uint8Array or Buffer' })
  .refine((v) => v.byteLength > 0, { error: 'wav must not be empty' });

const party = (field: string) =>
  z.string({ error: `${field} must be a string` }).min(1, { error: `${field} must not be empty` }).max(256, {
    error: `${field}: at most 256 characters`,
  });

export const CreateMessageSchema = z.strictObject({
  line: z.string({ error: 'line must be a string' }),
  caller: party('caller'),
  callee: party('callee'),
  callerName: z.string().max(256, { error: 'callerName: at most 256 characters' }).nullish(),
  durationMs: z.number({ error: 'durationMs must be a number' }).int({ error: 'durationMs must be whole' }).nonnegative(),
  wav: WavBytesSchema,
  dir: FolderSchema.default('inbox'),
  creationDatetime: EpochMsSchema.optional(),
});
export type CreateMessageInput = z.input<typeof CreateMessageSchema>;

export const CreateMessageOptionsSchema = z.strictObject({
  /** The e-mails to enqueue; absent: those the line's settings ask for ({@link notificationsFor}), read in the transaction. */
  notifications: z.array(NotificationSchema).max(20, { error: 'notifications: at most 20' }).optional(),
  maxMessages: z.number().int({ error: 'maxMessages must be whole' }).min(1, { error: 'maxMessages must be ≥ 1' }).optional(),
  /**
   * The caller gives the WAV up: on SQLite its bytes move to the store's thread instead of being copied, and the
   * caller's buffer is left detached (empty), whether the call succeeds or fails (src/store/blob-handover.ts).
   */
  handOverAudio: z.boolean().optional(),
});
export type CreateMessageOptions = z.input<typeof CreateMessageOptionsSchema>;

export interface CreateMessageResult {
  message: Message;
  /** Ids of the messages removed because the mailbox went over `maxMessages` (may include the new one). */
  evicted: string[];
  notifications: OutboxJob[];
}

const ListSchema = z.strictObject({
  line: z.string({ error: 'line must be a string' }),
  dir: FolderSchema.optional(),
  limit: z.number().int().min(1).max(10_000, { error: 'limit: at most 10000' }).default(1000),
  offset: z.number().int().min(0).default(0),
  order: z.enum(['asc', 'desc'], { error: 'order must be asc or desc' }).default('asc'),
});
export type ListMessagesOptions = z.input<typeof ListSchema>;

/** Every column but the audio: listings never load WAV bytes. */
const META = [
  'id',
  'line',
  'caller',
  'callee',
  'caller_name',
  'creation_datetime',
  'duration_ms',
  'dir',
  'heard_at',
  'audio_size',
] as const satisfies readonly (keyof MessagesTable)[];
type MetaRow = Pick<MessagesTable, (typeof META)[number]>;

function toMessage(row: MetaRow): Message {
  const durationMs = Number(row.duration_ms);
  return {
    id: row.id,
    line: row.line,
    caller: row.caller,
    callee: row.callee,
    callerName: row.caller_name,
    creationDatetime: Number(row.creation_datetime),
    duration: Math.round(durationMs / 1000),
    durationMs,
    dir: row.dir as Folder,
    heardAt: row.heard_at === null ? null : Number(row.heard_at),
    size: Number(row.audio_size),
  };
}

/**
 * Messages of the mailboxes. Eviction over `maxMessages` removes the oldest messages of the line by
 * `creationDatetime` (ties broken by id), whatever their folder, and records each in the retention log.
 */
export class MessageRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /**
   * Stores a message with its audio (the WAV bytes as given, never re-encoded), enqueues its e-mail notifications
   * — by default those of the line's settings, read under the line's lock — and evicts the oldest messages beyond
   * `maxMessages`, all in one transaction: either everything is committed or nothing is. After the commit the
   * store emits 'mailboxChanged' and, unless the new message was evicted at once, 'messageStored'.
   */
  async create(input: CreateMessageInput, options: CreateMessageOptions = {}): Promise<CreateMessageResult> {
    const m = parseOrThrow(CreateMessageSchema, input);
    const opts = parseOrThrow(CreateMessageOptionsSchema, options);
    const line = lineNumber(m.line);
    return inTransaction(this.#ctx.db, async (trx) => {
      // Locks the line row on PostgreSQL: concurrent deposits into one mailbox count and evict one after another.
      const lineRow = await requireLine(trx, this.#ctx.dialect, line, true);
      const now = this.#ctx.clock();
      const audio = toBuffer(m.wav);
      if (opts.handOverAudio) handOverBlob(audio);
      const row: MessagesTable = {
        id: randomUUID(),
        line,
        caller: m.caller,
        callee: m.callee,
        caller_name: m.callerName ?? null,
        creation_datetime: m.creationDatetime ?? now,
        duration_ms: m.durationMs,
        dir: m.dir,
        heard_at: null,
        audio,
        audio_size: audio.byteLength,
      };
      await trx.insertInto('messages').values(row).execute();
      const notifications = await enqueueNotifications(trx, now, row, opts.notifications ?? notificationsFor(readSettings(lineRow)));
      const evicted = opts.maxMessages === undefined ? [] : await this.#evictOverLimit(trx, line, opts.maxMessages, now);
      return { message: toMessage(row), evicted, notifications };
    }).then((result) => {
      this.#changed(line, result);
      if (!result.evicted.includes(result.message.id)) this.#ctx.messageStored?.(result.message.id, line);
      return result;
    });
  }

  /** Tells the store's listeners (MWI) that the counts of `line` may have changed; passes `value` through. */
  #changed<T>(line: string, value: T): T {
    this.#ctx.mailboxChanged?.(line);
    return value;
  }

  async #evictOverLimit(trx: Kysely<Database>, line: string, maxMessages: number, now: number): Promise<string[]> {
    const { n } = await trx
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('line', '=', line)
      .executeTakeFirstOrThrow();
    const excess = Number(n) - maxMessages;
    if (excess <= 0) return [];
    const oldest = await trx
      .selectFrom('messages')
      .select(['id', 'creation_datetime', 'dir'])
      .where('line', '=', line)
      .orderBy('creation_datetime')
      .orderBy('id')
      .limit(excess)
      .execute();
    const ids = oldest.map((r) => r.id);
    await trx.deleteFrom('messages').where('id', 'in', ids).execute();
    await recordRetention(
      trx,
      now,
      oldest.map((r) => ({
        messageId: r.id,
        line,
        reason: 'count',
        details: { maxMessages, creationDatetime: Number(r.creation_datetime), dir: r.dir },
      })),
    );
    return ids;
  }

  /** The message (without audio), or NotFoundError. */
  async get(id: string): Promise<Message> {
    const row = await this.#ctx.db.selectFrom('messages').select(META).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`message ${id} does not exist`);
    return toMessage(row);
  }

  /** The message's WAV bytes, intact. */
  async getAudio(id: string): Promise<Buffer> {
    const row = await this.#ctx.db.selectFrom('messages').select('audio').where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`message ${id} does not exist`);
    return Buffer.isBuffer(row.audio) ? row.audio : Buffer.from(row.audio as Uint8Array);
  }

  /** Messages of a line (optionally one folder), oldest first by default; never loads audio. */
  async list(options: ListMessagesOptions): Promise<Message[]> {
    const o = parseOrThrow(ListSchema, options);
    const line = lineNumber(o.line);
    await requireLine(this.#ctx.db, this.#ctx.dialect, line);
    let query = this.#ctx.db.selectFrom('messages').select(META).where('line', '=', line);
    if (o.dir !== undefined) query = query.where('dir', '=', o.dir);
    const rows = await query
      .orderBy('creation_datetime', o.order)
      .orderBy('id', o.order)
      .limit(o.limit)
      .offset(o.offset)
      .execute();
    return rows.map(toMessage);
  }

  /** Number of messages of the line in each folder (every folder present, 0 when empty). */
  async countByDir(line: string): Promise<Record<Folder, number>> {
    const n = lineNumber(line);
    await requireLine(this.#ctx.db, this.#ctx.dialect, n);
    const rows = await this.#ctx.db
      .selectFrom('messages')
      .select((eb) => ['dir', eb.fn.countAll<number | string>().as('n')])
      .where('line', '=', n)
      .groupBy('dir')
      .execute();
    const counts = Object.fromEntries(FOLDERS.map((f) => [f, 0])) as Record<Folder, number>;
    for (const r of rows) if (r.dir in counts) counts[r.dir as Folder] = Number(r.n);
    return counts;
  }

  /** Moves a message to another folder. */
  async move(id: string, dir: Folder): Promise<Message> {
    const m = await this.#update(id, { dir: parseOrThrow(FolderSchema, dir, 'dir') });
    return this.#changed(m.line, m);
  }

  /**
   * Marks the message heard (first listening time is kept). Like a handset's mailbox, a heard message leaves
   * `inbox` and `urgent` for `old`; other folders are kept.
   */
  async markHeard(id: string): Promise<Message> {
    return inTransaction(this.#ctx.db, async (trx) => {
      const current = await trx.selectFrom('messages').select(['dir', 'heard_at']).where('id', '=', id).executeTakeFirst();
      if (current === undefined) throw new NotFoundError(`message ${id} does not exist`);
      const dir = current.dir === 'inbox' || current.dir === 'urgent' ? 'old' : current.dir;
      return this.#update(id, { dir, heard_at: current.heard_at ?? this.#ctx.clock() }, trx);
    }).then((m) => this.#changed(m.line, m));
  }

  /**
   * Deletes a message (its audio goes with the row). With `reason` the deletion is automatic and is recorded
   * in the retention log in the same transaction (e.g. 'keepMessage' once the notification e-mails are sent).
   */
  async delete(id: string, options: { reason?: RetentionReason; details?: Record<string, unknown> } = {}): Promise<void> {
    if (options.reason !== undefined) parseOrThrow(z.enum(RETENTION_REASONS), options.reason, 'reason');
    const line = await inTransaction(this.#ctx.db, async (trx) => {
      const row = await trx.deleteFrom('messages').where('id', '=', id).returning(['line']).executeTakeFirst();
      if (row === undefined) throw new NotFoundError(`message ${id} does not exist`);
      if (options.reason !== undefined) {
        await recordRetention(trx, this.#ctx.clock(), [
          { messageId: id, line: row.line, reason: options.reason, details: options.details ?? {} },
        ]);
      }
      return row.line;
    });
    this.#changed(line, undefined);
  }

  /**
   * Deletes every message created before `cutoff` (optionally of one line), recording each in the retention
   * log with reason 'age'. Returns the deleted ids.
   */
  async deleteOlderThan(cutoff: number, options: { line?: string } = {}): Promise<string[]> {
    parseOrThrow(EpochMsSchema, cutoff, 'cutoff');
    const line = options.line === undefined ? undefined : lineNumber(options.line);
    const rows = await inTransaction(this.#ctx.db, async (trx) => {
      let query = trx
        .deleteFrom('messages')
        .where('creation_datetime', '<', cutoff)
        .returning(['id', 'line', 'creation_datetime', 'dir']);
      if (line !== undefined) query = query.where('line', '=', line);
      const rows = await query.execute();
      await recordRetention(
        trx,
        this.#ctx.clock(),
        rows.map((r) => ({
          messageId: r.id,
          line: r.line,
          reason: 'age',
          details: { cutoff, creationDatetime: Number(r.creation_datetime), dir: r.dir },
        })),
      );
      return rows;
    });
    // After the commit, like every other change: listeners read the new counts.
    for (const l of new Set(rows.map((r) => r.line))) this.#changed(l, undefined);
    return rows.map((r) => r.id);
  }

  async #update(
    id: string,
    changes: Partial<Pick<MessagesTable, 'dir' | 'heard_at'>>,
    db: Kysely<Database> = this.#ctx.db,
  ): Promise<Message> {
    const row = await db.updateTable('messages').set(changes).where('id', '=', id).returning(META).executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`message ${id} does not exist`);
    return toMessage(row);
  }
}
