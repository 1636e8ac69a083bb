/**
 * The audio packets a worker session received lately while nothing was recording, kept so a recording can start
 * where it would have started on the SIP thread. There, a flow's `record()` right after its beep attaches the
 * recorder before any packet that arrived meanwhile is read (they wait in the socket); in a worker the packets are
 * read at once while the "beep played" → "record" round trip crosses the main thread, which a loaded machine can
 * stall for a few hundred ms. The worker replays into the new recorder the packets received since that instant.
 */
import type { RtpAudioSink } from '../recorder.js';
import { epochNowMs } from './progress-slots.js';

/** Packets kept: 32 × 20 ms = 640 ms (960 ms at 30 ms), longer than the stalls the recorder should ride over. */
const RECENT_PACKETS = 32;
const NO_PAYLOAD = new Uint8Array(0);

interface Slot {
  used: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payloadType: number;
  payload: Uint8Array;
  /** Arrival, on the epoch clock of progress-slots.ts. */
  at: number;
}

export class RecentAudioPackets implements RtpAudioSink {
  readonly #slots: Slot[] = Array.from({ length: RECENT_PACKETS }, () => ({ used: false, seq: 0, timestamp: 0, ssrc: 0, payloadType: 0, payload: NO_PAYLOAD, at: 0 }));
  #next = 0;

  /** Keeps the packet (its payload is a view of its own datagram, not reused by dgram). */
  pushRtp(seq: number, timestamp: number, ssrc: number, payloadType: number, payload: Uint8Array): void {
    const slot = this.#slots[this.#next]!;
    this.#next = (this.#next + 1) % RECENT_PACKETS;
    slot.used = true;
    slot.seq = seq;
    slot.timestamp = timestamp;
    slot.ssrc = ssrc;
    slot.payloadType = payloadType;
    slot.payload = payload;
    slot.at = epochNowMs();
  }

  /** Feeds `sink` the packets that arrived at or after `since`, oldest first, and forgets them all. */
  replayInto(sink: RtpAudioSink, since: number): number {
    let replayed = 0;
    for (let k = 0; k < RECENT_PACKETS; k++) {
      const slot = this.#slots[(this.#next + k) % RECENT_PACKETS]!;
      if (slot.used && slot.at >= since) {
        sink.pushRtp(slot.seq, slot.timestamp, slot.ssrc, slot.payloadType, slot.payload);
        replayed++;
      }
      slot.used = false;
      slot.payload = NO_PAYLOAD;
    }
    return replayed;
  }

  clear(): void {
    for (const slot of this.#slots) {
      slot.used = false;
      slot.payload = NO_PAYLOAD;
    }
  }
}
