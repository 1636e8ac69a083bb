import { decodeAiff, isAiff } from './aiff.js';
import { decodeAu, isAu } from './au.js';
import { readGaplessInfo, parseMpegFrameHeader, skipId3v2 } from './mpeg-audio.js';
import { demuxOgg, isOgg, oggCodec, parseOpusHead } from './ogg.js';
import { AudioFormatError, AudioTooLongError, type DecodedAudio } from './types.js';
import { decodeFlacWasm, decodeMpegWasm, decodeOpusWasm, decodeVorbisWasm, type WasmDecodedAudio } from './wasm-codecs.js';
import { readInterleaved, checkHeaderNumbers } from './pcm-layout.js';
import { isRiffWave, readWav, wavSampleEncoding, WavFormatError } from './wav.js';

/** Uploads larger than this are refused before any parsing (an hour of 48 kHz stereo float is ~1.4 GB). */
const MAX_INPUT_BYTES = 256 * 1024 * 1024;
const FLAC_TRAILER = Buffer.alloc(16);

/**
 * Decodes an uploaded audio file of any of the six formats, at any rate and channel count. The container is
 * recognised by its magic bytes; `hint` (file name, MIME type) only makes error messages more useful.
 * Throws AudioFormatError for anything unreadable. With `limit.maxSeconds`, FLAC and MP3 are decoded chunk by
 * chunk and decoding stops with AudioTooLongError as soon as the limit is passed.
 */
export async function decodeAudio(
  data: Buffer,
  hint?: { filename?: string; mimeType?: string },
  limit: { maxSeconds?: number } = {},
): Promise<DecodedAudio> {
  const what = describe(hint);
  if (!Buffer.isBuffer(data)) throw new AudioFormatError(`${what}: not a Buffer`);
  if (data.length === 0) throw new AudioFormatError(`${what}: empty file`);
  if (data.length > MAX_INPUT_BYTES) throw new AudioFormatError(`${what}: larger than ${MAX_INPUT_BYTES} bytes`);
  let decoded: DecodedAudio;
  try {
    decoded = await decodeByMagic(data, limit.maxSeconds);
  } catch (error) {
    if (error instanceof AudioTooLongError) throw error;
    if (error instanceof AudioFormatError) throw new AudioFormatError(`${what}: ${error.message}`);
    // The WASM decoders throw plain errors (or worse) on corrupt streams: name the container we were reading.
    const reason = error instanceof Error ? error.message : String(error);
    throw new AudioFormatError(`${what}: cannot decode as ${containerName(data)} (${reason})`);
  }
  if (decoded.samples.length === 0) throw new AudioFormatError(`${what}: contains no audio samples`);
  return decoded;
}

function describe(hint?: { filename?: string; mimeType?: string }): string {
  const parts = [hint?.filename, hint?.mimeType].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length > 0 ? `audio upload ${parts.join(' ')}` : 'audio upload';
}

function containerName(data: Buffer): string {
  const magic = data.toString('latin1', 0, 4);
  if (magic === 'fLaC') return 'FLAC';
  if (magic === 'OggS') return 'Ogg';
  return 'MP3';
}

async function decodeByMagic(data: Buffer, maxSeconds: number | undefined): Promise<DecodedAudio> {
  if (isRiffWave(data)) return decodeWavAudio(data);
  if (isAu(data)) return decodeAu(data);
  if (isAiff(data)) return decodeAiff(data);
  if (data.length >= 4 && data.toString('latin1', 0, 4) === 'fLaC') {
    // codec-parser (inside the FLAC decoder) only emits a frame once MIN_FLAC_FRAME_SIZE (2) bytes follow it, so
    // a short final frame (a CONSTANT block of trailing silence) would be dropped: give it a few bytes of slack.
    return fromWasm('FLAC', await decodeFlacWasm(Buffer.concat([data, FLAC_TRAILER]), maxSeconds));
  }
  if (isOgg(data)) return decodeOgg(data);
  const frameAt = skipId3v2(data);
  if (frameAt > 0 || parseMpegFrameHeader(data, 0)) return decodeMp3(data, frameAt, maxSeconds);
  throw new AudioFormatError('unrecognised format (expected WAV, AU, AIFF, FLAC, MP3 or Ogg)');
}

