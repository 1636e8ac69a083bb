import { randomBytes } from 'node:crypto';
import { advertisedAddress } from '../../shared/net-address.js';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../../shared/log.js';
import { formatHost, formatVia, parseVia, printable } from '../headers.js';
import { REASON_PHRASES, serialize, type Peer, type SipMessage, type SipRequest, type SipResponse, type TransportName } from '../message.js';
import { parseMessage, SipParseError, type ParseLimits } from '../parser.js';
import { createResponse } from '../response.js';
import { sipTransportOptionsSchema, type ResolvedSipTransportOptions, type SipTransportOptions } from './options.js';
import { normalizeAddress, remoteKey, routeResponse } from './response-route.js';
import { TcpConnection, type TcpConnectionHandlers } from './tcp-connection.js';

/**
 * Events of {@link SipTransport}:
 * - `message(msg, source)`: a well-formed request (top Via already stamped with received/rport) or response.
 * - `transportError(dest, err)`: a message could not be sent (UDP send error, TCP connect failure or refusal);
 *   the transaction layer maps it to RFC 3261 §8.1.3.1 / §17.1.4 "transport error".
 */
export interface SipTransportEvents {
  message: [msg: SipMessage, source: Peer];
  transportError: [dest: Peer, err: Error];
}

const PING = '\r\n\r\n';
const PONG = Buffer.from('\r\n', 'latin1');
/** Largest UDP payload over IPv4 (65535 − 8 UDP − 20 IP). */
const MAX_UDP_PAYLOAD = 65507;

/**
 * The SIP transport layer (RFC 3261 §18) over UDP and TCP on one host:port. It frames and parses incoming
 * messages, stamps the top Via of requests (§18.2.1, RFC 3581), answers malformed requests statelessly (400,
 * 505, 513), answers CRLF keep-alives (RFC 5626 §3.5.1), and sends requests and responses, reusing TCP
 * connections by remote address:port. Results are delivered as {@link SipTransportEvents}; nothing it does
 * throws out of a socket callback.
 */
export class SipTransport extends EventEmitter<SipTransportEvents> {
  readonly #opts: ResolvedSipTransportOptions;
  readonly #log: Logger;
  readonly #limits: ParseLimits;
  readonly #connections = new Map<number, TcpConnection>();
  readonly #byRemote = new Map<string, TcpConnection>();
  readonly #tcpHandlers: TcpConnectionHandlers;
  #udp?: dgram.Socket;
  #server?: net.Server;
  #port = 0;
  #nextConnectionId = 1;

