/**
 * SIP message parser (RFC 3261 §7, §18.3); the TCP stream framer that cuts frames for it is in stream-framer.ts.
 *
 * `parseMessage` turns one whole message (a UDP datagram, or a frame cut by the StreamFramer) into a
 * {@link SipMessage}: header folding is undone, compact names expanded, list headers split into one value each,
 * mandatory headers checked. Every problem becomes a {@link SipParseError}; when the request was readable enough
 * to be answered, the error carries it as `partial`.
 */
import { createRequest, createResponseMessage, Headers, type SipMessage, type SipRequest } from './message.js';
import { parseCSeq, parseNameAddr, parseVia, printable, SipParseError, splitTopLevel, TOKEN } from './headers.js';
import { parseUri } from './uri.js';
import { longestWspRun, trimWsp, unfoldLines, wspWords } from './scan.js';

export { SipParseError } from './headers.js';
export type { SipParseStatus } from './headers.js';

export interface ParseLimits {
  /** Whole message, headers and body (default 65535, the largest UDP payload). Above it: 513. */
  maxMessageBytes?: number;
  /** Header field lines after unfolding (default 128). */
  maxHeaders?: number;
  /** Length of one unfolded header line (default 8192). */
  maxHeaderLineBytes?: number;
  /** Longest run of spaces/tabs anywhere in the header section (default 1024). */
  maxWhitespaceRun?: number;
  /** Header field values after list headers are split on commas (default 512). */
  maxHeaderValues?: number;
  /**
   * Header section, start line to the empty line (default 16384, as the TCP framer). Above it: 513, and only
   * this many bytes are ever looked at, so a 64 KB header section of junk costs what a 16 KB one does.
   */
  maxHeaderSectionBytes?: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<Required<ParseLimits>> = {
  maxMessageBytes: 65535,
  maxHeaders: 128,
  maxHeaderLineBytes: 8192,
  maxWhitespaceRun: 1024,
  maxHeaderValues: 512,
  maxHeaderSectionBytes: 16384,
};

/**
 * RFC 3261 §7.3.3 compact forms (i m e l f t v k s c), RFC 3265/6665 (o u), RFC 3515 (r), RFC 3892 (b),
 * RFC 4028 (x), RFC 4474 (y n), RFC 3841 (a j d).
 */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', f: 'From', t: 'To', v: 'Via',
  k: 'Supported', s: 'Subject', c: 'Content-Type', o: 'Event', u: 'Allow-Events', r: 'Refer-To',
  b: 'Referred-By', x: 'Session-Expires', y: 'Identity', n: 'Identity-Info', a: 'Accept-Contact',
  j: 'Reject-Contact', d: 'Request-Disposition',
};

/**
 * Headers whose grammar is a comma-separated list (`1#element` in RFC 3261 §25.1 and extensions), split into
 * one value per element. Headers that carry commas inside one value (WWW-Authenticate, Authorization, Date…)
 * are deliberately absent.
 */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding', 'content-language',
  'in-reply-to', 'alert-info', 'call-info', 'error-info', 'warning', 'path', 'service-route', 'history-info',
  'diversion', 'p-asserted-identity', 'p-preferred-identity', 'p-associated-uri', 'reason', 'accept-contact',
  'reject-contact', 'request-disposition', 'security-client', 'security-server', 'security-verify',
]);

/** Headers that must appear at most once (RFC 4475 §3.1.2.13 "multi01" expects a 400 otherwise). */
const SINGLE_HEADERS = ['Call-ID', 'CSeq', 'From', 'To', 'Max-Forwards', 'Content-Length', 'Content-Type'];

/** Methods whose request can establish a dialog (RFC 3261 §12, RFC 6665 SUBSCRIBE, RFC 3515 REFER). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

/** §8.1.1: "A valid SIP request formulated by a UAC MUST, at a minimum, contain the following header fields: To, From, CSeq, Call-ID, Max-Forwards, and Via". */
const MANDATORY = ['Via', 'From', 'To', 'Call-ID', 'CSeq'];

