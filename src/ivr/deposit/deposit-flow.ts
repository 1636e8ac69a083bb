/**
 * The deposit flow (issue 3): a caller forwarded to a mailbox hears the greeting, the beep, speaks, and the
 * message is stored.
 *
 *   greeting ──(# or any key: barge-in)──▶ beep ──▶ record ──┬─ hang-up / # / max length / silence
 *      │ hang-up                                             ├─ shorter than minMessageSeconds → discarded,
 *      ▼                                                     │   "trop court, au revoir" if the caller is there
 *   'hangup-before-beep'                                     └─ stored (the spool WAV's bytes as they are; the
 *                                                               store enqueues the e-mails and emits 'messageStored'),
 *                                                               "message enregistré, au revoir" if still there
 *
 * Barge-in: the greeting is played with `bargeIn`, so a key pressed during it — the prompts announce `#` —
 * skips straight to the beep. Digits typed before the beep are forgotten so that they cannot end the recording.
 *
 * Silence: a recording ended by the silence timer is stored as recorded (trailing silence included, nothing is
 * trimmed); only the minimum-length check discounts that trailing silence, so that a caller who says nothing
 * leaves no message.
 */
import type { Logger } from '../../shared/log.js';
import type { Config } from '../../shared/config.js';
import { beep } from '../../media/index.js';
import type { Line, Store } from '../../store/index.js';
import type { Call, PlayOutcome, RecordResult } from '../call.js';
import type { PromptCatalog } from '../prompts/catalog.js';
import type { SpeechLanguage } from '../prompts/speech.js';
import { DepositGreeting, GREETING_GAP_MS } from './greeting.js';
import { DepositSpool, type SpoolSidecar } from './spool.js';
import { storeDepositedMessage } from './store-message.js';

export { recoverSpooledMessages, type RecoverSpoolOptions } from './recovery.js';

export interface DepositContext {
  call: Call;
  store: Store;
  prompts: PromptCatalog;
  config: Config;
  logger: Logger;
  /** From store.lines.get(number); its routing must be 'voicemail'. */
  line: Line;
  /** E.164, or undefined when withheld/anonymous (from P-Asserted-Identity or From). */
  caller?: string;
  callerName?: string;
  /** Forwarded because the subscriber was busy (Diversion reason=user-busy / cause 486): the 'busy' greeting. */
  busy: boolean;
  now?: () => number;
}

export type DepositOutcome = 'stored' | 'discarded-too-short' | 'not-recorded' | 'hangup-before-beep';

export interface DepositResult {
  outcome: DepositOutcome;
  messageId?: string;
}

/** A deposit context that cannot be served (wrong routing, not a call). */
export class DepositContextError extends TypeError {
  override readonly name = 'DepositContextError';
}

/** Quiet below −40 dBov RMS (328), the recorder's voice threshold. */
const QUIET_RMS = 328;
const FRAME = 160;

/** Length of the quiet tail of `samples` in 20 ms frames, at most `maxMs`. Run once per message, not per packet. */
export function trailingQuietMs(samples: Int16Array, maxMs: number): number {
  let quiet = 0;
  for (let end = samples.length; end > 0 && quiet * 20 < maxMs; end -= FRAME) {
    const start = Math.max(0, end - FRAME);
    let sum = 0;
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    if (Math.sqrt(sum / (end - start)) >= QUIET_RMS) break;
    quiet++;
  }
  return Math.min(maxMs, quiet * 20);
}

/** The beep after the greeting: 1 kHz, 300 ms (media/tones.ts). */
const BEEP = beep();

/** One deposit: greeting, beep, recording, storage. Use once. */
export class DepositFlow {
  readonly #ctx: DepositContext;
  readonly #log: Logger;
  readonly #language: SpeechLanguage;
  readonly #now: () => number;
  #used = false;

  constructor(ctx: DepositContext) {
    if (ctx.line.routing !== 'voicemail') {
      throw new DepositContextError(`line ${ctx.line.number} is routed to ${ctx.line.routing}, not to the voicemail`);
    }
    if (ctx.caller !== undefined && ctx.caller.length === 0) throw new DepositContextError('caller must be undefined or non-empty');
    this.#ctx = ctx;
    this.#log = ctx.logger;
    this.#now = ctx.now ?? Date.now;
    const wanted = ctx.line.language;
    this.#language = ctx.prompts.has(wanted, 'goodbye') ? wanted : ctx.config.prompts.defaultLanguage;
  }

