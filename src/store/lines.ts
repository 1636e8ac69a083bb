import { z } from 'zod';
import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError, StoreError, isUniqueViolation, parseOrThrow } from './errors.js';
import { hashPin, verifyPinOrDecoy } from './pin.js';
import {
  LanguageSchema,
  LineNumberSchema,
  PinSchema,
  RoutingSchema,
  VoicemailSettingsSchema,
  VoicemailSettingsUpdateSchema,
  type Language,
  type Routing,
  type VoicemailSettings,
} from './schema.js';
import { inTransaction, type Database, type LinesTable, type StoreContext, type StoreDialect } from './tables.js';

/** A provisioned line as the operator API sees it (the PIN hash never leaves the store). */
export interface Line {
  number: string;
  routing: Routing;
  language: Language;
  hasPin: boolean;
  settings: VoicemailSettings;
  createdAt: number;
  updatedAt: number;
}

export const CreateLineSchema = z.strictObject({
  number: LineNumberSchema,
  routing: RoutingSchema.default('voicemail'),
  pin: PinSchema.optional(),
  language: LanguageSchema.default('fr'),
  settings: z.unknown().optional(),
});
export type CreateLineInput = z.input<typeof CreateLineSchema>;

export const PageSchema = z.strictObject({
  limit: z.number().int().min(1).max(10_000, { error: 'limit: at most 10000' }).default(1000),
  offset: z.number().int().min(0).default(0),
});

/** Parses a line number argument to E.164, throwing a ValidationError naming it otherwise. */
export function lineNumber(input: unknown): string {
  return parseOrThrow(LineNumberSchema, input, 'line');
}

/**
 * Fetches a line row, throwing NotFoundError when absent. With `lock` on PostgreSQL the row is locked
 * `FOR UPDATE` until the transaction ends: this serialises writers of one mailbox (SQLite is already serialised
 * by its single connection).
 */
export async function requireLine(
  db: Kysely<Database>,
  dialect: StoreDialect,
  number: string,
  lock = false,
): Promise<LinesTable> {
  let query = db.selectFrom('lines').selectAll().where('number', '=', number);
  if (lock && dialect === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (row === undefined) throw new NotFoundError(`line ${number} does not exist`);
  return row;
}

/** The voicemail settings of a line row, validated. */
export function readSettings(row: LinesTable): VoicemailSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(row.settings);
  } catch (err) {
    throw new StoreError(`stored settings of line ${row.number} are not valid JSON`, { cause: err });
  }
  const parsed = VoicemailSettingsSchema.safeParse(raw);
  if (!parsed.success) throw new StoreError(`stored settings of line ${row.number} are invalid: ${parsed.error.message}`);
  return parsed.data;
}

