import type { DecodedAudio } from './types.js';
import { SAMPLE_RATE } from './sample-rate.js';

/** Zero crossings of the sinc on each side of the centre, at the (lower) output rate. */
const ZERO_CROSSINGS = 16;
/** Cut-off as a fraction of the lower Nyquist frequency, leaving room for the window's transition band. */
const CUTOFF = 0.9;
/** Above this many phases the filter phase is rounded to one of this many (arbitrary, non-rational ratios). */
const MAX_PHASES = 1024;
/**
 * Largest polyphase table built (phases × taps). Every usual rate fits (44.1 kHz → 8 kHz: 80 × 198); an awkward
 * header rate (153 122 Hz: 1024 × 682, or 4 GHz) would cost seconds and gigabytes: those use the cheap
 * interpolating resampler instead.
 */
const MAX_COEFFICIENTS = 1 << 17;
/** Filters kept built (LRU): a few rate pairs are in use at any time. */
const FILTER_CACHE_ENTRIES = 4;

/**
 * Turns decoded audio into 8 kHz mono 16-bit PCM: channels are averaged, then resampled by a windowed-sinc
 * (Blackman) polyphase filter whose cut-off sits below the lower of the two Nyquist frequencies, so that
 * 44.1/48 kHz uploads do not alias into the telephone band.
 */
export function toTelephonyPcm(decoded: DecodedAudio): Int16Array {
  const mono = downmix(decoded.samples, decoded.channels);
  const resampled = resample(mono, decoded.sampleRate, SAMPLE_RATE);
  const out = new Int16Array(resampled.length);
  for (let i = 0; i < resampled.length; i++) {
    const value = Math.round(resampled[i]! * 32768);
    out[i] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
  }
  return out;
}

/** Duration in milliseconds of a mono PCM buffer at `sampleRate`, or of decoded (interleaved) audio. */
export function durationMs(audio: Int16Array | DecodedAudio, sampleRate = SAMPLE_RATE): number {
  if (audio instanceof Int16Array) return (audio.length * 1000) / sampleRate;
  return (audio.samples.length / audio.channels / audio.sampleRate) * 1000;
}

/** Averages interleaved channels into one. */
export function downmix(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    out[f] = sum / channels;
  }
  return out;
}

/** Resamples mono floats from `fromRate` to `toRate` (any two positive integer rates). */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return input;
  if (resamplerFor(fromRate, toRate) === 'interpolating') return resampleInterpolating(input, fromRate, toRate);
  const filter = PolyphaseFilter.for(fromRate, toRate);
  const outLength = Math.round((input.length * toRate) / fromRate);
  const out = new Float32Array(outLength);
  const { taps, halfTaps, phases } = filter;
  const step = fromRate / toRate;
  for (let n = 0; n < outLength; n++) {
    // Position of output sample n on the input time axis, split into an integer index and a filter phase.
    const position = n * step;
    let index = Math.floor(position);
    let phase = Math.round((position - index) * phases);
    if (phase === phases) {
      index++;
      phase = 0;
    }
    const coefficients = filter.coefficients.subarray(phase * taps, phase * taps + taps);
    let sum = 0;
    const first = index - halfTaps + 1;
    for (let k = 0; k < taps; k++) {
      const j = first + k;
      if (j >= 0 && j < input.length) sum += input[j]! * coefficients[k]!;
    }
    out[n] = sum;
  }
  return out;
}

/** Which resampler {@link resample} uses for this pair of rates: the windowed-sinc table when it is small enough. */
export function resamplerFor(fromRate: number, toRate: number): 'polyphase' | 'interpolating' {
  const { phases, taps } = polyphaseShape(fromRate, toRate);
  return phases * taps <= MAX_COEFFICIENTS ? 'polyphase' : 'interpolating';
}

/** Rate pairs whose polyphase filter is currently built (bounded by FILTER_CACHE_ENTRIES). */
export function cachedFilterCount(): number {
  return PolyphaseFilter.cached;
}

