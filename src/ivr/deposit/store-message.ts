/**
 * Turns recorded samples into a stored message: the WAV, the e-mail notifications of the mailbox and the
 * retention limit, in one store transaction. Shared by the live deposit flow and spool recovery.
 */
import { encodeWav } from '../../shared/audio/wav.js';
import { notificationsFor, type Line, type Store } from '../../store/index.js';
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

/** Stores `samples` as a message of `line` with the party details of the sidecar. */
export async function storeDepositedMessage(
  store: Store,
  line: Line,
  meta: Pick<SpoolSidecar, 'caller' | 'callerName' | 'callee' | 'startedAt'>,
  samples: Int16Array,
  maxMessages: number,
): Promise<StoredDeposit> {
  const result = await store.messages.create(
    {
      line: line.number,
      caller: meta.caller ?? ANONYMOUS_CALLER,
      callee: meta.callee,
      callerName: meta.callerName ? meta.callerName.slice(0, 256) : null,
      durationMs: samplesToMs(samples.length),
      wav: encodeWav(samples, SAMPLE_RATE),
      creationDatetime: meta.startedAt,
    },
    { notifications: notificationsFor(line.settings), maxMessages },
  );
  const id = result.message.id;
  return { messageId: id, evictedAtOnce: result.evicted.includes(id), evicted: result.evicted.filter((e) => e !== id) };
}
