import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../shared/log.js';
import { GoertzelDtmfDetector, Rfc4733Receiver } from './dtmf.js';
import { codecOfStaticPayloadType, decodeG711Into, type G711Codec } from './g711.js';
import { sharedPacingScheduler, type PacingScheduler } from './pacer.js';
import { PromptPlayer, type PcmSource, type PlayOptions, type PlaybackEnd } from './player.js';
import type { RtpPortAllocator } from './port-allocator.js';
import type { RtpAudioSink } from './recorder.js';
import { rtpPacketTotals } from './rtp-counters.js';
import { RtpHeaderView, parseRtp } from './rtp-packet.js';
import { RtpSequenceTracker } from './rtp-sequence.js';

/** Sources (SSRCs) whose sequence numbers one session follows for loss counting; later ones are not followed. */
const MAX_TRACKED_SOURCES = 8;

export const RtpSessionOptionsSchema = z.object({
  /** Local address to bind (an IPv4 or IPv6 literal). */
  host: z.string().min(1),
  /** SO_RCVBUF / SO_SNDBUF requested (default 4 MiB); the OS may cap or refuse, which is ignored. */
  recvBufferSize: z.number().int().positive().default(4 * 1024 * 1024),
  sendBufferSize: z.number().int().positive().default(4 * 1024 * 1024),
  /** Also bind port+1 and silently drop what arrives there (RTCP), instead of leaving it closed. */
  bindRtcp: z.boolean().default(false),
  /** Latch the remote address to the source of received RTP (symmetric RTP, RFC 4961). Default true. */
  symmetricRtp: z.boolean().default(true),
});
export type RtpSessionOptions = z.input<typeof RtpSessionOptionsSchema>;

export const MediaFormatSchema = z
  .object({
    codec: z.enum(['PCMU', 'PCMA']),
    payloadType: z.number().int().min(0).max(127),
    /** Packetisation interval for sending, 10–60 ms in steps of 10 (default 20). */
    ptimeMs: z.number().int().min(10).max(60).multipleOf(10).default(20),
    /** Payload types declared for telephone-event in the SDP; empty → in-band DTMF detection. */
    telephoneEventPayloadTypes: z.array(z.number().int().min(0).max(127)).default([]),
    /** Payload type of CN/8000 (RFC 3389) when the peer negotiated comfort noise: pauses then carry CN, not G.711 silence. */
    comfortNoisePayloadType: z.number().int().min(0).max(127).optional(),
  })
  .refine((f) => !f.telephoneEventPayloadTypes.includes(f.payloadType), {
    message: 'the audio payload type cannot also be a telephone-event payload type',
  })
  .refine((f) => f.comfortNoisePayloadType === undefined || (f.comfortNoisePayloadType !== f.payloadType && !f.telephoneEventPayloadTypes.includes(f.comfortNoisePayloadType)), {
    message: 'the comfort-noise payload type must differ from the audio and telephone-event payload types',
  });
export type MediaFormat = z.input<typeof MediaFormatSchema>;
export type ResolvedMediaFormat = z.output<typeof MediaFormatSchema>;

export interface DtmfEvent {
  digit: string;
  source: 'rfc4733' | 'inband';
}

export interface RtpSessionEvents {
  dtmf: [DtmfEvent];
  /**
   * The remote address used for sending changed to the source of received RTP. No call flow needs it (the session
   * re-addresses itself); kept as the observable of symmetric-RTP latching, which test/media/session.test.ts
   * checks through it.
   */
  latched: [{ address: string; port: number; ssrc: number }];
}

export interface RtpSessionStats {
  packetsReceived: number;
  bytesReceived: number;
  /** Datagrams that are not well-formed RTP (RFC 3550 §5.1), dropped. */
  malformed: number;
  /** RTCP datagrams received (on the RTP port or on port+1), ignored. */
  rtcp: number;
  /** RTP packets with a payload type that is neither the audio codec nor a telephone-event, ignored. */
  otherPayload: number;
  /** RTP received before configure(), ignored. */
  unconfigured: number;
  socketErrors: number;
}

/**
 * One call's RTP endpoint: a UDP socket on an allocated even port, receiving audio (to an attached
 * recorder) and DTMF, and sending prompts through a {@link PromptPlayer} paced by the shared scheduler.
 */
