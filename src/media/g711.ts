import { alaw, mulaw } from 'alawmulaw';

/**
 * G.711 (ITU-T G.711) companding through lookup tables.
 *
 * Decoding is one indexed read from a 256-entry Int16Array; encoding one indexed read from a
 * 65 536-entry Uint8Array addressed by `sample + 32768`. Both tables are built once at module load
 * from alawmulaw's reference implementation, so the hot path never branches on segment boundaries.
 */
export type G711Codec = 'PCMU' | 'PCMA';

/** RFC 3551 §6, Table 4: static payload types of the two G.711 laws. */
export const PCMU_PAYLOAD_TYPE = 0;
export const PCMA_PAYLOAD_TYPE = 8;

/** The byte each law uses for digital silence (a decoded 0 re-encoded). */
export const PCMU_SILENCE_BYTE = 0xff;
export const PCMA_SILENCE_BYTE = 0xd5;

function buildDecodeTable(decodeSample: (b: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let b = 0; b < 256; b++) table[b] = decodeSample(b);
  return table;
}

function buildEncodeTable(encodeSample: (s: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encodeSample(i - 32768);
  return table;
}

const MULAW_DECODE = buildDecodeTable(mulaw.decodeSample);
const ALAW_DECODE = buildDecodeTable(alaw.decodeSample);
const MULAW_ENCODE = buildEncodeTable(mulaw.encodeSample);
const ALAW_ENCODE = buildEncodeTable(alaw.encodeSample);

export function silenceByteFor(codec: G711Codec): number {
  return codec === 'PCMU' ? PCMU_SILENCE_BYTE : PCMA_SILENCE_BYTE;
}

/**
 * Decodes `src` into `dst` starting at `dstOffset` (no allocation). Returns the number of samples written.
 * `dst` must have room for `src.length` samples.
 */
export function decodeG711Into(codec: G711Codec, src: Uint8Array, dst: Int16Array, dstOffset = 0): number {
  const table = codec === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
  const n = src.length;
  for (let i = 0; i < n; i++) dst[dstOffset + i] = table[src[i]!]!;
  return n;
}

/** Encodes `src` into `dst` starting at `dstOffset` (no allocation). Returns the number of bytes written. */
export function encodeG711Into(codec: G711Codec, src: Int16Array, dst: Uint8Array, dstOffset = 0): number {
  const table = codec === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
  const n = src.length;
  for (let i = 0; i < n; i++) dst[dstOffset + i] = table[src[i]! + 32768]!;
  return n;
}

/** Decodes a whole G.711 buffer into a new Int16Array. */
export function decodeG711(codec: G711Codec, src: Uint8Array): Int16Array {
  const out = new Int16Array(src.length);
  decodeG711Into(codec, src, out);
  return out;
}

/** Encodes 16-bit linear PCM into a new G.711 buffer. */
export function encodeG711(codec: G711Codec, src: Int16Array): Uint8Array {
  const out = new Uint8Array(src.length);
  encodeG711Into(codec, src, out);
  return out;
}

/** The codec of a static G.711 payload type, or null for any other payload type. */
export function codecOfStaticPayloadType(pt: number): G711Codec | null {
  return pt === PCMU_PAYLOAD_TYPE ? 'PCMU' : pt === PCMA_PAYLOAD_TYPE ? 'PCMA' : null;
}
