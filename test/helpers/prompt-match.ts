/**
 * Finding known audio in what the test user agent received: prompt sequences (near-exact sample matching
 * through the same G.711 round trip the server applies) and tones (Goertzel).
 */
import { g711RoundTrip, type G711Codec } from './rtp-peer.js';
import type { PromptCatalog } from '../../src/ivr/prompts/catalog.js';

const SAMPLE_RATE = 8000;
const ANCHOR_LENGTH = 24;
const ANCHOR_COUNT = 8;

export interface FindSequenceOptions {
  /** Passes each expected chunk through this codec first (decode(encode(x))); null when already in the received domain. Default 'PCMA'. */
  codec?: G711Codec | null;
  /** Samples with |x| ≤ this at either end of a chunk are trimmed before searching (the server may trim them). Default 64. */
  edgeSilence?: number;
  /** Allowed |received − expected| per sample. Default 0 (exact). */
  sampleTolerance?: number;
  /** Allowed fraction of checked samples outside the tolerance (at least 4 samples). Default 0.005. */
  maxMismatchRatio?: number;
  /** Samples at each end of the trimmed chunk left unchecked, for a cut first or last packet. Default 240 (30 ms). */
  edgeAllowance?: number;
  /** Where in `received` the search starts. Default 0. */
  from?: number;
  /** Names of the chunks for messages (e.g. prompt ids). */
  labels?: readonly string[];
  /** The most silence or other audio allowed between one chunk and the next (edges included). Default: unlimited. */
  maxGapMs?: number;
}

export interface ChunkMatch {
  index: number;
  label: string;
  /** Where the first non-silent sample of the chunk sits in `received`. */
  start: number;
  /** One past the last non-silent sample. */
  end: number;
  /** Where the whole chunk (with its edge silence) would start: `start − trimmedLead`. */
  chunkStart: number;
  trimmedLead: number;
  trimmedTrail: number;
  /** Checked samples outside the tolerance. */
  mismatches: number;
  /** Samples between the end of the previous chunk (edges included) and the start of this one; 0 for the first. */
  gapBefore: number;
}

export type SequenceResult =
  | { ok: true; matches: ChunkMatch[] }
  | { ok: false; matches: ChunkMatch[]; missing: number; message: string; bestCorrelation: { value: number; at: number } };

interface PreparedChunk {
  core: Int16Array;
  lead: number;
  trail: number;
  /** The checked part of the core: [checkFrom, checkTo). */
  checkFrom: number;
  checkTo: number;
  limit: number;
}

const seconds = (samples: number): string => `${(samples / SAMPLE_RATE).toFixed(3)} s`;

function prepare(chunk: Int16Array, o: Required<Omit<FindSequenceOptions, 'labels' | 'from' | 'maxGapMs'>>, label: string): PreparedChunk {
  const expected = o.codec ? g711RoundTrip(o.codec, chunk) : chunk;
  let lead = 0;
  while (lead < expected.length && Math.abs(expected[lead]!) <= o.edgeSilence) lead++;
  let endAt = expected.length;
  while (endAt > lead && Math.abs(expected[endAt - 1]!) <= o.edgeSilence) endAt--;
  if (endAt - lead < ANCHOR_LENGTH) throw new RangeError(`chunk ${label} has only ${endAt - lead} samples louder than ${o.edgeSilence}: nothing to search for`);
  const core = expected.subarray(lead, endAt);
  const edge = Math.min(o.edgeAllowance, Math.floor((core.length - ANCHOR_LENGTH) / 4));
  const checked = core.length - 2 * edge;
  return { core, lead, trail: expected.length - endAt, checkFrom: edge, checkTo: core.length - edge, limit: Math.max(4, Math.floor(checked * o.maxMismatchRatio)) };
}

