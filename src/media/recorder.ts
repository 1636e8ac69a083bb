import { endianness } from 'node:os';
import { z } from 'zod';
import { codecOfStaticPayloadType, decodeG711Into, type G711Codec } from './g711.js';
import { seqDelta, tsDelta } from './rtp-packet.js';
import { WavSpoolWriter } from './wav-spool.js';
import { giveBackSampleBatch, takeSampleBatch } from './sample-batch-pool.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';
import { systemClock, type Clock } from '../shared/clock.js';

/** Where a session delivers received audio packets. */
export interface RtpAudioSink {
  pushRtp(sequenceNumber: number, timestamp: number, ssrc: number, payloadType: number, payload: Uint8Array): void;
}

const SLOTS = 64;
const BIG_ENDIAN = endianness() === 'BE';
/** RFC 3550 App. A.1: MAX_DROPOUT / MAX_MISORDER — beyond these the sequence is taken as restarted. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export const RtpRecorderOptionsSchema = z.object({
  /** Spool WAV path (created or truncated). */
  path: z.string().min(1),
  /** Packets held to put reordered ones back in sequence (default 8 ≈ 160 ms at 20 ms ptime). */
  jitterPackets: z.number().int().min(1).max(SLOTS / 2).default(8),
  /** Audio batched in memory before each asynchronous write (default 250 ms). */
  flushMs: z.number().int().min(20).max(10_000).default(250),
  /** Longest timestamp gap filled with silence; a longer jump is taken as a sender clock reset and not filled (default 10 s). */
  maxGapFillMs: z.number().int().min(0).max(600_000).default(10_000),
  /**
   * Voice-activity threshold: a decoded packet whose RMS level is at or above this many dB below
   * full scale (dBov, 0 = 32767) counts as voice. Default −40 dBov (RMS 328): above line noise and
   * comfort noise, below quiet speech (≈ −30 dBov).
   */
  voiceThresholdDbov: z.number().min(-90).max(0).default(-40),
  /** G.711 on dynamic payload types (0 = PCMU and 8 = PCMA are always known). */
  dynamicPayloadTypes: z.record(z.string().regex(/^\d+$/), z.enum(['PCMU', 'PCMA'])).default({}),
  /** fdatasync the spool file when finishing (default true). */
  fsync: z.boolean().default(true),
});
export type RtpRecorderOptions = z.input<typeof RtpRecorderOptionsSchema>;

export interface RecordingResult {
  path: string;
  samples: number;
  durationMs: number;
  /**
   * The recording as a WAV (8 kHz, 16-bit mono, 44-byte header): the spool file's bytes as written, followed by
   * `unwrittenSamples` when a write failed, its header sizes set to the whole. What the store keeps, as it is.
   */
  wav: Buffer;
  /**
   * Set when writing the spool failed after it was created (disk full: ENOSPC): the file holds the audio up to
   * that point and `unwrittenSamples` the rest, kept in memory, so that the whole recording is still available.
   */
  spoolWriteError?: Error;
  unwrittenSamples?: Int16Array;
}

export interface RecorderStats {
  /** Second copies of a packet still in the jitter window. */
  duplicates: number;
  /** Packets arriving after their place had been given up or written (late duplicates included). */
  late: number;
  /** Sequence numbers never received. */
  lost: number;
  /** Packets with a payload type that is not G.711. */
  unknownPayload: number;
  /** New SSRCs appended. */
  streams: number;
  /** Timestamp jumps too long to fill. */
  discontinuities: number;
}

/**
 * Records the received G.711 audio of one call into a spool WAV (8 kHz, 16-bit mono).
 *
 * Packets are put back in sequence-number order through a jitter window of `jitterPackets` (16-bit
 * wrap-around aware); duplicates are dropped; missing packets and silence suppression are filled with
 * zeros from RTP timestamps; a new SSRC is appended right after what was recorded. Every sample
 * decoded from a received payload is written, nothing else is dropped or resampled. Each 10/20/30 ms
 * payload length works, with PCMU or PCMA chosen per packet from its payload type.
 */
