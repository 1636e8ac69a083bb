import { randomInt } from 'node:crypto';
import { encodeG711Into, silenceByteFor, type G711Codec } from './g711.js';
import type { PacedJob, PacingScheduler } from './pacer.js';
import { RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.js';

/** What the player needs from the session it speaks on. */
export interface RtpDatagramSink {
  /** Sends one datagram to the current remote; returns false when no remote is known yet. */
  sendDatagram(datagram: Uint8Array): boolean;
}

export interface PlaybackFormat {
  codec: G711Codec;
  payloadType: number;
  ptimeMs: number;
}

export interface PlayOptions {
  /** Aborting stops the prompt before its next frame (barge-in); the promise then resolves 'aborted'. */
  signal?: AbortSignal;
}

export type PlayOutcome = 'completed' | 'aborted';

const SAMPLE_RATE = 8000;

/**
 * Sends 8 kHz PCM prompts as G.711 RTP on one session: one SSRC for the session's lifetime,
 * sequence numbers and timestamps continuing across consecutive prompts, frame k of a prompt
 * sent at start + k·ptime on the shared {@link PacingScheduler}. Prompts asked for while one is
 * playing are queued and played in order.
 */
export class PromptPlayer {
  readonly ssrc: number;
  readonly #sink: RtpDatagramSink;
  readonly #scheduler: PacingScheduler;
  #seq: number;
  /** RTP timestamp of the next frame to send. */
  #timestamp: number;
  /** Scheduled send time of the frame that would follow the last one sent, or NaN before the first prompt. */
  #nextDue = NaN;
  #tail: Promise<unknown> = Promise.resolve();
  #active: PlaybackJob | null = null;
  #closed = false;
  /** RTP packets sent by this player. */
  packetsSent = 0;
  /** Frames dropped because no remote address was known at send time. */
  framesWithoutRemote = 0;

  constructor(sink: RtpDatagramSink, scheduler: PacingScheduler) {
    this.#sink = sink;
    this.#scheduler = scheduler;
    // RFC 3550 §5.1: "The initial value of the sequence number SHOULD be random (unpredictable) […]"
    // and "The initial value of the timestamp SHOULD be random"; the SSRC "SHOULD be chosen randomly".
    this.ssrc = randomInt(0, 2 ** 32 - 1) >>> 0;
    this.#seq = randomInt(0, 0x10000);
    this.#timestamp = randomInt(0, 2 ** 32 - 1) >>> 0;
  }

  /** True while a prompt is being sent. */
  get playing(): boolean {
    return this.#active !== null;
  }

  /** Plays `pcm` (8 kHz mono) in `format`; resolves when the last frame was sent or the signal aborted. */
  play(pcm: Int16Array, format: PlaybackFormat, options: PlayOptions = {}): Promise<PlayOutcome> {
    const signal = options.signal;
    const run = async (): Promise<PlayOutcome> => {
      if (this.#closed || signal?.aborted) return 'aborted';
      if (pcm.length === 0) return 'completed';
      return this.#start(pcm, format, signal);
    };
    const result = this.#tail.then(run, run);
    this.#tail = result;
    return result;
  }

  /** Aborts the current prompt and every queued one. */
  close(): void {
    this.#closed = true;
    this.#active?.abort();
  }

  #start(pcm: Int16Array, format: PlaybackFormat, signal: AbortSignal | undefined): Promise<PlayOutcome> {
    const now = this.#scheduler.now();
    const { ptimeMs } = format;
    const samplesPerFrame = (SAMPLE_RATE * ptimeMs) / 1000;
    let start: number;
    let marker: boolean;
    if (this.#nextDue === this.#nextDue && now - this.#nextDue < ptimeMs) {
      // The previous prompt ended less than a frame ago: continue its schedule and its talkspurt.
      start = this.#nextDue;
      marker = false;
    } else {
      // RFC 3550 §5.1: "the timestamp […] MUST increase linearly and monotonically with time": advance by the silent gap.
      if (this.#nextDue === this.#nextDue) {
        this.#timestamp = (this.#timestamp + Math.round(((now - this.#nextDue) * SAMPLE_RATE) / 1000)) >>> 0;
      }
      start = now;
      // RFC 3551 §4.1: "For applications which send no packets during silence, the first packet of a talkspurt
      // (first packet after a silence period) is distinguished by setting the marker bit in the RTP data header to one."
      marker = true;
    }
    const frames = Math.ceil(pcm.length / samplesPerFrame);
    const stride = RTP_HEADER_BYTES + samplesPerFrame;
    const datagrams = Buffer.allocUnsafe(frames * stride);
    for (let f = 0; f < frames; f++) {
      const from = f * samplesPerFrame;
      const to = Math.min(pcm.length, from + samplesPerFrame);
      const payloadAt = f * stride + RTP_HEADER_BYTES;
      encodeG711Into(format.codec, pcm.subarray(from, to), datagrams, payloadAt);
      if (to - from < samplesPerFrame) datagrams.fill(silenceByteFor(format.codec), payloadAt + (to - from), payloadAt + samplesPerFrame);
    }
    return new Promise<PlayOutcome>((resolve) => {
      const job = new PlaybackJob(this, this.#scheduler, datagrams, frames, stride, samplesPerFrame, format, start, marker, resolve, signal);
      this.#active = job;
      this.#scheduler.schedule(job);
    });
  }

  /** Called by the job for each frame: stamps and sends it, advancing seq/timestamp. */
  sendFrame(datagram: Uint8Array, payloadType: number, marker: boolean, samples: number, nextDue: number): void {
    writeRtpHeader(datagram, 0, marker, payloadType, this.#seq, this.#timestamp, this.ssrc);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    this.#nextDue = nextDue;
    if (this.#sink.sendDatagram(datagram)) this.packetsSent++;
    else this.framesWithoutRemote++;
  }

  /** Called by the job when it ends. */
  jobEnded(job: PlaybackJob): void {
    if (this.#active === job) this.#active = null;
  }
}

/** One prompt being played: a job of the shared pacing scheduler. */
class PlaybackJob implements PacedJob {
  due: number;
  readonly #player: PromptPlayer;
  readonly #scheduler: PacingScheduler;
  readonly #datagrams: Buffer;
  readonly #frames: number;
  readonly #stride: number;
  readonly #samplesPerFrame: number;
  readonly #payloadType: number;
  readonly #ptimeMs: number;
  readonly #start: number;
  readonly #resolve: (outcome: PlayOutcome) => void;
  readonly #signal: AbortSignal | undefined;
  #marker: boolean;
  #frame = 0;
  #done = false;

  constructor(
    player: PromptPlayer,
    scheduler: PacingScheduler,
    datagrams: Buffer,
    frames: number,
    stride: number,
    samplesPerFrame: number,
    format: PlaybackFormat,
    start: number,
    marker: boolean,
    resolve: (outcome: PlayOutcome) => void,
    signal: AbortSignal | undefined,
  ) {
    this.#player = player;
    this.#scheduler = scheduler;
    this.#datagrams = datagrams;
    this.#frames = frames;
    this.#stride = stride;
    this.#samplesPerFrame = samplesPerFrame;
    this.#payloadType = format.payloadType;
    this.#ptimeMs = format.ptimeMs;
    this.#start = start;
    this.#marker = marker;
    this.#resolve = resolve;
    this.#signal = signal;
    this.due = start;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  #onAbort = (): void => {
    this.#scheduler.cancel(this);
    this.finish('aborted');
  };

  /** Stops the prompt before its next frame. */
  abort(): void {
    this.#onAbort();
  }

  finish(outcome: PlayOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#player.jobEnded(this);
    this.#resolve(outcome);
  }

  run(): number {
    if (this.#done) return NaN;
    const k = this.#frame++;
    const at = k * this.#stride;
    const nextDue = this.#start + (k + 1) * this.#ptimeMs;
    this.#player.sendFrame(this.#datagrams.subarray(at, at + this.#stride), this.#payloadType, this.#marker, this.#samplesPerFrame, nextDue);
    this.#marker = false;
    if (this.#frame >= this.#frames) {
      this.finish('completed');
      return NaN;
    }
    return nextDue;
  }
}
