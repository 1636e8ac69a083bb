/**
 * The main thread's side of one call's media in a worker: a {@link MediaSession} whose commands become messages
 * (protocol.ts) to the worker that owns the RTP socket, and whose events (DTMF, plays ending, the recording's WAV)
 * come back from it. Formats and addresses are validated here, so a bad one throws at the caller as in-process.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Logger } from '../../shared/log.js';
import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';
import type { FinishRecordingOptions, MediaSession, MediaSessionEvents, RecordingHandle, RecordingOptions } from '../media-session.js';
import type { PcmSource, PlayOptions, PlaybackEnd } from '../player.js';
import type { RecordingResult } from '../recorder.js';
import { MediaFormatSchema, type MediaFormat } from '../rtp-session.js';
import { recoverSpooledWav } from '../wav-spool.js';
import { FromWorker, ToWorker, type FromWorkerMessage, type ToWorkerMessage } from './protocol.js';
import { epochNowMs, type RecordingProgressSlots } from './progress-slots.js';
import { sharedPcm } from './shared-pcm.js';

/** A session's media worker died (or the pool stopped) under it. */
export class MediaWorkerLostError extends Error {
  override readonly name = 'MediaWorkerLostError';
}

/** What a session needs of its worker: a way to send it commands, and the shared recording progress slots. */
export interface MediaWorkerChannel {
  send(message: ToWorkerMessage, transfer?: ArrayBuffer[]): void;
  readonly progress: RecordingProgressSlots;
}

function errorWithCode(info: { message: string; code?: string }): Error {
  const err: NodeJS.ErrnoException = new Error(info.message);
  if (info.code !== undefined) err.code = info.code;
  return err;
}

/**
 * What a recording whose worker died left in its spool file (written up to its last flush), made a valid WAV
 * again; `lostWith` when there is nothing usable.
 */
async function recoverLostRecording(path: string, lostWith: Error): Promise<RecordingResult> {
  try {
    const recovered = await recoverSpooledWav(path);
    return { path, samples: recovered.samples, durationMs: recovered.durationMs, wav: await readFile(path) };
  } catch {
    throw lostWith;
  }
}

/** A recording made in the worker; its progress is read from the port's shared slot. */
class WorkerRecording implements RecordingHandle {
  readonly ready: Promise<void>;
  readonly #session: WorkerMediaSession;
  readonly #progress: RecordingProgressSlots;
  readonly #port: number;
  readonly #path: string;
  #readySettle!: { resolve: () => void; reject: (err: Error) => void };
  #finished: Promise<RecordingResult> | null = null;
  #finishSettle: { resolve: (r: RecordingResult) => void; reject: (err: Error) => void } | null = null;
  #lostWith: Error | null = null;