export class RtpRecorder implements RtpAudioSink {
  readonly path: string;
  readonly stats: RecorderStats = { duplicates: 0, late: 0, lost: 0, unknownPayload: 0, streams: 0, discontinuities: 0 };
  readonly #spool: WavSpoolWriter;
  readonly #window: number;
  readonly #flushSamples: number;
  readonly #maxGapSamples: number;
  readonly #voiceSumSqPerSample: number;
  readonly #payloadTypes = new Map<number, G711Codec>();
  readonly #now: () => number;
  readonly #startedAt: number;
  // Jitter window: slot = seq & (SLOTS − 1).
  readonly #slotPayload: (Uint8Array | null)[] = new Array<Uint8Array | null>(SLOTS).fill(null);
  readonly #slotTs = new Uint32Array(SLOTS);
  readonly #slotCodec: G711Codec[] = new Array<G711Codec>(SLOTS).fill('PCMU');
  #held = 0;
  #ssrc = -1;
  #expected = 0;
  #nextTs = 0;
  #streamStarted = false;
  #chunk: Int16Array;
  #chunkFill = 0;
  #samples = 0;
  #voiceSamples = 0;
  #lastVoiceAt = NaN;
  #finished: Promise<RecordingResult> | null = null;

  private constructor(options: z.output<typeof RtpRecorderOptionsSchema>, spool: WavSpoolWriter, clock: Clock) {
    this.path = options.path;
    this.#spool = spool;
    this.#window = options.jitterPackets;
    this.#flushSamples = (options.flushMs * SAMPLE_RATE) / 1000;
    this.#maxGapSamples = (options.maxGapFillMs * SAMPLE_RATE) / 1000;
    const rms = 32767 * 10 ** (options.voiceThresholdDbov / 20);
    this.#voiceSumSqPerSample = rms * rms;
    for (const [pt, codec] of Object.entries(options.dynamicPayloadTypes)) this.#payloadTypes.set(Number(pt), codec);
    this.#now = clock === systemClock ? systemClock.now : () => clock.now();
    this.#startedAt = this.#now();
    this.#chunk = takeSampleBatch(this.#flushSamples);
  }

  /** Validates `options`, creates the spool file and returns a recorder ready for packets. */
  static async create(options: RtpRecorderOptions, clock: Clock = systemClock): Promise<RtpRecorder> {
    const recorder = RtpRecorder.start(options, clock);
    await recorder.ready;
    return recorder;
  }

  /**
   * Validates `options` (throws a RangeError) and returns a recorder that takes packets at once while its spool
   * file is created in the background; `ready` (and `finish()`) report a failure to create it.
   */
  static start(options: RtpRecorderOptions, clock: Clock = systemClock): RtpRecorder {
    const parsed = RtpRecorderOptionsSchema.safeParse(options);
    if (!parsed.success) throw new RangeError(`RtpRecorder options: ${z.prettifyError(parsed.error)}`);
    return new RtpRecorder(parsed.data, WavSpoolWriter.start(parsed.data.path, SAMPLE_RATE, parsed.data.fsync), clock);
  }

  /** Settles when the spool file exists with its header; rejects with the error that prevented it. */
  get ready(): Promise<void> {
    return this.#spool.ready;
  }

  /** Samples recorded so far (including silence fill), not counting packets still in the jitter window. */
  get samples(): number {
    return this.#samples;
  }

