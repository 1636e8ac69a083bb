import { randomInt } from 'node:crypto';
import { encodeG711Into, silenceByteFor, type G711Codec } from './g711.js';
import type { PacedJob, PacingScheduler } from './pacer.js';
import { LATE_SEND_THRESHOLD_MS, rtpPacketTotals } from './rtp-counters.js';
import { RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.js';
import { SilencePacketSource, type SilenceFormat } from './silence.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';

/** What the player needs from the session it speaks on. */
export interface RtpDatagramSink {
  /** Sends one datagram to the current remote; returns false when no remote is known yet. */
  sendDatagram(datagram: Uint8Array): boolean;
  /** Datagrams handed to the socket whose send has not completed yet (they still reference their buffer). */
  pendingSends?(): number;
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

export type PlaybackEnd = 'completed' | 'aborted';

/** A wake-up later than this (an event-loop stall) skips the missed frames instead of sending them in a burst. */
const MAX_CATCH_UP_MS = 1000;

/**
 * Datagrams a player keeps for its prompt frames, reused in turn. Each frame is encoded into the next slot when it
 * is sent (not the whole prompt up front: an 11 s greeting would cost ~93 KB per call at 30 ms ptime), so a slot
 * is rewritten PROMPT_RING_SIZE frames later; past that many sends still queued in the socket a frame gets its own copy.
 */
const PROMPT_RING_SIZE = 8;

/** 8 kHz PCM to play: one array, or several played back to back as one prompt (shared arrays, never copied). */
export type PcmSource = Int16Array | readonly Int16Array[];

/** One queued prompt: its PCM (read, never written) and where the next frame starts in it. */
interface Prompt {
  readonly segments: readonly Int16Array[];
  /** Segment and sample offset in it where the next frame starts. */
  segment: number;
  offset: number;
  readonly frames: number;
  readonly stride: number;
  readonly samplesPerFrame: number;
  readonly codec: G711Codec;
  readonly payloadType: number;
  readonly ptimeMs: number;
  readonly resolve: (outcome: PlaybackEnd) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  frame: number;
}

/**
 * The one RTP stream a call sends: prompts as G.711, and — once {@link fillPauses} is on — G.711 silence or RFC
 * 3389 comfort noise whenever no prompt is playing, so the peer never sees the stream stop while the call is up.
 *
 * One SSRC for the session's lifetime; sequence numbers and timestamps continue across prompts and silence.
 * A single job on the shared {@link PacingScheduler} sends frame k at start + k·ptime (absolute schedule, no timer
 * per call). Prompts asked for while one is playing are queued and played in order. On hold ({@link setHeld}) no
 * packet is sent, prompts still run in real time, the timestamp keeps following the clock.
 */
export class PromptPlayer implements PacedJob {
  readonly ssrc: number;
  /** Scheduler due time of the next frame (PacedJob). */
  due = 0;
  readonly #sink: RtpDatagramSink;
  readonly #scheduler: PacingScheduler;
  readonly #queue: Prompt[] = [];
  #silence: SilencePacketSource | null = null;
  #fill = false;
  #held = false;
  #scheduled = false;
  #closed = false;
  #seq: number;
  /** RTP timestamp of the next frame to send. */
  #timestamp: number;
  /** Scheduled time of the frame that would follow the last one run, or NaN before the first. */
  #nextDue = NaN;
  /** The next packet sent starts a talkspurt (RFC 3551 §4.1). */
  #marker = true;
  /** The previous frame run was a prompt frame (a following prompt continues its talkspurt). */
  #lastWasPrompt = false;
  /** The frame being run is more than LATE_SEND_THRESHOLD_MS behind its schedule. */
  #late = false;
  /** RTP packets sent by this player (prompt frames and silence). */
  packetsSent = 0;
  /** Of which silence or comfort-noise packets. */
  silencePacketsSent = 0;
  /** Frames dropped because no remote address was known at send time. */
  framesWithoutRemote = 0;
  /** Datagram slots for prompt frames (PROMPT_RING_SIZE × stride), allocated at the first prompt of a stride. */
  #ring: Buffer | null = null;
  #ringStride = 0;
  #ringNext = 0;
  /** Scheduler wake-up of the last frame sent, and frames sent in it. */
  #sendWake = -1;
  #sentThisWake = 0;

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
    return this.#queue.length > 0;
  }

  /** True while packets go out (prompt or silence) on the scheduler. */
  get streaming(): boolean {
    return this.#scheduled;
  }

  /** Format of the silence sent between prompts (the negotiated codec/ptime, CN when negotiated). */
  setSilenceFormat(format: SilenceFormat): void {
    if (this.#silence?.matches(format)) return;
    this.#silence = new SilencePacketSource(format);
    this.#kick();
  }

  /** Sends silence whenever no prompt plays (on while the call is up). */
  fillPauses(on: boolean): void {
    this.#fill = on;
    this.#kick();
  }

  /**
   * RFC 3264 §5.1: "If the offerer wishes to only receive media from its peer, it MUST mark the stream as recvonly"
   * — when the peer puts us on hold (its sendonly/inactive makes us recvonly/inactive) we stop sending; unhold resumes.
   */
  setHeld(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    this.#marker = true;
    this.#kick();
  }

  /**
   * Plays `pcm` (8 kHz mono; several arrays play back to back as one prompt) in `format`; resolves when the last
   * frame was sent or the signal aborted. The arrays are read as the frames are sent: do not modify them meanwhile.
   */
  play(pcm: PcmSource, format: PlaybackFormat, options: PlayOptions = {}): Promise<PlaybackEnd> {
    const signal = options.signal;
    if (this.#closed || signal?.aborted) return Promise.resolve('aborted');
    const segments = pcm instanceof Int16Array ? [pcm] : pcm.filter((p) => p.length > 0);
    let total = 0;
    for (const p of segments) total += p.length;
    if (total === 0) return Promise.resolve('completed');
    const samplesPerFrame = (SAMPLE_RATE * format.ptimeMs) / 1000;
    const frames = Math.ceil(total / samplesPerFrame);
    const stride = RTP_HEADER_BYTES + samplesPerFrame;
    return new Promise<PlaybackEnd>((resolve) => {
      const prompt: Prompt = {
        segments,
        segment: 0,
        offset: 0,
        codec: format.codec,
        frames,
        stride,
        samplesPerFrame,
        payloadType: format.payloadType,
        ptimeMs: format.ptimeMs,
        resolve,
        signal,
        onAbort: () => this.#end(prompt, 'aborted'),
        frame: 0,
      };
      signal?.addEventListener('abort', prompt.onAbort, { once: true });
      this.#queue.push(prompt);
      this.#kick();
    });
  }

  /** Aborts the current prompt and every queued one, and stops sending for good. */
  close(): void {
    this.#closed = true;
    for (const p of [...this.#queue]) this.#end(p, 'aborted');
    if (this.#scheduled) this.#scheduler.cancel(this);
    this.#scheduled = false;
  }

  /** PacedJob: sends (or, on hold, skips) one frame; returns the next frame's due time, or NaN when nothing is left. */
  run(now: number): number {
    let due = this.due;
    this.#late = now - due > LATE_SEND_THRESHOLD_MS;
    if (now - due > MAX_CATCH_UP_MS) {
      // RFC 3550 §5.1: the timestamp "MUST increase linearly and monotonically with time": jump over the stall.
      this.#timestamp = (this.#timestamp + Math.round(((now - due) * SAMPLE_RATE) / 1000)) >>> 0;
      due = now;
      this.#marker = true;
    }
    const prompt = this.#queue[0];
    let ptimeMs: number;
    if (prompt !== undefined) {
      const k = prompt.frame++;
      // RFC 3551 §4.1: "the first packet of a talkspurt […] is distinguished by setting the marker bit": a prompt
      // starts one unless it follows the previous prompt back-to-back.
      if (k === 0 && !this.#lastWasPrompt) this.#marker = true;
      this.#send(this.#encodeNextFrame(prompt), prompt.payloadType, prompt.samplesPerFrame);
      ptimeMs = prompt.ptimeMs;
      this.#lastWasPrompt = true;
      if (prompt.frame >= prompt.frames) this.#end(prompt, 'completed');
    } else if (this.#fill && this.#silence !== null && !this.#held) {
      const silence = this.#silence;
      this.#send(silence.nextDatagram(this.#inFlight()), silence.payloadType, silence.samplesPerFrame);
      this.silencePacketsSent++;
      ptimeMs = silence.ptimeMs;
      this.#lastWasPrompt = false;
    } else {
      this.#scheduled = false;
      this.#lastWasPrompt = false;
      return NaN;
    }
    this.#nextDue = due + ptimeMs;
    if (!this.#hasWork()) {
      this.#scheduled = false;
      return NaN;
    }
    return this.#nextDue;
  }

  /** The prompt's next frame as a datagram (payload encoded, header to be written), taken from the ring. */
  #encodeNextFrame(prompt: Prompt): Buffer {
    const stride = prompt.stride;
    if (this.#ring === null || this.#ringStride !== stride) {
      this.#ring = Buffer.allocUnsafe(PROMPT_RING_SIZE * stride);
      this.#ringStride = stride;
      this.#ringNext = 0;
    }
    let datagram: Buffer;
    if (this.#inFlight() >= PROMPT_RING_SIZE - 1) datagram = Buffer.allocUnsafe(stride);
    else {
      const at = this.#ringNext * stride;
      datagram = this.#ring.subarray(at, at + stride);
      this.#ringNext = (this.#ringNext + 1) % PROMPT_RING_SIZE;
    }
    let filled = 0;
    const want = prompt.samplesPerFrame;
    while (filled < want && prompt.segment < prompt.segments.length) {
      const seg = prompt.segments[prompt.segment]!;
      const take = Math.min(want - filled, seg.length - prompt.offset);
      encodeG711Into(prompt.codec, seg.subarray(prompt.offset, prompt.offset + take), datagram, RTP_HEADER_BYTES + filled);
      filled += take;
      prompt.offset += take;
      if (prompt.offset >= seg.length) {
        prompt.segment++;
        prompt.offset = 0;
      }
    }
    if (filled < want) datagram.fill(silenceByteFor(prompt.codec), RTP_HEADER_BYTES + filled, RTP_HEADER_BYTES + want);
    return datagram;
  }

  /**
   * Datagrams handed to the socket whose bytes may not have been read yet: those sent earlier in this wake-up
   * (node:dgram resolves the address and sends on the next tick, so a catch-up burst of several frames is all still
   * in hand when the job returns) plus those libuv has queued (kernel buffer full). A ring slot is rewritten only
   * when fewer than its depth − 1 are in flight; otherwise the frame gets a fresh buffer.
   */
  #inFlight(): number {
    const wake = this.#scheduler.wakes;
    if (wake !== this.#sendWake) {
      this.#sendWake = wake;
      this.#sentThisWake = 0;
    }
    return this.#sentThisWake + (this.#sink.pendingSends?.() ?? 0);
  }

  /** A prompt is queued, or pauses are filled and sending is allowed. */
  #hasWork(): boolean {
    return this.#queue.length > 0 || (this.#fill && this.#silence !== null && !this.#held);
  }

  #send(datagram: Uint8Array, payloadType: number, samples: number): void {
    if (!this.#held) {
      writeRtpHeader(datagram, 0, this.#marker, payloadType, this.#seq, this.#timestamp, this.ssrc);
      if (this.#sink.sendDatagram(datagram)) {
        this.#sentThisWake++;
        this.#seq = (this.#seq + 1) & 0xffff;
        this.#marker = false;
        this.packetsSent++;
        rtpPacketTotals.sent++;
        if (this.#late) rtpPacketTotals.sentLate++;
      } else this.framesWithoutRemote++;
    }
    this.#timestamp = (this.#timestamp + samples) >>> 0;
  }

  #end(prompt: Prompt, outcome: PlaybackEnd): void {
    const i = this.#queue.indexOf(prompt);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    prompt.signal?.removeEventListener('abort', prompt.onAbort);
    // An aborted prompt leaves the stream at a frame boundary: the next frame (silence or prompt) follows on time.
    if (outcome === 'aborted' && i === 0) this.#lastWasPrompt = false;
    prompt.resolve(outcome);
  }

  /** Starts the job if there is something to send and it is not running. */
  #kick(): void {
    if (this.#scheduled || this.#closed) return;
    if (!this.#hasWork()) return;
    const now = this.#scheduler.now();
    const last = this.#nextDue;
    if (last === last && now - last < (this.#silence?.ptimeMs ?? 20)) {
      // Less than a frame since the last one: continue its schedule (and timestamps) exactly.
      this.due = last;
    } else {
      // RFC 3550 §5.1: "the timestamp […] MUST increase linearly and monotonically with time": advance by the gap,
      // and RFC 3551 §4.1: "the first packet of a talkspurt (first packet after a silence period) is distinguished
      // by setting the marker bit in the RTP data header to one".
      if (last === last) this.#timestamp = (this.#timestamp + Math.round(((now - last) * SAMPLE_RATE) / 1000)) >>> 0;
      this.due = now;
      this.#marker = true;
    }
    this.#scheduled = true;
    this.#scheduler.schedule(this);
  }
}
