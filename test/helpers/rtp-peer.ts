/**
 * The media side of the test user agent: an RTP endpoint on `node:dgram`, its SDP, and the packet
 * builders it sends with. Deliberately independent of `src/media` and `src/sip` (everything here is
 * written from the RFCs, G.711 comes from alawmulaw) so that a bug in our stack cannot cancel out.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { alaw, mulaw } from 'alawmulaw';

export type G711Codec = 'PCMA' | 'PCMU';

/** One payload format offered in SDP, e.g. `{ pt: 8, name: 'PCMA' }`. */
export interface CodecOffer {
  pt: number;
  name: G711Codec;
}

const SAMPLE_RATE = 8000;
const SAMPLES_PER_MS = SAMPLE_RATE / 1000;

export function encodeG711(codec: G711Codec, pcm: Int16Array): Uint8Array {
  return codec === 'PCMA' ? alaw.encode(pcm) : mulaw.encode(pcm);
}

export function decodeG711(codec: G711Codec, payload: Uint8Array): Int16Array {
  return codec === 'PCMA' ? alaw.decode(payload) : mulaw.decode(payload);
}

/** What a 16-bit sample sequence becomes after one trip through the codec: decode(encode(pcm)). */
export function g711RoundTrip(codec: G711Codec, pcm: Int16Array): Int16Array {
  return decodeG711(codec, encodeG711(codec, pcm));
}

/** The RTP fixed header fields plus the payload. */
export interface RtpPacketFields {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

/** A packet as the peer received it. `samples` is the decoded audio when the payload type is a known G.711 one. */
export interface ReceivedRtpPacket extends RtpPacketFields {
  /** `performance.now()` at reception. */
  arrivalMs: number;
  from: { address: string; port: number };
  samples?: Int16Array;
}

/** A packet to send; `offsetMs` is its place on the absolute send schedule (ms after the send starts). */
export interface OutgoingRtpPacket extends RtpPacketFields {
  offsetMs: number;
}

/**
 * RFC 3550 §5.1 fixed header:
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export function buildRtpPacket(p: RtpPacketFields): Buffer {
  const buf = Buffer.allocUnsafe(12 + p.payload.length);
  buf[0] = 0x80;
  buf[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  buf.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(p.timestamp >>> 0, 4);
  buf.writeUInt32BE(p.ssrc >>> 0, 8);
  buf.set(p.payload, 12);
  return buf;
}

/** Parses an RTP packet; returns a string describing the problem when it is not one. */
export function parseRtpPacket(buf: Uint8Array): RtpPacketFields | string {
  if (buf.length < 12) return `RTP packet too short (${buf.length} bytes)`;
  if (buf[0]! >> 6 !== 2) return `RTP version ${buf[0]! >> 6}, expected 2`;
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const csrcCount = buf[0]! & 0x0f;
  let offset = 12 + 4 * csrcCount;
  // RFC 3550 §5.3.1: "If the X bit in the RTP header is one, a variable-length header extension MUST be appended".
  if (buf[0]! & 0x10) {
    if (buf.length < offset + 4) return 'RTP header extension truncated';
    offset += 4 + 4 * view.readUInt16BE(offset + 2);
  }
  let end = buf.length;
  // RFC 3550 §5.1: "The last octet of the padding contains a count of how many padding octets should be ignored".
  if (buf[0]! & 0x20) end -= buf[buf.length - 1]!;
  if (end < offset) return `RTP header (${offset} bytes) longer than the packet (${end} bytes without padding)`;
  return {
    payloadType: buf[1]! & 0x7f,
    marker: (buf[1]! & 0x80) !== 0,
    sequenceNumber: view.readUInt16BE(2),
    timestamp: view.readUInt32BE(4),
    ssrc: view.readUInt32BE(8),
    payload: Uint8Array.prototype.slice.call(buf, offset, end),
  };
}

/** RFC 4733 §3.2 event codes for the DTMF digits. */
const DTMF_EVENT_CODES: Readonly<Record<string, number>> = {
  '0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9,
  '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15,
};

export function dtmfEventCode(digit: string): number {
  const code = DTMF_EVENT_CODES[digit.toUpperCase()];
  if (code === undefined) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)} (expected 0-9, *, #, A-D)`);
  return code;
}

export interface DtmfEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

/**
 * RFC 4733 §2.3 telephone-event payload:
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export function buildDtmfPayload(e: DtmfEvent): Uint8Array {
  return Uint8Array.of(e.event, (e.end ? 0x80 : 0) | (e.volume & 0x3f), (e.duration >> 8) & 0xff, e.duration & 0xff);
}

export function parseDtmfPayload(payload: Uint8Array): DtmfEvent | null {
  if (payload.length < 4) return null;
  return { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: (payload[2]! << 8) | payload[3]! };
}

/**
 * The sending half of one RTP stream: one SSRC, a sequence counter and a media clock tied to real time, so
 * that a pause between two sends shows up as a timestamp gap at the receiver (RFC 3550 §5.1: "the
 * timestamp ... MUST be derived from a clock that increments monotonically and linearly in time").
 */
