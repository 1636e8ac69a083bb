import { crc16Arc } from './crc16-arc.js';

/** A parsed MPEG audio frame header (Layer III only). */
export interface MpegFrameHeader {
  /** 1 = MPEG-1, 2 = MPEG-2, 2.5 = MPEG-2.5. */
  version: 1 | 2 | 2.5;
  bitrateKbps: number;
  sampleRate: number;
  mono: boolean;
  frameBytes: number;
  samplesPerFrame: number;
  /** Bytes of side information after the 4-byte header (where a Xing/Info tag starts). */
  sideInfoBytes: number;
}

const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/**
 * Parses a Layer III frame header:
 * ```
 * | sync 0x7FF (11) | version (2: 00 = 2.5, 10 = 2, 11 = 1) | layer (2: 01 = III) | no CRC (1) |
 * | bitrate index (4) | sample rate index (2) | padding (1) | private (1) |
 * | channel mode (2: 11 = mono) | mode extension (2) | copyright (1) | original (1) | emphasis (2) |
 * ```
 */
export function parseMpegFrameHeader(data: Uint8Array, at: number): MpegFrameHeader | undefined {
  if (at + 4 > data.length) return undefined;
  const b1 = data[at + 1]!;
  const b2 = data[at + 2]!;
  if (data[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const sampleRate = SAMPLE_RATES[versionBits]![rateIndex]!;
  const bitrateKbps = (version === 1 ? BITRATES_V1_L3 : BITRATES_V2_L3)[bitrateIndex]!;
  const mono = data[at + 3]! >> 6 === 3;
  const padding = (b2 >> 1) & 1;
  const samplesPerFrame = version === 1 ? 1152 : 576;
  const frameBytes = Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate) + padding;
  const sideInfoBytes = version === 1 ? (mono ? 17 : 32) : mono ? 9 : 17;
  return { version, bitrateKbps, sampleRate, mono, frameBytes, samplesPerFrame, sideInfoBytes };
}

/** Offset of the first byte after an ID3v2 tag (0 when there is none). */
export function skipId3v2(data: Uint8Array): number {
  let offset = 0;
  // ID3v2: "ID3" | version (2) | flags (1) | size (4 × 7-bit syncsafe); flag 0x10 adds a 10-byte footer.
  while (offset + 10 <= data.length && data[offset] === 0x49 && data[offset + 1] === 0x44 && data[offset + 2] === 0x33) {
    const size = ((data[offset + 6]! & 0x7f) << 21) | ((data[offset + 7]! & 0x7f) << 14) | ((data[offset + 8]! & 0x7f) << 7) | (data[offset + 9]! & 0x7f);
    offset += 10 + size + (data[offset + 5]! & 0x10 ? 10 : 0);
  }
  return offset;
}

/** Gapless information of a LAME "Info"/"Xing" tag. */
export interface GaplessInfo {
  /** Audio frames after the tag frame. */
  frames: number;
  /** Encoder delay and end padding, in samples. */
  delay: number;
  padding: number;
}

const XING_FRAMES = 0x1;
const XING_BYTES = 0x2;
const XING_TOC = 0x4;
const XING_QUALITY = 0x8;

/**
 * Builds the LAME "Info" tag frame that goes in front of a CBR stream so that players (ffmpeg, mpg123) drop the
 * encoder delay and padding. The frame is a silent frame whose side-info area holds:
 * ```
 * "Info" | flags = 0x0F | frames (32) | bytes (32) | TOC (100 bytes) | quality (32)
 * | "LAME3.100" | revision/VBR method | lowpass | peak (32) | radio gain (16) | audiophile gain (16)
 * | encoding flags | bitrate | delay (12) padding (12) | misc | mp3 gain | preset/surround (16)
 * | music length (32) | music CRC (16) | tag CRC (16, CRC-16/ARC of every byte of the frame before it)
 * ```
 */
export function buildInfoTagFrame(firstFrame: Uint8Array, audioBytes: number, gapless: GaplessInfo): Uint8Array {
  const header = parseMpegFrameHeader(firstFrame, 0);
  if (!header) throw new Error('MP3 encoder output does not start with a Layer III frame');
  const tagStart = 4 + header.sideInfoBytes;
  const needed = tagStart + 156;
  const table = header.version === 1 ? BITRATES_V1_L3 : BITRATES_V2_L3;
  const bitrateIndex = table.findIndex((kbps, i) => i > 0 && Math.floor(((header.samplesPerFrame / 8) * kbps * 1000) / header.sampleRate) >= needed);
  if (bitrateIndex < 0) throw new Error(`no MPEG bitrate gives a frame of ${needed} bytes at ${header.sampleRate} Hz`);
  const frameBytes = Math.floor(((header.samplesPerFrame / 8) * table[bitrateIndex]! * 1000) / header.sampleRate);
  const frame = Buffer.alloc(frameBytes);
  frame[0] = 0xff;
  frame[1] = firstFrame[1]! | 0x01; // same version and layer, no CRC
  frame[2] = (bitrateIndex << 4) | (firstFrame[2]! & 0x0c); // same sample rate, no padding, no private bit
  frame[3] = firstFrame[3]!;
  let at = tagStart;
  frame.write('Info', at, 'latin1');
  frame.writeUInt32BE(XING_FRAMES | XING_BYTES | XING_TOC | XING_QUALITY, at + 4);
  frame.writeUInt32BE(gapless.frames, at + 8);
  frame.writeUInt32BE(frameBytes + audioBytes, at + 12);
  // For a constant bitrate the seek table is a straight line: entry i = i% of the file, scaled to 256.
  for (let i = 0; i < 100; i++) frame[at + 16 + i] = Math.floor((i * 256) / 100);
  frame.writeUInt32BE(0, at + 116);
  at += 120;
  frame.write('LAME3.100', at, 'latin1');
  frame[at + 9] = 0x01; // tag revision 0, VBR method 1 = constant bitrate
  frame[at + 20] = Math.min(255, header.bitrateKbps);
  frame.writeUIntBE(((gapless.delay & 0xfff) << 12) | (gapless.padding & 0xfff), at + 21, 3);
  frame.writeUInt32BE(frameBytes + audioBytes, at + 28);
  frame.writeUInt16BE(crc16Arc(frame.subarray(0, at + 34)), at + 34);
  return frame;
}

/** Reads the gapless information of a leading Xing/Info + LAME tag, if the first frame carries one. */
export function readGaplessInfo(data: Uint8Array, firstFrameAt: number): GaplessInfo | undefined {
  const header = parseMpegFrameHeader(data, firstFrameAt);
  if (!header) return undefined;
  let at = firstFrameAt + 4 + header.sideInfoBytes;
  if (at + 8 > data.length) return undefined;
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const magic = view.toString('latin1', at, at + 4);
  if (magic !== 'Info' && magic !== 'Xing') return undefined;
  const flags = view.readUInt32BE(at + 4);
  at += 8;
  let frames = 0;
  if (flags & XING_FRAMES) {
    frames = view.readUInt32BE(at);
    at += 4;
  }
  if (flags & XING_BYTES) at += 4;
  if (flags & XING_TOC) at += 100;
  if (flags & XING_QUALITY) at += 4;
  if (at + 24 > view.length || !/^(LAME|Lavf|Lavc)/.test(view.toString('latin1', at, at + 4)) || frames === 0) return undefined;
  const delays = view.readUIntBE(at + 21, 3);
  return { frames, delay: delays >> 12, padding: delays & 0xfff };
}
