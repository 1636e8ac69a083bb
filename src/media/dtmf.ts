import { DTMF_FREQUENCIES } from './tones.js';
import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';

/** RFC 4733 §3.2, Table 3: DTMF named events 0–15 → keys. */
const EVENT_KEYS = '0123456789*#ABCD';

/** The DTMF key of an RFC 4733 event code, or null for any other event (flash, tones…). */
export function dtmfKeyOfEvent(event: number): string | null {
  return event >= 0 && event < 16 ? EVENT_KEYS[event]! : null;
}

/**
 * Receives RFC 4733 telephone-events (the successor of RFC 2833) and reports each key press once.
 *
 * RFC 4733 §2.3 payload format:
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * Policy: a digit is reported on the **first** packet of an event (lowest barge-in latency), keyed on
 * (SSRC, RTP timestamp). RFC 4733 §2.5.1.2: "the RTP timestamp […] is the same for all packets of the
 * event" — so the progress packets and the three retransmitted end packets (§2.5.1.4) share the key and
 * are ignored. An event whose packets all got lost except the end packets is still reported once.
 * A long event split into segments (§2.5.1.3, new timestamp after the 16-bit duration overflows,
 * without the E bit on the previous segment) counts as the same key press.
 */
export class Rfc4733Receiver {
  /** Recently seen events; 4 entries cover the late end-packets of a previous digit after a new one started. */
  readonly #recentSsrc = new Float64Array(4).fill(-1);
  readonly #recentTs = new Float64Array(4).fill(-1);
  #recentNext = 0;
  #lastSsrc = -1;
  #lastTs = -1;
  #lastEvent = -1;
  #lastEnded = true;
  /** Packets shorter than 4 bytes. */
  malformed = 0;

