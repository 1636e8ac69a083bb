/**
 * `Call` over a SIP dialog and its RTP session: prompts go out through the session's paced player, DTMF comes from
 * RFC 4733 events, in-band tones (both via the session) and SIP INFO (via the dialog), recordings go to a spool WAV.
 */
import type { Logger } from '../shared/log.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { SipDialog } from '../sip/sip-dialog.js';
import type { SipRequest } from '../sip/message.js';
import type { NegotiatedMedia } from '../sip/sdp.js';
import { parseDtmfInfoBody, spoolWavSamples, truncateSpoolWav, type MediaSession, type PcmSource } from '../media/index.js';
import type { Call, CollectOptions, PlayOutcome, RecordOptions, RecordResult } from './call.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';

/** After a hang-up, how long the recording still takes the audio that was sent before the BYE. */
const HANGUP_DRAIN_MS = 200;
/** A recording stops this long after its maximum length by the wall clock even when the audio is behind (caller stopped sending). */
const RECORD_BACKSTOP_MS = 2000;
/**
 * Audio batched in memory between two spool writes: 1 s keeps the write rate at one per call per second
 * (at 1000 concurrent recordings, 1000 writes/s through the libuv thread pool instead of 4000 at 250 ms);
 * a crash of the process loses at most this much of the recordings in progress.
 */
const RECORD_FLUSH_MS = 1000;

/** Applies negotiated SDP parameters to the media session. */
export function configureSession(session: MediaSession, media: NegotiatedMedia): void {
  session.configure({
    codec: media.codec,
    payloadType: media.payloadType,
    ptimeMs: media.ptimeMs,
    telephoneEventPayloadTypes: media.telephoneEventPayloadTypes,
    ...(media.comfortNoisePayloadType === undefined ? {} : { comfortNoisePayloadType: media.comfortNoisePayloadType }),
  });
  // RFC 3264 §5.1: "If the offerer wishes to only send media on a stream to its peer, it MUST mark the stream as
  // sendonly" — a stream on hold (sendonly/inactive from the peer, or the RFC 2543 c=0.0.0.0) gets no media from us.
  const held = media.remoteAddress === '0.0.0.0' || media.direction === 'recvonly' || media.direction === 'inactive';
  if (!held) session.setRemote(media.remoteAddress, media.remotePort);
  // RFC 3264 §5.1: "If the offerer wishes to only receive media from its peer, it MUST mark the stream as recvonly"
  // — our answer mirrors the peer's sendonly as recvonly: no prompt frame nor silence goes out until it resumes.
  session.setHeld(held);
}

export class SipCall implements Call {
  readonly callId: string;
  readonly logger: Logger;
  readonly whenEnded: Promise<void>;
  readonly #dialog: SipDialog;
  readonly #session: MediaSession;
  readonly #clock: Clock;
  readonly #digits: string[] = [];
  readonly #digitWaiters = new Set<() => void>();
  #ended = false;
  #endedResolve!: () => void;

