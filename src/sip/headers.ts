/**
 * Typed views of the SIP header fields the stack reads and writes (RFC 3261 §20, §25.1): Via, name-addr
 * (From, To, Contact, Route…), CSeq and generic parameters. Each view has a `parse…` that throws a
 * {@link SipParseError} on malformed input and a `format…` that writes the canonical wire form.
 *
 * It builds on uri.ts (host, port, URI grammar and SipParseError, re-exported here) and parser.ts builds on it.
 */
import { formatHost, parseHostPort, parsePort, printable, SipParseError } from './uri.js';

export { formatHost, formatUri, parseHostPort, parsePort, parseUri, printable, SipParseError } from './uri.js';
export type { SipParseStatus, SipUri, UriScheme } from './uri.js';

/** RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" ) */
export const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Index just after the quoted-string that starts at `s[start] === '"'`, or -1 if it never closes. */
export function skipQuoted(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    // §25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i + 1;
  }
  return -1;
}

/**
 * Splits `s` on `sep` where it is not inside a quoted-string or a <...> URI, trimming each piece.
 * RFC 3261 §7.3.1: a comma list "MUST be combinable into one 'field-name: field-value' pair"; commas inside
 * quoted display names and angle-bracketed URIs do not separate values. Stops once it has more than
 * `maxPieces` non-empty pieces.
 */
export function splitTopLevel(s: string, sep: ',' | ';', maxPieces = Infinity): string[] {
  const out: string[] = [];
  let nonEmpty = 0;
  let from = 0;
  let inAngle = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' && !inAngle) {
      const end = skipQuoted(s, i);
      if (end < 0) throw new SipParseError('Unterminated quoted string');
      i = end - 1;
    } else if (c === '<') inAngle = true;
    else if (c === '>') inAngle = false;
    else if (c === sep && !inAngle) {
      const piece = s.slice(from, i).trim();
      out.push(piece);
      from = i + 1;
      // Past maxPieces non-empty pieces the caller refuses the value anyway: stop here (issue 11).
      if (piece !== '' && ++nonEmpty > maxPieces) return out;
    }
  }
  out.push(s.slice(from).trim());
  return out;
}

/** Header parameters in wire order; names lower-cased, a null value means "present without =value". */
export type Params = Map<string, string | null>;

