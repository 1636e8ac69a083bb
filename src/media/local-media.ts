/**
 * `media.workers` = 0: each call's {@link RtpSession} lives on this event loop (the SIP thread), paced by the
 * process-wide scheduler, its recorder writing the spool from here.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { MediaSession, MediaSessionEvents, MediaSessionFactory, RecordingHandle, RecordingOptions } from './media-session.js';
import type { PcmSource, PlayOptions, PlaybackEnd } from './player.js';
import type { RtpPortAllocator } from './port-allocator.js';
import { RtpRecorder, type RecordingResult } from './recorder.js';
import { RtpSession, type DtmfEvent, type MediaFormat, type RtpSessionOptions } from './rtp-session.js';

/** A recording made by an {@link RtpRecorder} attached to the session on this thread. */
class LocalRecording implements RecordingHandle {
  readonly #recorder: RtpRecorder;
  readonly #detach: () => void;

  constructor(recorder: RtpRecorder, detach: () => void) {
    this.#recorder = recorder;
    this.#detach = detach;
  }

  get durationMs(): number {
    return this.#recorder.durationMs;
  }

  get msSinceVoice(): number {
    return this.#recorder.msSinceVoice;
  }

  get voiceMs(): number {
    return this.#recorder.voiceMs;
  }

  get ready(): Promise<void> {
    return this.#recorder.ready;
  }

  /** On this thread the caller's drain wait (SipCall) already ran on the loop that reads the socket. */
  finish(): Promise<RecordingResult> {
    this.#detach();
    return this.#recorder.finish();
  }
}

/** {@link MediaSession} over an RtpSession of this thread. */
export class LocalMediaSession extends EventEmitter<MediaSessionEvents> implements MediaSession {
  /** The session itself, for tests and metrics that look inside. */
  readonly rtp: RtpSession;
  readonly #clock: Clock;
  readonly #onClose: (() => void) | undefined;
  #recording: LocalRecording | null = null;

  /** `clock` times the recorder's silence detection; `onClose` runs once when the session is closed. */
  constructor(rtp: RtpSession, clock: Clock = systemClock, onClose?: () => void) {
    super();
    this.rtp = rtp;
    this.#clock = clock;
    this.#onClose = onClose;
    rtp.on('dtmf', (e: DtmfEvent) => this.emit('dtmf', e));
  }

  get port(): number {
    return this.rtp.port;
  }

  configure(format: MediaFormat): void {
    this.rtp.configure(format);
  }

  setRemote(address: string, port: number): void {
    this.rtp.setRemote(address, port);
  }

  setHeld(held: boolean): void {
    this.rtp.setHeld(held);
  }

  fillPauses(on: boolean): void {
    this.rtp.fillPauses(on);
  }

  play(pcm: PcmSource, options?: PlayOptions): Promise<PlaybackEnd> {
    return this.rtp.play(pcm, options);
  }

  startRecording(options: RecordingOptions): RecordingHandle {
    const recorder = RtpRecorder.start({ path: options.path, flushMs: options.flushMs }, this.#clock);
    const recording = new LocalRecording(recorder, () => {
      if (this.#recording === recording) {
        this.rtp.attachRecorder(null);
        this.#recording = null;
      }
    });
    this.#recording = recording;
    this.rtp.attachRecorder(recorder);
    return recording;
  }

  close(): void {
    this.#recording = null;
    this.rtp.close();
    this.#onClose?.();
  }
}

/** Opens {@link LocalMediaSession}s on ports of one allocator. */
export class LocalMediaSessions implements MediaSessionFactory {
  readonly #ports: RtpPortAllocator;
  readonly #options: RtpSessionOptions;
  readonly #clock: Clock;
  readonly #open = new Set<LocalMediaSession>();

  constructor(ports: RtpPortAllocator, options: RtpSessionOptions, clock: Clock = systemClock) {
    this.#ports = ports;
    this.#options = options;
    this.#clock = clock;
  }

  async open(deps: { logger?: Logger } = {}): Promise<MediaSession> {
    const rtp = await RtpSession.open(this.#ports, this.#options, deps.logger ? { logger: deps.logger } : {});
    const session: LocalMediaSession = new LocalMediaSession(rtp, this.#clock, () => this.#open.delete(session));
    this.#open.add(session);
    return session;
  }

  async stop(): Promise<void> {
    for (const s of [...this.#open]) s.close();
  }
}