  /** `clock` times the digit and recording deadlines (the media session's own clock times its silence detection). */
  constructor(dialog: SipDialog, session: MediaSession, logger: Logger, clock: Clock = systemClock) {
    this.callId = dialog.callId;
    this.#clock = clock;
    this.logger = logger;
    this.#dialog = dialog;
    this.#session = session;
    this.whenEnded = new Promise((r) => (this.#endedResolve = r));
    session.on('dtmf', ({ digit, source }: { digit: string; source: string }) => this.#digit(digit, source));
    // The media of the call is gone (its media worker died): the caller would hear nothing more, so end the call.
    session.on('lost', ({ reason }: { reason: string }) => {
      this.logger.error({ reason }, 'call media lost: hanging up');
      this.hangup().catch((err: unknown) => this.logger.warn({ err }, 'BYE after lost media failed'));
    });
    dialog.on('info', (req: SipRequest) => {
      const digit = parseDtmfInfoBody(req.headers.get('Content-Type') ?? '', req.body);
      if (digit) this.#digit(digit, 'sip-info');
    });
    dialog.on('reoffer', (media: NegotiatedMedia) => configureSession(session, media));
    // While the call is up the caller hears our stream without a break: prompts, and G.711 silence (or comfort
    // noise) in every pause and during the recording, or its RTP inactivity timer (linphone `nortp_timeout`,
    // Asterisk `rtptimeout`, FreeSWITCH `media_timeout`) hangs up after ~30 s.
    session.fillPauses(true);
    dialog.once('terminated', (reason: string) => {
      session.fillPauses(false);
      this.logger.info({ reason }, 'call ended');
      this.#ended = true;
      this.#endedResolve();
      this.#wake();
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  #digit(digit: string, source: string): void {
    this.logger.debug({ digit, source }, 'DTMF');
    this.#digits.push(digit);
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#digitWaiters]) w();
  }

  /** Waits until a digit is queued, the call ends, or `ms` pass. */
  #waitForDigit(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        this.#digitWaiters.delete(done);
        resolve();
      };
      const timer = this.#clock.setTimer(ms, done);
      this.#digitWaiters.add(done);
    });
  }

  async play(pcm: PcmSource, opts: { bargeIn?: boolean } = {}): Promise<PlayOutcome> {
    if (this.#ended) return 'hangup';
    if (opts.bargeIn && this.#digits.length > 0) return 'interrupted';
    const abort = new AbortController();
    const stop = (): void => {
      if (this.#ended || (opts.bargeIn && this.#digits.length > 0)) abort.abort();
    };
    this.#digitWaiters.add(stop);
    try {
      const outcome = await this.#session.play(pcm, { signal: abort.signal });
      if (this.#ended) return 'hangup';
      return outcome === 'aborted' ? 'interrupted' : 'completed';
    } finally {
      this.#digitWaiters.delete(stop);
    }
  }

  async collect(opts: CollectOptions): Promise<string | null> {
    let typed = '';
    let deadline = this.#clock.now() + opts.firstDigitTimeoutMs;
    for (;;) {
      while (this.#digits.length > 0) {
        const d = this.#digits.shift()!;
        if (opts.terminator !== undefined && d === opts.terminator) return typed;
        typed += d;
        if (typed.length >= opts.maxDigits) return typed;
        deadline = this.#clock.now() + opts.interDigitTimeoutMs;
      }
      if (this.#ended) return null;
      const left = deadline - this.#clock.now();
      if (left <= 0) return typed;
      await this.#waitForDigit(left);
    }
  }

  flushDigits(): void {
    this.#digits.length = 0;
  }

  async record(opts: RecordOptions): Promise<RecordResult> {
    // Attached before the spool file exists (it is created in the background), so the packets of the first
    // instant after the beep are kept even when the disk is busy.
    const recorder = this.#session.startRecording({ path: opts.spoolPath, flushMs: RECORD_FLUSH_MS });
    this.logger.debug({ path: opts.spoolPath }, 'recording started');
    let spoolError: Error | null = null;
    recorder.ready.catch((err: unknown) => {
      spoolError = err as Error;
      this.#wake();
    });
    // No polling: a digit or the hang-up wakes the wait at once; otherwise it sleeps until the earliest instant an
    // end condition could become true (the recorded audio reaching the maximum length, the silence timeout since
    // the last voice, or the wall-clock backstop for a caller who stopped sending) and re-checks then.
    const hardStopAt = this.#clock.now() + opts.maxDurationMs + RECORD_BACKSTOP_MS;
    let end: RecordResult['end'] | undefined;
    let digit: string | undefined;
    let finished: ReturnType<typeof recorder.finish>;
    try {
      while (!end) {
        if (spoolError) throw spoolError;
        if (this.#ended) {
          end = 'hangup';
          break;
        }
        const stopAt = this.#digits.findIndex((d) => opts.stopDigits.includes(d));
        if (stopAt >= 0) {
          digit = this.#digits[stopAt];
          this.#digits.splice(0, stopAt + 1);
          end = 'dtmf';
          break;
        }
        // Audio arrives at most about as fast as real time, so the audio still missing is also the earliest wait.
        let waitMs = Math.min(opts.maxDurationMs - recorder.durationMs, hardStopAt - this.#clock.now());
        if (waitMs <= 0) {
          end = 'max-length';
          break;
        }
        if (opts.silenceTimeoutMs > 0) {
          const quietLeftMs = opts.silenceTimeoutMs - recorder.msSinceVoice;
          if (quietLeftMs <= 0) {
            end = 'silence';
            break;
          }
          waitMs = Math.min(waitMs, quietLeftMs);
        }
        await this.#waitForDigit(Math.max(1, Math.ceil(waitMs)));
      }
      // The BYE travels on the SIP socket, the caller's last audio on the RTP socket: packets sent just before the
      // hang-up may still be in flight or queued behind it. Keep listening a moment so the end of the message is kept.
      if (end === 'hangup') await new Promise<void>((r) => this.#clock.setTimer(HANGUP_DRAIN_MS, r));
    } finally {
      // No packet after this instant is recorded (finish() detaches the recorder at once).
      finished = recorder.finish({ callerHungUp: end === 'hangup' });
      finished.catch(() => undefined);
    }
    // The recorder hands over the spool WAV as written (plus the tail a full disk kept in memory): no decoding.
    const result = await finished;
    if (result.spoolWriteError) {
      // Disk full (or another write error) on the spool: the recording is not lost, its tail was kept in memory.
      this.logger.warn({ err: result.spoolWriteError.message, code: (result.spoolWriteError as NodeJS.ErrnoException).code, keptInMemoryMs: (result.unwrittenSamples!.length * 1000) / SAMPLE_RATE }, 'recording: spool write failed; the message is stored from memory (no crash recovery for it)');
    }
    // The maximum length is a hard limit on what is kept, whatever arrived in a burst before the last check.
    const wav = truncateSpoolWav(result.wav, Math.floor((opts.maxDurationMs * SAMPLE_RATE) / 1000));
    const samples = spoolWavSamples(wav);
    this.logger.info({ end, digit, durationMs: (samples.length * 1000) / SAMPLE_RATE }, 'recording ended');
    return { end, ...(digit !== undefined ? { digit } : {}), path: result.path, wav, samples, durationMs: (samples.length * 1000) / SAMPLE_RATE };
  }

  async hangup(): Promise<void> {
    if (this.#ended) return;
    await this.#dialog.bye();
  }
}
