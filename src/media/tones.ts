import { SAMPLE_RATE } from '../shared/audio/sample-rate.js';
/** Tone and silence generators producing 16-bit linear PCM (default 8 kHz). */

export interface ToneOptions {
  /** Sample rate in Hz (default SAMPLE_RATE, 8 kHz). */
  sampleRate?: number;
  /** Peak amplitude per component, 0…32767 (default 8000, about −12 dBFS). */
  amplitude?: number;
}

function sampleCount(ms: number, rate: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`tone duration must be a non-negative number of ms, got ${ms}`);
  if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`invalid sample rate ${rate}`);
  return Math.round((ms * rate) / 1000);
}

/** Sum of sine waves at `frequencies` (each of peak `amplitude`), clipped to 16 bits. */
export function multiTone(frequencies: readonly number[], ms: number, options: ToneOptions = {}): Int16Array {
  const rate = options.sampleRate ?? SAMPLE_RATE;
  const amp = options.amplitude ?? 8000;
  const n = sampleCount(ms, rate);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const f of frequencies) v += amp * Math.sin((2 * Math.PI * f * i) / rate);
    const r = Math.round(v);
    out[i] = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
  }
  return out;
}

/** The classic "record after the tone" beep: 1 kHz for 300 ms unless told otherwise. */
export function beep(frequencyHz = 1000, ms = 300, options: ToneOptions = {}): Int16Array {
  return multiTone([frequencyHz], ms, options);
}

/** `ms` milliseconds of digital silence. */
export function silence(ms: number, sampleRate = SAMPLE_RATE): Int16Array {
  return new Int16Array(sampleCount(ms, sampleRate));
}

/** ITU-T Q.23 DTMF frequency pairs (low group, high group) in Hz. */
export const DTMF_FREQUENCIES: Readonly<Record<string, readonly [number, number]>> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
};

/** The Q.23 dual tone of one DTMF key. */
export function dtmfTone(digit: string, ms = 100, options: ToneOptions = {}): Int16Array {
  const pair = DTMF_FREQUENCIES[digit.toUpperCase()];
  if (!pair) throw new RangeError(`not a DTMF key: ${JSON.stringify(digit)}`);
  return multiTone(pair, ms, options);
}

/** Concatenates PCM buffers (for building prompt sequences in one play). */
export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int16Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
