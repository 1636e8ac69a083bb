import type { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/log.js';
import { decodeWav } from '../shared/audio/wav.js';
import { isSpoolFormatWav } from '../media/wav-spool.js';
import { systemClock, type Clock, type Timer } from '../shared/clock.js';
import { NotFoundError, type OutboxJob, type Repositories, type VoicemailSettings } from '../store/index.js';
import { retryDelayMs, DEFAULT_RETRY_POLICY } from './backoff.js';
import { buildNotificationMail, senderFor, type Sender } from './compose.js';
import { encodeAudioWhenFree } from '../shared/audio/encode-pool.js';
import { AUDIO_FORMAT_INFO, type AudioFormat, type EncodedAudio } from '../shared/audio/index.js';
import {
  DEFAULT_SMTP_TIMEOUTS,
  EmlFileTransport,
  SmtpMailTransport,
  describeSendError,
  isPermanentRejection,
  isReplyToThisMail,
  type MailTransport,
} from './transports.js';

/**
 * The part of the store the worker uses; with `events` (the Store's), a started worker wakes up on every
 * 'messageStored' instead of waiting for its next poll.
 */
export type NotificationStore = Pick<Repositories, 'lines' | 'messages' | 'outbox'> & { readonly events?: EventEmitter };

/** Options rejected at construction; `issues` names each offending field. */
export class NotificationConfigError extends Error {
  override readonly name = 'NotificationConfigError';
}

const isFunction = (v: unknown): boolean => typeof v === 'function';

const OptionsSchema = z
  .strictObject({
    store: z.custom<NotificationStore>(
      (v) => typeof v === 'object' && v !== null && 'outbox' in v && 'messages' in v && 'lines' in v,
      { error: 'store must provide lines, messages and outbox' },
    ),
    /** `url` empty: no relay, mails are written as .eml files into `<storageDir>/outbox/`. */
    smtp: z.strictObject({
      url: z.string(),
      // Deliberately laxer than z.email(): the embedded default "repondeur@localhost" has no dot in its domain.
      from: z.string().regex(/^[^\s@<>",;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, {
        error: 'smtp.from must be an e-mail address (local@domain)',
      }),
      fromName: z.string().max(200),
    }),
    storageDir: z.string().min(1, { error: 'storageDir must not be empty' }),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
    /** Wall time for the outbox rows and the mail dates, timers for the polls. */
    clock: z.custom<Clock>((v) => isFunction((v as Clock | undefined)?.wallNow), { error: 'clock must be a Clock' }).default(systemClock),
    countryCode: z.string().regex(/^\d{1,3}$/, { error: 'countryCode must be 1 to 3 digits' }).default('33'),
    /** Time zone of the dates in the mails. */
    timeZone: z.string().default('Europe/Paris'),
    pollIntervalMs: z.number().int().min(10).default(15_000),
    /** Jobs claimed and sent in parallel per round. */
    batchSize: z.number().int().min(1).max(100).default(4),
    /** How long a claimed job is reserved for this worker: after it, another worker may take it (crash recovery). */
    leaseMs: z.number().int().min(1).default(10 * 60_000),
    /** Upper bound of one send (connect, greeting, DATA): the send is aborted and retried after it. */
    sendTimeoutMs: z.number().int().min(1).default(2 * 60_000),
    retry: z
      .strictObject({ baseMs: z.number().int().min(1), maxMs: z.number().int().min(1) })
      .refine((r) => r.baseMs <= r.maxMs, { error: 'retry.baseMs must not exceed retry.maxMs' })
      .default(() => ({ ...DEFAULT_RETRY_POLICY })),
    /**
     * While jobs wait for an unreachable relay, it is probed (connect, EHLO, QUIT) at most this often; once it
     * answers they are all made due, instead of each waiting out its own back-off (up to an hour).
     */
    relayProbeIntervalMs: z.number().int().min(10).default(15_000),
    /** Right-hand side of Message-IDs (default: the domain of smtp.from). */
    messageIdHost: z.string().regex(/^[A-Za-z0-9.-]+$/, { error: 'messageIdHost must be a host name' }).optional(),
    /** Replaces the transport chosen from smtp.url (tests, other delivery means). */
    transport: z.custom<MailTransport>((v) => typeof v === 'object' && v !== null && 'send' in v).optional(),
  })
  // A lease shorter than a send would let a second worker claim a job that is still being sent: a duplicate.
  .refine((o) => o.leaseMs >= 2 * o.sendTimeoutMs, { error: 'leaseMs must be at least twice sendTimeoutMs', path: ['leaseMs'] });

export type NotificationWorkerOptions = z.input<typeof OptionsSchema>;
type Options = z.output<typeof OptionsSchema>;

type Outcome = 'sent' | 'retry' | 'failed' | 'interrupted';
type Recording = EncodedAudio | 'unavailable';

/** Encoded recordings kept within one run: the jobs of one message are claimed close together. */
const RECORDING_CACHE_ENTRIES = 8;
/** Rounds per run before yielding to the event loop's other work; the run is then resumed at once. */
const MAX_ROUNDS_PER_RUN = 50;

/**
 * Sends the e-mail notifications of the durable outbox. Each run claims due jobs (a lease guards them against
 * other workers), composes each mail, attaches the recording encoded in the job's format, and sends it: accepted
 * → `sent` (never sent again); permanently refused (5yz) → `failed`; anything else → retried with exponential
 * back-off, for however long the relay stays down. When a mailbox does not keep its messages, the message is
 * deleted once every `attachment` job of it is sent.
 */
export class NotificationWorker {
  readonly #o: Options;
  readonly #transport: MailTransport;
  readonly #defaultSender: Sender;
  readonly #messageIdHost: string;
  readonly #abort = new AbortController();
  #timer: Timer | undefined;
  /** When the relay was last probed (worker clock), while jobs wait for it. */
  #lastProbeAt = -Infinity;
  #chain: Promise<unknown> = Promise.resolve();
  #active: Promise<unknown> | undefined;
  #again = false;
  #stopped = false;
  readonly #onMessageStored = (messageId: string): void => this.notify(messageId);

  constructor(options: NotificationWorkerOptions) {
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new NotificationConfigError(
        `invalid notification options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    this.#o = parsed.data;
    this.#defaultSender = { address: this.#o.smtp.from, name: this.#o.smtp.fromName };
    this.#messageIdHost = this.#o.messageIdHost ?? this.#o.smtp.from.split('@')[1] ?? hostname();
    this.#transport =
      this.#o.transport ??
      (this.#o.smtp.url === ''
        ? new EmlFileTransport(join(this.#o.storageDir, 'outbox'))
        : new SmtpMailTransport(this.#o.smtp.url, {
            ...DEFAULT_SMTP_TIMEOUTS,
            socketTimeoutMs: Math.min(DEFAULT_SMTP_TIMEOUTS.socketTimeoutMs, this.#o.sendTimeoutMs),
          }));
  }

  /** A worker for the server's configuration: SMTP relay from `smtp.url`, else .eml files under `storage.dir`. */
  static fromConfig(
    config: Pick<Config, 'smtp' | 'storage' | 'voicemail'> & Partial<Pick<Config, 'outbox'>>,
    store: NotificationStore,
    extra: Omit<NotificationWorkerOptions, 'store' | 'smtp' | 'storageDir'> = {},
  ): NotificationWorker {
    return new NotificationWorker({
      countryCode: config.voicemail.countryCode,
      timeZone: config.voicemail.timeZone,
      ...(config.outbox ? { leaseMs: config.outbox.leaseSeconds * 1000 } : {}),
      ...extra,
      store,
      smtp: config.smtp,
      storageDir: config.storage.dir,
    });
  }

  /** Where the mails go (for the start-up log). */
  get transportDescription(): string {
    return this.#transport.description;
  }

  /** Runs at once, then every `pollIntervalMs` (and whenever {@link notify} is called). */
  start(): void {
    if (this.#stopped) throw new Error('NotificationWorker: cannot start after stop()');
    if (this.#timer !== undefined) return;
    this.#o.logger?.info({ transport: this.#transport.description }, 'notification worker started');
    this.#o.store.events?.on('messageStored', this.#onMessageStored);
    this.#poll();
  }

  /** Runs, and arms the next poll (a fixed interval from poll to poll, like setInterval). */
  #poll(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(this.#o.pollIntervalMs, () => this.#poll());
    this.#wake();
  }

  /** Wakes the worker right after a message was stored, instead of waiting for the next poll (the store's 'messageStored' calls it). */
  notify(messageId?: string): void {
    if (this.#timer === undefined) return;
    this.#o.logger?.debug({ messageId }, 'notification worker woken');
    this.#wake();
  }

  /**
   * Stops polling and interrupts the sends in flight (their connections are closed before the server accepts,
   * and the jobs are put back as due at once, for the next worker), then waits for the current run to end.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.store.events?.off('messageStored', this.#onMessageStored);
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#abort.abort(new Error('notification worker stopping'));
    await this.#chain.catch(() => undefined);
    this.#transport.close();
  }

  /** Sends every job due now (repeatedly claiming batches until none is left); resolves to the number sent. */
  runOnce(): Promise<number> {
    const run = this.#chain.then(() => this.#drain());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #wake(): void {
    if (this.#stopped) return;
    if (this.#active !== undefined) {
      this.#again = true;
      return;
    }
    this.#active = this.runOnce()
      .catch((err: unknown) => this.#o.logger?.error({ err }, 'notification run failed; retrying at the next poll'))
      .finally(() => {
        this.#active = undefined;
        if (this.#again) {
          this.#again = false;
          this.#wake();
        }
      });
  }

  async #drain(): Promise<number> {
    const cache = new Map<string, Promise<Recording>>();
    let sent = 0;
    let probed = false;
    for (let round = 0; !this.#abort.signal.aborted; round++) {
      if (round === MAX_ROUNDS_PER_RUN) {
        this.#again = true;
        break;
      }
      const jobs = await this.#o.store.outbox.claimDue(this.#o.clock.wallNow(), this.#o.batchSize, this.#o.leaseMs);
      if (jobs.length === 0) {
        // Nothing due: if mail waits for the relay, ask it once whether it is back (no mail is spent on the probe).
        if (probed || !(await this.#relayIsBack())) break;
        probed = true;
        continue;
      }
      const outcomes = await Promise.all(jobs.map((job) => this.#process(job, cache)));
      const sentNow = outcomes.filter((o) => o === 'sent').length;
      sent += sentNow;
      // The relay accepts mail again: the jobs waiting out their back-off because it was unreachable (up to an hour)
      // are made due now, and the next round of this run takes them.
      if (sentNow > 0) await this.#wakeDeferredForRelay('a mail was accepted');
    }
    return sent;
  }

  /**
   * Probes the relay when jobs wait for it (at most every `relayProbeIntervalMs`); when it answers, makes them due.
   * A transport without a probe (.eml files, tests) never waits for a relay.
   */
  async #relayIsBack(): Promise<boolean> {
    const probe = this.#transport.probe;
    const now = this.#o.clock.wallNow();
    if (probe === undefined || now - this.#lastProbeAt < this.#o.relayProbeIntervalMs) return false;
    if (!(await this.#o.store.outbox.hasDeferredForRelay(now))) return false;
    this.#lastProbeAt = now;
    try {
      await probe.call(this.#transport, AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.sendTimeoutMs)]));
    } catch (err) {
      this.#o.logger?.debug({ error: describeSendError(err) }, 'mail relay still unreachable');
      return false;
    }
    return (await this.#wakeDeferredForRelay('the relay answers a probe')) > 0;
  }

  async #wakeDeferredForRelay(why: string): Promise<number> {
    const woken = await this.#o.store.outbox.wakeDeferredForRelay(this.#o.clock.wallNow());
    if (woken > 0) this.#o.logger?.info({ woken, why }, 'mail relay is back: the jobs waiting for it are due now');
    return woken;
  }

  async #process(job: OutboxJob, cache: Map<string, Promise<Recording>>): Promise<Outcome> {
    const log = this.#o.logger?.child({ job: job.id, messageId: job.messageId, line: job.line, attempt: job.attempts });
    try {
      const line = await this.#o.store.lines.find(job.line);
      if (line === undefined) return await this.#fail(job, 'the line no longer exists', log);
      let recording: Recording | undefined;
      if (job.type === 'attachment') {
        try {
          recording = await this.#recording(job, cache);
        } catch (err) {
          // The stored WAV cannot be read or encoded: no later attempt would do better, and the message stays.
          return await this.#fail(job, `cannot encode the recording as ${job.format}: ${describeSendError(err)}`, log);
        }
      }
      const mail = buildNotificationMail({
        job,
        language: line.language,
        sender: senderFor(line.settings, this.#defaultSender),
        envelopeFrom: this.#o.smtp.from,
        messageIdHost: this.#messageIdHost,
        date: new Date(this.#o.clock.wallNow()),
        recording,
        countryCode: this.#o.countryCode,
        timeZone: this.#o.timeZone,
      });
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.sendTimeoutMs)]);
      let delivery;
      try {
        delivery = await this.#transport.send(mail, signal);
      } catch (err) {
        return await this.#sendFailed(job, err, log);
      }
      await this.#o.store.outbox.markSent(job.id, { smtpMessageId: delivery.messageId, sentAt: this.#o.clock.wallNow() });
      log?.info({ recipient: job.recipient, type: job.type, response: delivery.response }, 'notification sent');
      await this.#deleteIfDelivered(job, line.settings, log).catch((err: unknown) =>
        log?.error({ err }, 'message not deleted after delivery (keepMessage is off); it stays in the mailbox'),
      );
      return 'sent';
    } catch (err) {
      // The database failed: the job keeps its lease and is claimed again once the lease runs out.
      log?.error({ err }, 'notification job could not be processed; retrying after its lease');
      return 'retry';
    }
  }

  async #sendFailed(job: OutboxJob, err: unknown, log: Logger | undefined): Promise<Outcome> {
    const error = describeSendError(err);
    if (this.#abort.signal.aborted) {
      await this.#o.store.outbox.markRetry(job.id, this.#o.clock.wallNow(), `interrupted: ${error}`);
      log?.warn({ error }, 'notification interrupted by shutdown; due again at once');
      return 'interrupted';
    }
    if (isPermanentRejection(err)) return this.#fail(job, error, log);
    const delay = retryDelayMs(job.attempts, this.#o.retry);
    const nextAt = this.#o.clock.wallNow() + delay;
    await this.#o.store.outbox.markRetry(job.id, nextAt, error, isReplyToThisMail(err) ? 'reply' : 'relay');
    log?.warn({ error, retryInMs: delay, recipient: job.recipient }, 'notification not sent; will retry');
    return 'retry';
  }

  async #fail(job: OutboxJob, error: string, log: Logger | undefined): Promise<Outcome> {
    await this.#o.store.outbox.markFailed(job.id, error);
    log?.error({ error, recipient: job.recipient }, 'notification failed for good');
    return 'failed';
  }

  /** The job's recording in its format, encoded once per message and format within a run. */
  #recording(job: OutboxJob, cache: Map<string, Promise<Recording>>): Promise<Recording> {
    if (job.messageId === null) return Promise.resolve('unavailable');
    const key = `${job.messageId}/${job.format}`;
    let entry = cache.get(key);
    if (entry === undefined) {
      entry = this.#encode(job.messageId, job.format);
      cache.set(key, entry);
      if (cache.size > RECORDING_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    }
    return entry;
  }

  async #encode(messageId: string, format: AudioFormat): Promise<Recording> {
    let wav: Buffer;
    try {
      wav = await this.#o.store.messages.getAudio(messageId);
    } catch (err) {
      if (err instanceof NotFoundError) return 'unavailable';
      throw err;
    }
    // A recording attached as WAV is the stored file itself: the store keeps what the spool wrote.
    if (format === 'wav' && isSpoolFormatWav(wav)) return { data: wav, ...AUDIO_FORMAT_INFO.wav };
    const { samples, sampleRate } = decodeWav(wav);
    // In a worker thread (mp3/ogg/flac); a full queue is waited out, not failed.
    return encodeAudioWhenFree(samples, sampleRate, format);
  }

  /**
   * keepMessage = false: the mailbox keeps nothing once the recording is delivered — i.e. once every `attachment`
   * job of the message is sent. A failed or pending one keeps the message; a mailbox with only `simple` recipients
   * never had the recording delivered, so its messages are kept too.
   */
  async #deleteIfDelivered(job: OutboxJob, settings: VoicemailSettings, log: Logger | undefined): Promise<void> {
    if (job.type !== 'attachment' || job.messageId === null || settings.keepMessage) return;
    const attachments = (await this.#o.store.outbox.listForMessage(job.messageId)).filter((j) => j.type === 'attachment');
    if (attachments.length === 0 || attachments.some((j) => j.status !== 'sent')) return;
    try {
      await this.#o.store.messages.delete(job.messageId, {
        reason: 'keepMessage',
        details: { recipients: attachments.map((j) => j.recipient) },
      });
      log?.info('message deleted after delivery by e-mail (keepMessage is off)');
    } catch (err) {
      // A parallel job of the same message got there first, or retention removed it: nothing left to do.
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}
