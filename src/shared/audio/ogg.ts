import { AudioFormatError } from './types.js';

/** One logical Ogg bitstream, reassembled into packets. */
export interface OggStream {
  serial: number;
  packets: Uint8Array[];
  /** Granule position of the last page that ends a packet of this stream (-1 when none). */
  lastGranule: number;
}

/** True when `data` starts with an Ogg capture pattern. */
export function isOgg(data: Buffer): boolean {
  return data.length >= 4 && data.toString('latin1', 0, 4) === 'OggS';
}

/**
 * Splits an Ogg file (RFC 3533) into the packets of its first logical bitstream. Page header:
 *
 * ```
 *  0 "OggS" | 4 version = 0 | 5 header type (1 continued, 2 BOS, 4 EOS) | 6 granule position (64, LE)
 * 14 serial (32) | 18 page sequence (32) | 22 CRC (32) | 26 segment count n | 27 lacing values (n bytes) | data
 * ```
 * RFC 3533 §6: "A packet ... is terminated by a lacing value of less than 255", so a 255 continues the packet
 * into the next segment, possibly on the next page.
 */
export function demuxOgg(data: Buffer): OggStream {
  let stream: OggStream | undefined;
  let pending: Uint8Array[] = [];
  let offset = 0;
  while (offset + 27 <= data.length) {
    if (data.toString('latin1', offset, offset + 4) !== 'OggS') {
      throw new AudioFormatError(`Ogg: lost page sync at byte ${offset}`);
    }
    if (data[offset + 4] !== 0) throw new AudioFormatError(`Ogg: unsupported stream structure version ${data[offset + 4]}`);
    const serial = data.readUInt32LE(offset + 14);
    const granule = Number(data.readBigInt64LE(offset + 6));
    const segments = data[offset + 26]!;
    const lacingAt = offset + 27;
    let bodyAt = lacingAt + segments;
    if (bodyAt > data.length) throw new AudioFormatError('Ogg: truncated page header');
    stream ??= { serial, packets: [], lastGranule: -1 };
    const ours = serial === stream.serial;
    let endedPacket = false;
    for (let s = 0; s < segments; s++) {
      const size = data[lacingAt + s]!;
      const end = Math.min(bodyAt + size, data.length);
      if (ours) {
        pending.push(data.subarray(bodyAt, end));
        if (size < 255) {
          stream.packets.push(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
          pending = [];
          endedPacket = true;
        }
      }
      bodyAt += size;
    }
    // RFC 3533 §6: a granule position of -1 means "no packets finish on this page".
    if (ours && endedPacket && granule >= 0) stream.lastGranule = granule;
    offset = bodyAt;
  }
  if (!stream || stream.packets.length === 0) throw new AudioFormatError('Ogg: no complete packet');
  return stream;
}

/** The codec of an Ogg stream, from its first (identification) packet. */
export function oggCodec(firstPacket: Uint8Array): 'vorbis' | 'opus' | 'flac' | undefined {
  const head = Buffer.from(firstPacket.buffer, firstPacket.byteOffset, Math.min(8, firstPacket.length)).toString('latin1');
  if (head.startsWith('\x01vorbis')) return 'vorbis';
  if (head.startsWith('OpusHead')) return 'opus';
  if (head.startsWith('\x7fFLAC')) return 'flac';
  return undefined;
}

/** RFC 7845 §5.1 identification header of an Ogg Opus stream. */
export interface OpusHead {
  channels: number;
  preSkip: number;
  mappingFamily: number;
  streamCount: number;
  coupledStreamCount: number;
  channelMapping: number[];
}

/**
 * ```
 *  0 "OpusHead" | 8 version | 9 channel count | 10 pre-skip (16, LE) | 12 input sample rate (32, LE)
 * 16 output gain (16) | 18 mapping family | [19 stream count | 20 coupled count | 21 channel mapping (n bytes)]
 * ```
 */
export function parseOpusHead(packet: Uint8Array): OpusHead {
  const view = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  if (view.length < 19) throw new AudioFormatError('Ogg Opus: OpusHead too short');
  const channels = view[9]!;
  const mappingFamily = view[18]!;
  if (channels === 0) throw new AudioFormatError('Ogg Opus: zero channels');
  if (mappingFamily === 0) {
    // §5.1.1.1: family 0 is "a single Opus stream", mono or stereo, with an implicit mapping.
    if (channels > 2) throw new AudioFormatError('Ogg Opus: mapping family 0 with more than 2 channels');
    return {
      channels, preSkip: view.readUInt16LE(10), mappingFamily,
      streamCount: 1, coupledStreamCount: channels - 1, channelMapping: channels === 1 ? [0] : [0, 1],
    };
  }
  if (view.length < 21 + channels) throw new AudioFormatError('Ogg Opus: channel mapping table truncated');
  return {
    channels, preSkip: view.readUInt16LE(10), mappingFamily,
    streamCount: view[19]!, coupledStreamCount: view[20]!,
    channelMapping: [...view.subarray(21, 21 + channels)],
  };
}