export class RtpSession extends EventEmitter<RtpSessionEvents> {
  readonly host: string;
  readonly port: number;
  readonly stats: RtpSessionStats = { packetsReceived: 0, bytesReceived: 0, malformed: 0, rtcp: 0, otherPayload: 0, unconfigured: 0, socketErrors: 0 };
  readonly #socket: Socket;
  readonly #rtcpSocket: Socket | null;
  readonly #allocator: RtpPortAllocator;
  readonly #symmetric: boolean;
  readonly #logger: Logger | undefined;
  readonly #player: PromptPlayer;
  readonly #view = new RtpHeaderView();
  readonly #rfc4733 = new Rfc4733Receiver();
  #format: ResolvedMediaFormat | null = null;
  #telephoneEvents: readonly number[] = [];
  #inband: GoertzelDtmfDetector | null = null;
  #inbandScratch = new Int16Array(480);
  #remoteAddress: string | null = null;
  #remotePort = 0;
  #latchedSsrc = -1;
  #recorder: RtpAudioSink | null = null;
  #closed = false;
  /** Loss counting per SSRC; the last one used is kept at hand for the common single-source case. */
  readonly #sequences = new Map<number, RtpSequenceTracker>();
  #lastSsrc = -1;
  #lastSequence: RtpSequenceTracker | null = null;

  private constructor(
    host: string,
    port: number,
    sockets: [Socket, Socket | null],
    allocator: RtpPortAllocator,
    options: z.output<typeof RtpSessionOptionsSchema>,
    scheduler: PacingScheduler,
    logger: Logger | undefined,
  ) {
    super();
    this.host = host;
    this.port = port;
    [this.#socket, this.#rtcpSocket] = sockets;
    this.#allocator = allocator;
    this.#symmetric = options.symmetricRtp;
    this.#logger = logger;
    this.#player = new PromptPlayer(this, scheduler);
    this.#socket.on('message', this.#onMessage);
    this.#socket.on('error', this.#onSocketError);
    this.#rtcpSocket?.on('message', () => void this.stats.rtcp++);
    this.#rtcpSocket?.on('error', this.#onSocketError);
  }

  /** Binds a new session on `options.host` and a port from `allocator`. */
  static async open(
    allocator: RtpPortAllocator,
    options: RtpSessionOptions,
    deps: { scheduler?: PacingScheduler; logger?: Logger } = {},
  ): Promise<RtpSession> {
    const parsed = RtpSessionOptionsSchema.safeParse(options);
    if (!parsed.success) throw new RangeError(`RtpSession options: ${z.prettifyError(parsed.error)}`);
    const o = parsed.data;
    const { port, value: sockets } = await allocator.acquire(async (p) => {
      const rtp = await bindSocket(o.host, p, o.recvBufferSize, o.sendBufferSize);
      if (!o.bindRtcp) return [rtp, null] as [Socket, Socket | null];
      try {
        return [rtp, await bindSocket(o.host, p + 1, 65536, 65536)] as [Socket, Socket | null];
      } catch (err) {
        rtp.close();
        throw err;
      }
    });
    return new RtpSession(o.host, port, sockets, allocator, o, deps.scheduler ?? sharedPacingScheduler, deps.logger);
  }

  /** Where RTP is currently sent (SDP address, or the latched source), or null. */
  get remote(): { address: string; port: number } | null {
    return this.#remoteAddress === null ? null : { address: this.#remoteAddress, port: this.#remotePort };
  }

  get format(): ResolvedMediaFormat | null {
    return this.#format;
  }

  get player(): PromptPlayer {
    return this.#player;
  }

  /** Sets the remote RTP address from the SDP (c= and m= lines). Latching may later replace it. */
  setRemote(address: string, port: number): void {
    if (typeof address !== 'string' || address.length === 0) throw new RangeError('setRemote: empty address');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`setRemote: invalid port ${port}`);
    this.#remoteAddress = address;
    this.#remotePort = port;
  }

  /** Sets the negotiated codec, payload types and sending ptime; may be called again on re-INVITE. */
  configure(format: MediaFormat): void {
    const parsed = MediaFormatSchema.safeParse(format);
    if (!parsed.success) throw new RangeError(`RtpSession.configure: ${z.prettifyError(parsed.error)}`);
    this.#format = parsed.data;
    this.#telephoneEvents = parsed.data.telephoneEventPayloadTypes;
    this.#inband = this.#telephoneEvents.length === 0 ? new GoertzelDtmfDetector(this.#onInbandDigit) : null;
    this.#player.setSilenceFormat(parsed.data);
  }

  /** While on, the caller gets G.711 silence (or CN) whenever no prompt plays, so its RTP timeout never fires. */
  fillPauses(on: boolean): void {
    this.#player.fillPauses(on);
  }

  /** Stops (true) or resumes (false) sending: the peer put the stream on hold (we are recvonly/inactive). */
  setHeld(held: boolean): void {
    this.#player.setHeld(held);
  }

  /** Sends received audio packets to `sink` (a {@link RtpRecorder}) until detached. */
  attachRecorder(sink: RtpAudioSink | null): void {
    this.#recorder = sink;
  }

