import type { Language, Store, VoicemailSettings } from '../../src/store/index.js';
import { ManualClock, type Clock } from '../../src/shared/clock.js';
import { NotificationWorker, type NotificationWorkerOptions } from '../../src/notify/index.js';
import { TestDatabase, TestSmtpServer, freePort, freshLine, toneWav, type Engine } from './harness.js';

/** 2025-03-14 08:26:00 UTC = 09:26 in Paris (CET). */
export const T0 = Date.UTC(2025, 2, 14, 8, 26, 0);

/**
 * One database, one SMTP server (port reserved, listening or not) and a controllable clock shared by the store
 * and the workers: `now` is its wall time (set freely, even backwards); the workers' poll timers fire only when a
 * test advances `timers`.
 */
export class NotifyFixture {
  now = T0;
  readonly timers = new ManualClock();
  readonly clock: Clock = {
    now: () => this.timers.now(),
    wallNow: () => this.now,
    setTimer: (ms, fn) => this.timers.setTimer(ms, fn),
  };
  readonly db: TestDatabase;
  readonly smtp: TestSmtpServer;
  store!: Store;
  readonly #workers: NotificationWorker[] = [];

  private constructor(engine: Engine, port: number) {
    this.db = new TestDatabase(engine);
    this.smtp = new TestSmtpServer(port);
  }

  static async create(engine: Engine, options: { listen?: boolean } = {}): Promise<NotifyFixture> {
    const f = new NotifyFixture(engine, await freePort());
    f.store = await f.db.open({ clock: () => f.now });
    if (options.listen !== false) await f.smtp.listen();
    return f;
  }

  worker(extra: Partial<NotificationWorkerOptions> = {}): NotificationWorker {
    const w = new NotificationWorker({
      store: this.store,
      smtp: { url: this.smtp.url, from: 'voicemail@operator.example', fromName: 'Répondeur' },
      storageDir: this.db.dir,
      clock: this.clock,
      ...extra,
    });
    this.#workers.push(w);
    return w;
  }

  async line(settings: Partial<VoicemailSettings>, language: Language = 'fr'): Promise<string> {
    const number = freshLine();
    await this.store.lines.create({ number, language, settings });
    return number;
  }

  /** Stores a message the way the call handler does: the store enqueues the line's notifications in the same transaction. */
  async deposit(line: string, options: { seconds?: number; caller?: string; callerName?: string } = {}) {
    const seconds = options.seconds ?? 2.5;
    return this.store.messages.create(
      {
        line,
        caller: options.caller ?? '+33612345678',
        callerName: options.callerName ?? null,
        callee: line,
        durationMs: Math.round(seconds * 1000),
        wav: toneWav(seconds),
      },
      { maxMessages: 100 },
    );
  }

  async cleanup(): Promise<void> {
    for (const w of this.#workers) await w.stop();
    await this.smtp.close();
    await this.db.cleanup();
  }
}
