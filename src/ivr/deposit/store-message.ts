/**
 * Turns a recording into a stored message: the spool WAV's bytes as they are, with the party details of the
 * sidecar. The store adds, in the same transaction, the e-mail jobs the mailbox's settings ask for and applies the
 * retention limit, then emits 'messageStored' (the mailer wakes up). Shared by the live deposit flow and spool
 * recovery.
 */
import type { Line, Store } from '../../store/index.js';
import type { SpoolSidecar } from './spool.js';
import { SAMPLE_RATE } from '../../shared/audio/sample-rate.js';

/** What `messages.caller` holds when the caller withheld his number (the column is never empty). */
export const ANONYMOUS_CALLER = 'anonymous';

/** Milliseconds of `samples` 8 kHz samples, rounded. */
export function samplesToMs(samples: number): number {
  return Math.round((samples * 1000) / SAMPLE_RATE);
}

export interface StoredDeposit {
  messageId: string;
  /** The new message was evicted at once by the retention limit (the mailbox is full of newer messages). */
  evictedAtOnce: boolean;
  /** Older messages removed to make room. */
  evicted: string[];
}

/** A recording to store: the WAV to keep (8 kHz 16-bit mono, as the spool holds it) and its length in samples. */
export interface DepositedAudio {
  wav: Uint8Array;
  samples: number;
}

/** Stores `audio` as a message of `line` with the party details of the sidecar; takes `audio.wav` over (on SQLite it is left detached). */
export async function storeDepositedMessage(
  store: Store,
  line: Line,
  meta: Pick<SpoolSidecar, 'caller' | 'callerName' | 'callee' | 'startedAt'>,
  audio: DepositedAudio,
  maxMessages: number,
): Promise<StoredDeposit> {
  const result = await store.messages.create(
    {
      line: line.number,
      caller: meta.caller ?? ANONYMOUS_CALLER,
      callee: meta.callee,
      callerName: meta.callerName ? meta.callerName.slice(0, 256) : null,
      durationMs: samplesToMs(audio.samples),
      wav: audio.wav,
      creationDatetime: meta.startedAt,
    },
    // The WAV is not used after this: it moves to the SQLite thread instead of being copied (blob-handover.ts).
    { maxMessages, handOverAudio: true },
  );
  const id = result.message.id;
  return { messageId: id, evictedAtOnce: result.evicted.includes(id), evicted: result.evicted.filter((e) => e !== id) };
}
