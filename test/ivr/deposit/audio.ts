/**
 * Test-side audio helpers for deposit integration tests: reading and rewriting pcap files of RTP, G.711 decoding
 * with an independent library (alawmulaw), and "the stored audio is exactly what was sent" checks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { alaw, mulaw } from 'alawmulaw';

export interface PcapRecord {
  header: Buffer;
  data: Buffer;
}

export interface Pcap {
  globalHeader: Buffer;
  records: PcapRecord[];
  linkHeaderBytes: number;
}

/**
 * Reads a classic little-endian pcap:
 *
 *   global header (24 bytes) | record header (16: ts_sec, ts_usec, incl_len, orig_len) | packet | …
 */
export function readPcap(path: string): Pcap {
  const b = readFileSync(path);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian microsecond pcap`);
  const linkType = b.readUInt32LE(20);
  const linkHeaderBytes = linkType === 1 ? 14 : linkType === 113 ? 16 : -1;
  if (linkHeaderBytes < 0) throw new Error(`${path}: unsupported link type ${linkType}`);
  const records: PcapRecord[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const len = b.readUInt32LE(off + 8);
    records.push({ header: b.subarray(off, off + 16), data: b.subarray(off + 16, off + 16 + len) });
    off += 16 + len;
  }
  return { globalHeader: b.subarray(0, 24), records, linkHeaderBytes };
}

export function writePcap(path: string, pcap: Pcap): void {
  writeFileSync(path, Buffer.concat([pcap.globalHeader, ...pcap.records.flatMap((r) => [r.header, r.data])]));
}

/** The RTP packet (header and payload) inside one captured Ethernet/IPv4/UDP frame. */
export function rtpOf(pcap: Pcap, record: PcapRecord): { seq: number; payloadType: number; payload: Buffer } {
  const ip = record.data.subarray(pcap.linkHeaderBytes);
  const rtp = ip.subarray((ip[0]! & 0x0f) * 4 + 8);
  const cc = rtp[0]! & 0x0f;
  let at = 12 + cc * 4;
  if (rtp[0]! & 0x10) at += 4 + rtp.readUInt16BE(at + 2) * 4;
  return { seq: rtp.readUInt16BE(2), payloadType: rtp[1]! & 0x7f, payload: rtp.subarray(at) };
}

/** The PCMA audio of a pcap in capture order, decoded to 16-bit PCM. */
export function pcapAudio(pcap: Pcap): Int16Array {
  return alaw.decode(Buffer.concat(pcap.records.map((r) => rtpOf(pcap, r).payload)));
}

export const decodeAlaw = (bytes: Uint8Array): Int16Array => alaw.decode(bytes);
export const decodeMulaw = (bytes: Uint8Array): Int16Array => mulaw.decode(bytes);

/** Where `sent` starts in `stored`, when everything around it is digital silence (zeros); -1 otherwise. */
export function findExactly(stored: Int16Array, sent: Int16Array): number {
  const s = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const w = Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength);
  // Up to the end of `stored`: a message that is exactly the sent audio, starting with its µ-law zeros, is found too.
  for (let k = 0; k < stored.length; k++) {
    if (stored[k] !== 0) {
      // the first non-zero sample must be where the sent audio starts (unless the sent audio starts with zeros)
      const start = Math.max(0, k - leadingZeros(sent));
      if (start + sent.length > stored.length) return -1;
      if (s.compare(w, 0, w.length, start * 2, (start + sent.length) * 2) !== 0) return -1;
      for (let i = start + sent.length; i < stored.length; i++) if (stored[i] !== 0) return -1;
      return start;
    }
  }
  return -1;
}

function leadingZeros(a: Int16Array): number {
  let n = 0;
  while (n < a.length && a[n] === 0) n++;
  return n;
}

/** Where `prefix` (the first `n` samples of what was sent) starts in `stored`, with only zeros before it. */
export function prefixOffset(stored: Int16Array, sent: Int16Array): number {
  let k = 0;
  while (k < stored.length && stored[k] === 0) k++;
  k = Math.max(0, k - leadingZeros(sent));
  const n = stored.length - k;
  if (n > sent.length) return -1;
  for (let i = 0; i < n; i++) if (stored[k + i] !== sent[i]) return -1;
  return k;
}