/** Phase count and length of the polyphase filter for a pair of rates, computed without building it. */
function polyphaseShape(fromRate: number, toRate: number): { phases: number; halfTaps: number; taps: number; cutoff: number } {
  // With a rational ratio L/M the fractional positions repeat with period L: one exact row per phase.
  const exactPhases = toRate / gcd(fromRate, toRate);
  const phases = exactPhases <= MAX_PHASES ? exactPhases : MAX_PHASES;
  // Cut-off in cycles per input sample (0.5 = input Nyquist); downsampling lowers it to the output Nyquist.
  const cutoff = 0.5 * CUTOFF * Math.min(1, toRate / fromRate);
  const halfTaps = Math.ceil(ZERO_CROSSINGS / (2 * cutoff));
  return { phases, halfTaps, taps: 2 * halfTaps, cutoff };
}

/**
 * The cheap resampler for awkward ratios, O(input): when downsampling, each output sample is the mean of the
 * input over its own period (a box anti-alias filter); when upsampling, linear interpolation between neighbours.
 */
function resampleInterpolating(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  const outLength = Math.round((input.length * toRate) / fromRate);
  const out = new Float32Array(outLength);
  const step = fromRate / toRate;
  if (step > 1) {
    for (let n = 0; n < outLength; n++) {
      const start = Math.floor(n * step);
      const end = Math.min(input.length, Math.max(start + 1, Math.floor((n + 1) * step)));
      let sum = 0;
      for (let j = start; j < end; j++) sum += input[j]!;
      out[n] = sum / (end - start);
    }
    return out;
  }
  for (let n = 0; n < outLength; n++) {
    const position = n * step;
    const index = Math.floor(position);
    const fraction = position - index;
    const a = input[index] ?? 0;
    const b = input[index + 1] ?? a;
    out[n] = a + (b - a) * fraction;
  }
  return out;
}

/** A table of windowed-sinc coefficients, one row per fractional input position. */
class PolyphaseFilter {
  /** Least recently used first (a Map iterates in insertion order; a hit is moved to the end). */
  static readonly #cache = new Map<string, PolyphaseFilter>();

  static get cached(): number {
    return PolyphaseFilter.#cache.size;
  }

  readonly phases: number;
  readonly halfTaps: number;
  readonly taps: number;
  readonly coefficients: Float32Array;

  static for(fromRate: number, toRate: number): PolyphaseFilter {
    const key = `${fromRate}:${toRate}`;
    let filter = PolyphaseFilter.#cache.get(key);
    if (filter) PolyphaseFilter.#cache.delete(key);
    else filter = new PolyphaseFilter(fromRate, toRate);
    PolyphaseFilter.#cache.set(key, filter);
    if (PolyphaseFilter.#cache.size > FILTER_CACHE_ENTRIES) PolyphaseFilter.#cache.delete(PolyphaseFilter.#cache.keys().next().value!);
    return filter;
  }

  private constructor(fromRate: number, toRate: number) {
    const { phases, halfTaps, taps, cutoff } = polyphaseShape(fromRate, toRate);
    this.phases = phases;
    this.halfTaps = halfTaps;
    this.taps = taps;
    this.coefficients = new Float32Array(this.phases * this.taps);
    for (let phase = 0; phase < this.phases; phase++) {
      const fraction = phase / this.phases;
      let sum = 0;
      for (let k = 0; k < this.taps; k++) {
        // Distance from input sample (index - halfTaps + 1 + k) to the output position (index + fraction).
        const distance = this.halfTaps - 1 - k + fraction;
        const value = 2 * cutoff * sinc(2 * cutoff * distance) * blackman(distance / this.halfTaps);
        this.coefficients[phase * this.taps + k] = value;
        sum += value;
      }
      // Unity gain at DC for every phase.
      for (let k = 0; k < this.taps; k++) this.coefficients[phase * this.taps + k] /= sum;
    }
  }
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window over [-1, 1]. */
function blackman(x: number): number {
  if (x <= -1 || x >= 1) return 0;
  const t = (x + 1) / 2;
  return 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