function toLine(row: LinesTable): Line {
  return {
    number: row.number,
    routing: row.routing as Routing,
    language: row.language as Language,
    hasPin: row.pin_hash !== null,
    settings: readSettings(row),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Lines: number, routing, PIN, language and voicemail settings. */
export class LineRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** The row of a new line, from input checked at the edge (the PIN hashed). */
  async #newRow(input: CreateLineInput): Promise<LinesTable> {
    const parsed = parseOrThrow(CreateLineSchema, input);
    const settings = parseOrThrow(VoicemailSettingsSchema, parsed.settings ?? {}, 'settings');
    const pinHash = parsed.pin === undefined ? null : await hashPin(parsed.pin);
    const now = this.#ctx.clock();
    return {
      number: parsed.number,
      routing: parsed.routing,
      pin_hash: pinHash,
      language: parsed.language,
      settings: JSON.stringify(settings),
      created_at: now,
      updated_at: now,
    };
  }

  /** Provisions a line; ConflictError when the number already exists. */
  async create(input: CreateLineInput): Promise<Line> {
    const row = await this.#newRow(input);
    try {
      await this.#ctx.db.insertInto('lines').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`line ${row.number} already exists`, { cause: err });
      throw err;
    }
    return toLine(row);
  }

  /**
   * Creates the line unless that number is already provisioned, atomically (`INSERT … ON CONFLICT DO NOTHING` on
   * both dialects): any number of concurrent callers, in one process or many, yield exactly one `created: true`.
   * An existing line is returned untouched (its PIN and settings are not overwritten).
   */
  async ensure(input: CreateLineInput): Promise<{ line: Line; created: boolean }> {
    const row = await this.#newRow(input);
    const result = await this.#ctx.db
      .insertInto('lines')
      .values(row)
      .onConflict((oc) => oc.column('number').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) > 0) return { line: toLine(row), created: true };
    return { line: await this.get(row.number), created: false };
  }

  /** The line, or NotFoundError. */
  async get(number: string): Promise<Line> {
    return toLine(await requireLine(this.#ctx.db, this.#ctx.dialect, lineNumber(number)));
  }

  /** The line, or undefined when it is not provisioned. */
  async find(number: string): Promise<Line | undefined> {
    const row = await this.#ctx.db.selectFrom('lines').selectAll().where('number', '=', lineNumber(number)).executeTakeFirst();
    return row === undefined ? undefined : toLine(row);
  }

  /** Lines ordered by number. */
  async list(options: { limit?: number; offset?: number } = {}): Promise<Line[]> {
    const { limit, offset } = parseOrThrow(PageSchema, options);
    const rows = await this.#ctx.db.selectFrom('lines').selectAll().orderBy('number').limit(limit).offset(offset).execute();
    return rows.map(toLine);
  }

  /** Deletes the line with its messages and greetings (ON DELETE CASCADE) and its auth failures. */
  async delete(number: string): Promise<void> {
    const n = lineNumber(number);
    await inTransaction(this.#ctx.db, async (trx) => {
      const result = await trx.deleteFrom('lines').where('number', '=', n).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new NotFoundError(`line ${n} does not exist`);
      await trx.deleteFrom('auth_failures').where('line', '=', n).execute();
    });
  }

  async setRouting(number: string, routing: Routing): Promise<Line> {
    return this.#update(number, { routing: parseOrThrow(RoutingSchema, routing, 'routing') });
  }

  async setLanguage(number: string, language: Language): Promise<Line> {
    return this.#update(number, { language: parseOrThrow(LanguageSchema, language, 'language') });
  }

  /** Sets (or with null removes) the PIN; it is stored as a salted scrypt hash. */
  async setPin(number: string, pin: string | null): Promise<Line> {
    const pinHash = pin === null ? null : await hashPin(parseOrThrow(PinSchema, pin, 'pin'));
    return this.#update(number, { pin_hash: pinHash });
  }

  /**
   * True when `pin` matches the line's PIN (constant-time comparison). False for a line without PIN or for input
   * that is not 4–10 digits; NotFoundError for an unknown line.
   */
  async verifyPin(number: string, pin: string): Promise<boolean> {
    const row = await requireLine(this.#ctx.db, this.#ctx.dialect, lineNumber(number));
    return verifyPinOrDecoy(pin, row.pin_hash, PinSchema.safeParse(pin).success);
  }

  /**
   * The line `number` when `pin` is its PIN, else undefined — an unknown number, a fax-routed line (with
   * `voicemailOnly`), a line without PIN or a malformed PIN cost the same scrypt derivation as a wrong PIN (no timing oracle).
   */
  async checkPin(number: string | undefined, pin: string, options: { voicemailOnly?: boolean } = {}): Promise<Line | undefined> {
    const row =
      number === undefined
        ? undefined
        : await this.#ctx.db.selectFrom('lines').selectAll().where('number', '=', lineNumber(number)).executeTakeFirst();
    const usable = row !== undefined && (options.voicemailOnly !== true || row.routing === 'voicemail') ? row.pin_hash : null;
    return (await verifyPinOrDecoy(pin, usable, PinSchema.safeParse(pin).success)) ? toLine(row!) : undefined;
  }

  async getSettings(number: string): Promise<VoicemailSettings> {
    return readSettings(await requireLine(this.#ctx.db, this.#ctx.dialect, lineNumber(number)));
  }

  /** Validates `patch` (VoicemailSettingsUpdateSchema) and merges it into the stored settings. */
  async updateSettings(number: string, patch: unknown): Promise<VoicemailSettings> {
    const n = lineNumber(number);
    const update = parseOrThrow(VoicemailSettingsUpdateSchema, patch, 'settings');
    return inTransaction(this.#ctx.db, async (trx) => {
      const row = await requireLine(trx, this.#ctx.dialect, n, true);
      const merged = parseOrThrow(VoicemailSettingsSchema, { ...readSettings(row), ...update }, 'settings');
      await trx
        .updateTable('lines')
        .set({ settings: JSON.stringify(merged), updated_at: this.#ctx.clock() })
        .where('number', '=', n)
        .execute();
      return merged;
    });
  }

  async #update(number: string, changes: Partial<Pick<LinesTable, 'routing' | 'language' | 'pin_hash'>>): Promise<Line> {
    const n = lineNumber(number);
    const row = await this.#ctx.db
      .updateTable('lines')
      .set({ ...changes, updated_at: this.#ctx.clock() })
      .where('number', '=', n)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`line ${n} does not exist`);
    return toLine(row);
  }
}
