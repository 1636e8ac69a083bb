import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createMp3Encoder, createOggEncoder } from 'wasm-media-encoders';
import { AudioTooLongError } from './types.js';

/**
 * The wasm-audio-decoders packages are ESM-only ("type": "module"), which jest (CommonJS) cannot require and
 * Node 20 only loads through require(esm). Each ships a self-contained UMD build in dist/; we evaluate it as a
 * CommonJS module body so that one code path works in tests and in the compiled service.
 */
const umdCache = new Map<string, unknown>();

function loadUmd<T>(packageName: string, distFile: string): T {
  const key = `${packageName}/${distFile}`;
  let loaded = umdCache.get(key);
  if (loaded === undefined) {
    const directory = path.dirname(require.resolve(packageName));
    const source = readFileSync(path.join(directory, distFile), 'utf8');
    const module = { exports: {} as Record<string, unknown> };
    // The bundle only reads `exports`, `module` and `require` (for its optional web-worker dependency).
    new Function('exports', 'require', 'module', source)(module.exports, require, module);
    loaded = module.exports;
    umdCache.set(key, loaded);
  }
  return loaded as T;
}

/** What every decoder of the family returns. */
export interface WasmDecodedAudio {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  /** Bits per sample of the source (FLAC only). */
  bitDepth?: number;
  errors: { message: string }[];
}

interface WasmDecoder {
  ready: Promise<void>;
  free(): void;
}

interface FileDecoder extends WasmDecoder {
  decodeFile(data: Uint8Array): Promise<WasmDecodedAudio>;
}

interface MpegDecoder extends WasmDecoder {
  decode(data: Uint8Array): WasmDecodedAudio;
}

interface StreamDecoder extends WasmDecoder {
  decode(data: Uint8Array): Promise<WasmDecodedAudio>;
  flush(): Promise<WasmDecodedAudio>;
}

/** Input fed to a streaming decoder per call: small enough that the limit is noticed early. */
const DECODE_CHUNK_BYTES = 64 * 1024;

/**
 * Decodes `data` chunk by chunk, stopping with AudioTooLongError as soon as the samples decoded so far pass
 * `maxSeconds` — the header may not say how long the stream is (FLAC total samples 0, VBR MP3 without Xing).
 */
async function decodeInChunks(
  data: Uint8Array,
  maxSeconds: number,
  decodeChunk: (chunk: Uint8Array) => WasmDecodedAudio | Promise<WasmDecodedAudio>,
  flush?: () => Promise<WasmDecodedAudio>,
): Promise<WasmDecodedAudio> {
  const parts: WasmDecodedAudio[] = [];
  let frames = 0;
  let sampleRate = 0;
  const take = (part: WasmDecodedAudio) => {
    if (part.samplesDecoded === 0 && part.errors.length === 0) return;
    parts.push({ ...part, channelData: part.channelData.map((plane) => plane.slice(0, part.samplesDecoded)) });
    frames += part.samplesDecoded;
    if (part.sampleRate > 0) sampleRate = part.sampleRate;
    if (sampleRate > 0 && frames / sampleRate > maxSeconds) throw new AudioTooLongError(maxSeconds);
  };
  for (let at = 0; at < data.length; at += DECODE_CHUNK_BYTES) take(await decodeChunk(data.subarray(at, at + DECODE_CHUNK_BYTES)));
  if (flush) take(await flush());
  const channels = Math.max(0, ...parts.map((p) => p.channelData.length));
  const channelData = Array.from({ length: channels }, () => new Float32Array(frames));
  let offset = 0;
  for (const part of parts) {
    for (let c = 0; c < channels; c++) channelData[c]!.set(part.channelData[c] ?? new Float32Array(part.samplesDecoded), offset);
    offset += part.samplesDecoded;
  }
  const bitDepth = parts.find((p) => p.bitDepth !== undefined)?.bitDepth;
  return { channelData, samplesDecoded: frames, sampleRate, errors: parts.flatMap((p) => p.errors), ...(bitDepth !== undefined ? { bitDepth } : {}) };
}

interface OpusDecoder extends WasmDecoder {
  decodeFrames(frames: Uint8Array[]): WasmDecodedAudio;
}

export interface OpusDecoderOptions {
  channels: number;
  preSkip: number;
  streamCount: number;
  coupledStreamCount: number;
  channelMappingTable: number[];
  forceStereo?: boolean;
}