  constructor(session: WorkerMediaSession, progress: RecordingProgressSlots, port: number, path: string) {
    this.#session = session;
    this.#progress = progress;
    this.#port = port;
    this.#path = path;
    progress.reset(port, epochNowMs());
    this.ready = new Promise<void>((resolve, reject) => (this.#readySettle = { resolve, reject }));
    // Whoever records handles the failure through `ready` or `finish()`; it is never an unhandled rejection here.
    this.ready.catch(() => undefined);
  }

  get durationMs(): number {
    return (this.#progress.samples(this.#port) * 1000) / SAMPLE_RATE;
  }

  get voiceMs(): number {
    return (this.#progress.voiceSamples(this.#port) * 1000) / SAMPLE_RATE;
  }

  get msSinceVoice(): number {
    return Math.max(0, epochNowMs() - this.#progress.lastVoiceAt(this.#port));
  }

  /** The WAV from the worker; once the worker died, the spool file as it left it (at most one flush interval short). */
  finish(options: FinishRecordingOptions = {}): Promise<RecordingResult> {
    if (this.#finished === null) {
      if (this.#lostWith !== null) this.#finished = recoverLostRecording(this.#path, this.#lostWith);
      else {
        this.#finished = new Promise<RecordingResult>((resolve, reject) => (this.#finishSettle = { resolve, reject }));
        this.#session.finishRecording(options.callerHungUp === true);
      }
    }
    return this.#finished;
  }

  settleReady(error?: Error): void {
    if (error) this.#readySettle.reject(error);
    else this.#readySettle.resolve();
  }

  settleFinish(result: RecordingResult | Error): void {
    const settle = this.#finishSettle;
    this.#finishSettle = null;
    if (settle === null) return;
    if (result instanceof Error) settle.reject(result);
    else settle.resolve(result);
  }

  /**
   * The worker is gone: a spool file never confirmed fails `ready`; `finish()` (awaited now or called later) gives
   * what the spool file holds.
   */
  lose(error: Error): void {
    if (this.#lostWith !== null) return;
    this.#lostWith = error;
    this.#readySettle.reject(error);
    const settle = this.#finishSettle;
    this.#finishSettle = null;
    if (settle !== null) recoverLostRecording(this.#path, error).then(settle.resolve, settle.reject);
  }
}

export class WorkerMediaSession extends EventEmitter<MediaSessionEvents> implements MediaSession {
  readonly sid: number;
  readonly port: number;
  readonly #channel: MediaWorkerChannel;
  readonly #logger: Logger | undefined;
  readonly #plays = new Map<number, (outcome: PlaybackEnd) => void>();
  #nextPid = 1;
  #configured = false;
  #recording: WorkerRecording | null = null;
  #closed = false;
  #lost = false;

  constructor(sid: number, port: number, channel: MediaWorkerChannel, logger?: Logger) {
    super();
    this.sid = sid;
    this.port = port;
    this.#channel = channel;
    this.#logger = logger;
  }

  /** True once the session was closed, or lost with its worker. */
  get closed(): boolean {
    return this.#closed || this.#lost;
  }

  #send(message: ToWorkerMessage): void {
    if (!this.closed) this.#channel.send(message);
  }

  configure(format: MediaFormat): void {
    const parsed = MediaFormatSchema.safeParse(format);
    if (!parsed.success) throw new RangeError(`MediaSession.configure: ${z.prettifyError(parsed.error)}`);
    this.#configured = true;
    this.#send({ op: ToWorker.Configure, sid: this.sid, format: parsed.data });
  }

  setRemote(address: string, port: number): void {
    if (typeof address !== 'string' || address.length === 0) throw new RangeError('setRemote: empty address');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`setRemote: invalid port ${port}`);
    this.#send({ op: ToWorker.Remote, sid: this.sid, address, port });
  }

  setHeld(held: boolean): void {
    this.#send({ op: ToWorker.Held, sid: this.sid, on: held });
  }

  fillPauses(on: boolean): void {
    this.#send({ op: ToWorker.FillPauses, sid: this.sid, on });
  }

  play(pcm: PcmSource, options: PlayOptions = {}): Promise<PlaybackEnd> {
    if (!this.#configured) return Promise.reject(new Error('MediaSession.play: configure() the media format first'));
    const signal = options.signal;
    if (this.closed || signal?.aborted) return Promise.resolve('aborted');
    const segments = (pcm instanceof Int16Array ? [pcm] : pcm).filter((p) => p.length > 0).map(sharedPcm);
    if (segments.length === 0) return Promise.resolve('completed');
    const pid = this.#nextPid++;
    return new Promise<PlaybackEnd>((resolve) => {
      const onAbort = (): void => this.#send({ op: ToWorker.Abort, sid: this.sid, pid });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#plays.set(pid, (outcome) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      });
      this.#send({ op: ToWorker.Play, sid: this.sid, pid, segments });
    });
  }

  startRecording(options: RecordingOptions): RecordingHandle {
    const recording = new WorkerRecording(this, this.#channel.progress, this.port, options.path);
    if (this.closed) recording.lose(new MediaWorkerLostError('the media session is closed'));
    else {
      this.#recording?.lose(new Error('replaced by a new recording'));
      this.#recording = recording;
      this.#send({ op: ToWorker.Record, sid: this.sid, path: options.path, flushMs: options.flushMs, requestedAt: epochNowMs() });
    }
    return recording;
  }

  /** Used by the recording handle (not called once the session is closed: the handle was told by lose()). */
  finishRecording(callerHungUp: boolean): void {
    this.#send({ op: ToWorker.FinishRecording, sid: this.sid, callerHungUp });
  }

  close(): void {
    if (this.closed) return;
    this.#send({ op: ToWorker.Close, sid: this.sid });
    this.#closed = true;
    this.#endPlays();
    this.#recording?.lose(new MediaWorkerLostError('the media session is closed'));
  }

  #endPlays(): void {
    for (const resolve of this.#plays.values()) resolve('aborted');
    this.#plays.clear();
  }

  /** The worker died or the pool stopped: plays end, the recording fails, 'lost' tells the call to hang up. */
  lose(reason: string): void {
    if (this.closed) return;
    this.#lost = true;
    this.#endPlays();
    this.#recording?.lose(new MediaWorkerLostError(reason));
    this.emit('lost', { reason });
  }

  /** A message from the worker for this session. */
  receive(m: FromWorkerMessage): void {
    switch (m.op) {
      case FromWorker.Dtmf:
        if (!this.closed) this.emit('dtmf', { digit: m.digit, source: m.source });
        return;
      case FromWorker.Played: {
        const resolve = this.#plays.get(m.pid);
        this.#plays.delete(m.pid);
        resolve?.(m.outcome);
        return;
      }
      case FromWorker.RecordingReady:
        this.#recording?.settleReady(m.error ? errorWithCode(m.error) : undefined);
        return;
      case FromWorker.RecordingFinished: {
        const wav = Buffer.from(m.wav.buffer, m.wav.byteOffset, m.wav.byteLength);
        const result: RecordingResult = { path: m.path, samples: m.samples, durationMs: m.durationMs, wav };
        if (m.spoolWriteError) result.spoolWriteError = errorWithCode(m.spoolWriteError);
        if (m.unwrittenSamples) result.unwrittenSamples = m.unwrittenSamples;
        this.#recording?.settleFinish(result);
        this.#recording = null;
        return;
      }
      case FromWorker.RecordingFailed:
        this.#recording?.settleFinish(new Error(m.message));
        this.#recording = null;
        return;
      case FromWorker.Closed:
        this.#logger?.info({ port: this.port, ...m.stats }, 'RTP session closed');
        return;
      case FromWorker.SessionError:
        this.#logger?.warn({ port: this.port, err: m.message }, 'media worker: command failed');
        return;
      default:
        return;
    }
  }
}
