/**
 * The few header views the transaction layer needs to match messages to transactions (RFC 3261 §17.1.3, §17.2.3).
 * The top Via is read here, leniently (only what matching needs); CSeq and tags come from headers.ts, the one
 * grammar of those headers.
 */
import { randomBytes } from 'node:crypto';
import { findParam, getTag, parseCSeq, SipParseError, type CSeq } from '../headers.js';
import type { SipMessage, SipRequest } from '../message.js';

export type { CSeq } from '../headers.js';

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
    branch: params === undefined ? undefined : findParam(params, 'branch'),
  };
}

/** The CSeq of a message (§20.16: "CSeq: 4711 INVITE"), or TransactionKeyError saying what is wrong with it. */
export function cseqOf(msg: SipMessage): CSeq {
  const value = msg.headers.get('CSeq');
  if (value === undefined) throw new TransactionKeyError('missing CSeq header');
  try {
    return parseCSeq(value);
  } catch (err) {
    if (err instanceof SipParseError) throw new TransactionKeyError(`malformed CSeq header: ${JSON.stringify(value.slice(0, 120))}`);
    throw err;
  }
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
  return ['2543', req.uri.trim(), getTag(req.headers.get('From')) ?? '', req.headers.get('Call-ID')?.trim() ?? '', cseq.seq, via.raw, extra].join(SEP);
}

/**
 * §17.1.3: "If the response has the same value of the branch parameter in the top Via header field as the branch
 * parameter in the top Via header field of the request that created the transaction" and "If the method parameter
 * in the CSeq header field matches the method of the request that created the transaction".
 */
export function clientKey(branch: string, method: string): string {
  return `${branch}${SEP}${method}`;
}
