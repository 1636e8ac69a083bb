import { z } from 'zod';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { Repositories } from '../store/index.js';

const DAY_MS = 86_400_000;

/** Options rejected at construction, naming the offending fields. */
export class RetentionConfigError extends Error {
  override readonly name = 'RetentionConfigError';
}

const OptionsSchema = z.strictObject({
  store: z.custom<Pick<Repositories, 'messages'>>((v) => typeof v === 'object' && v !== null && 'messages' in v, {
    error: 'store must provide messages',
  }),
  /** Messages older than this many days are deleted (the operator's "6 months maximum": 183). */
  maxAgeDays: z.number({ error: 'maxAgeDays must be a number' }).positive({ error: 'maxAgeDays must be positive' }),
  sweepIntervalSeconds: z.number().int().min(1, { error: 'sweepIntervalSeconds must be at least 1' }),
  clock: z.custom<() => number>((v) => typeof v === 'function', { error: 'clock must be a function' }).default(() => Date.now),
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
});

export type RetentionSweeperOptions = z.input<typeof OptionsSchema>;

/**
 * Deletes messages older than `maxAgeDays`, at start-up and every `sweepIntervalSeconds`; each deletion is
 * recorded in the retention log with reason 'age' (by the store, in the same transaction). The other limit,
 * `maxMessages`, is enforced by the store when a message is inserted.
 */
export class RetentionSweeper {
  readonly #o: z.output<typeof OptionsSchema>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<{ deleted: string[] }> | undefined;

  constructor(options: RetentionSweeperOptions) {
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new RetentionConfigError(
        `invalid retention options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    this.#o = parsed.data;
  }

  /** A sweeper for the server's `retention` configuration. */
  static fromConfig(
    config: Pick<Config, 'retention'>,
    store: Pick<Repositories, 'messages'>,
    extra: Pick<RetentionSweeperOptions, 'clock' | 'logger'> = {},
  ): RetentionSweeper {
    const { maxAgeDays, sweepIntervalSeconds } = config.retention;
    return new RetentionSweeper({ ...extra, store, maxAgeDays, sweepIntervalSeconds });
  }

  /** Instant before which messages are too old, at the clock's current time. */
  cutoff(): number {
    return Math.max(0, Math.floor(this.#o.clock() - this.#o.maxAgeDays * DAY_MS));
  }

  /** Deletes every message older than `maxAgeDays` now; resolves to their ids. Concurrent calls share one sweep. */
  sweep(): Promise<{ deleted: string[] }> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Sweeps now, then every `sweepIntervalSeconds`; a failed sweep is logged and tried again at the next tick. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.#o.sweepIntervalSeconds * 1000);
    this.#timer.unref();
    this.#tick();
  }

  /** Stops the periodic sweep and waits for one in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  #tick(): void {
    this.sweep().catch((err: unknown) => this.#o.logger?.error({ err }, 'retention sweep failed; retrying at the next interval'));
  }

  async #sweep(): Promise<{ deleted: string[] }> {
    const cutoff = this.cutoff();
    const deleted = await this.#o.store.messages.deleteOlderThan(cutoff);
    if (deleted.length > 0) {
      this.#o.logger?.info(
        { reason: 'age', count: deleted.length, cutoff: new Date(cutoff).toISOString(), maxAgeDays: this.#o.maxAgeDays },
        'retention: deleted messages older than the maximum age',
      );
    }
    return { deleted };
  }
}