/** Anchor offsets inside the checked region: evenly spread windows, the busiest ones (most distinct values) first. */
function anchorsOf(c: PreparedChunk): number[] {
  const span = c.checkTo - c.checkFrom - ANCHOR_LENGTH;
  const offsets = Array.from({ length: ANCHOR_COUNT }, (_, i) => c.checkFrom + Math.floor((span * i) / Math.max(1, ANCHOR_COUNT - 1)));
  const window = (a: number): Int16Array => c.core.subarray(a, a + ANCHOR_LENGTH);
  const distinct = (a: number): number => new Set(window(a)).size;
  const peak = (a: number): number => window(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  // Quiet windows (pauses between words) occur verbatim in any silence: use them only when nothing louder exists.
  const unique = [...new Set(offsets)];
  const loud = unique.filter((a) => peak(a) > 256);
  return (loud.length > 0 ? loud : unique).sort((a, b) => distinct(b) - distinct(a));
}

/** Mismatches of the checked region when the core starts at `p`; stops counting past `stopAt`. Samples outside `received` count. */
function mismatchesAt(received: Int16Array, c: PreparedChunk, p: number, tolerance: number, stopAt: number): number {
  let bad = 0;
  for (let i = c.checkFrom; i < c.checkTo; i++) {
    const r = p + i;
    if (r < 0 || r >= received.length || Math.abs(received[r]! - c.core[i]!) > tolerance) {
      if (++bad > stopAt) return bad;
    }
  }
  return bad;
}

/** The earliest core position ≥ `from − checkFrom` that matches, and the closest miss seen. */
function locate(received: Int16Array, c: PreparedChunk, from: number, tolerance: number): { at?: number; mismatches: number; closest?: { at: number; mismatches: number } } {
  let best: number | undefined;
  let bestBad = 0;
  let closest: { at: number; mismatches: number } | undefined;
  for (const a of anchorsOf(c)) {
    const first = c.core[a]!;
    const lastPos = received.length - ANCHOR_LENGTH;
    for (let pos = Math.max(0, from - c.checkFrom + a); pos <= lastPos; pos++) {
      const p = pos - a;
      if (best !== undefined && p >= best) break;
      if (Math.abs(received[pos]! - first) > tolerance) continue;
      let k = 1;
      while (k < ANCHOR_LENGTH && Math.abs(received[pos + k]! - c.core[a + k]!) <= tolerance) k++;
      if (k < ANCHOR_LENGTH) continue;
      // Counting stops well past the limit: a far miss is reported as "N+ mismatches" and costs little.
      const bad = mismatchesAt(received, c, p, tolerance, Math.min(10 * c.limit, closest?.mismatches ?? Infinity));
      if (bad <= c.limit) {
        best = p;
        bestBad = bad;
        break;
      }
      if (!closest || bad < closest.mismatches) closest = { at: p, mismatches: bad };
    }
  }
  return best === undefined ? { mismatches: 0, closest } : { at: best, mismatches: bestBad, closest };
}

/**
 * Best normalised cross-correlation of the chunk's loudest stretch against `received[from..]`, on a 4× decimated
 * signal (a diagnostic for failure messages, not a match criterion).
 */
export function bestCorrelation(received: Int16Array, chunk: Int16Array, from = 0): { value: number; at: number } {
  const decimate = (x: Int16Array, start: number): Float64Array => {
    const out = new Float64Array(Math.max(0, Math.floor((x.length - start) / 4)));
    for (let i = 0; i < out.length; i++) {
      const j = start + 4 * i;
      out[i] = (x[j]! + x[j + 1]! + x[j + 2]! + x[j + 3]!) / 4;
    }
    return out;
  };
  const r = decimate(received, Math.max(0, from));
  const full = decimate(chunk, 0);
  const n = Math.min(512, full.length);
  if (n === 0 || r.length < n) return { value: 0, at: -1 };
  let bestStart = 0;
  let bestEnergy = -1;
  for (let s = 0; s + n <= full.length; s += Math.max(1, n >> 2)) {
    let e = 0;
    for (let i = 0; i < n; i++) e += full[s + i]! ** 2;
    if (e > bestEnergy) [bestEnergy, bestStart] = [e, s];
  }
  const t = full.subarray(bestStart, bestStart + n);
  let tNorm = 0;
  for (const v of t) tNorm += v * v;
  let rNorm = 0;
  for (let i = 0; i < n; i++) rNorm += r[i]! ** 2;
  let best = { value: 0, at: -1 };
  for (let p = 0; p + n <= r.length; p++) {
    if (p > 0) rNorm += r[p + n - 1]! ** 2 - r[p - 1]! ** 2;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += r[p + i]! * t[i]!;
    const value = rNorm > 0 && tNorm > 0 ? dot / Math.sqrt(rNorm * tNorm) : 0;
    if (value > best.value) best = { value, at: Math.max(0, from) + 4 * (p - bestStart) };
  }
  return best;
}

/**
 * Finds `expected` chunks one after the other in `received` (each after the end of the previous one).
 * Each chunk is put through the codec, its silent edges trimmed, located by exact anchor windows and then
 * verified sample by sample (a few mismatches and unchecked edges allowed, see options).
 */
export function findSequence(received: Int16Array, expected: readonly Int16Array[], opts: FindSequenceOptions = {}): SequenceResult {
  const o = {
    codec: opts.codec === undefined ? 'PCMA' : opts.codec,
    edgeSilence: opts.edgeSilence ?? 64,
    sampleTolerance: opts.sampleTolerance ?? 0,
    maxMismatchRatio: opts.maxMismatchRatio ?? 0.005,
    edgeAllowance: opts.edgeAllowance ?? 240,
  } as const;
  const label = (i: number): string => (opts.labels?.[i] !== undefined ? `#${i} "${opts.labels[i]}"` : `#${i}`);
  const matches: ChunkMatch[] = [];
  let from = opts.from ?? 0;
  for (let i = 0; i < expected.length; i++) {
    const c = prepare(expected[i]!, o, label(i));
    const found = locate(received, c, from, o.sampleTolerance);
    if (found.at === undefined) {
      const correlation = bestCorrelation(received, c.core, from - c.checkFrom);
      const earlier = from > 0 ? locate(received.subarray(0, from + c.core.length), c, 0, o.sampleTolerance).at : undefined;
      const lines = [
        `prompt sequence not heard: chunk ${label(i)} (${seconds(c.core.length)} after trimming) not found after ${seconds(from)} (sample ${from}) of ${seconds(received.length)} received.`,
        `  found before it: ${matches.length ? matches.map((m) => `${label(m.index)} at ${seconds(m.start)}–${seconds(m.end)}`).join(', ') : 'nothing'}`,
        `  best normalised correlation ${correlation.value.toFixed(3)} at ${seconds(correlation.at)}`,
        found.closest
          ? `  closest sample match: ${found.closest.mismatches}+ mismatched samples at ${seconds(found.closest.at)} (limit ${c.limit})`
          : `  no ${ANCHOR_LENGTH}-sample window of the chunk occurs verbatim after ${seconds(from)}`,
      ];
      if (correlation.value > 0.9 && !found.closest) lines.push('  the audio seems to be there but not sample-exact: another codec, a gain change or resampling?');
      if (earlier !== undefined) lines.push(`  the chunk does occur earlier, at ${seconds(earlier)}: the order differs from the expected one`);
      return { ok: false, matches, missing: i, message: lines.join('\n'), bestCorrelation: correlation };
    }
    const start = found.at;
    const previous = matches.at(-1);
    const gapBefore = previous ? start - c.lead - (previous.end + previous.trimmedTrail) : 0;
    const match = { index: i, label: opts.labels?.[i] ?? String(i), start, end: start + c.core.length, chunkStart: start - c.lead, trimmedLead: c.lead, trimmedTrail: c.trail, mismatches: found.mismatches, gapBefore };
    if (previous && opts.maxGapMs !== undefined && gapBefore > (opts.maxGapMs * SAMPLE_RATE) / 1000) {
      const message = `prompt sequence not contiguous: chunk ${label(i)} found at ${seconds(match.chunkStart)}, ${seconds(gapBefore)} after the end of ${label(previous.index)} (at most ${opts.maxGapMs} ms allowed)`;
      return { ok: false, matches, missing: i, message, bestCorrelation: { value: 1, at: start } };
    }
    matches.push(match);
    from = start + c.core.length;
  }
  return { ok: true, matches };
}

/** Asserts that the prompts `ids` of `language` were heard in this order; throws a readable error otherwise. */
export function expectPromptsHeard(received: Int16Array, catalog: PromptCatalog, language: string, ids: readonly string[], codec: G711Codec, opts: Omit<FindSequenceOptions, 'codec' | 'labels'> = {}): ChunkMatch[] {
  const result = findSequence(received, ids.map((id) => catalog.get(language, id)), { ...opts, codec, labels: ids });
  if (!result.ok) throw new Error(`expected prompts [${ids.join(', ')}] (${language}, ${codec}):\n${result.message}`);
  return result.matches;
}

/**
 * Goertzel power of `freqHz` in `samples[start..start+n)` relative to the window's total power: ≈1 for a pure
 * tone at that frequency, ≈0 when it is absent. Also returns the window's RMS.
 */
export function toneRatio(samples: Int16Array, start: number, n: number, freqHz: number): { ratio: number; rms: number } {
  const coeff = 2 * Math.cos((2 * Math.PI * freqHz) / SAMPLE_RATE);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = start; i < start + n; i++) {
    const x = samples[i]!;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return { ratio: energy > 0 ? (2 * power) / (n * energy) : 0, rms: Math.sqrt(energy / n) };
}

export interface ToneSegment {
  start: number;
  end: number;
  startMs: number;
  durationMs: number;
  rms: number;
}

/** Stretches of `received` where `freqHz` dominates (windows of `windowMs` with tone ratio ≥ minRatio and RMS ≥ minRms). */
export function findTone(received: Int16Array, freqHz: number, o: { windowMs?: number; minDurationMs?: number; minRatio?: number; minRms?: number } = {}): ToneSegment[] {
  if (!(freqHz > 0 && freqHz < SAMPLE_RATE / 2)) throw new RangeError(`freqHz must be in (0, ${SAMPLE_RATE / 2}), got ${freqHz}`);
  const n = Math.round(((o.windowMs ?? 20) * SAMPLE_RATE) / 1000);
  const minRatio = o.minRatio ?? 0.6;
  const minRms = o.minRms ?? 100;
  const segments: ToneSegment[] = [];
  let open: { start: number; rmsSum: number; windows: number } | null = null;
  const close = (end: number): void => {
    if (!open) return;
    const durationMs = ((end - open.start) * 1000) / SAMPLE_RATE;
    if (durationMs >= (o.minDurationMs ?? 60)) segments.push({ start: open.start, end, startMs: (open.start * 1000) / SAMPLE_RATE, durationMs, rms: open.rmsSum / open.windows });
    open = null;
  };
  for (let s = 0; s + n <= received.length; s += n) {
    const { ratio, rms } = toneRatio(received, s, n, freqHz);
    if (ratio >= minRatio && rms >= minRms) {
      open ??= { start: s, rmsSum: 0, windows: 0 };
      open.rmsSum += rms;
      open.windows++;
    } else {
      close(s);
    }
  }
  close(received.length - (received.length % n));
  return segments;
}

/** The frequency of the loudest 100 ms of `samples`, estimated from zero crossings. */
export function dominantFrequency(samples: Int16Array): number {
  const n = Math.min(800, samples.length);
  let bestStart = 0;
  let bestEnergy = -1;
  for (let s = 0; s + n <= samples.length; s += n >> 1 || 1) {
    let e = 0;
    for (let i = s; i < s + n; i++) e += samples[i]! * samples[i]!;
    if (e > bestEnergy) [bestEnergy, bestStart] = [e, s];
  }
  let crossings = 0;
  for (let i = bestStart + 1; i < bestStart + n; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return n > 1 ? (crossings * SAMPLE_RATE) / (2 * (n - 1)) : 0;
}

/** Whether `samples` hold a steady tone (at `freqHz`, or at their dominant frequency) for at least `minDurationMs`. */
export function isBeep(samples: Int16Array, o: { freqHz?: number; minDurationMs?: number; minRatio?: number; minRms?: number } = {}): boolean {
  const freq = o.freqHz ?? dominantFrequency(samples);
  if (!(freq > 0 && freq < SAMPLE_RATE / 2)) return false;
  return findTone(samples, freq, { minDurationMs: o.minDurationMs ?? 80, minRatio: o.minRatio, minRms: o.minRms }).length > 0;
}