async function withDecoder<D extends WasmDecoder, R>(decoder: D, use: (decoder: D) => R | Promise<R>): Promise<R> {
  try {
    await decoder.ready;
    return await use(decoder);
  } finally {
    decoder.free();
  }
}

/** Decodes MPEG audio (Layer I/II/III) with mpg123; gapless trimming of LAME tags is on by default. */
export function decodeMpegWasm(data: Uint8Array, maxSeconds?: number): Promise<WasmDecodedAudio> {
  const { MPEGDecoder } = loadUmd<{ MPEGDecoder: new () => MpegDecoder }>('mpg123-decoder', 'dist/mpg123-decoder.min.js');
  if (maxSeconds === undefined) return withDecoder(new MPEGDecoder(), (decoder) => decoder.decode(data));
  return withDecoder(new MPEGDecoder(), (decoder) => decodeInChunks(data, maxSeconds, (chunk) => decoder.decode(chunk)));
}

/**
 * Decodes a native FLAC or an Ogg FLAC file with libFLAC. The decoder maps an n-bit sample s to
 * s / (2^(n-1) - 1); we rescale to s / 2^(n-1) like every other decoder here, so 16-bit FLAC round-trips exactly.
 */
export async function decodeFlacWasm(data: Uint8Array, maxSeconds?: number): Promise<WasmDecodedAudio> {
  const { FLACDecoder } = loadUmd<{ FLACDecoder: new () => FileDecoder & StreamDecoder }>('@wasm-audio-decoders/flac', 'dist/flac-decoder.min.js');
  const result = await withDecoder(new FLACDecoder(), (decoder) =>
    maxSeconds === undefined
      ? decoder.decodeFile(data)
      : decodeInChunks(data, maxSeconds, (chunk) => decoder.decode(chunk), () => decoder.flush()),
  );
  const bits = result.bitDepth ?? 0;
  if (bits >= 2 && bits <= 32) {
    const full = 2 ** (bits - 1);
    const factor = (full - 1) / full;
    for (const plane of result.channelData) for (let i = 0; i < plane.length; i++) plane[i] = plane[i]! * factor;
  }
  return result;
}

/** Decodes an Ogg Vorbis file with libvorbis. */
export function decodeVorbisWasm(data: Uint8Array): Promise<WasmDecodedAudio> {
  const { OggVorbisDecoder } = loadUmd<{ OggVorbisDecoder: new () => FileDecoder }>(
    '@wasm-audio-decoders/ogg-vorbis',
    'dist/ogg-vorbis-decoder.min.js',
  );
  return withDecoder(new OggVorbisDecoder(), (decoder) => decoder.decodeFile(data));
}

/** Decodes Opus packets (already taken out of their Ogg pages) with libopus, at 48 kHz. */
export function decodeOpusWasm(packets: Uint8Array[], options: OpusDecoderOptions): Promise<WasmDecodedAudio> {
  const { OpusDecoder } = loadUmd<{ OpusDecoder: new (options: OpusDecoderOptions) => OpusDecoder }>(
    'opus-decoder',
    'dist/opus-decoder.min.js',
  );
  return withDecoder(new OpusDecoder(options), (decoder) => decoder.decodeFrames(packets));
}

/** Encodes mono float samples to a raw MPEG Layer III stream with LAME (constant bitrate). */
export async function encodeMp3Wasm(samples: Float32Array, sampleRate: number, bitrateKbps: 8 | 16 | 24 | 32 | 48 | 64): Promise<Buffer> {
  const encoder = await createMp3Encoder();
  encoder.configure({ channels: 1, sampleRate, bitrate: bitrateKbps });
  // The returned views point into the encoder's memory and are overwritten by its next call: copy each one.
  const body = Buffer.from(encoder.encode([samples]));
  const tail = Buffer.from(encoder.finalize());
  return Buffer.concat([body, tail]);
}

/** Encodes mono float samples to an Ogg Vorbis file with libvorbis (VBR quality 0–10). */
export async function encodeVorbisWasm(samples: Float32Array, sampleRate: number, quality: number): Promise<Buffer> {
  const encoder = await createOggEncoder();
  encoder.configure({ channels: 1, sampleRate, vbrQuality: quality, oggSerialNo: 0x7265706f });
  const body = Buffer.from(encoder.encode([samples]));
  const tail = Buffer.from(encoder.finalize());
  return Buffer.concat([body, tail]);
}
