/**
 * What a call needs from its media, whatever thread carries it: the seam between the SIP/call-flow side
 * (src/ivr/sip-call.ts, call-media.ts) and the RTP endpoint. Two implementations: {@link LocalMediaSession} (an
 * {@link RtpSession} on this event loop, `media.workers` = 0) and `WorkerMediaSession` (a proxy to an RtpSession
 * owned by a media worker thread, src/media/worker/).
 */
import type { Logger } from '../shared/log.js';
import type { PcmSource, PlayOptions, PlaybackEnd } from './player.js';
import type { RecordingResult } from './recorder.js';
import type { DtmfEvent, MediaFormat } from './rtp-session.js';

/** A recording of the caller into a spool WAV, in progress. */
export interface RecordingHandle {
  /** Recorded audio so far (ms, silence fill included). Within a worker, as of its last packet. */
  readonly durationMs: number;
  /** Wall-clock ms since the last packet above the voice threshold (since the start when none yet). */
  readonly msSinceVoice: number;
  /** Ms of recorded audio at or above the voice threshold. */
  readonly voiceMs: number;
  /** Settles when the spool file exists; rejects with what prevented creating it. */
  readonly ready: Promise<void>;
  /**
   * Stops taking audio (on this thread at once; in a worker when the command reaches it, a few ms later), drains
   * the jitter window and resolves with the WAV as the spool holds it. Idempotent. `callerHungUp`: the caller has
   * stopped sending; a media thread that runs behind first reads what is still queued for it (until the stream has
   * been quiet a moment on that thread's own clock), so the end of the message is kept.
   */
  finish(options?: FinishRecordingOptions): Promise<RecordingResult>;
}

export interface FinishRecordingOptions {
  callerHungUp?: boolean;
}

export interface RecordingOptions {
  /** Spool WAV path (created or truncated), written by whichever thread owns the socket. */
  path: string;
  /** Audio batched in memory between two spool writes. */
  flushMs: number;
}

/** Why a session stopped on its own (its media worker died): the call cannot go on and should be ended. */
export interface MediaLostEvent {
  reason: string;
}

export interface MediaSessionEvents {
  dtmf: [DtmfEvent];
  lost: [MediaLostEvent];
}

export interface MediaSession {
  /** The local RTP port (goes in the SDP). */
  readonly port: number;
  on<E extends keyof MediaSessionEvents>(event: E, listener: (...args: MediaSessionEvents[E]) => void): this;
  /** Negotiated codec, payload types and ptime; throws a RangeError on a bad format (synchronously). */
  configure(format: MediaFormat): void;
  /** The remote RTP address from the SDP; symmetric RTP (RFC 4961) may later replace it. */
  setRemote(address: string, port: number): void;
  /** The peer put the stream on hold: send nothing while held. */
  setHeld(held: boolean): void;
  /** While on, silence (or CN) fills the pauses between prompts. */
  fillPauses(on: boolean): void;
  /** Plays 8 kHz mono PCM (the arrays are read while they play: do not modify them). */
  play(pcm: PcmSource, options?: PlayOptions): Promise<PlaybackEnd>;
  /** Starts recording the received audio; one recording at a time (a new one replaces the last). */
  startRecording(options: RecordingOptions): RecordingHandle;
  /** Stops everything and frees the port. Idempotent. */
  close(): void;
}

/** Opens media sessions for calls; throws {@link PortsExhaustedError} when no RTP port is free. */
export interface MediaSessionFactory {
  open(deps?: { logger?: Logger }): Promise<MediaSession>;
  /** Ends every session and frees what the factory holds (threads). */
  stop(): Promise<void>;
}
