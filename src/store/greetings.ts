import { z } from 'zod';
import { parseOrThrow } from './errors.js';
import { lineNumber, requireLine } from './lines.js';
import { WavBytesSchema } from './messages.js';
import { EpochMsSchema, GreetingKindSchema, type GreetingKind } from './schema.js';
import { toBuffer, type GreetingsTable, type StoreContext } from './tables.js';

/** A recorded greeting, without its audio. */
export interface GreetingInfo {
  line: string;
  kind: GreetingKind;
  durationMs: number;
  /** Whole seconds, rounded. */
  duration: number;
  creationDatetime: number;
  size: number;
}

/** A recorded greeting with its WAV bytes. */
export interface Greeting extends GreetingInfo {
  wav: Buffer;
}

const PutSchema = z.strictObject({
  wav: WavBytesSchema,
  durationMs: z.number({ error: 'durationMs must be a number' }).int({ error: 'durationMs must be whole' }).nonnegative(),
  creationDatetime: EpochMsSchema.optional(),
});
export type PutGreetingInput = z.input<typeof PutSchema>;

const INFO = ['line', 'kind', 'duration_ms', 'creation_datetime', 'audio_size'] as const;

function toInfo(row: Pick<GreetingsTable, (typeof INFO)[number]>): GreetingInfo {
  const durationMs = Number(row.duration_ms);
  return {
    line: row.line,
    kind: row.kind as GreetingKind,
    durationMs,
    duration: Math.round(durationMs / 1000),
    creationDatetime: Number(row.creation_datetime),
    size: Number(row.audio_size),
  };
}

/** Greetings: one per line and kind (unavail, busy, greet, temp, name). */
export class GreetingRepository {
  readonly #ctx: StoreContext;
  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Records (or replaces) the line's greeting of that kind. */
  async put(line: string, kind: GreetingKind, input: PutGreetingInput): Promise<GreetingInfo> {
    const n = lineNumber(line);
    const k = parseOrThrow(GreetingKindSchema, kind, 'kind');
    const g = parseOrThrow(PutSchema, input);
    await requireLine(this.#ctx.db, this.#ctx.dialect, n);
    const audio = toBuffer(g.wav);
    const row: GreetingsTable = {
      line: n,
      kind: k,
      duration_ms: g.durationMs,
      creation_datetime: g.creationDatetime ?? this.#ctx.clock(),
      audio,
      audio_size: audio.byteLength,
    };
    await this.#ctx.db
      .insertInto('greetings')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['line', 'kind']).doUpdateSet({
          duration_ms: row.duration_ms,
          creation_datetime: row.creation_datetime,
          audio: row.audio,
          audio_size: row.audio_size,
        }),
      )
      .execute();
    return toInfo(row);
  }

  /** The greeting with its audio, or undefined when none is recorded; NotFoundError for an unknown line. */
  async get(line: string, kind: GreetingKind): Promise<Greeting | undefined> {
    const n = lineNumber(line);
    const k = parseOrThrow(GreetingKindSchema, kind, 'kind');
    const row = await this.#ctx.db
      .selectFrom('greetings')
      .selectAll()
      .where('line', '=', n)
      .where('kind', '=', k)
      .executeTakeFirst();
    if (row === undefined) {
      await requireLine(this.#ctx.db, this.#ctx.dialect, n);
      return undefined;
    }
    return { ...toInfo(row), wav: Buffer.isBuffer(row.audio) ? row.audio : Buffer.from(row.audio as Uint8Array) };
  }

  /** The line's greetings without audio, by kind. */
  async list(line: string): Promise<GreetingInfo[]> {
    const n = lineNumber(line);
    await requireLine(this.#ctx.db, this.#ctx.dialect, n);
    const rows = await this.#ctx.db.selectFrom('greetings').select(INFO).where('line', '=', n).orderBy('kind').execute();
    return rows.map(toInfo);
  }

  /** Deletes the greeting; false when there was none. */
  async delete(line: string, kind: GreetingKind): Promise<boolean> {
    const n = lineNumber(line);
    const k = parseOrThrow(GreetingKindSchema, kind, 'kind');
    await requireLine(this.#ctx.db, this.#ctx.dialect, n);
    const result = await this.#ctx.db.deleteFrom('greetings').where('line', '=', n).where('kind', '=', k).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