const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) (\S+)$/;
const STATUS_LINE = /^(SIP\/\d+\.\d+) (\d{3})(?: (.*))?$/i;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>]+$/;
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(?:@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;

/**
 * Where the header section ends (the empty line) and where the body starts, as byte offsets; only the first
 * `maxBytes` (+ the empty line) after `from` are searched. `tooLarge`: no empty line there although the message
 * goes on; the head is then cut at the last line break within the limit.
 */
function findHeaderEnd(buf: Buffer, from: number, maxBytes: number): { headEnd: number; bodyStart: number; tooLarge?: true } {
  const limit = Math.min(buf.length, from + maxBytes + 4);
  const window = limit === buf.length ? buf : buf.subarray(0, limit);
  const crlf = window.indexOf('\r\n\r\n', from, 'latin1');
  // A bare-LF empty line can only come before the CRLF one (or without one).
  const lf = window.subarray(0, crlf < 0 ? limit : crlf + 2).indexOf('\n\n', from, 'latin1');
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  if (crlf >= 0) return { headEnd: crlf, bodyStart: crlf + 4 };
  if (limit === buf.length) return { headEnd: buf.length, bodyStart: buf.length };
  const lastBreak = window.lastIndexOf(0x0a, from + maxBytes);
  return { headEnd: lastBreak > from ? lastBreak : from + maxBytes, bodyStart: buf.length, tooLarge: true };
}

/** Remembers the first error of each kind while parsing carries on to build a best-effort request. */
class ErrorCollector {
  tooLarge?: SipParseError;
  version?: SipParseError;
  first?: SipParseError;

  add(reason: string): void {
    this.first ??= new SipParseError(reason);
  }

  catching(fn: () => void, context: string): void {
    try {
      fn();
    } catch (e) {
      // RFC 4475 §3.1.2.18 "badvers" (a SIP/7.0 Via): the version problem wins, answered 505.
      if (e instanceof SipParseError && e.status === 505) this.version ??= e;
      else this.add(e instanceof SipParseError ? `${context}: ${e.reason}` : context);
    }
  }

  get error(): SipParseError | undefined {
    return this.tooLarge ?? this.version ?? this.first;
  }
}

export function parseMessage(buf: Buffer, limits: ParseLimits = {}): SipMessage {
  const lim = { ...DEFAULT_PARSE_LIMITS, ...limits };
  const errors = new ErrorCollector();
  if (buf.length > lim.maxMessageBytes) errors.tooLarge = new SipParseError('Message Too Large', 513);

  // §7.5: "Implementations processing SIP messages over stream-oriented transports MUST ignore any CRLF
  // appearing before the start-line" (done for datagrams too).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) throw new SipParseError('Empty message');
  // Issue 11: hard limits, each checked in one linear pass over at most maxHeaderSectionBytes.
  const end = findHeaderEnd(buf, start, lim.maxHeaderSectionBytes);
  if (end.tooLarge) errors.tooLarge ??= new SipParseError('Header Section Too Large', 513);
  const head = buf.toString('utf8', start, end.headEnd);
  if (longestWspRun(head) > lim.maxWhitespaceRun) errors.add('Whitespace Run Too Long');
  const { lines, lineCount, tooManyLines } = unfoldLines(head, lim.maxHeaders, lim.maxHeaderLineBytes);
  if (tooManyLines) errors.add('Too Many Header Lines');

  // Start line (§7.1, §7.2).
  const startLine = lines[0]!;
  let request: { method: string; uri: string } | undefined;
  let status: { code: number; reason: string } | undefined;
  const statusMatch = startLine.length <= lim.maxHeaderLineBytes ? STATUS_LINE.exec(startLine) : null;
  const requestMatch = statusMatch || startLine.length > lim.maxHeaderLineBytes ? null : REQUEST_LINE.exec(startLine);
  if (statusMatch) {
    // §7.1: "The SIP-Version string is case-insensitive, but implementations MUST send upper-case."
    if (statusMatch[1]!.toUpperCase() !== 'SIP/2.0') throw new SipParseError('Version Not Supported', 505);
    const code = Number(statusMatch[2]);
    if (code < 100 || code > 699) throw new SipParseError(`Invalid status code ${code}`);
    status = { code, reason: statusMatch[3] ?? '' };
  } else if (requestMatch) {
    request = { method: requestMatch[1]!, uri: requestMatch[2]! };
    const version = requestMatch[3]!.toUpperCase();
    if (version !== 'SIP/2.0') {
      if (/^SIP\/\d+\.\d+$/.test(version)) errors.version = new SipParseError('Version Not Supported', 505);
      else errors.add('Malformed Request-Line');
    }
    if (!URI_SCHEME.test(request.uri)) errors.add('Malformed Request-URI');
    else if (/^sips?:/i.test(request.uri)) {
      errors.catching(() => {
        // §19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11 escruri: answered 400).
        if (parseUri(request!.uri).headers.size > 0) throw new SipParseError('headers not allowed');
      }, 'Malformed Request-URI');
    }
  } else {
    // §7.1: "Request-Line = Method SP Request-URI SP SIP-Version CRLF" — "The elements are separated by single SP
    // characters" (RFC 4475 §3.1.2.7 lwsruri, §3.1.2.8 lwsstart, §3.1.2.9 trws): not a valid request, but its
    // words still say what it was, so it can be answered 400 (or 505 for another version).
    const words = startLine.length <= lim.maxHeaderLineBytes ? wspWords(startLine) : [];
    const version = words.at(-1)?.toUpperCase() ?? '';
    if (words.length < 3 || !TOKEN.test(words[0]!) || !/^SIP\/\d+\.\d+$/.test(version)) throw new SipParseError('Malformed start line');
    request = { method: words[0]!, uri: words.slice(1, -1).join(' ') };
    if (version !== 'SIP/2.0') errors.version = new SipParseError('Version Not Supported', 505);
    errors.add('Malformed Request-Line (elements must be separated by single SP)');
  }

  // Header fields (§7.3).
  const headers = new Headers();
  if (lineCount - 1 > lim.maxHeaders) errors.add('Too Many Headers');
  let values = 0;
  for (let i = 1; i < lines.length && i <= lim.maxHeaders; i++) {
    const line = lines[i]!;
    if (Buffer.byteLength(line) > lim.maxHeaderLineBytes) {
      errors.add('Header Line Too Long');
      continue;
    }
    // §7.3.1: header = field-name HCOLON field-value; HCOLON = *( SP / HTAB ) ":" SWS
    const colon = line.indexOf(':');
    const rawName = colon < 0 ? '' : trimWsp(line.slice(0, colon));
    if (!TOKEN.test(rawName)) {
      errors.add(`Malformed header line "${printable(line, 30)}"`);
      continue;
    }
    const name = COMPACT_FORMS[rawName.toLowerCase()] ?? rawName;
    const value = trimWsp(line.slice(colon + 1));
    let parts: string[] = [value];
    if (LIST_HEADERS.has(name.toLowerCase()) && value.includes(',')) {
      const room = lim.maxHeaderValues - values;
      errors.catching(() => (parts = splitTopLevel(value, ',', room).filter((p) => p !== '')), `Malformed ${name}`);
    }
    values += parts.length;
    if (values > lim.maxHeaderValues) {
      errors.add('Too Many Header Values');
      break;
    }
    for (const p of parts) headers.append(name, p);
  }

  const body = readBody(buf, end.bodyStart, headers, errors);
  validateHeaders(headers, request?.method, errors);

  const err = errors.error;
  if (err) {
    if (request) {
      const partial = partialRequest(request.method, request.uri, headers);
      if (partial) err.partial = partial;
    }
    throw err;
  }
  return request
    ? createRequest(request.method, request.uri, headers, body)
    : createResponseMessage(status!.code, status!.reason, headers, body);
}

/**
 * §18.3: "If the transport packet ends before the end of the message body, this is considered an error. If the
 * message is a response, it MUST be discarded. If the message is a request, the element SHOULD generate a 400
 * (Bad Request) response." and "In the case of message-oriented transports (such as UDP), if the message has a
 * Content-Length header field, the message body is assumed to contain that many bytes. Any additional bytes in
 * the transport packet beyond the end of the body MUST be discarded."
 */
function readBody(buf: Buffer, bodyStart: number, headers: Headers, errors: ErrorCollector): Buffer {
  const values = headers.getAll('Content-Length');
  if (values.length === 0) return buf.subarray(bodyStart);
  const text = values[0]!;
  if (!/^\d{1,10}$/.test(text)) {
    errors.add('Invalid Content-Length');
    return Buffer.alloc(0);
  }
  const length = Number(text);
  if (bodyStart + length > buf.length) {
    if (!errors.tooLarge) errors.add('Content-Length larger than message');
    return Buffer.alloc(0);
  }
  return buf.subarray(bodyStart, bodyStart + length);
}

function validateHeaders(headers: Headers, method: string | undefined, errors: ErrorCollector): void {
  for (const name of MANDATORY) if (!headers.has(name)) errors.add(`Missing ${name} header`);
  for (const name of SINGLE_HEADERS) if (headers.getAll(name).length > 1) errors.add(`Multiple ${name} headers`);

  for (const via of headers.getAll('Via')) errors.catching(() => parseVia(via), 'Malformed Via');
  for (const name of ['From', 'To']) {
    const v = headers.get(name);
    if (v !== undefined) errors.catching(() => parseNameAddr(v), `Malformed ${name}`);
  }
  const contacts = headers.getAll('Contact');
  // §8.1.1.8: "The Contact header field MUST be present and contain exactly one SIP or SIPS URI in any request
  // that can result in the establishment of a dialog." (Issue 11: a list of hundreds is refused before parsing.)
  if (contacts.length > 1 && method !== undefined && DIALOG_CREATING.has(method)) errors.add('Contact must hold exactly one URI');
  else for (const c of contacts) if (c !== '*') errors.catching(() => parseNameAddr(c), 'Malformed Contact');
  const callId = headers.get('Call-ID');
  // §25.1: callid = word [ "@" word ]; word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" /
  // "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" ) — so <, > and " are
  // allowed (RFC 4475 §3.1.1.2 intmeth).
  if (callId !== undefined && !CALL_ID.test(callId)) errors.add('Malformed Call-ID');
  const cseq = headers.get('CSeq');
  if (cseq !== undefined) {
    errors.catching(() => {
      const parsed = parseCSeq(cseq);
      // §8.2 (RFC 4475 §3.1.2.16 "mismatch01"): the CSeq method must match the request method.
      if (method !== undefined && parsed.method !== method) throw new SipParseError('method does not match Request-Line');
    }, 'Invalid CSeq');
  }
  const maxForwards = headers.get('Max-Forwards');
  // §20.22: Max-Forwards = "Max-Forwards" HCOLON 1*DIGIT, "an integer in the range 0-255".
  if (maxForwards !== undefined && (!/^\d{1,5}$/.test(maxForwards) || Number(maxForwards) > 255)) {
    errors.add('Invalid Max-Forwards');
  }
}

/**
 * The request as far as it could be read, if a response can be routed back: it needs its start line and a Via
 * (§8.2.6.2 copies Via, From, To, Call-ID and CSeq; the missing ones are simply absent from the 400). When the
 * top Via itself is unreadable the transport answers the source address the request came from.
 */
function partialRequest(method: string, uri: string, headers: Headers): SipRequest | undefined {
  if (!headers.has('Via')) return undefined;
  return createRequest(method, uri, headers);
}
