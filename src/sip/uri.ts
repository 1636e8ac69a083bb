/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966).
 * ```
 * SIP-URI  = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 * userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 * uri-parameters = *( ";" uri-parameter )     headers = "?" header *( "&" header )
 * telephone-uri = "tel:" telephone-subscriber *( ";" par )          (RFC 3966 §3)
 * ```
 * User, password, parameter and header values are stored unescaped (%HH decoded, §19.1.4 compares them that
 * way) and escaped again by {@link formatUri}. Host is stored without IPv6 brackets.
 *
 * This module is the bottom of the parsing stack (headers.ts and parser.ts build on it), so it also holds the
 * error type and the host/port grammar they share.
 */
import { isIPv6 } from 'node:net';
import type { SipRequest } from './message.js';

/** What a 4xx/5xx answer to a malformed message should be (RFC 3261 §21.4.1, §21.5.6, §21.5.7). */
export type SipParseStatus = 400 | 505 | 513;

/**
 * A malformed SIP message, header or URI.
 * `reason` is short and printable: fit for a 400 reason phrase or a Warning text.
 * `partial` is a best-effort request (start line, Via, From, To, Call-ID and CSeq were readable) so the caller
 * can answer it; `status` says which answer: 400 Bad Request, 505 Version Not Supported, 513 Message Too Large.
 */
export class SipParseError extends Error {
  readonly reason: string;
  readonly status: SipParseStatus;
  partial?: SipRequest;

  constructor(reason: string, status: SipParseStatus = 400, partial?: SipRequest) {
    super(reason);
    this.name = 'SipParseError';
    this.reason = reason;
    this.status = status;
    if (partial) this.partial = partial;
  }
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9\-_.]*[A-Za-z0-9.])?$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** Parses `host[:port]` (RFC 3261 §25.1 hostport), IPv6 references in brackets. */
export function parseHostPort(s: string): { host: string; port?: number } {
  const text = s.trim();
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new SipParseError('Unterminated IPv6 reference');
    host = text.slice(1, close);
    // RFC 5118 §4.10: "2001:db8:::192.0.2.1" (three colons) is not an IPv6address; node:net checks the RFC 4291 form.
    if (!IPV6_CHARS.test(host) || !host.includes(':') || !isIPv6(host)) throw new SipParseError('Invalid IPv6 reference');
    rest = text.slice(close + 1).trim();
  } else {
    const colon = text.indexOf(':');
    host = (colon < 0 ? text : text.slice(0, colon)).trim();
    rest = colon < 0 ? '' : text.slice(colon).trim();
    if (!HOSTNAME.test(host)) throw new SipParseError(`Invalid host "${printable(host)}"`);
  }
  if (rest === '') return { host };
  if (!rest.startsWith(':')) throw new SipParseError('Invalid host:port');
  return { host, port: parsePort(rest.slice(1).trim()) };
}

/** A port number 0…65535 (decimal digits only). */
export function parsePort(s: string): number {
  if (!/^\d{1,5}$/.test(s)) throw new SipParseError(`Invalid port "${printable(s)}"`);
  const port = Number(s);
  if (port > 65535) throw new SipParseError(`Invalid port "${s}"`);
  return port;
}

/** Writes a host, bracketing IPv6 addresses (RFC 3261 §25.1: IPv6reference = "[" IPv6address "]"). */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Makes untrusted text safe for a reason phrase or a Warning: printable ASCII, no quotes, bounded. */
export function printable(s: string, max = 60): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}


export type UriScheme = 'sip' | 'sips' | 'tel';

export interface SipUri {
  scheme: UriScheme;
  /** The user part; for a tel URI, the telephone number as written ("+33-1-23-45", "5551234"). */
  user?: string;
  password?: string;
  /** Host name, IPv4 or IPv6 address (no brackets); '' for tel URIs. */
  host: string;
  port?: number;
  /** URI parameters (`;transport=tcp;lr`), names lower-cased; null = no value. */
  params: Map<string, string | null>;
  /** URI headers (`?Subject=x&Priority=urgent`). */
  headers: Map<string, string>;
}