  constructor(options: SipTransportOptions) {
    super();
    const parsed = sipTransportOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new Error(`invalid SIP transport options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    this.#opts = parsed.data;
    this.#log = parsed.data.logger;
    this.#limits = { maxMessageBytes: this.#opts.maxMessageBytes, maxHeaders: this.#opts.maxHeaders };
    this.#tcpHandlers = {
      message: (conn, buf) => this.#onMessageBytes(buf, this.#tcpPeer(conn)),
      framingError: (conn, err) => this.#rejectMalformed(err, this.#tcpPeer(conn)),
      closed: (conn, unsent, cause) => this.#onConnectionClosed(conn, unsent, cause),
    };
  }

  /** The bound port (the ephemeral one when started with port 0). */
  get port(): number {
    return this.#port;
  }

  /** The bound local address. */
  get localAddress(): string {
    const a = this.#udp?.address() ?? this.#server?.address();
    return a && typeof a === 'object' ? a.address : this.#opts.host;
  }

  /**
   * The address peers can reach us at: `advertisedHost`, else the bound address, else (bound to a wildcard)
   * the first non-internal IPv4 address of the machine. Used in our Via sent-by and Contact.
   */
  get address(): string {
    return this.#advertisedHost();
  }

  /** Number of open TCP connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The "host:port" to put in the sent-by of our own Via for `transport` (§18.1.1). */
  viaSentBy(_transport: TransportName): string {
    return `${formatHost(this.#advertisedHost())}:${this.#port}`;
  }

  async start(): Promise<void> {
    if (this.#udp || this.#server) throw new Error('SIP transport already started');
    const { host, transports } = this.#opts;
    // With port 0, TCP takes the port UDP got; if that TCP port is taken, try a fresh ephemeral pair.
    for (let attempt = 0; ; attempt++) {
      let port = this.#opts.port;
      try {
        if (transports.includes('udp')) port = await this.#bindUdp(host, port);
        if (transports.includes('tcp')) port = await this.#listenTcp(host, port);
        this.#port = port;
        return;
      } catch (e) {
        await this.stop();
        const err = e as NodeJS.ErrnoException;
        if (this.#opts.port === 0 && err.code === 'EADDRINUSE' && attempt < 5) continue;
        throw new Error(`cannot bind SIP transport on ${host}:${port}: ${err.message}`);
      }
    }
  }

  async stop(): Promise<void> {
    for (const conn of this.#connections.values()) conn.destroy();
    this.#connections.clear();
    this.#byRemote.clear();
    const udp = this.#udp;
    const server = this.#server;
    this.#udp = undefined;
    this.#server = undefined;
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      server && new Promise<void>((resolve) => server.close(() => resolve())),
    ]);
  }

  /** Sends a message to `dest` (UDP datagram, or over a TCP connection found or opened for it). */
  send(msg: SipMessage, dest: Peer): void {
    const buf = serialize(msg);
    if (dest.transport === 'UDP') this.#sendUdp(buf, dest);
    else this.#sendTcp(buf, dest);
  }

  /** Sends a response where its top Via says (RFC 3261 §18.2.2, RFC 3581 §4); see {@link routeResponse}. */
  sendResponse(res: SipResponse, source: Peer): void {
    let route;
    try {
      route = routeResponse(parseVia(res.headers.get('Via') ?? ''), source);
    } catch (e) {
      this.#log.debug({ err: e, status: res.status }, 'SIP response not sent: unusable top Via');
      this.emit('transportError', source, e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const buf = serialize(res);
    const dest: Peer = { transport: route.transport, address: route.address, port: route.port };
    if (route.transport === 'UDP') return this.#sendUdp(buf, dest);
    const conn = route.connectionId === undefined ? undefined : this.#connections.get(route.connectionId);
    if (conn?.write(buf)) return;
    this.#sendTcp(buf, dest);
  }

  #bindUdp(host: string, port: number): Promise<number> {
    const size = this.#opts.socketBufferBytes;
    const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: size, sendBufferSize: size });
    this.#udp = sock;
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port }, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.#log.warn({ err }, 'SIP UDP socket error'));
        sock.on('message', (buf, rinfo) => this.#onDatagram(buf, rinfo));
        resolve(sock.address().port);
      });
    });
  }

  #listenTcp(host: string, port: number): Promise<number> {
    const server = net.createServer((socket) => this.#onInboundConnection(socket));
    server.maxConnections = this.#opts.maxTcpConnections;
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.warn({ err }, 'SIP TCP server error'));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  #onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const source: Peer = { transport: 'UDP', address: normalizeAddress(rinfo.address), port: rinfo.port };
    if (buf.length <= 4 && (buf[0] === 0x0d || buf[0] === 0x0a)) {
      // RFC 5626 §3.5.1 double-CRLF ping gets a single CRLF pong; lone CRLFs are ignored (§7.5).
      if (buf.toString('latin1') === PING) this.#udp?.send(PONG, source.port, source.address, () => undefined);
      return;
    }
    this.#onMessageBytes(buf, source);
  }

  #onMessageBytes(buf: Buffer, source: Peer): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(buf, this.#limits);
      if (msg.kind === 'request') stampTopVia(msg, source);
    } catch (e) {
      this.#rejectMalformed(e, source);
      return;
    }
    try {
      this.emit('message', msg, source);
    } catch (e) {
      this.#log.error({ err: e, source }, 'SIP message handler threw');
    }
  }

  /**
   * Answers a request that could not be parsed, statelessly: 400 with the reason as reason phrase (505, 513 for
   * version and size), plus `Warning: 399 <host:port> "<reason>"` (§20.43). Anything else is dropped.
   * §8.2.6.1 forbids answering an ACK ("UASs MUST NOT ... send a response to an ACK").
   */
  #rejectMalformed(e: unknown, source: Peer): void {
    const req = e instanceof SipParseError ? e.partial : undefined;
    if (!(e instanceof SipParseError) || !req || req.method === 'ACK') {
      this.#log.debug({ err: e, source }, 'malformed SIP message dropped');
      return;
    }
    try {
      let viaUsable = true;
      try {
        stampTopVia(req, source);
      } catch {
        viaUsable = false;
      }
      const reason = e.status === 400 ? printable(e.reason, 100) : REASON_PHRASES[e.status]!;
      const res = createResponse(req, e.status, reason, randomBytes(6).toString('hex'));
      res.headers.append('Warning', `399 ${this.viaSentBy(source.transport)} "${printable(e.reason, 100)}"`);
      this.#log.debug({ source, status: e.status, reason: e.reason }, 'malformed SIP request answered');
      if (viaUsable) this.sendResponse(res, source);
      // RFC 4475 §3.1.2.10 badinv01, §3.1.2.18 badvers: the top Via cannot be read to route by §18.2.2, so the
      // answer goes back where the request came from (the RFC 3581 rport behaviour, on the same connection for TCP).
      else this.#sendToSource(res, source);
    } catch (err) {
      this.#log.debug({ err, source }, 'could not answer malformed SIP request');
    }
  }

  #sendToSource(res: SipResponse, source: Peer): void {
    const buf = serialize(res);
    if (source.transport === 'UDP') return this.#sendUdp(buf, source);
    const conn = source.connectionId === undefined ? undefined : this.#connections.get(source.connectionId);
    if (!conn?.write(buf)) this.emit('transportError', source, new Error('connection of a malformed request is gone'));
  }

  #sendUdp(buf: Buffer, dest: Peer): void {
    const udp = this.#udp;
    if (!udp) return void this.emit('transportError', dest, new Error('UDP transport not running'));
    if (buf.length > MAX_UDP_PAYLOAD) return void this.emit('transportError', dest, new Error(`message of ${buf.length} bytes too large for UDP`));
    udp.send(buf, dest.port, dest.address, (err) => {
      if (!err) return;
      this.#log.debug({ err, dest }, 'SIP UDP send failed');
      this.emit('transportError', dest, err);
    });
  }

  #sendTcp(buf: Buffer, dest: Peer): void {
    if (!this.#server) return void this.emit('transportError', dest, new Error('TCP transport not running'));
    let conn = dest.connectionId === undefined ? undefined : this.#connections.get(dest.connectionId);
    if (!conn?.open) conn = this.#byRemote.get(remoteKey(dest.address, dest.port));
    if (!conn?.open) conn = this.#connect(dest);
    if (!conn?.write(buf)) this.emit('transportError', dest, new Error('TCP connection limit reached'));
  }

  #connect(dest: Peer): TcpConnection | undefined {
    if (this.#connections.size >= this.#opts.maxTcpConnections) return undefined;
    const socket = net.connect({ host: dest.address, port: dest.port });
    return this.#adopt(socket, dest.address, dest.port, false);
  }

  #onInboundConnection(socket: net.Socket): void {
    if (this.#connections.size >= this.#opts.maxTcpConnections || !socket.remoteAddress || !socket.remotePort) {
      socket.destroy();
      return;
    }
    this.#adopt(socket, socket.remoteAddress, socket.remotePort, true);
  }

  #adopt(socket: net.Socket, address: string, port: number, connected: boolean): TcpConnection {
    const conn = new TcpConnection(socket, {
      id: this.#nextConnectionId++,
      remoteAddress: address,
      remotePort: port,
      connected,
      idleTimeoutMs: this.#opts.tcpIdleTimeoutMs,
      connectTimeoutMs: this.#opts.tcpConnectTimeoutMs,
      framerLimits: { maxMessageBytes: this.#opts.maxMessageBytes },
      handlers: this.#tcpHandlers,
    });
    this.#connections.set(conn.id, conn);
    this.#byRemote.set(remoteKey(address, port), conn);
    return conn;
  }

  #onConnectionClosed(conn: TcpConnection, unsent: number, cause?: Error): void {
    this.#connections.delete(conn.id);
    const key = remoteKey(conn.remoteAddress, conn.remotePort);
    if (this.#byRemote.get(key) === conn) this.#byRemote.delete(key);
    if (unsent > 0) {
      const dest: Peer = { transport: 'TCP', address: conn.remoteAddress, port: conn.remotePort };
      this.emit('transportError', dest, cause ?? new Error('TCP connection closed before sending'));
    }
  }

  #tcpPeer(conn: TcpConnection): Peer {
    return { transport: 'TCP', address: conn.remoteAddress, port: conn.remotePort, connectionId: conn.id };
  }

  #advertisedHost(): string {
    if (this.#opts.advertisedHost) return this.#opts.advertisedHost;
    return advertisedAddress(this.localAddress);
  }
}