const PARAM_VALUE = /^(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9\-.!%*_+`'~:[\]]+)$/;

/**
 * Parses `;name[=value]` pairs (RFC 3261 §25.1 generic-param: token [ EQUAL gen-value ], gen-value = token /
 * host / quoted-string; SEMI and EQUAL allow whitespace around them). A leading ";" is optional.
 * Quoted values keep their quotes so that formatting gives back the same text.
 */
/** More `;name=value` parameters than this in one header value is refused (issue 11; real ones carry a handful). */
export const MAX_HEADER_PARAMS = 64;

export function parseParams(s: string): Params {
  const params: Params = new Map();
  let text = s.trim();
  if (text === '') return params;
  if (text.startsWith(';')) text = text.slice(1);
  const pieces = splitTopLevel(text, ';');
  if (pieces.length > MAX_HEADER_PARAMS) throw new SipParseError(`more than ${MAX_HEADER_PARAMS} header parameters`);
  for (const piece of pieces) {
    if (piece === '') throw new SipParseError('Empty header parameter');
    const eq = piece.indexOf('=');
    const name = (eq < 0 ? piece : piece.slice(0, eq)).trim();
    if (!TOKEN.test(name)) throw new SipParseError(`Invalid parameter name "${printable(name)}"`);
    if (eq < 0) {
      params.set(name.toLowerCase(), null);
      continue;
    }
    const value = piece.slice(eq + 1).trim();
    if (!PARAM_VALUE.test(value)) throw new SipParseError(`Invalid value for parameter "${name}"`);
    params.set(name.toLowerCase(), value);
  }
  return params;
}

/** Writes parameters back as `;a=b;c`. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

/**
 * A Via header field value (RFC 3261 §20.42, §25.1):
 * ```
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = protocol-name SLASH protocol-version SLASH transport   ("SIP/2.0/UDP")
 * sent-by = host [ COLON port ]
 * ```
 * `params` holds every parameter in wire order; `branch`, `received` and `rport` are typed copies and win over
 * `params` when formatting, so setting `via.received = '192.0.2.1'` is enough.
 */
export interface Via {
  transport: string;
  /** Host without IPv6 brackets. */
  host: string;
  port?: number;
  branch?: string;
  received?: string;
  /** RFC 3581: a number once filled in by a server, `true` when the client sent a bare ";rport". */
  rport?: number | true;
  params: Params;
}

const SENT_PROTOCOL = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s*/i;
const OTHER_VERSION = /^SIP[ \t]*\/[ \t]*\d{1,5}\.\d{1,5}[ \t]*\//i;
export function parseVia(value: string): Via {
  const m = SENT_PROTOCOL.exec(value.trim());
  if (!m) {
    // §8.2 / RFC 4475 §3.1.2.18 "badvers": a well-formed sent-protocol naming another SIP version is a 505.
    if (OTHER_VERSION.test(value.trim())) throw new SipParseError('Version Not Supported', 505);
    throw new SipParseError('Malformed Via sent-protocol');
  }
  const rest = value.trim().slice(m[0].length);
  const semi = rest.indexOf(';');
  const sentBy = semi < 0 ? rest : rest.slice(0, semi);
  if (sentBy.trim() === '') throw new SipParseError('Malformed Via: missing sent-by');
  const { host, port } = parseHostPort(sentBy);
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(rest.slice(semi));
  const via: Via = { transport: m[1]!.toUpperCase(), host, params };
  if (port !== undefined) via.port = port;
  const branch = params.get('branch');
  if (branch !== undefined) {
    if (branch === null) throw new SipParseError('Via branch without value');
    via.branch = branch;
  }
  const received = params.get('received');
  if (received !== undefined) {
    if (received === null) throw new SipParseError('Via received without value');
    via.received = received;
  }
  const rport = params.get('rport');
  if (rport !== undefined) via.rport = rport === null ? true : parsePort(rport);
  return via;
}

export function formatVia(via: Via): string {
  const params: Params = new Map(via.params);
  const typed: Array<[string, string | null | undefined]> = [
    ['branch', via.branch],
    ['received', via.received],
    ['rport', via.rport === undefined ? undefined : via.rport === true ? null : String(via.rport)],
  ];
  for (const [k, v] of typed) {
    if (v === undefined) params.delete(k);
    else params.set(k, v);
  }
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `SIP/2.0/${via.transport.toUpperCase()} ${formatHost(via.host)}${port}${formatParams(params)}`;
}

/**
 * A name-addr or addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 * ```
 * (name-addr / addr-spec) *( SEMI param )       name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 * ```
 * `displayName` is unquoted and unescaped. `uri` is the addr-spec text (parse it with uri.ts when needed).
 */
export interface NameAddr {
  displayName?: string;
  uri: string;
  params: Params;
}

const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*:\S+$/;

/** A display name longer than this is refused (issue 11: real ones are a few words; 8 KB of them cost the server). */
export const MAX_DISPLAY_NAME_CHARS = 512;

export function parseNameAddr(value: string): NameAddr {
  const text = value.trim();
  let displayName: string | undefined;
  let uri: string;
  let after: string;
  let i = 0;
  if (text.startsWith('"')) {
    const end = skipQuoted(text, 0);
    if (end < 0) throw new SipParseError('Unterminated display name');
    if (end > MAX_DISPLAY_NAME_CHARS + 2) throw new SipParseError(`display name longer than ${MAX_DISPLAY_NAME_CHARS} characters`);
    displayName = text.slice(1, end - 1).replace(/\\(.)/g, '$1');
    i = end;
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (text[i] !== '<') throw new SipParseError('Expected <URI> after display name');
  } else {
    const lt = text.indexOf('<');
    if (lt > MAX_DISPLAY_NAME_CHARS) throw new SipParseError(`display name longer than ${MAX_DISPLAY_NAME_CHARS} characters`);
    if (lt >= 0) {
      const name = text.slice(0, lt).trim();
      // §25.1: display-name = *(token LWS) / quoted-string
      if (name !== '' && !name.split(/\s+/).every((t) => TOKEN.test(t))) throw new SipParseError('Invalid display name');
      if (name !== '') displayName = name.replace(/\s+/g, ' ');
      i = lt;
    } else {
      // §20.10: "If the URI is not enclosed in angle brackets, any semicolon-delimited parameters are
      // header-parameters, not URI parameters."
      const semi = text.indexOf(';');
      uri = (semi < 0 ? text : text.slice(0, semi)).trim();
      after = semi < 0 ? '' : text.slice(semi);
      if (!URI_SCHEME.test(uri) || /[\s,?<>"]/.test(uri)) throw new SipParseError(`Invalid URI "${printable(uri)}"`);
      return { uri, params: parseParams(after) };
    }
  }
  const gt = text.indexOf('>', i);
  if (gt < 0) throw new SipParseError('Missing > after URI');
  // §25.1: LAQUOT = SWS "<" and RAQUOT = ">" SWS — no whitespace inside the brackets (RFC 4475 §3.1.2.14 badaspec).
  uri = text.slice(i + 1, gt);
  if (!URI_SCHEME.test(uri) || /[\s<>]/.test(uri)) throw new SipParseError(`Invalid URI "${printable(uri)}"`);
  after = text.slice(gt + 1).trim();
  if (after !== '' && !after.startsWith(';')) throw new SipParseError('Unexpected text after URI');
  const na: NameAddr = { uri, params: parseParams(after) };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/** Always writes the name-addr form with angle brackets, which is valid for every URI (§20.10). */
export function formatNameAddr(na: NameAddr): string {
  const name = na.displayName === undefined ? '' : `"${na.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${name}<${na.uri}>${formatParams(na.params)}`;
}