  /** Feeds one telephone-event payload; returns the key to report, or null (repeat, end, or non-DTMF event). */
  push(ssrc: number, timestamp: number, payload: Uint8Array): string | null {
    if (payload.length < 4) {
      this.malformed++;
      return null;
    }
    const event = payload[0]!;
    // RFC 4733 §2.3.4: "E: If set to a value of one, the 'end' bit indicates that this packet contains the end of the event."
    const end = (payload[1]! & 0x80) !== 0;
    for (let i = 0; i < 4; i++) {
      if (this.#recentTs[i] === timestamp && this.#recentSsrc[i] === ssrc) {
        if (ssrc === this.#lastSsrc && timestamp === this.#lastTs && end) this.#lastEnded = true;
        return null;
      }
    }
    // §2.5.1.3: a segment ends when its duration reaches 0xFFFF, so the next segment starts ≈65 536 ticks later;
    // a same-key event much sooner is a new key press whose end packets were lost.
    const sinceLast = (timestamp - this.#lastTs) >>> 0;
    const continuesLongEvent =
      !this.#lastEnded && ssrc === this.#lastSsrc && event === this.#lastEvent && sinceLast >= 0xff00 && sinceLast <= 0x10000 + 1600;
    this.#recentSsrc[this.#recentNext] = ssrc;
    this.#recentTs[this.#recentNext] = timestamp;
    this.#recentNext = (this.#recentNext + 1) & 3;
    this.#lastSsrc = ssrc;
    this.#lastTs = timestamp;
    this.#lastEvent = event;
    this.#lastEnded = end;
    return continuesLongEvent ? null : dtmfKeyOfEvent(event);
  }
}

function keyOfSignal(raw: string): string | null {
  const v = raw.trim().toUpperCase();
  if (/^[0-9*#A-D]$/.test(v)) return v;
  // Some endpoints send the RFC 4733 event number instead of the key (10 = *, 11 = #, 12–15 = A–D).
  if (/^1[0-5]$/.test(v)) return dtmfKeyOfEvent(Number(v));
  return null;
}

/**
 * Extracts the key of a SIP INFO DTMF body, or null when the body is not a DTMF body.
 * - `application/dtmf-relay`: lines `Signal=5` and `Duration=160` (case-insensitive names, CRLF or LF).
 * - `application/dtmf`: the body is the key itself, e.g. `5`.
 */
export function parseDtmfInfoBody(contentType: string, body: string | Uint8Array): string | null {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (type === 'application/dtmf-relay') {
    const m = /^[ \t]*signal[ \t]*=[ \t]*([^\r\n]*)$/im.exec(text);
    return m ? keyOfSignal(m[1]!) : null;
  }
  if (type === 'application/dtmf') return keyOfSignal(text);
  return null;
}

export interface GoertzelOptions {
  /** Sample rate of the PCM fed (default 8000). */
  sampleRate?: number;
  /** Minimum peak amplitude of each of the two tones (default 250 ≈ −42 dBFS). */
  minToneAmplitude?: number;
}

const LOW_GROUP = [697, 770, 852, 941] as const;
const HIGH_GROUP = [1209, 1336, 1477, 1633] as const;
/** Analysis block of 205 samples at 8 kHz (25.6 ms, 39 Hz resolution), hopped by half a block. */
const BLOCK_MS = 25.625;
/** Q.24 twist: the high-group tone may be up to 8 dB above the low-group one ("normal"), 4 dB below ("reverse"). */
const MAX_NORMAL_TWIST = 10 ** (8 / 10);
const MAX_REVERSE_TWIST = 10 ** (4 / 10);
/** Each tone must exceed the other tones of its group by 6 dB. */
const MIN_GROUP_DOMINANCE = 10 ** (6 / 10);
/** The two tones must carry at least 60 % of the block's energy (speech spreads its energy far wider). */
const MIN_TONE_ENERGY_SHARE = 0.6;

/**
 * In-band DTMF detection on decoded PCM (ITU-T Q.23 frequencies, Q.24-like acceptance): Goertzel filters
 * at the 8 DTMF frequencies over 205-sample blocks taken every ~12.8 ms. A key is reported once, when two
 * consecutive blocks agree (tones of ≈40–50 ms and longer are detected), and the key must be released for
 * two blocks before it is reported again.
 */
export class GoertzelDtmfDetector {
  readonly #onDigit: (digit: string) => void;
  readonly #n: number;
  readonly #hop: number;
  readonly #coeffs: Float64Array;
  readonly #block: Float64Array;
  readonly #power = new Float64Array(8);
  readonly #minTonePower: number;
  #fill = 0;
  #last: string | null = null;
  #held: string | null = null;
  #misses = 0;

  constructor(onDigit: (digit: string) => void, options: GoertzelOptions = {}) {
    const rate = options.sampleRate ?? SAMPLE_RATE;
    const minAmp = options.minToneAmplitude ?? 250;
    if (!Number.isInteger(rate) || rate < 4000) throw new RangeError(`GoertzelDtmfDetector: sample rate ${rate} too low for DTMF`);
    if (!(minAmp > 0)) throw new RangeError(`GoertzelDtmfDetector: minToneAmplitude must be > 0, got ${minAmp}`);
    this.#onDigit = onDigit;
    this.#n = Math.round((BLOCK_MS * rate) / 1000);
    this.#hop = this.#n >> 1;
    this.#block = new Float64Array(this.#n);
    this.#coeffs = Float64Array.from([...LOW_GROUP, ...HIGH_GROUP], (f) => 2 * Math.cos((2 * Math.PI * f) / rate));
    // A tone of peak amplitude A yields a Goertzel power of (A·N/2)².
    this.#minTonePower = ((minAmp * this.#n) / 2) ** 2;
  }

  /** Feeds decoded samples; detected keys go to the callback given to the constructor. */
  push(samples: Int16Array): void {
    const n = this.#n;
    for (let i = 0; i < samples.length; i++) {
      this.#block[this.#fill++] = samples[i]!;
      if (this.#fill === n) {
        this.#decide(this.#analyse());
        this.#block.copyWithin(0, this.#hop, n);
        this.#fill = n - this.#hop;
      }
    }
  }

  #decide(key: string | null): void {
    if (key === null) {
      if (++this.#misses >= 2) this.#held = null;
    } else {
      this.#misses = 0;
      if (key === this.#last && key !== this.#held) {
        this.#held = key;
        this.#onDigit(key);
      }
    }
    this.#last = key;
  }

  #analyse(): string | null {
    const x = this.#block;
    const n = this.#n;
    let energy = 0;
    for (let i = 0; i < n; i++) energy += x[i]! * x[i]!;
    if (energy === 0) return null;
    for (let k = 0; k < 8; k++) {
      const c = this.#coeffs[k]!;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const s0 = x[i]! + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      this.#power[k] = s1 * s1 + s2 * s2 - c * s1 * s2;
    }
    const p = this.#power;
    const row = strongest(p, 0);
    const col = strongest(p, 4);
    const pr = p[row]!;
    const pc = p[col]!;
    if (pr < this.#minTonePower || pc < this.#minTonePower) return null;
    if (pc > pr * MAX_NORMAL_TWIST || pr > pc * MAX_REVERSE_TWIST) return null;
    for (let k = 0; k < 4; k++) {
      if (k !== row && p[k]! * MIN_GROUP_DOMINANCE > pr) return null;
      if (k + 4 !== col && p[k + 4]! * MIN_GROUP_DOMINANCE > pc) return null;
    }
    // A tone's Goertzel power is (A·N/2)² and its energy A²·N/2, so its share of the block energy is 2·P/(N·E).
    if ((2 * (pr + pc)) / (n * energy) < MIN_TONE_ENERGY_SHARE) return null;
    return KEY_GRID[row]![col - 4]!;
  }
}

function strongest(p: Float64Array, from: number): number {
  let best = from;
  for (let k = from + 1; k < from + 4; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

/** KEY_GRID[row][column] following Q.23 (rows 697…941 Hz, columns 1209…1633 Hz). */
const KEY_GRID: readonly string[][] = LOW_GROUP.map((lo) =>
  HIGH_GROUP.map((hi) => Object.keys(DTMF_FREQUENCIES).find((k) => DTMF_FREQUENCIES[k]![0] === lo && DTMF_FREQUENCIES[k]![1] === hi)!),
);