/** A WAV upload as floats, every channel kept (the one WAV parser is wav.ts; this only reads its samples). */
function decodeWavAudio(data: Buffer): DecodedAudio {
  let layout;
  let encoding;
  try {
    layout = readWav(data);
    encoding = wavSampleEncoding(layout);
  } catch (error) {
    if (error instanceof WavFormatError) throw new AudioFormatError(`WAV: ${error.message}`);
    throw error;
  }
  checkHeaderNumbers('WAV', layout.channels, layout.sampleRate);
  const samples = readInterleaved(layout.data, 0, layout.data.length, encoding, layout.channels);
  return { samples, sampleRate: layout.sampleRate, channels: layout.channels };
}

async function decodeOgg(data: Buffer): Promise<DecodedAudio> {
  const stream = demuxOgg(data);
  const codec = oggCodec(stream.packets[0]!);
  switch (codec) {
    case 'vorbis':
      return fromWasm('Ogg Vorbis', await decodeVorbisWasm(data));
    case 'flac':
      return fromWasm('Ogg FLAC', await decodeFlacWasm(data));
    case 'opus': {
      const head = parseOpusHead(stream.packets[0]!);
      // RFC 7845 §3: the first two packets are the ID and comment headers; audio starts with the third.
      const decoded = fromWasm('Ogg Opus', await decodeOpusWasm(stream.packets.slice(2), {
        channels: head.channels,
        preSkip: head.preSkip,
        streamCount: head.streamCount,
        coupledStreamCount: head.coupledStreamCount,
        channelMappingTable: head.channelMapping,
      }));
      // §4.5: the last page's granule position "marks the end of the stream": drop the encoder's end padding.
      const frames = stream.lastGranule - head.preSkip;
      if (frames >= 0 && frames * decoded.channels < decoded.samples.length) {
        decoded.samples = decoded.samples.slice(0, frames * decoded.channels);
      }
      return decoded;
    }
    default:
      throw new AudioFormatError('Ogg: unsupported codec (expected Vorbis, Opus or FLAC)');
  }
}

async function decodeMp3(data: Buffer, frameAt: number, maxSeconds: number | undefined): Promise<DecodedAudio> {
  if (!parseMpegFrameHeader(data, frameAt)) throw new AudioFormatError('MP3: no MPEG audio frame after the ID3 tag');
  const header = parseMpegFrameHeader(data, frameAt)!;
  let decoded = fromWasm('MP3', await decodeMpegWasm(data, maxSeconds));
  if (header.mono && decoded.channels === 2) decoded = firstChannel(decoded);
  const gapless = readGaplessInfo(data, frameAt);
  if (gapless) {
    // mpg123 trims encoder delay and padding itself; only cut here when it evidently did not.
    const frames = decoded.samples.length / decoded.channels;
    const untrimmed = gapless.frames * header.samplesPerFrame;
    if (frames === untrimmed) {
      const start = gapless.delay + 529;
      const end = Math.max(start, untrimmed - gapless.padding + 529);
      decoded.samples = decoded.samples.slice(start * decoded.channels, Math.min(frames, end) * decoded.channels);
    }
  }
  return decoded;
}

/** Interleaves the planar output of a WASM decoder, refusing output that came only with errors. */
function fromWasm(container: string, result: WasmDecodedAudio): DecodedAudio {
  const channels = result.channelData.length;
  if (result.samplesDecoded === 0 || channels === 0) {
    const reason = result.errors.length > 0 ? result.errors.map((e) => e.message).join('; ') : 'no audio decoded';
    throw new AudioFormatError(`${container}: ${reason}`);
  }
  const frames = result.samplesDecoded;
  const samples = new Float32Array(frames * channels);
  for (let c = 0; c < channels; c++) {
    const plane = result.channelData[c]!;
    for (let f = 0; f < frames; f++) samples[f * channels + c] = plane[f] ?? 0;
  }
  return { samples, sampleRate: result.sampleRate, channels };
}

/** mpg123 always outputs two channels; a mono stream comes back duplicated. */
function firstChannel(decoded: DecodedAudio): DecodedAudio {
  const frames = decoded.samples.length / decoded.channels;
  const samples = new Float32Array(frames);
  for (let f = 0; f < frames; f++) samples[f] = decoded.samples[f * decoded.channels]!;
  return { samples, sampleRate: decoded.sampleRate, channels: 1 };
}