  /** Plays 8 kHz mono PCM in the negotiated format (see {@link PromptPlayer}). */
  play(pcm: PcmSource, options: PlayOptions = {}): Promise<PlaybackEnd> {
    if (!this.#format) return Promise.reject(new Error('RtpSession.play: configure() the media format first'));
    return this.#player.play(pcm, this.#format, options);
  }

  /** Used by the player: sends one datagram to the remote. */
  sendDatagram(datagram: Uint8Array): boolean {
    if (this.#remoteAddress === null || this.#closed) return false;
    this.#socket.send(datagram, this.#remotePort, this.#remoteAddress);
    return true;
  }

  /** Used by the player: sends still queued in libuv (the kernel buffer was full), each holding its datagram. */
  pendingSends(): number {
    return this.#closed ? 0 : this.#socket.getSendQueueCount();
  }

  /** Packets missing from the received sequence numbers so far, all sources of this session (RFC 3550 A.3). */
  get packetsLost(): number {
    let lost = 0;
    for (const t of this.#sequences.values()) lost += t.lost;
    return lost;
  }

  /** Stops playback, closes the sockets and gives the port back; adds this call's lost packets to the totals. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const lost = this.packetsLost;
    rtpPacketTotals.lost += lost;
    this.#logger?.info({ port: this.port, packetsReceived: this.stats.packetsReceived, packetsLost: lost, packetsSent: this.#player.packetsSent }, 'RTP session closed');
    this.#player.close();
    this.#recorder = null;
    this.#socket.close();
    this.#rtcpSocket?.close();
    this.#allocator.release(this.port);
  }

  #onSocketError = (err: Error): void => {
    this.stats.socketErrors++;
    this.#logger?.debug({ err, port: this.port }, 'RTP socket error');
  };

  #onInbandDigit = (digit: string): void => {
    this.emit('dtmf', { digit, source: 'inband' });
  };

  #onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const view = this.#view;
    const result = parseRtp(msg, view);
    if (result !== 'ok') {
      if (result === 'rtcp') this.stats.rtcp++;
      else this.stats.malformed++;
      return;
    }
    this.stats.packetsReceived++;
    this.stats.bytesReceived += msg.length;
    rtpPacketTotals.received++;
    const ssrc = view.ssrc;
    this.#trackSequence(ssrc, view.sequenceNumber);
    if (this.#symmetric && ssrc !== this.#latchedSsrc) this.#latch(rinfo, ssrc);
    const format = this.#format;
    if (format === null) {
      this.stats.unconfigured++;
      return;
    }
    const pt = view.payloadType;
    const payload = msg.subarray(view.payloadOffset, view.payloadEnd);
    if (this.#telephoneEvents.includes(pt)) {
      const digit = this.#rfc4733.push(ssrc, view.timestamp, payload);
      if (digit !== null) this.emit('dtmf', { digit, source: 'rfc4733' });
      return;
    }
    const codec: G711Codec | null = pt === format.payloadType ? format.codec : codecOfStaticPayloadType(pt);
    if (codec === null) {
      this.stats.otherPayload++;
      return;
    }
    this.#recorder?.pushRtp(view.sequenceNumber, view.timestamp, ssrc, pt, payload);
    if (this.#inband !== null) {
      if (this.#inbandScratch.length < payload.length) this.#inbandScratch = new Int16Array(payload.length);
      decodeG711Into(codec, payload, this.#inbandScratch);
      this.#inband.push(this.#inbandScratch.subarray(0, payload.length));
    }
  };

  #trackSequence(ssrc: number, seq: number): void {
    let tracker = this.#lastSsrc === ssrc ? this.#lastSequence : null;
    if (tracker === null) {
      tracker = this.#sequences.get(ssrc) ?? null;
      if (tracker === null) {
        if (this.#sequences.size >= MAX_TRACKED_SOURCES) return;
        tracker = new RtpSequenceTracker();
        this.#sequences.set(ssrc, tracker);
      }
      this.#lastSsrc = ssrc;
      this.#lastSequence = tracker;
    }
    tracker.push(seq);
  }

  /**
   * Symmetric RTP (RFC 4961 §3: "A device supports symmetric RTP if it selects, communicates, and uses IP
   * addresses and port numbers such that, when receiving a packet with source IP address A and source port
   * B, it will send its RTP packets to that same IP address A and port B"): the first RTP packet latches
   * the destination; afterwards only a new SSRC arriving from another source re-latches.
   */
  #latch(rinfo: RemoteInfo, ssrc: number): void {
    this.#latchedSsrc = ssrc;
    if (rinfo.address === this.#remoteAddress && rinfo.port === this.#remotePort) return;
    this.#remoteAddress = rinfo.address;
    this.#remotePort = rinfo.port;
    this.emit('latched', { address: rinfo.address, port: rinfo.port, ssrc });
  }
}

function bindSocket(host: string, port: number, recvBufferSize: number, sendBufferSize: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    const onError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        /* the socket never started */
      }
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      // The OS may cap the size (net.core.rmem_max) or refuse it; the default buffers then stay.
      try {
        socket.setRecvBufferSize(recvBufferSize);
      } catch {
        /* keep the default receive buffer */
      }
      try {
        socket.setSendBufferSize(sendBufferSize);
      } catch {
        /* keep the default send buffer */
      }
      resolve(socket);
    });
  });
}
