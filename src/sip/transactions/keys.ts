/**
 * The few header views the transaction layer needs to match messages to transactions (RFC 3261 §17.1.3, §17.2.3),
 * kept private to this directory so the layer does not depend on the full header parser.
 */
import { randomBytes } from 'node:crypto';
import type { SipMessage, SipRequest } from '../message.js';

/** §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"." */
export const MAGIC_COOKIE = 'z9hG4bK';

/** A message whose headers cannot be matched to a transaction: a precise reason, never a crash. */
export class TransactionKeyError extends Error {
  override name = 'TransactionKeyError';
}

/** The parts of the top Via the matching rules look at. */
export interface TopVia {
  /** The whole field value, whitespace-normalised (RFC 2543 matching compares it as a whole). */
  readonly raw: string;
  /** "UDP", "TCP"… upper-cased. */
  readonly transport: string;
  /** host[:port], host lower-cased; the port is kept only when present. */
  readonly sentBy: string;
  readonly branch: string | undefined;
}

/**
 * Parses the first Via field value:
 *
 *     Via: SIP / 2.0 / UDP host:port ;branch=z9hG4bK776asdhds ;rport
 *          └─ sent-protocol ─┘ └sent-by┘ └────── via-params ──────┘
 */
export function parseTopVia(msg: SipMessage): TopVia {
  const value = msg.headers.get('Via');
  if (value === undefined) throw new TransactionKeyError('missing Via header');
  const raw = value.trim().replace(/\s+/g, ' ');
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s;:]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/i.exec(raw);
  if (!m) throw new TransactionKeyError(`malformed Via header: ${JSON.stringify(value.slice(0, 120))}`);
  const [, transport, host, port, params] = m as unknown as [string, string, string, string | undefined, string | undefined];
  return {
    raw,
    transport: transport.toUpperCase(),
    sentBy: port === undefined ? host.toLowerCase() : `${host.toLowerCase()}:${Number(port)}`,
    branch: params === undefined ? undefined : paramValue(params, 'branch'),
  };
}

/** The CSeq header (§20.16): "CSeq: 4711 INVITE". */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(msg: SipMessage): CSeq {
  const value = msg.headers.get('CSeq');
  if (value === undefined) throw new TransactionKeyError('missing CSeq header');
  // §8.1.1.5: "The sequence number MUST be expressible as a 32-bit unsigned integer and MUST be less than 2**31."
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(value);
  if (!m || Number(m[1]) >= 2 ** 31) throw new TransactionKeyError(`malformed CSeq header: ${JSON.stringify(value.slice(0, 120))}`);
  return { seq: Number(m[1]), method: m[2]! };
}

/**
 * The tag parameter of a From or To value, looking only at header parameters: those after the closing ">" of a
 * name-addr, or after the URI of an addr-spec (§20.10: an addr-spec with ";" in it must use angle brackets, so
 * any ";" there starts a header parameter). Quoted display names may contain "<" and are skipped.
 */
export function tagOf(value: string | undefined): string | undefined {
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
  return paramValue(params, 'tag');
}

/** Value of `;name=value` in a parameter list (name compared case-insensitively); '' for a flag parameter. */
function paramValue(params: string, name: string): string | undefined {
  for (const part of params.split(';')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === name) return eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Is this branch one built by an RFC 3261 element (so that it alone identifies the transaction)? */
export function hasMagicCookie(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/** A fresh branch for a request we originate: the magic cookie and 80 random bits. */
export function newBranch(): string {
  return MAGIC_COOKIE + randomBytes(10).toString('hex');
}

const SEP = '\u0000';

/**
 * §17.2.3: "the branch parameter in the request is equal to the one in the top Via header field of the request that
 * created the transaction, the sent-by value in the top Via of the request is equal to the one in the request that
 * created the transaction, and the method of the request matches the one that created the transaction, except for
 * ACK, where the method of the request that created the transaction is INVITE."
 */
export function serverKey(branch: string, sentBy: string, method: string): string {
  return `3261${SEP}${branch}${SEP}${sentBy}${SEP}${method === 'ACK' ? 'INVITE' : method}`;
}

/**
 * RFC 2543 fallback of §17.2.3 (branch without the magic cookie): Request-URI, From tag, Call-ID, CSeq number and
 * top Via. The To tag and the CSeq method are compared by the caller: for INVITE transactions the ACK carries the
 * To tag of our response, not of the INVITE, so it cannot be part of the key; other methods put both in `extra`.
 */
export function legacyServerKey(req: SipRequest, via: TopVia, cseq: CSeq, extra: string): string {
  return ['2543', req.uri.trim(), tagOf(req.headers.get('From')) ?? '', req.headers.get('Call-ID')?.trim() ?? '', cseq.seq, via.raw, extra].join(SEP);
}

/**
 * §17.1.3: "If the response has the same value of the branch parameter in the top Via header field as the branch
 * parameter in the top Via header field of the request that created the transaction" and "If the method parameter
 * in the CSeq header field matches the method of the request that created the transaction".
 */
export function clientKey(branch: string, method: string): string {
  return `${branch}${SEP}${method}`;
}
