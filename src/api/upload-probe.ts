/**
 * What an upload's container header says, read before anything is decoded: a WAV whose data size does not
 * match the bytes present is refused, and the duration announced by the header (WAV data size and byte rate,
 * FLAC STREAMINFO total samples, MP3 Xing/Info frame count or size/bitrate, Ogg granule of the last page) lets
 * a too-long greeting be refused without decoding 20 minutes of audio to learn it.
 */
import { parseMpegFrameHeader, readGaplessInfo, skipId3v2 } from '../shared/audio/mpeg-audio.js';
import { ApiError } from './errors.js';

/** The duration the header announces, in ms, or undefined when the container does not say. */
export function announcedDurationMs(data: Buffer): number | undefined {
  if (data.length < 12) return undefined;
  const magic = data.toString('latin1', 0, 4);
  if (magic === 'RIFF' && data.toString('latin1', 8, 12) === 'WAVE') return wavDurationMs(data);
  if (magic === 'fLaC') return flacDurationMs(data, 0);
  if (magic === 'OggS') return oggDurationMs(data);
  const frameAt = skipId3v2(data);
  if (data.toString('latin1', frameAt, frameAt + 4) === 'fLaC') return flacDurationMs(data, frameAt);
  return mp3DurationMs(data, frameAt);
}

/**
 * WAV (RIFF): walks the chunks; the `data` chunk must hold exactly the bytes its header declares (plus the RIFF
 * pad byte of an odd size), followed only by whole chunks. A lying size is a 400.
 */
function wavDurationMs(data: Buffer): number | undefined {
  let at = 12;
  let byteRate = 0;
  while (at + 8 <= data.length) {
    const id = data.toString('latin1', at, at + 4);
    const size = data.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= data.length) byteRate = data.readUInt32LE(body + 8);
    if (id === 'data') {
      const present = data.length - body;
      if (size > present || !trailingChunksFit(data, body + size + (size & 1))) {
        throw new ApiError(400, `file: the WAV header declares a data size of ${size} bytes but ${present} bytes follow it`);
      }
      return byteRate > 0 ? (size * 1000) / byteRate : undefined;
    }
    at = body + size + (size & 1);
  }
  throw new ApiError(400, 'file: the WAV file has no complete "data" chunk');
}

/** True when the bytes from `at` to the end are whole RIFF chunks (or a last lone pad byte). */
function trailingChunksFit(data: Buffer, at: number): boolean {
  while (at + 8 <= data.length) at += 8 + data.readUInt32LE(at + 4) + (data.readUInt32LE(at + 4) & 1);
  return at === data.length || at === data.length - 1 || (at > data.length && at - data.length <= 1);
}

/** FLAC: STREAMINFO (the first metadata block) — 20-bit rate, 36-bit total samples (0: unknown). */
function flacDurationMs(data: Buffer, at: number): number | undefined {
  const info = at + 8;
  if (info + 18 > data.length || (data[at + 4]! & 0x7f) !== 0) return undefined;
  const rate = (data[info + 10]! << 12) | (data[info + 11]! << 4) | (data[info + 12]! >> 4);
  const total = (data[info + 13]! & 0x0f) * 2 ** 32 + data.readUInt32BE(info + 14);
  return rate > 0 && total > 0 ? (total * 1000) / rate : undefined;
}

/** MP3: the Xing/Info frame count when there is one, else (constant bitrate) the audio bytes over the bitrate. */
function mp3DurationMs(data: Buffer, frameAt: number): number | undefined {
  const header = parseMpegFrameHeader(data, frameAt);
  if (!header) return undefined;
  const gapless = readGaplessInfo(data, frameAt);
  if (gapless) return (gapless.frames * header.samplesPerFrame * 1000) / header.sampleRate;
  return ((data.length - frameAt) * 8) / header.bitrateKbps;
}

/** Ogg: the granule position of the last page, at 48 kHz for Opus, else at the Vorbis/FLAC header's rate. */
function oggDurationMs(data: Buffer): number | undefined {
  const last = data.lastIndexOf('OggS', data.length - 27, 'latin1');
  if (last < 0 || last + 14 > data.length) return undefined;
  const granule = Number(data.readBigInt64LE(last + 6));
  const first = 28 + data[26]!; // first page header + its segment table
  let rate: number | undefined;
  if (data.toString('latin1', first, first + 8) === 'OpusHead') rate = 48_000;
  else if (data.toString('latin1', first + 1, first + 7) === 'vorbis' && first + 16 <= data.length) rate = data.readUInt32LE(first + 12);
  else if (data.toString('latin1', first + 1, first + 5) === 'FLAC' && first + 30 <= data.length) {
    const info = first + 17; // 0x7F "FLAC" major minor header-count(2) "fLaC" block-header(4)
    rate = (data[info + 10]! << 12) | (data[info + 11]! << 4) | (data[info + 12]! >> 4);
  }
  return rate !== undefined && rate > 0 && granule > 0 ? (granule * 1000) / rate : undefined;
}
