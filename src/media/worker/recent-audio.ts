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
/** Bytes kept per packet before the ring grows: a 20 ms G.711 payload. */
const INITIAL_PAYLOAD_BYTES = 160;
/** Longest payload copied into the ring (120 ms of G.711); a longer one is kept as its own copy. */
const MAX_RING_PAYLOAD_BYTES = 960;

/**
 * The payloads are copied into one byte ring owned by the session rather than kept as views of their datagrams:
 * a datagram held for 640 ms outlives the worker's young-generation collections, so it would be promoted and its
 * memory (malloc'd by dgram) freed only by a full collection, seconds later. Copying 160 bytes costs less than that.
 */
export class RecentAudioPackets implements RtpAudioSink {
  readonly #used = new Uint8Array(RECENT_PACKETS);
  readonly #seq = new Uint16Array(RECENT_PACKETS);
  readonly #timestamp = new Uint32Array(RECENT_PACKETS);
  readonly #ssrc = new Uint32Array(RECENT_PACKETS);
  readonly #payloadType = new Uint8Array(RECENT_PACKETS);
  readonly #length = new Uint16Array(RECENT_PACKETS);
  /** Arrival, on the epoch clock of progress-slots.ts. */
  readonly #at = new Float64Array(RECENT_PACKETS);
  /** Payloads too long for the ring, by slot. */
  readonly #oversized = new Map<number, Uint8Array>();
  #stride = 0;
  #ring: Uint8Array | null = null;
  #next = 0;

  pushRtp(seq: number, timestamp: number, ssrc: number, payloadType: number, payload: Uint8Array): void {
    const k = this.#next;
    this.#next = (k + 1) % RECENT_PACKETS;
    this.#used[k] = 0; // not moved if the ring grows below: its old bytes are being replaced
    if (this.#oversized.size > 0) this.#oversized.delete(k);
    if (payload.length > MAX_RING_PAYLOAD_BYTES) this.#oversized.set(k, payload.slice());
    else this.#ringFor(payload.length).set(payload, k * this.#stride);
    this.#used[k] = 1;
    this.#length[k] = payload.length;
    this.#seq[k] = seq;
    this.#timestamp[k] = timestamp;
    this.#ssrc[k] = ssrc;
    this.#payloadType[k] = payloadType;
    this.#at[k] = epochNowMs();
  }

  /** Feeds `sink` the packets that arrived at or after `since`, oldest first, and forgets them all. */
  replayInto(sink: RtpAudioSink, since: number): number {
    let replayed = 0;
    for (let n = 0; n < RECENT_PACKETS; n++) {
      const k = (this.#next + n) % RECENT_PACKETS;
      if (this.#used[k] === 1 && this.#at[k]! >= since) {
        // A copy: the sink may keep the payload (a recorder's jitter window) while the ring is written again.
        const payload = this.#oversized.get(k) ?? this.#ring!.slice(k * this.#stride, k * this.#stride + this.#length[k]!);
        sink.pushRtp(this.#seq[k]!, this.#timestamp[k]!, this.#ssrc[k]!, this.#payloadType[k]!, payload);
        replayed++;
      }
    }
    this.clear();
    return replayed;
  }

  clear(): void {
    this.#used.fill(0);
    this.#oversized.clear();
  }

  /** The ring, grown when `bytes` does not fit a slot (a longer packetisation): the packets kept move with it. */
  #ringFor(bytes: number): Uint8Array {
    if (this.#ring !== null && bytes <= this.#stride) return this.#ring;
    const stride = Math.max(INITIAL_PAYLOAD_BYTES, bytes, this.#stride);
    const ring = new Uint8Array(stride * RECENT_PACKETS);
    if (this.#ring !== null) {
      for (let k = 0; k < RECENT_PACKETS; k++) {
        if (this.#used[k] === 1 && !this.#oversized.has(k)) ring.set(this.#ring.subarray(k * this.#stride, k * this.#stride + this.#length[k]!), k * stride);
      }
    }
    this.#stride = stride;
    this.#ring = ring;
    return ring;
  }
}