  get durationMs(): number {
    return (this.#samples * 1000) / SAMPLE_RATE;
  }

  /** Milliseconds of recorded audio at or above the voice threshold. */
  get voiceMs(): number {
    return (this.#voiceSamples * 1000) / SAMPLE_RATE;
  }

  /** Wall-clock ms since the last packet above the voice threshold was recorded (since creation if none yet). */
  get msSinceVoice(): number {
    return this.#now() - this.lastVoiceAt;
  }

  /** When the last packet above the voice threshold was recorded, on the recorder's clock (its start if none yet). */
  get lastVoiceAt(): number {
    return this.#lastVoiceAt === this.#lastVoiceAt ? this.#lastVoiceAt : this.#startedAt;
  }

  pushRtp(seq: number, timestamp: number, ssrc: number, payloadType: number, payload: Uint8Array): void {
    if (this.#finished) return;
    const codec = this.#payloadTypes.get(payloadType) ?? codecOfStaticPayloadType(payloadType);
    if (codec === null || codec === undefined) {
      this.stats.unknownPayload++;
      return;
    }
    if (ssrc !== this.#ssrc) this.#startStream(ssrc, seq);
    let d = seqDelta(seq, this.#expected);
    if (d < 0) {
      if (d >= -MAX_MISORDER) {
        this.stats.late++;
        return;
      }
      this.#resync(seq);
      d = 0;
    } else if (d >= MAX_DROPOUT) {
      this.#resync(seq);
      d = 0;
    }
    // Make room: give up on the oldest awaited packets until this one fits in the window.
    while (d >= this.#window) {
      this.#emitOrSkip();
      d--;
    }
    const slot = seq & (SLOTS - 1);
    if (this.#slotPayload[slot] !== null) {
      this.stats.duplicates++;
      return;
    }
    this.#slotPayload[slot] = payload;
    this.#slotTs[slot] = timestamp;
    this.#slotCodec[slot] = codec;
    this.#held++;
    while (this.#slotPayload[this.#expected & (SLOTS - 1)] !== null) this.#emitOrSkip();
  }

  /** Drains the jitter window, writes the last batch, patches the WAV header and reads the WAV back. Idempotent. */
  finish(): Promise<RecordingResult> {
    if (!this.#finished) {
      this.#drain();
      this.#flushChunk();
      // Nothing is recorded after this: the batch the last flush took goes back unused.
      giveBackSampleBatch(this.#chunk);
      this.#finished = this.#spool.finishedWav().then((wav) => {
        const result: RecordingResult = { path: this.path, samples: this.#samples, durationMs: this.durationMs, wav };
        const error = this.#spool.writeError;
        return error ? { ...result, spoolWriteError: error, unwrittenSamples: this.#spool.unwrittenSamples() } : result;
      });
    }
    return this.#finished;
  }

  #startStream(ssrc: number, seq: number): void {
    this.#drain();
    this.#ssrc = ssrc;
    this.stats.streams++;
    this.#resync(seq);
  }

  /**
   * Starts the window half a window before `seq`, so packets of the stream's first moments that arrive
   * reordered still find their place; the empty slots before the first packet are not counted as lost.
   */
  #resync(seq: number): void {
    this.#drain();
    this.#expected = (seq - (this.#window >> 1)) & 0xffff;
    this.#streamStarted = false;
  }

  #drain(): void {
    while (this.#held > 0) this.#emitOrSkip();
  }

  /** Emits the packet awaited at the head of the window, or gives up on it; advances the head. */
  #emitOrSkip(): void {
    const slot = this.#expected & (SLOTS - 1);
    const payload = this.#slotPayload[slot]!;
    this.#expected = (this.#expected + 1) & 0xffff;
    if (payload === null) {
      if (this.#streamStarted) this.stats.lost++;
      return;
    }
    this.#slotPayload[slot] = null;
    this.#held--;
    const ts = this.#slotTs[slot]!;
    if (this.#streamStarted) {
      const gap = tsDelta(ts, this.#nextTs);
      if (gap > this.#maxGapSamples) this.stats.discontinuities++;
      else if (gap > 0) this.#writeSilence(gap);
    }
    this.#streamStarted = true;
    this.#nextTs = (ts + payload.length) >>> 0;
    this.#writeDecoded(this.#slotCodec[slot]!, payload);
  }

  #writeSilence(n: number): void {
    this.#samples += n;
    while (n > 0) {
      const take = Math.min(n, this.#flushSamples - this.#chunkFill);
      this.#chunk.fill(0, this.#chunkFill, this.#chunkFill + take);
      this.#chunkFill += take;
      n -= take;
      if (this.#chunkFill === this.#flushSamples) this.#flushChunk();
    }
  }

  #writeDecoded(codec: G711Codec, payload: Uint8Array): void {
    const n = payload.length;
    let sumSq = 0;
    let from = 0;
    while (from < n) {
      const take = Math.min(n - from, this.#flushSamples - this.#chunkFill);
      const at = this.#chunkFill;
      decodeG711Into(codec, payload.subarray(from, from + take), this.#chunk, at);
      for (let i = at; i < at + take; i++) sumSq += this.#chunk[i]! * this.#chunk[i]!;
      this.#chunkFill += take;
      from += take;
      if (this.#chunkFill === this.#flushSamples) this.#flushChunk();
    }
    this.#samples += n;
    if (n > 0 && sumSq >= this.#voiceSumSqPerSample * n) {
      this.#voiceSamples += n;
      this.#lastVoiceAt = this.#now();
    }
  }

  #flushChunk(): void {
    if (this.#chunkFill === 0) return;
    const chunk = this.#chunk;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, this.#chunkFill * 2);
    if (BIG_ENDIAN) bytes.swap16();
    // Written, the batch serves another flush (sample-batch-pool.ts); kept by the spool after a write error, it is not.
    this.#spool.append(bytes, () => giveBackSampleBatch(chunk));
    this.#chunk = takeSampleBatch(this.#flushSamples);
    this.#chunkFill = 0;
  }
}
