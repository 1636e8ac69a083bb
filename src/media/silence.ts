import { silenceByteFor, type G711Codec } from './g711.js';
import { RTP_HEADER_BYTES } from './rtp-packet.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';

/**
 * Datagrams in the ring. node:dgram reads a datagram's bytes on the next tick (after resolving the address), and
 * when the kernel buffer is full libuv queues it and keeps a reference to its bytes until it goes out: a slot is
 * only rewritten when fewer than RING_SIZE − 1 sends are in flight (the player counts those of the current pacer
 * wake-up plus those libuv queued; both are FIFO, so the oldest slot is then out); otherwise the packet gets a
 * fresh buffer (a catch-up burst after a stall, a stalled peer or a loaded host).
 */
const RING_SIZE = 8;
/** Comfort-noise level sent when none is given: −70 dBov, far below any speech, like a quiet line. */
export const DEFAULT_COMFORT_NOISE_LEVEL_DBOV = 70;

export interface SilenceFormat {
  codec: G711Codec;
  payloadType: number;
  ptimeMs: number;
  /** Payload type of CN/8000 when the peer negotiated RFC 3389 comfort noise; G.711 silence otherwise. */
  comfortNoisePayloadType?: number | undefined;
}

/** The G.711 silence payload of one frame, built once per codec and ptime and shared (read-only) by every call. */
const G711_SILENCE = new Map<string, Uint8Array>();
export function g711SilencePayload(codec: G711Codec, ptimeMs: number): Uint8Array {
  const key = `${codec}/${ptimeMs}`;
  let payload = G711_SILENCE.get(key);
  if (!payload) {
    payload = new Uint8Array((SAMPLE_RATE * ptimeMs) / 1000).fill(silenceByteFor(codec));
    G711_SILENCE.set(key, payload);
  }
  return payload;
}

/**
 * The packets a call sends while no prompt is playing, so that the peer's RTP inactivity timer (linphone
 * `nortp_timeout`, Asterisk `rtptimeout`, FreeSWITCH `media_timeout`) never fires during a recording.
 *
 * One instance per call: the datagrams (payload already in place, header written by the player per packet) are
 * built when the format is set and reused in a ring, so sending one costs no allocation.
 */
export class SilencePacketSource {
  readonly payloadType: number;
  readonly ptimeMs: number;
  /** RTP timestamp units each packet covers (the sampling clock advances by this much per frame). */
  readonly samplesPerFrame: number;
  /** True when the packets are RFC 3389 comfort noise rather than G.711 silence. */
  readonly comfortNoise: boolean;
  readonly #ring: Uint8Array[];
  #next = 0;

  constructor(format: SilenceFormat, comfortNoiseLevelDbov = DEFAULT_COMFORT_NOISE_LEVEL_DBOV) {
    if (!Number.isInteger(format.ptimeMs) || format.ptimeMs < 10 || format.ptimeMs > 60 || format.ptimeMs % 10 !== 0) {
      throw new RangeError(`SilencePacketSource: ptime must be 10…60 ms in steps of 10, got ${format.ptimeMs}`);
    }
    if (!Number.isInteger(comfortNoiseLevelDbov) || comfortNoiseLevelDbov < 0 || comfortNoiseLevelDbov > 127) {
      throw new RangeError(`SilencePacketSource: comfort noise level must be 0…127 (−dBov), got ${comfortNoiseLevelDbov}`);
    }
    this.ptimeMs = format.ptimeMs;
    this.samplesPerFrame = (SAMPLE_RATE * format.ptimeMs) / 1000;
    this.comfortNoise = format.comfortNoisePayloadType !== undefined;
    this.payloadType = format.comfortNoisePayloadType ?? format.payloadType;
    // RFC 3389 §3: "The magnitude of the noise level is packed into the least significant bits of the noise-level
    // byte with the most significant bit unused and always set to 0 […] The noise level is expressed in -dBov, with
    // values from 0 to -127 dBov". No spectral coefficients: the receiver then generates white noise (§3.2).
    const payload = this.comfortNoise ? Uint8Array.of(comfortNoiseLevelDbov & 0x7f) : g711SilencePayload(format.codec, format.ptimeMs);
    const stride = RTP_HEADER_BYTES + payload.length;
    const block = Buffer.alloc(RING_SIZE * stride);
    this.#ring = [];
    for (let i = 0; i < RING_SIZE; i++) {
      const datagram = block.subarray(i * stride, (i + 1) * stride);
      datagram.set(payload, RTP_HEADER_BYTES);
      this.#ring.push(datagram);
    }
  }

  /** True when this source already produces what `format` asks for (no need to rebuild on a re-INVITE). */
  matches(format: SilenceFormat): boolean {
    return (
      this.ptimeMs === format.ptimeMs &&
      this.payloadType === (format.comfortNoisePayloadType ?? format.payloadType) &&
      this.comfortNoise === (format.comfortNoisePayloadType !== undefined) &&
      (this.comfortNoise || this.#ring[0]![RTP_HEADER_BYTES] === silenceByteFor(format.codec))
    );
  }

  /**
   * The next datagram: payload in place, header to be written at offset 0 by the caller. `inFlight` is the count of
   * datagrams handed to the socket and not yet read by it; past the ring's depth a copy is returned instead of a
   * slot that may still be in flight.
   */
  nextDatagram(inFlight = 0): Uint8Array {
    const datagram = this.#ring[this.#next]!;
    if (inFlight >= RING_SIZE - 1) return new Uint8Array(datagram);
    this.#next = (this.#next + 1) % RING_SIZE;
    return datagram;
  }
}
