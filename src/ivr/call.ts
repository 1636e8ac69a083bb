/**
 * The small interface call flows are written against. One implementation drives a SIP dialog and an RTP session
 * (SipCall); tests may drive flows through it too, but integration tests go through real SIP and RTP.
 */
import type { Logger } from '../shared/log.js';
import type { PcmSource } from '../media/index.js';

export type PlayOutcome = 'completed' | 'interrupted' | 'hangup';

export interface CollectOptions {
  /** Stop after this many digits. */
  maxDigits: number;
  /** A digit that ends the input early and is not part of it (usually '#'). */
  terminator?: string;
  /** How long to wait for the first digit (ms). */
  firstDigitTimeoutMs: number;
  /** How long to wait between digits (ms). */
  interDigitTimeoutMs: number;
}

export type RecordEnd = 'dtmf' | 'hangup' | 'max-length' | 'silence';

export interface RecordOptions {
  /** Path of the spool WAV written while recording (kept on disk so a crash loses nothing). */
  spoolPath: string;
  maxDurationMs: number;
  /** End after this much continuous silence; 0 disables. */
  silenceTimeoutMs: number;
  /** DTMF digits that end the recording (e.g. '#'). Any digit when '*' is not given and this is 'any'. */
  stopDigits: string;
}

export interface RecordResult {
  end: RecordEnd;
  /** The digit that ended the recording, when end is 'dtmf'. */
  digit?: string;
  path: string;
  /**
   * The recording as it is stored: 8 kHz 16-bit mono WAV, the spool file's bytes (plus what a full disk kept in
   * memory), its header sizes exact. Store it as it is.
   */
  wav: Buffer;
  /** The samples of `wav` (a view of its bytes where the host allows). */
  samples: Int16Array;
  durationMs: number;
}

export interface Call {
  readonly callId: string;
  readonly logger: Logger;
  /** True once the peer hung up or we did. */
  readonly ended: boolean;
  /** Resolves when the call ends, from either side. */
  readonly whenEnded: Promise<void>;
  /**
   * Plays 8 kHz mono audio (one array, or several back to back: shared prompt arrays need not be concatenated per
   * call). With `bargeIn`, a DTMF digit stops it ('interrupted'); the digit stays queued for the next collect().
   * Without it, digits typed meanwhile are queued too.
   */
  play(pcm: PcmSource, opts?: { bargeIn?: boolean }): Promise<PlayOutcome>;
  /** Collects DTMF digits (queued ones first). Resolves with what was typed ('' when nothing, null on hang-up). */
  collect(opts: CollectOptions): Promise<string | null>;
  /** Forgets digits typed so far. */
  flushDigits(): void;
  /** Records the caller into a WAV until a stop digit, hang-up, the maximum length or silence. */
  record(opts: RecordOptions): Promise<RecordResult>;
  /** Ends the call (BYE). */
  hangup(): Promise<void>;
}
