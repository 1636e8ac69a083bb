import type { Socket } from 'node:net';
import type { SipParseError } from '../parser.js';
import { StreamFramer, type FramerLimits } from '../stream-framer.js';
import { normalizeAddress } from './response-route.js';

/** What a {@link TcpConnection} reports to its owner. */
export interface TcpConnectionHandlers {
  /** One whole SIP message cut from the stream. */
  message(conn: TcpConnection, buf: Buffer): void;
  /** The stream cannot be framed any more; the connection is closed right after this returns. */
  framingError(conn: TcpConnection, err: SipParseError): void;
  /** The socket is gone; `unsent` counts queued messages that never left (connect failure). */
  closed(conn: TcpConnection, unsent: number, cause?: Error): void;
}

export interface TcpConnectionOptions {
  id: number;
  /** Remote address and port as the socket reports or as dialled (outbound sockets know them before connecting). */
  remoteAddress: string;
  remotePort: number;
  /** False for an outbound socket still connecting: writes are queued until it connects. */
  connected: boolean;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  framerLimits: FramerLimits;
  handlers: TcpConnectionHandlers;
}

const PONG = Buffer.from('\r\n', 'latin1');

/**
 * One SIP-over-TCP connection (RFC 3261 §18): frames the inbound byte stream into messages, answers RFC 5626
 * §3.5.1 keep-alive pings ("\r\n\r\n" → "\r\n"), queues writes while an outbound connect is in progress and
 * closes itself after `idleTimeoutMs` without traffic.
 */
export class TcpConnection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: Socket;
  readonly #framer: StreamFramer;
  readonly #handlers: TcpConnectionHandlers;
  readonly #idleTimeoutMs: number;
  #connected: boolean;
  #closing = false;
  #queue: Buffer[] = [];
  #cause?: Error;

  constructor(socket: Socket, options: TcpConnectionOptions) {
    this.id = options.id;
    this.remoteAddress = normalizeAddress(options.remoteAddress);
    this.remotePort = options.remotePort;
    this.#socket = socket;
    this.#framer = new StreamFramer(options.framerLimits);
    this.#handlers = options.handlers;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#connected = options.connected;
    socket.setNoDelay(true);
    socket.setTimeout(this.#connected ? options.idleTimeoutMs : options.connectTimeoutMs);
    socket.on('timeout', () => {
      this.#cause ??= new Error(this.#connected ? 'idle timeout' : 'connect timeout');
      socket.destroy();
    });
    socket.on('connect', () => this.#onConnect());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#cause ??= err;
    });
    socket.on('close', () => {
      const unsent = this.#queue.length;
      this.#queue = [];
      this.#closing = true;
      this.#handlers.closed(this, unsent, this.#cause);
    });
  }

  /** True while messages can still be written. */
  get open(): boolean {
    return !this.#closing && !this.#socket.destroyed;
  }

  write(buf: Buffer): boolean {
    if (!this.open) return false;
    if (!this.#connected) this.#queue.push(buf);
    else this.#socket.write(buf);
    return true;
  }

  /** Sends what is already written, then closes (FIN). */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#connected) this.#socket.end();
    else this.#socket.destroy();
  }

  destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
  }

  #onConnect(): void {
    this.#connected = true;
    this.#socket.setTimeout(this.#idleTimeoutMs);
    for (const buf of this.#queue) this.#socket.write(buf);
    this.#queue = [];
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    // §18.3 / §8.2: every whole message read before the garbage is still answered, then the connection is closed.
    const { items, error } = this.#framer.pushAll(chunk);
    for (const item of items) {
      if (this.#closing) return;
      if ('keepalive' in item) this.#socket.write(PONG);
      else this.#handlers.message(this, item.message);
    }
    if (error && !this.#closing) {
      this.#handlers.framingError(this, error);
      this.close();
    }
  }
}