export class RtpStreamSender {
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  #sequence = randomInt(0, 0x8000);
  readonly #clockOrigin = performance.now();
  readonly #timestampOrigin = randomInt(0, 2 ** 31);
  #nextTimestamp = this.#timestampOrigin;

  /** The RTP timestamp of "now", never behind the end of what was already sent. */
  #timestampNow(): number {
    const elapsed = Math.round((performance.now() - this.#clockOrigin) * SAMPLES_PER_MS);
    return Math.max(this.#nextTimestamp, this.#timestampOrigin + elapsed);
  }

  /** Cuts `pcm` into ptime frames (the last one padded with silence); the first packet carries the marker bit. */
  audioPackets(pcm: Int16Array, o: { codec: G711Codec; pt: number; ptimeMs: number; startSeq?: number; ssrc?: number }): OutgoingRtpPacket[] {
    const frame = Math.round(o.ptimeMs * SAMPLES_PER_MS);
    if (!Number.isInteger(o.ptimeMs) || frame <= 0) throw new RangeError(`ptimeMs must be a positive integer, got ${o.ptimeMs}`);
    if (o.startSeq !== undefined) this.#sequence = o.startSeq;
    const start = this.#timestampNow();
    const packets: OutgoingRtpPacket[] = [];
    for (let i = 0; i * frame < pcm.length; i++) {
      const chunk = new Int16Array(frame);
      chunk.set(pcm.subarray(i * frame, Math.min(pcm.length, (i + 1) * frame)));
      packets.push({
        payloadType: o.pt,
        // RFC 3551 §4.1: "the marker bit ... is set to one in the first packet of a talkspurt".
        marker: i === 0,
        sequenceNumber: this.#sequence++ & 0xffff,
        timestamp: (start + i * frame) >>> 0,
        ssrc: o.ssrc ?? this.ssrc,
        payload: encodeG711(o.codec, chunk),
        offsetMs: i * o.ptimeMs,
      });
    }
    this.#nextTimestamp = start + packets.length * frame;
    return packets;
  }

  /**
   * One RFC 4733 event: progress packets every `intervalMs` with a growing duration (at least three),
   * then the final packet three times. Every packet carries the event's start timestamp.
   */
  dtmfPackets(digit: string, o: { pt: number; durationMs: number; intervalMs: number; volume?: number }): OutgoingRtpPacket[] {
    const event = dtmfEventCode(digit);
    if (!(o.durationMs > 0) || o.durationMs * SAMPLES_PER_MS > 0xffff) throw new RangeError(`durationMs must be in (0, 8191], got ${o.durationMs}`);
    const total = Math.round(o.durationMs * SAMPLES_PER_MS);
    const progressCount = Math.max(3, Math.ceil(o.durationMs / o.intervalMs));
    const step = o.durationMs / progressCount;
    const timestamp = this.#timestampNow() >>> 0;
    const packets: OutgoingRtpPacket[] = [];
    const push = (duration: number, end: boolean, offsetMs: number, marker: boolean): void => {
      packets.push({
        payloadType: o.pt,
        marker,
        sequenceNumber: this.#sequence++ & 0xffff,
        timestamp,
        ssrc: this.ssrc,
        payload: buildDtmfPayload({ event, end, volume: o.volume ?? 10, duration }),
        offsetMs,
      });
    };
    for (let i = 0; i < progressCount; i++) {
      // RFC 4733 §2.5.1.2: "the RTP header for the first packet of the event MUST have the M bit set".
      push(Math.min(total, Math.round((i + 1) * step * SAMPLES_PER_MS)), false, i * step, i === 0);
    }
    // RFC 4733 §2.5.1.4: "the final packet for each event ... SHOULD be sent a total of three times".
    for (let i = 0; i < 3; i++) push(total, true, o.durationMs + i * step, false);
    this.#nextTimestamp = timestamp + total;
    return packets;
  }
}

/** Ready-made `mutate` functions for `sendAudio`: each returns a new list, sent in list order. */
export const RtpMutations = {
  /** Swaps the packets at indexes `a` and `b`: the later one goes out in the earlier slot, the other right after. */
  swap: (a: number, b: number) => (packets: OutgoingRtpPacket[]): OutgoingRtpPacket[] => {
    const out = [...packets];
    const pa = out[a];
    const pb = out[b];
    if (!pa || !pb) throw new RangeError(`swap(${a}, ${b}) out of range (0..${packets.length - 1})`);
    out[a] = { ...pb, offsetMs: pa.offsetMs };
    out[b] = { ...pa, offsetMs: pb.offsetMs };
    return out;
  },
  /** Sends the packet at `index` twice in a row. */
  duplicate: (index: number) => (packets: OutgoingRtpPacket[]): OutgoingRtpPacket[] => {
    const p = packets[index];
    if (!p) throw new RangeError(`duplicate(${index}) out of range (0..${packets.length - 1})`);
    return [...packets.slice(0, index + 1), { ...p }, ...packets.slice(index + 1)];
  },
  /** Leaves the packets at these indexes out (their time slots stay empty). */
  drop: (...indexes: number[]) => (packets: OutgoingRtpPacket[]): OutgoingRtpPacket[] =>
    packets.filter((_, i) => !indexes.includes(i)),
};

export interface AudioLayoutOptions {
  /** Which payload types carry audio, and with which codec. */
  codecs: ReadonlyMap<number, G711Codec>;
  /** A timestamp jump larger than this starts a new segment placed by arrival time instead (default 60 s). */
  maxJumpSamples?: number;
}

/**
 * Lays received audio out on the RTP timestamp timeline: a packet's samples go at `timestamp − first
 * timestamp`, so that gaps in sending are silence and reordered or duplicated packets land where they belong.
 * A new SSRC or a wild timestamp jump starts a new segment placed by arrival time.
 */
export function layoutAudio(packets: readonly ReceivedRtpPacket[], o: AudioLayoutOptions): Int16Array {
  const maxJump = o.maxJumpSamples ?? 60 * SAMPLE_RATE;
  const audio = packets.filter((p) => p.samples !== undefined && o.codecs.has(p.payloadType));
  if (audio.length === 0) return new Int16Array(0);
  const firstArrival = audio[0]!.arrivalMs;
  // Per segment: the stream's SSRC, the unwrapped timestamp of the segment origin, where that origin sits.
  let segment = { ssrc: audio[0]!.ssrc, lastTs: audio[0]!.timestamp, unwrapped: 0, base: 0 };
  const placed: Array<{ at: number; samples: Int16Array }> = [];
  for (const p of audio) {
    let delta = (p.timestamp - segment.lastTs) | 0;
    if (p.ssrc !== segment.ssrc || Math.abs(delta) > maxJump) {
      const at = Math.round((p.arrivalMs - firstArrival) * SAMPLES_PER_MS);
      segment = { ssrc: p.ssrc, lastTs: p.timestamp, unwrapped: 0, base: at };
      delta = 0;
    }
    segment.unwrapped += delta;
    segment.lastTs = p.timestamp;
    placed.push({ at: segment.base + segment.unwrapped, samples: p.samples! });
  }
  const min = Math.min(0, ...placed.map((x) => x.at));
  const length = Math.max(...placed.map((x) => x.at + x.samples.length)) - min;
  const out = new Int16Array(length);
  for (const x of placed) out.set(x.samples, x.at - min);
  return out;
}

/** A UDP RTP endpoint: remembers every packet it receives (with arrival time) and sends on a paced schedule. */
export class RtpPeer {
  readonly #socket: Socket;
  readonly #received: ReceivedRtpPacket[] = [];
  readonly #listeners = new Set<(p: ReceivedRtpPacket) => void>();
  #codecs: ReadonlyMap<number, G711Codec> = new Map([[0, 'PCMU'], [8, 'PCMA']]);
  #remote: { address: string; port: number } | null = null;
  #closed = false;
  /** Datagrams that were not RTP, with the reason. */
  readonly rejected: string[] = [];

  private constructor(socket: Socket, readonly localAddress: string, readonly localPort: number) {
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo.address, rinfo.port));
  }