/**
 * Stamps the top Via of a received request with where it really came from.
 * RFC 3261 §18.2.1: "If the host portion of the "sent-by" parameter contains a domain name, or if it contains
 * an IP address that differs from the packet source address, the server MUST add a "received" parameter to
 * that Via header field value. This parameter MUST contain the source address from which the packet was received."
 * RFC 3581 §4: "If this Via header field value contains an "rport" parameter with no value, it MUST set the value
 * of the parameter to the source port of the request. [...] the server MUST insert a "received" parameter
 * containing the source IP address that the request came from, even if it is identical to the value of the
 * "sent-by" component."
 */
export function stampTopVia(req: SipRequest, source: Peer): void {
  const vias = req.headers.getAll('Via');
  if (vias.length === 0) return;
  const top = parseVia(vias[0]!);
  const address = normalizeAddress(source.address);
  let changed = false;
  // A "received" the client put there itself (RFC 4475 scalar02, RFC 5118 §4.5) is replaced by what we saw:
  // responses must reach the packet source (§18.2.2).
  const staleReceived = top.received !== undefined && normalizeAddress(top.received.replace(/^\[|\]$/g, '')).toLowerCase() !== address.toLowerCase();
  if (normalizeAddress(top.host).toLowerCase() !== address.toLowerCase() || top.rport === true || staleReceived) {
    top.received = address;
    changed = true;
  }
  if (top.rport === true) top.rport = source.port;
  if (!changed) return;
  vias[0] = formatVia(top);
  req.headers.delete('Via');
  for (let i = vias.length - 1; i >= 0; i--) req.headers.prepend('Via', vias[i]!);
}