  async run(): Promise<DepositResult> {
    if (this.#used) throw new Error('DepositFlow.run() called twice');
    this.#used = true;
    const { call, line } = this.#ctx;
    try {
      if (line.settings.doNotRecord) return await this.#announceOnly();
      return await this.#deposit();
    } finally {
      if (!call.ended) await call.hangup().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'hang-up failed'));
    }
  }

  /** doNotRecord: the greeting (saying the mailbox takes no message), then hang up; nothing is stored. */
  async #announceOnly(): Promise<DepositResult> {
    const greeting = await this.#greeting().compose(true);
    this.#log.info({ plan: greeting.plan, prompts: greeting.promptIds.length }, 'deposit: mailbox takes no messages');
    if (!this.#ctx.call.ended) await this.#ctx.call.play(greeting.segments);
    return { outcome: 'not-recorded' };
  }

  async #deposit(): Promise<DepositResult> {
    const { call, line, config } = this.#ctx;
    const spool = DepositSpool.forCall(config.storage.dir, call.callId);
    const sidecar: SpoolSidecar = {
      version: 1,
      callId: call.callId,
      line: line.number,
      caller: this.#ctx.caller ?? null,
      callerName: this.#ctx.callerName ?? null,
      callee: line.number,
      startedAt: this.#now(),
    };
    // The sidecar is written while the greeting plays, so that it costs the caller no delay before the beep.
    const sidecarWritten = spool.writeSidecar(sidecar).then(
      () => undefined,
      (err: unknown) => err as Error,
    );

    const greeting = await this.#greeting().compose(false);
    this.#log.info({ plan: greeting.plan, busy: this.#ctx.busy, caller: sidecar.caller ?? 'anonymous' }, 'deposit: greeting');
    const heard = call.ended ? 'hangup' : await call.play(greeting.segments, { bargeIn: true });
    if (heard === 'interrupted') this.#log.debug('deposit: greeting skipped by a key');
    const beeped: PlayOutcome = heard === 'hangup' || call.ended ? 'hangup' : await call.play(BEEP);
    const writeError = await sidecarWritten;
    if (beeped === 'hangup' || call.ended) {
      await spool.remove();
      this.#log.info('deposit: caller hung up before the beep');
      return { outcome: 'hangup-before-beep' };
    }
    if (writeError) throw new Error(`cannot write the spool sidecar ${spool.sidecarPath}: ${writeError.message}`, { cause: writeError });
    call.flushDigits();

    sidecar.startedAt = this.#now();
    // The message is dated at the beep: the sidecar on disk (what a crash recovery reads) gets that time too,
    // rewritten atomically while the recording runs.
    const sidecarDated = spool.writeSidecar(sidecar).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    const recording = await this.#record(spool);
    const dateError = await sidecarDated;
    if (dateError) this.#log.warn({ err: dateError.message }, 'deposit: cannot re-date the spool sidecar (a crash recovery would date the message at call arrival)');
    return this.#finish(spool, sidecar, recording);
  }

  async #record(spool: DepositSpool): Promise<RecordResult> {
    const { voicemail } = this.#ctx.config;
    return this.#ctx.call.record({
      spoolPath: spool.wavPath,
      maxDurationMs: voicemail.maxMessageSeconds * 1000,
      silenceTimeoutMs: voicemail.silenceSeconds * 1000,
      stopDigits: '#',
    });
  }

  async #finish(spool: DepositSpool, sidecar: SpoolSidecar, recording: RecordResult): Promise<DepositResult> {
    const { call, line, config, store } = this.#ctx;
    const { voicemail } = config;
    // A recording ended by the silence timer may end with up to that much silence (none when the caller's phone
    // stopped sending): what of it is in the samples does not count towards the minimum.
    const trailingSilenceMs = recording.end === 'silence' ? trailingQuietMs(recording.samples, voicemail.silenceSeconds * 1000) : 0;
    const spokenMs = recording.durationMs - trailingSilenceMs;
    const logFields = { end: recording.end, durationMs: recording.durationMs, spokenMs };
    if (recording.samples.length === 0 || spokenMs < voicemail.minMessageSeconds * 1000) {
      await spool.remove();
      this.#log.info(logFields, 'deposit: message too short, discarded');
      await this.#sayAndLeave(['message_too_short', 'goodbye']);
      return { outcome: 'discarded-too-short' };
    }

    // On a store failure the spool files stay: the next start-up's recovery stores the message.
    const audio = { wav: recording.wav, samples: recording.samples.length };
    const stored = await storeDepositedMessage(store, line, sidecar, audio, config.retention.maxMessages);
    await spool.remove();
    this.#log.info({ ...logFields, messageId: stored.messageId, evicted: stored.evicted }, 'deposit: message stored');
    if (stored.evictedAtOnce) {
      this.#log.warn({ messageId: stored.messageId }, 'deposit: the new message was evicted at once by retention.maxMessages');
    }
    if (!call.ended) await this.#sayAndLeave(['message_recorded', 'goodbye']);
    return { outcome: 'stored', messageId: stored.messageId };
  }

  async #sayAndLeave(promptIds: string[]): Promise<void> {
    const { call, prompts } = this.#ctx;
    if (call.ended) return;
    await call.play(prompts.segments(this.#language, promptIds, GREETING_GAP_MS));
  }

  #greeting(): DepositGreeting {
    const { store, prompts, line, config, busy } = this.#ctx;
    return new DepositGreeting({
      store,
      prompts,
      line,
      language: this.#language,
      countryCode: config.voicemail.countryCode,
      busy,
      logger: this.#log,
    });
  }
}

/** Runs the deposit flow of one call to a voicemail-routed line; the call is hung up when it returns. */
export async function runDepositFlow(ctx: DepositContext): Promise<DepositResult> {
  return new DepositFlow(ctx).run();
}