// §25.1: unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
const UNRESERVED = "A-Za-z0-9\\-_.!~*'()";
// user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
const USER_CHARS = new RegExp(`^[${UNRESERVED}&=+$,;?/%]+$`);
// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
const PASSWORD_CHARS = new RegExp(`^[${UNRESERVED}&=+$,%]*$`);
// paramchar = param-unreserved / unreserved / escaped; param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
const PARAM_CHARS = new RegExp(`^[${UNRESERVED}[\\]/:&+$%]+$`);
// hvalue = *( hnv-unreserved / unreserved / escaped ); hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
const HEADER_CHARS = new RegExp(`^[${UNRESERVED}[\\]/?:+$%]*$`);
// RFC 3966 §3: global-number-digits = "+" *phonedigit DIGIT *phonedigit; local-number-digits adds HEXDIG "*" "#"
const TEL_NUMBER = /^(?:\+[0-9\-.()]*[0-9][0-9\-.()]*|[0-9A-Fa-f*#\-.()]*[0-9A-Fa-f*#][0-9A-Fa-f*#\-.()]*)$/;

const ESCAPE_FOR = {
  user: new RegExp(`[^${UNRESERVED}&=+$,;?/]`, 'g'),
  password: new RegExp(`[^${UNRESERVED}&=+$,]`, 'g'),
  param: new RegExp(`[^${UNRESERVED}[\\]/:&+$]`, 'g'),
  header: new RegExp(`[^${UNRESERVED}[\\]/?:+$]`, 'g'),
};

/** Decodes %HH escapes (RFC 3261 §25.1: escaped = "%" HEXDIG HEXDIG), rejecting malformed ones. */
function unescape(s: string, what: string): string {
  if (!s.includes('%')) return s;
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) throw new SipParseError(`Bad escape in URI ${what}`);
  try {
    return decodeURIComponent(s);
  } catch {
    // Valid %HH sequences that are not UTF-8: keep them byte-per-char rather than failing the whole URI.
    return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

function escape(s: string, kind: keyof typeof ESCAPE_FOR): string {
  return s.replace(ESCAPE_FOR[kind], (c) =>
    Array.from(Buffer.from(c, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

function parseUriParams(text: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  if (text === '') return params;
  for (const piece of text.split(';')) {
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    const value = eq < 0 ? null : piece.slice(eq + 1);
    if (!PARAM_CHARS.test(name) || (value !== null && !PARAM_CHARS.test(value))) {
      throw new SipParseError(`Invalid URI parameter "${printable(piece)}"`);
    }
    params.set(unescape(name, 'parameter').toLowerCase(), value === null ? null : unescape(value, 'parameter'));
  }
  return params;
}

function parseUriHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const piece of text.split('&')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) throw new SipParseError(`Invalid URI header "${printable(piece)}"`);
    const name = piece.slice(0, eq);
    const value = piece.slice(eq + 1);
    if (!HEADER_CHARS.test(name) || !HEADER_CHARS.test(value)) throw new SipParseError(`Invalid URI header "${printable(piece)}"`);
    headers.set(unescape(name, 'header'), unescape(value, 'header'));
  }
  return headers;
}

export function parseUri(s: string): SipUri {
  const text = s.trim();
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? '' : text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
    throw new SipParseError(`Unsupported URI scheme "${printable(scheme || text, 20)}"`);
  }
  const rest = text.slice(colon + 1);
  if (/[\s<>"]/.test(rest) || rest === '') throw new SipParseError(`Malformed URI "${printable(text)}"`);
  if (scheme === 'tel') return parseTelUri(rest);

  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  // Raw "@" can only end the userinfo: neither host, parameters nor headers may contain one unescaped.
  const at = rest.indexOf('@');
  if (at !== rest.lastIndexOf('@')) throw new SipParseError('Malformed URI: more than one "@"');
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    const user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    if (!USER_CHARS.test(user)) throw new SipParseError('Malformed URI user part');
    uri.user = unescape(user, 'user');
    if (pc >= 0) {
      const password = userinfo.slice(pc + 1);
      if (!PASSWORD_CHARS.test(password)) throw new SipParseError('Malformed URI password');
      uri.password = unescape(password, 'password');
    }
  }
  const q = hostPart.indexOf('?');
  const beforeHeaders = q < 0 ? hostPart : hostPart.slice(0, q);
  if (q >= 0) uri.headers = parseUriHeaders(hostPart.slice(q + 1));
  const semi = beforeHeaders.indexOf(';');
  const hostport = semi < 0 ? beforeHeaders : beforeHeaders.slice(0, semi);
  if (hostport === '') throw new SipParseError('Malformed URI: missing host');
  const hp = parseHostPort(hostport);
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  if (semi >= 0) uri.params = parseUriParams(beforeHeaders.slice(semi + 1));
  return uri;
}

function parseTelUri(rest: string): SipUri {
  const semi = rest.indexOf(';');
  const number = semi < 0 ? rest : rest.slice(0, semi);
  if (!TEL_NUMBER.test(number)) throw new SipParseError(`Invalid telephone number "${printable(number)}"`);
  const params = semi < 0 ? new Map<string, string | null>() : parseUriParams(rest.slice(semi + 1));
  return { scheme: 'tel', user: number, host: '', params, headers: new Map() };
}

export function formatUri(uri: SipUri): string {
  let params = '';
  for (const [k, v] of uri.params) params += v === null ? `;${escape(k, 'param')}` : `;${escape(k, 'param')}=${escape(v, 'param')}`;
  if (uri.scheme === 'tel') return `tel:${uri.user ?? ''}${params}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += escape(uri.user, 'user');
    if (uri.password !== undefined) out += `:${escape(uri.password, 'password')}`;
    out += '@';
  }
  out += formatHost(uri.host);
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += params;
  if (uri.headers.size > 0) {
    out += `?${Array.from(uri.headers, ([k, v]) => `${escape(k, 'header')}=${escape(v, 'header')}`).join('&')}`;
  }
  return out;
}
