import { z } from 'zod';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import type { Repositories } from '../store/index.js';
import { systemClock, type Clock, type Timer } from '../shared/clock.js';

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
  /** The cut-off is taken on its wall time, the sweeps are timed on its timers. */
  clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.wallNow === 'function', { error: 'clock must be a Clock' }).default(systemClock),
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
  #timer: Timer | undefined;
  #running: Promise<{ deleted: string[] }> | undefined;
  #stopped = false;

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
    return Math.max(0, Math.floor(this.#o.clock.wallNow() - this.#o.maxAgeDays * DAY_MS));
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
    this.#tick();
  }

  /** Stops the periodic sweep and waits for one in progress. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#stopped = true;
    await this.#running?.catch(() => undefined);
  }

  /** Sweeps, and arms the next tick (a fixed interval from tick to tick, like setInterval). */
  #tick(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(this.#o.sweepIntervalSeconds * 1000, () => this.#tick());
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