/**
 * The `tag` parameter of a From or To value (RFC 3261 §19.3), or undefined. Only header parameters count: those
 * after the closing ">" of a name-addr, or after the URI of an addr-spec (§20.10: an addr-spec with ";" in it must
 * use angle brackets, so any ";" there starts a header parameter). Quoted display names may contain "<" and are
 * skipped. Never throws: the parser has already checked From and To, and transaction matching must not fail on them.
 */
export function getTag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let i = 0;
  let params = value;
  for (; i < value.length; i++) {
    const c = value[i];
    if (c === '"') {
      for (i++; i < value.length && value[i] !== '"'; i++) if (value[i] === '\\') i++;
    } else if (c === '<') {
      const close = value.indexOf('>', i);
      params = close < 0 ? '' : value.slice(close + 1);
      break;
    } else if (c === ';') {
      params = value.slice(i);
      break;
    }
  }
  if (i === value.length) return undefined;
  return findParam(params, 'tag');
}

/** Value of `;name=value` in a parameter list (name compared case-insensitively); '' for a flag; never throws. */
export function findParam(params: string, name: string): string | undefined {
  for (const part of params.split(';')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === name) return eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return undefined;
}

/** RFC 3261 §20.16: CSeq = "CSeq" HCOLON 1*DIGIT LWS Method */
export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(value: string): CSeq {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/.exec(value);
  if (!m) throw new SipParseError('Malformed CSeq');
  const seq = Number(m[1]);
  // §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer and MUST be less than 2**31."
  if (seq >= 2 ** 31) throw new SipParseError('CSeq number too large');
  return { seq, method: m[2]! };
}

export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
