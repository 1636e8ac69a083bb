/**
 * The TCP stream framer (RFC 3261 §18.3, RFC 5626 §3.5.1): cuts a byte stream into whole SIP messages for
 * {@link parseMessage}, and tells the RFC 5626 keep-alive pings apart (the connection answers them).
 */
import { DEFAULT_PARSE_LIMITS, parseMessage, SipParseError } from './parser.js';

export type FramedItem = { message: Buffer } | { keepalive: true };

export interface FramerLimits {
  /** Largest header section accepted before the empty line is seen (default 16384). */
  maxHeaderBytes?: number;
  /** Largest whole message (default 65535). */
  maxMessageBytes?: number;
}

const CONTENT_LENGTH_LINE = /^(?:content-length|l)[ \t]*:[ \t]*(\S*)[ \t]*$/im;

/**
 * Cuts a TCP byte stream into whole SIP messages.
 *
 * §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length header field indicates the
 * size of the body. The Content-Length header field MUST be used with stream oriented transports."
 * RFC 5626 §3.5.1: the client's keep-alive "ping" is a double CRLF, answered by a single CRLF "pong".
 *
 * `push` returns what became complete; it throws a {@link SipParseError} (with `partial` when the head could be
 * read) when the stream cannot be framed any more: the connection should then be closed.
 */
export class StreamFramer {
  readonly #maxHeaderBytes: number;
  readonly #maxMessageBytes: number;
  #buf: Buffer = Buffer.alloc(0);
  /** How far the current buffer was already searched for the empty line. */
  #scanned = 0;

  constructor(limits: FramerLimits = {}) {
    this.#maxHeaderBytes = limits.maxHeaderBytes ?? 16384;
    this.#maxMessageBytes = limits.maxMessageBytes ?? DEFAULT_PARSE_LIMITS.maxMessageBytes;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): FramedItem[] {
    const { items, error } = this.pushAll(chunk);
    if (error) throw error;
    return items;
  }

  /**
   * Like {@link push}, but never throws: `items` holds every message that became complete before the stream
   * turned unframeable, so each can still be answered before the connection is closed; `error` is set then.
   */
  pushAll(chunk: Buffer): { items: FramedItem[]; error?: SipParseError } {
    const items: FramedItem[] = [];
    try {
      this.#frame(chunk, items);
      return { items };
    } catch (e) {
      this.#buf = Buffer.alloc(0);
      this.#scanned = 0;
      return { items, error: e instanceof SipParseError ? e : new SipParseError('Unframeable stream') };
    }
  }

  #frame(chunk: Buffer, out: FramedItem[]): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const buf = this.#buf;
      if (buf.length === 0) break;
      if (buf[0] === 0x0d || buf[0] === 0x0a) {
        if (buf.length >= 4 && buf[0] === 0x0d && buf[1] === 0x0a && buf[2] === 0x0d && buf[3] === 0x0a) {
          out.push({ keepalive: true });
          this.#consume(4);
          continue;
        }
        // Wait: "\r", "\r\n" or "\r\n\r" may still become a ping.
        if (buf.length < 4 && '\r\n\r\n'.startsWith(buf.toString('latin1'))) break;
        // §7.5: a stray CRLF before a start line is ignored.
        this.#consume(buf[0] === 0x0d && buf[1] === 0x0a ? 2 : 1);
        continue;
      }
      const headEnd = buf.indexOf('\r\n\r\n', Math.max(0, this.#scanned - 3), 'latin1');
      if (headEnd < 0) {
        this.#scanned = buf.length;
        if (buf.length > this.#maxHeaderBytes) throw new SipParseError('Message Too Large', 513);
        break;
      }
      if (headEnd > this.#maxHeaderBytes) throw this.#framingError(buf.subarray(0, headEnd + 4), 'Message Too Large', 513);
      const head = buf.toString('latin1', 0, headEnd).replace(/\r?\n[ \t]+/g, ' ');
      const cl = CONTENT_LENGTH_LINE.exec(head);
      if (!cl) throw this.#framingError(buf.subarray(0, headEnd + 4), 'Missing Content-Length');
      if (!/^\d{1,10}$/.test(cl[1]!)) throw this.#framingError(buf.subarray(0, headEnd + 4), 'Invalid Content-Length');
      const total = headEnd + 4 + Number(cl[1]);
      if (total > this.#maxMessageBytes) throw this.#framingError(buf.subarray(0, headEnd + 4), 'Message Too Large', 513);
      if (buf.length < total) {
        this.#scanned = 0;
        break;
      }
      out.push({ message: buf.subarray(0, total) });
      this.#consume(total);
    }
  }

  #consume(n: number): void {
    this.#buf = this.#buf.subarray(n);
    this.#scanned = 0;
  }

  /** An error for an unframeable head, carrying the request as far as it parses so it can be answered. */
  #framingError(head: Buffer, reason: string, status: 400 | 513 = 400): SipParseError {
    const err = new SipParseError(reason, status);
    try {
      const msg = parseMessage(head, { maxMessageBytes: Infinity });
      if (msg.kind === 'request') err.partial = msg;
    } catch (e) {
      if (e instanceof SipParseError && e.partial) err.partial = e.partial;
    }
    return err;
  }
}
