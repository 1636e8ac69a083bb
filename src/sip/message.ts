/**
 * The SIP message model (RFC 3261 §7): requests and responses with an ordered header list and a body.
 *
 * Header names are stored in their canonical long form (RFC 3261 §7.3.3 compact forms are expanded by the
 * parser); look-ups are case-insensitive (§7.3.1: "field names are always case-insensitive").
 * Values are kept as raw strings; the typed views (Via, name-addr, CSeq…) live in headers.ts.
 */

export type TransportName = 'UDP' | 'TCP';

/** Where a message came from, or where one goes. */
export interface Peer {
  transport: TransportName;
  address: string;
  port: number;
  /** For TCP: the id of the connection the message arrived on (responses go back on it, RFC 3261 §18.2.2). */
  connectionId?: number;
}

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'history-info': 'History-Info',
  'rseq': 'RSeq',
  'rack': 'RAck',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** Names already canonicalised (the parser sees the same few dozen names all day); bounded, cleared when full. */
const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_SIZE = 512;

/** "content-length" → "Content-Length", "call-id" → "Call-ID". */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const canonical = CANONICAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
  if (canonicalCache.size >= CANONICAL_CACHE_SIZE) canonicalCache.clear();
  canonicalCache.set(name, canonical);
  return canonical;
}

/**
 * An ordered multimap of header fields. Each entry is one field-value (comma lists already split by the parser).
 * Names are stored canonical, and the canonical form is a function of the lower-case name, so a look-up compares
 * canonical names: no lower-casing of every entry on every look-up (issue 11: 512 values × 20 look-ups).
 */
export class Headers {
  readonly #entries: Array<[name: string, value: string]> = [];

  constructor(entries: Iterable<[string, string]> = []) {
    for (const [n, v] of entries) this.append(n, v);
  }

  /** First value of the header, or undefined. */
  get(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    for (const [n, v] of this.#entries) if (n === key) return v;
    return undefined;
  }

  /** Every value of the header, in order. */
  getAll(name: string): string[] {
    const key = canonicalHeaderName(name);
    const out: string[] = [];
    for (const [n, v] of this.#entries) if (n === key) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  append(name: string, value: string): this {
    this.#entries.push([canonicalHeaderName(name), value]);
    return this;
  }

  /** Adds the value before every existing value of that header (e.g. a new top Via). */
  prepend(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    const at = this.#entries.findIndex(([n]) => n === key);
    this.#entries.splice(at < 0 ? 0 : at, 0, [key, value]);
    return this;
  }

  /** Replaces every value of the header with this one (in the position of the first). */
  set(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    const at = this.#entries.findIndex(([n]) => n === key);
    this.delete(name);
    this.#entries.splice(at < 0 ? this.#entries.length : at, 0, [key, value]);
    return this;
  }

  delete(name: string): this {
    const key = canonicalHeaderName(name);
    for (let i = this.#entries.length - 1; i >= 0; i--) if (this.#entries[i]![0] === key) this.#entries.splice(i, 1);
    return this;
  }

  entries(): ReadonlyArray<readonly [string, string]> {
    return this.#entries;
  }

  clone(): Headers {
    return new Headers(this.#entries);
  }
}

export interface SipRequest {
  readonly kind: 'request';
  method: string;
  /** The Request-URI as it appeared on the wire. */
  uri: string;
  headers: Headers;
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export function createRequest(method: string, uri: string, headers: Headers = new Headers(), body: Buffer = Buffer.alloc(0)): SipRequest {
  return { kind: 'request', method, uri, headers, body };
}

export function createResponseMessage(status: number, reason: string, headers: Headers = new Headers(), body: Buffer = Buffer.alloc(0)): SipResponse {
  return { kind: 'response', status, reason, headers, body };
}

export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted',
  301: 'Moved Permanently', 302: 'Moved Temporarily',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 408: 'Request Timeout', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete',
  486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending',
  500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable', 505: 'Version Not Supported',
  513: 'Message Too Large', 603: 'Decline',
};

/** Header fields that RFC 3261 §7.3.1 lets be combined as a comma-separated list (we emit one line each). */
const HEADER_ORDER_FIRST = ['Via', 'Max-Forwards', 'Route', 'Record-Route', 'From', 'To', 'Call-ID', 'CSeq'];

/**
 * Serialises a message for the wire (RFC 3261 §7). Content-Length is always written from the body
 * (§18.3: "The Content-Length header field MUST be used with stream oriented transports").
 */
export function serialize(msg: SipMessage): Buffer {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines: string[] = [start];
  const entries = msg.headers.entries();
  const first: string[] = [];
  const rest: string[] = [];
  for (const [n, v] of entries) {
    if (n === 'Content-Length') continue;
    (HEADER_ORDER_FIRST.includes(n) ? first : rest).push(`${n}: ${v}`);
  }
  first.sort((a, b) => HEADER_ORDER_FIRST.indexOf(a.slice(0, a.indexOf(':'))) - HEADER_ORDER_FIRST.indexOf(b.slice(0, b.indexOf(':'))));
  lines.push(...first, ...rest, `Content-Length: ${msg.body.length}`, '', '');
  const head = Buffer.from(lines.join('\r\n'), 'utf8');
  return msg.body.length ? Buffer.concat([head, msg.body]) : head;
}