  static async open(localAddress = '127.0.0.1', port = 0): Promise<RtpPeer> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, localAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpPeer(socket, localAddress, socket.address().port);
  }

  /** Which payload types to decode as audio (from the SDP answer). */
  setCodecs(codecs: ReadonlyMap<number, G711Codec>): void {
    this.#codecs = codecs;
  }

  get codecs(): ReadonlyMap<number, G711Codec> {
    return this.#codecs;
  }

  setRemote(address: string, port: number): void {
    this.#remote = { address, port };
  }

  get remote(): { address: string; port: number } | null {
    return this.#remote;
  }

  /** Every packet received so far, in arrival order. */
  get packets(): readonly ReceivedRtpPacket[] {
    return this.#received;
  }

  onPacket(listener: (p: ReceivedRtpPacket) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #onMessage(msg: Buffer, address: string, port: number): void {
    const parsed = parseRtpPacket(msg);
    if (typeof parsed === 'string') {
      this.rejected.push(`${address}:${port}: ${parsed}`);
      return;
    }
    const codec = this.#codecs.get(parsed.payloadType);
    const packet: ReceivedRtpPacket = { ...parsed, arrivalMs: performance.now(), from: { address, port } };
    if (codec) packet.samples = decodeG711(codec, parsed.payload);
    this.#received.push(packet);
    for (const l of this.#listeners) l(packet);
  }

  /** Sends one packet now. */
  send(p: RtpPacketFields): void {
    if (this.#closed) throw new Error('RTP peer is closed');
    if (!this.#remote) throw new Error('RTP peer has no remote address yet (no SDP answer)');
    this.#socket.send(buildRtpPacket(p), this.#remote.port, this.#remote.address);
  }

  /**
   * Sends `packets` in list order, each no earlier than `start + offsetMs` (an absolute schedule: a late
   * timer does not delay the packets after it).
   */
  async sendPaced(packets: readonly OutgoingRtpPacket[]): Promise<void> {
    const start = performance.now();
    for (const p of packets) {
      const wait = start + p.offsetMs - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait)); // real-time pacing: what a phone does
      if (this.#closed) return;
      this.send(p);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}

export interface SdpMedia {
  address: string;
  port: number;
  /** Payload types of the m=audio line, in order of preference. */
  payloadTypes: number[];
  /** rtpmap encoding names by payload type (static ones filled in: 0 PCMU, 8 PCMA). */
  encodings: Map<number, string>;
  ptimeMs?: number;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

/** Minimal SDP reader (RFC 4566): the connection address and the first audio m= line. */
export function parseSdp(body: string): SdpMedia | string {
  const lines = body.split(/\r?\n/).filter((l) => l.length > 0);
  let sessionAddress: string | undefined;
  let media: SdpMedia | undefined;
  let mediaAddress: string | undefined;
  let inAudio = false;
  for (const line of lines) {
    const [type, value] = [line[0], line.slice(2)];
    if (type === 'm') {
      if (media) break;
      const m = /^audio (\d+)(?:\/\d+)? RTP\/AVP((?: \d+)+)$/.exec(value);
      inAudio = m !== null;
      if (m) {
        const payloadTypes = m[2]!.trim().split(' ').map(Number);
        const encodings = new Map<number, string>();
        if (payloadTypes.includes(0)) encodings.set(0, 'PCMU');
        if (payloadTypes.includes(8)) encodings.set(8, 'PCMA');
        media = { address: '', port: Number(m[1]), payloadTypes, encodings, direction: 'sendrecv' };
      }
    } else if (type === 'c') {
      const c = /^IN IP4 (\S+)/.exec(value);
      if (!c) return `unsupported connection line: ${line}`;
      if (media && inAudio) mediaAddress = c[1];
      else if (!media) sessionAddress = c[1];
    } else if (type === 'a' && media && inAudio) {
      const rtpmap = /^rtpmap:(\d+) ([^/]+)\//.exec(value);
      if (rtpmap) media.encodings.set(Number(rtpmap[1]), rtpmap[2]!);
      const ptime = /^ptime:(\d+)/.exec(value);
      if (ptime) media.ptimeMs = Number(ptime[1]);
      if (/^(sendrecv|sendonly|recvonly|inactive)$/.test(value)) media.direction = value as SdpMedia['direction'];
    }
  }
  if (!media) return 'no "m=audio <port> RTP/AVP ..." line';
  const address = mediaAddress ?? sessionAddress;
  if (!address) return 'no "c=IN IP4 <address>" line';
  media.address = address;
  return media;
}

/** Our SDP offer or answer. */
export function buildSdp(o: { address: string; port: number; codecs: readonly CodecOffer[]; telephoneEvent: readonly number[]; ptimeMs: number; sessionId: number; version?: number; direction?: SdpMedia['direction'] }): string {
  const pts = [...o.codecs.map((c) => c.pt), ...o.telephoneEvent];
  return [
    'v=0',
    `o=testua ${o.sessionId} ${o.version ?? o.sessionId} IN IP4 ${o.address}`,
    's=-',
    `c=IN IP4 ${o.address}`,
    't=0 0',
    `m=audio ${o.port} RTP/AVP ${pts.join(' ')}`,
    ...o.codecs.map((c) => `a=rtpmap:${c.pt} ${c.name}/8000`),
    ...o.telephoneEvent.flatMap((pt) => [`a=rtpmap:${pt} telephone-event/8000`, `a=fmtp:${pt} 0-16`]),
    `a=ptime:${o.ptimeMs}`,
    `a=${o.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}
